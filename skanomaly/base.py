"""Shared base of the deep (torch-backed) detectors.

:class:`BaseDeepDetector` owns, once for every detector of the package:

* input handling: images ``(n, C, H, W)`` or ``(n, H, W)``, flat feature
  vectors ``(n, d)`` (folded into images by ``image_shape``), uint8 scaling,
  finite-value and shape checks, batched conversion to torch tensors;
* labels: ``y`` in ``{1, -1}`` (1 normal, -1 anomaly) or ``None``;
* seeding torch and numpy from ``random_state`` without touching the caller's
  global random state, and the torch thread count of one fit;
* the skorch :class:`~skorch.NeuralNet` that trains the torch modules, kept in
  ``net_``, with the class-balanced batches and the divergence guard;
* the outlier-detector contract: ``score_samples`` (float64, lower is more
  abnormal), ``decision_function``, ``predict`` and ``offset_`` from
  ``contamination``, all computed batch by batch.

A detector subclass adds only its own nets, losses and score: it implements
:meth:`BaseDeepDetector._build_net` and :meth:`BaseDeepDetector._anomaly_score`.
"""

import contextlib
import copy
import math
import warnings
from numbers import Integral, Real

import numpy as np
import torch
from scipy import sparse
from sklearn.base import BaseEstimator, OutlierMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data
from skorch import NeuralNet
from skorch.callbacks import ProgressBar
from skorch.utils import to_device
from torch import nn
from torch.utils.data import DataLoader, Sampler
from torch.utils.data import Dataset as TorchDataset

from ._base._dataset import DatasetImages, item_to_array
from .exceptions import TrainingDivergedError

__all__ = [
    "BalancedBatchSampler",
    "BaseDeepDetector",
    "DeepInputMixin",
    "DetectorNet",
    "ReconstructionMixin",
    "check_labels",
]


# --------------------------------------------------------------------------
# skorch engine
# --------------------------------------------------------------------------
class DetectorNet(NeuralNet):
    """skorch :class:`~skorch.NeuralNet` with the helpers every detector uses.

    It is the training engine inside a detector (the detector's ``net_``), not
    a public estimator. Subclasses override :meth:`train_step_single` (or
    :meth:`train_step` for several optimizers) and call :meth:`check_finite`
    on every loss term.
    """

    def check_finite(self, **losses):
        """Raise :class:`TrainingDivergedError` if a loss term is NaN or inf.

        Parameters
        ----------
        **losses : dict of str to torch.Tensor
            Scalar loss terms, by name.
        """
        for name, value in losses.items():
            if not torch.isfinite(value.detach()).all():
                epoch = len(self.history)
                raise TrainingDivergedError(
                    f"Training diverged at epoch {epoch}: the loss term {name!r} "
                    f"is {value.item()}. Lower the learning rate or the weight of "
                    f"{name!r} and fit again."
                )

    def train_step_single(self, batch, **fit_params):
        """Forward, loss, divergence check and backward for one batch."""
        self._set_training(True)
        Xi, yi = batch
        # on the net's device: the loss compares the output with the input
        Xi, yi = to_device(Xi, self.device), to_device(yi, self.device)
        y_pred = self.infer(Xi, **fit_params)
        loss = self.get_loss(y_pred, yi, X=Xi, training=True)
        self.check_finite(loss=loss)
        loss.backward()
        return {"loss": loss, "y_pred": y_pred}


class BalancedBatchSampler(Sampler):
    """Batches with a fixed share of anomalies, however rare they are.

    One epoch visits every normal sample once; each batch is completed with
    ``round(batch_size * anomaly_ratio)`` anomalies (at least one), drawn by
    cycling through shuffled anomalies, so the rare class is seen in every
    batch.

    Parameters
    ----------
    labels : array-like of shape (n_samples,)
        1 for normal, -1 for anomalous samples.
    batch_size : int
        Samples per batch.
    anomaly_ratio : float, default=0.5
        Share of every batch drawn from the anomalies.
    """

    def __init__(self, labels, batch_size, anomaly_ratio=0.5):
        labels = np.asarray(labels)
        self.normal = np.flatnonzero(labels == 1)
        self.anomaly = np.flatnonzero(labels == -1)
        n_anomaly = min(batch_size - 1, max(1, round(batch_size * anomaly_ratio)))
        self.n_anomaly = n_anomaly if len(self.anomaly) else 0
        self.n_normal = max(1, batch_size - self.n_anomaly)

    def __len__(self):
        return math.ceil(len(self.normal) / self.n_normal)

    def __iter__(self):
        normal = self.normal[torch.randperm(len(self.normal)).numpy()]
        n_draws = len(self) * self.n_anomaly
        if self.n_anomaly:
            n_perm = math.ceil(n_draws / len(self.anomaly))
            anomaly = np.concatenate(
                [self.anomaly[torch.randperm(len(self.anomaly)).numpy()]
                 for _ in range(n_perm)]
            )
        for b in range(len(self)):
            batch = normal[b * self.n_normal:(b + 1) * self.n_normal]
            if self.n_anomaly:
                batch = np.concatenate(
                    [batch, anomaly[b * self.n_anomaly:(b + 1) * self.n_anomaly]]
                )
            yield batch.tolist()


def balanced_loader(dataset, batch_size, labels, anomaly_ratio=0.5, shuffle=None,
                    **kwargs):
    """``iterator_train`` for skorch that draws :class:`BalancedBatchSampler` batches."""
    sampler = BalancedBatchSampler(labels, batch_size, anomaly_ratio)
    return DataLoader(dataset, batch_sampler=sampler, **kwargs)


# --------------------------------------------------------------------------
# labels and random state
# --------------------------------------------------------------------------
def check_labels(y, n_samples):
    """Validate outlier labels: 1 for normal, -1 for anomalous samples.

    Parameters
    ----------
    y : array-like of shape (n_samples,) or None
        Labels; None means every sample is normal.
    n_samples : int
        Number of samples in X.

    Returns
    -------
    y : ndarray of shape (n_samples,), dtype int64
    """
    if y is None:
        return np.ones(n_samples, dtype=np.int64)
    if sparse.issparse(y):
        raise ValueError("y must be a dense 1-D array of labels in {1, -1}.")
    y = column_or_1d(np.asarray(y), warn=True)
    if y.shape[0] != n_samples:
        raise ValueError(
            f"X and y have inconsistent numbers of samples: {n_samples} and {y.shape[0]}."
        )
    try:
        values = np.unique(y)
        bad = values[~np.isin(values, (1, -1))]
    except TypeError:
        bad = np.asarray(sorted(set(map(str, y)) - {"1", "-1"}), dtype=object)
    if len(bad) or y.dtype.kind not in "iufb":
        raise ValueError(
            "y must contain only 1 (normal) and -1 (anomaly) labels; got "
            f"{bad[:5].tolist() if len(bad) else y.dtype} instead."
        )
    return y.astype(np.int64)


@contextlib.contextmanager
def _seeded(random_state, device):
    """Seed torch from ``random_state`` without touching the global generators.

    Torch's global generator is forked for the duration of the block (and
    CUDA's when ``device`` is a CUDA device), so the caller's random state is
    the same before and after a fit.
    """
    seed = check_random_state(random_state).randint(np.iinfo(np.int32).max)
    devices = []
    if str(device).startswith("cuda") and torch.cuda.is_available():
        devices = [torch.device(device).index or 0]
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield seed


def _on_cpu(value):
    """A CPU copy of a tensor or module that is on another device; else value."""
    if isinstance(value, torch.Tensor):
        return value.cpu()
    if isinstance(value, nn.Module) and any(
        t.device.type != "cpu" for t in (*value.parameters(), *value.buffers())
    ):
        return copy.deepcopy(value).cpu()
    return value


# --------------------------------------------------------------------------
# the base estimator
# --------------------------------------------------------------------------
class DeepInputMixin:
    """Input handling, seeding, skorch arguments and batching of the deep estimators.

    Shared by :class:`BaseDeepDetector` and the transformers of the package
    (:class:`~skanomaly.CNNFeatures`); the estimator defines the parameters
    used here (``image_shape``, ``batch_size``, ``device``, ``random_state``...).
    """

    #: prefixes routed to the skorch net by ``set_params`` (``module__n_filters``)
    _net_prefixes = ("module", "optimizer", "iterator_train")

    def get_params(self, deep=True):
        """Get parameters, including those routed to the skorch net.

        Entries of ``net_params`` appear as their own keys when ``deep`` is
        True (``module__n_filters``), so that grid search can tune them.
        """
        params = super().get_params(deep=deep)
        if deep and isinstance(self.net_params, dict):
            params.update(self.net_params)
        return params

    def set_params(self, **params):
        """Set parameters; ``prefix__name`` keys go to ``net_params``.

        ``set_params(module__n_filters=16)`` (or ``generator__*``,
        ``optimizer_d__lr``... as the detector defines) stores the value in
        ``net_params``, which is handed to the skorch net in ``fit``.
        """
        routed = {
            k: v for k, v in params.items()
            if "__" in k and k.split("__", 1)[0] in self._net_prefixes
        }
        if routed:
            net_params = dict(self.net_params) if isinstance(self.net_params, dict) else {}
            net_params.update(routed)
            params = {k: v for k, v in params.items() if k not in routed}
            params["net_params"] = net_params
        return super().set_params(**params)

    def _validate_X(self, X, *, reset):
        """Validate X and return it as ``(n, *image_shape_)``, uint8 or float.

        uint8 arrays are kept as uint8 (scaled per batch by :meth:`_to_tensor`)
        so that validation does not copy a large image set into floats. A
        map-style torch ``Dataset`` becomes a :class:`DatasetImages` view that
        loads its items batch by batch.
        """
        if isinstance(X, TorchDataset):
            return self._validate_dataset(X, reset=reset)
        if sparse.issparse(X) or not hasattr(X, "__len__") and not hasattr(X, "shape"):
            X = validate_data(self, X, reset=reset)  # raises the standard error
        if not hasattr(X, "dtype") or getattr(X, "ndim", 2) <= 2:
            # lists, DataFrames, 1-D and 2-D arrays: scikit-learn validates them
            X2 = X
            sample_shape = None
        else:
            X = np.asarray(X)
            if X.ndim not in (3, 4):
                raise ValueError(
                    "X must be 2-D (n_samples, n_features), 3-D (n_samples, height, "
                    f"width) or 4-D (n_samples, channels, height, width); got a "
                    f"{X.ndim}-D array of shape {X.shape}."
                )
            sample_shape = X.shape[1:] if X.ndim == 4 else (1, *X.shape[1:])
            if not reset:
                self._check_sample_shape(sample_shape)
            X2 = X.reshape(X.shape[0], math.prod(X.shape[1:]))
        dtype = "numeric"
        if getattr(X2, "dtype", None) is not None and X2.dtype not in (
            np.uint8, np.float32, np.float64
        ):
            dtype = np.float32
        X2 = validate_data(
            self, X2, reset=reset, dtype=dtype, ensure_min_samples=2 if reset else 1,
            ensure_all_finite=True,
        )
        if X2.dtype.kind == "b":
            X2 = X2.astype(np.float32)
        if X2.dtype == np.float64 and X2.size:
            limit = float(np.finfo(np.float32).max)
            if X2.max() > limit or X2.min() < -limit:
                raise ValueError(
                    "X has values beyond the float32 range (|x| > 3.4e38), which "
                    "would become inf in the float32 networks; rescale X."
                )
        if sample_shape is None:
            sample_shape = self._fold_shape(X2.shape[1], reset)
        sample_shape = tuple(int(s) for s in sample_shape)
        if reset:
            self.image_shape_ = sample_shape
        else:
            self._check_sample_shape(sample_shape)
        return X2.reshape(X2.shape[0], *sample_shape)

    def _validate_dataset(self, dataset, *, reset):
        """A torch ``Dataset`` as X: checks its length and first item, no loading."""
        if not hasattr(dataset, "__len__") or not hasattr(dataset, "__getitem__"):
            raise TypeError(
                f"X is a {type(dataset).__name__} without a length: only map-style "
                "torch Datasets (with __len__ and __getitem__) are supported."
            )
        n_samples = len(dataset)
        if n_samples < (2 if reset else 1):
            raise ValueError(
                f"X is a dataset of {n_samples} item(s); {type(self).__name__} "
                f"needs at least {2 if reset else 1}."
            )
        sample_shape = item_to_array(dataset[0]).shape
        if reset:
            self.image_shape_ = sample_shape
            self.n_features_in_ = math.prod(sample_shape)
        else:
            self._check_sample_shape(sample_shape)
        return DatasetImages(dataset, sample_shape)

    def _check_sample_shape(self, sample_shape):
        sample_shape = tuple(int(s) for s in sample_shape)
        if sample_shape != self.image_shape_:
            raise ValueError(
                f"X has samples of shape {sample_shape}, but {type(self).__name__} "
                f"was fitted on samples of shape {self.image_shape_}."
            )

    def _fold_shape(self, n_features, reset):
        """Sample shape of flat input: ``image_shape`` if set, else ``(d,)``."""
        shape = self.image_shape
        if shape is None and not reset and len(self.image_shape_) == 3:
            shape = self.image_shape_
        if shape is None:
            return (n_features,)
        shape = tuple(int(s) for s in shape)
        if len(shape) == 2:
            shape = (1, *shape)
        if len(shape) != 3 or math.prod(shape) != n_features:
            raise ValueError(
                f"image_shape={tuple(self.image_shape or shape)} cannot fold samples "
                f"of {n_features} features: it must be (channels, height, width) "
                "or (height, width) with as many values as there are features."
            )
        return shape

    def _compute_device(self):
        """The device the fitted modules run on.

        The net's device, not the ``device`` parameter: skorch moves a net
        pickled on a GPU to the CPU when it is loaded on a machine without one.
        """
        net = getattr(self, "net_", None)
        if net is not None:
            return net.device
        if str(self.device).startswith("cuda") and not torch.cuda.is_available():
            return "cpu"
        return self.device

    def __getstate__(self):
        # tensors and modules kept outside the skorch net (which pickles its
        # own) are pickled from the CPU, so that the file loads without a GPU
        state = super().__getstate__()
        return {k: _on_cpu(v) if k != "net_" else v for k, v in state.items()}

    def __setstate__(self, state):
        super().__setstate__(state)
        device = self._compute_device()
        for key, value in vars(self).items():
            if key != "net_" and isinstance(value, torch.Tensor | nn.Module):
                setattr(self, key, value.to(device))

    def _to_tensor(self, X):
        """Float32 tensor on the compute device; uint8 is scaled to [0, 1]."""
        device = self._compute_device()
        # a writeable C-contiguous copy only where needed (memmaps are read-only)
        x = torch.as_tensor(np.require(X, requirements=("C", "W")))
        if x.dtype == torch.uint8:
            x = x.to(torch.float32).div_(255.0)
        return x.to(device=device, dtype=torch.float32)

    def _as_float32(self, X):
        """The whole array as float32 numpy, uint8 scaled to [0, 1] (for training).

        A :class:`DatasetImages` stays as it is: it loads float32 batches.
        """
        if isinstance(X, DatasetImages):
            return X
        if X.dtype == np.uint8:
            return X.astype(np.float32) / np.float32(255.0)
        return X.astype(np.float32, copy=False)

    @contextlib.contextmanager
    def _torch_context(self):
        """Seeded torch generator and bounded threads for the length of a fit."""
        n_threads = torch.get_num_threads()
        if self.n_threads is not None:
            torch.set_num_threads(self.n_threads)
        try:
            with _seeded(self.random_state, self.device) as seed:
                yield seed
        finally:
            torch.set_num_threads(n_threads)

    def _net_kwargs(self, y, anomaly_ratio=0.5, **net_defaults):
        """Keyword arguments every detector's skorch net receives.

        Batches are class-balanced (:class:`BalancedBatchSampler`) when ``y``
        holds anomalies, shuffled otherwise. ``net_defaults`` are the
        detector's own arguments (``module__latent_dim=...``); entries of
        ``net_params`` override them and everything else.
        """
        callbacks = list(self.callbacks or [])
        if self.verbose and self.verbose > 1:
            callbacks.append(("progress", ProgressBar()))
        kwargs = {
            "max_epochs": self.max_epochs,
            "batch_size": self.batch_size,
            "lr": self.lr,
            "device": self.device,
            "train_split": None,
            "verbose": self.verbose,
            "callbacks": callbacks,
            "iterator_train__shuffle": True,
            "iterator_valid__batch_size": self.batch_size,
        }
        if (np.asarray(y) == -1).any():
            kwargs.update(
                iterator_train=balanced_loader,
                iterator_train__labels=np.asarray(y),
                iterator_train__anomaly_ratio=anomaly_ratio,
            )
            del kwargs["iterator_train__shuffle"]
        kwargs.update(net_defaults)
        kwargs.update(self.net_params or {})
        return kwargs

    def _map_batches(self, fn, X):
        """Apply ``fn`` to float32 batches of X without gradients; numpy out.

        The modules of :meth:`_modules_for_inference` are put in eval mode;
        only one batch of activations is alive at a time.
        """
        for module in self._modules_for_inference():
            module.eval()
        bs = self.batch_size
        outputs = []
        with torch.no_grad():
            for start in range(0, X.shape[0], bs):
                outputs.append(fn(self._to_tensor(X[start:start + bs])).cpu().numpy())
        return np.concatenate(outputs)


class BaseDeepDetector(DeepInputMixin, OutlierMixin, BaseEstimator):
    """Base class of the torch-backed outlier detectors.

    Not to be used directly: subclasses implement :meth:`_build_net` (the
    skorch net that trains their modules) and :meth:`_anomaly_score` (the
    per-sample anomaly score, higher is more abnormal). ``score_samples`` is
    the negative of that score.

    Conventions, shared by every detector:

    * ``X`` is ``(n, C, H, W)`` or ``(n, H, W)`` images, or ``(n, d)`` feature
      vectors, folded into images when ``image_shape`` is set. ``uint8`` input
      is scaled to [0, 1]; float input is used as given.
    * ``y`` passed to ``fit`` is None (all normal) or in ``{1, -1}``:
      1 normal, -1 anomaly. Detectors that learn from labelled anomalies
      (``_learns_from_anomalies = True``) use them; the others fit on the
      ``y == 1`` samples only.
    * ``decision_function = score_samples - offset_``; ``predict`` is -1 where
      it is negative.
    """

    _parameter_constraints: dict = {
        "image_shape": [tuple, list, None],
        "contamination": [StrOptions({"auto"}), Interval(Real, 0, 0.5, closed="right")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "net_params": [dict, None],
        "callbacks": [list, None],
        "device": [str, torch.device],
        "n_threads": [Interval(Integral, 1, None, closed="left"), None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    #: whether ``fit`` passes labelled anomalies to the net
    _learns_from_anomalies = False
    #: prefixes routed to the skorch net by ``set_params`` (``module__n_filters``)
    _net_prefixes = ("module", "optimizer", "iterator_train")

    # -- fitting -----------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit the detector.

        Parameters
        ----------
        X : array-like of shape (n_samples, C, H, W), (n_samples, H, W) or \
                (n_samples, n_features)
            Training images or feature vectors.
        y : array-like of shape (n_samples,), default=None
            1 for normal and -1 for anomalous samples; None means all normal.
            Detectors that do not learn from labelled anomalies fit on the
            samples labelled 1 only.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        # offset_ is set last: a fit that fails or is interrupted midway leaves
        # the estimator unfitted rather than half-fitted (__sklearn_is_fitted__)
        self.__dict__.pop("offset_", None)
        X = self._validate_X(X, reset=True)
        y = check_labels(y, X.shape[0])
        if not (y == 1).any():
            raise ValueError("y has no normal sample (label 1): nothing to learn.")
        X_train, y_train = X, y
        if not self._learns_from_anomalies:
            X_train, y_train = X[y == 1], y[y == 1]
        with self._torch_context():
            self.net_ = self._build_net(X_train, y_train)
            self._fit_net(self._as_float32(X_train), y_train.astype(np.float32))
            self._set_offset(X, y)
        return self

    def _fit_net(self, X, y):
        """Train ``self.net_`` on float32 images and float32 labels."""
        self.net_.fit(X, y)

    def _set_offset(self, X, y):
        """``offset_`` from ``contamination`` and the training scores."""
        scores = self._score_samples(X)
        if self.contamination == "auto":
            # lower Tukey fence of the normal training scores
            q1, q3 = np.percentile(scores[y == 1], [25, 75])
            self.offset_ = float(q1 - 1.5 * (q3 - q1))
        else:
            self.offset_ = float(np.percentile(scores, 100.0 * self.contamination))

    # -- hooks for subclasses ----------------------------------------------------
    def _build_net(self, X, y):
        """Return the skorch net that trains this detector (not initialized)."""
        raise NotImplementedError

    def _anomaly_score(self, x):
        """Anomaly score of a float32 batch on the device, higher is more abnormal."""
        raise NotImplementedError

    def _modules_for_inference(self):
        """The torch modules used by :meth:`_anomaly_score` (set to eval mode)."""
        return [self.net_.module_]

    def _rebuild_torch_state(self):
        """Rebuild ``net_`` untrained, for :func:`~skanomaly.load` to fill in.

        The architecture follows from the parameters and ``image_shape_``;
        data-dependent settings of the net are restored by the loader.
        """
        X = np.zeros((4, *self.image_shape_), dtype=np.float32)
        y = np.array([1, 1, -1, -1]) if self._learns_from_anomalies else np.ones(4)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.net_ = self._build_net(X, y)

    # -- scoring -----------------------------------------------------------------
    def _score_samples(self, X):
        """Batched ``score_samples`` on validated input."""
        scores = -self._map_batches(self._anomaly_score, X).astype(np.float64)
        if not np.isfinite(scores).all():
            raise TrainingDivergedError(
                f"{type(self).__name__} produced non-finite scores: the model "
                "diverged or the input is far outside the training range."
            )
        return scores

    def score_samples(self, X):
        """Opposite of the anomaly score of each sample.

        Parameters
        ----------
        X : array-like of the shape seen in ``fit``
            Images or feature vectors.

        Returns
        -------
        scores : ndarray of shape (n_samples,), dtype float64
            The lower, the more abnormal.
        """
        check_is_fitted(self)
        return self._score_samples(self._validate_X(X, reset=False))

    def decision_function(self, X):
        """``score_samples(X) - offset_``: negative for predicted anomalies.

        Parameters
        ----------
        X : array-like of the shape seen in ``fit``
            Images or feature vectors.

        Returns
        -------
        scores : ndarray of shape (n_samples,), dtype float64
        """
        return self.score_samples(X) - self.offset_

    def predict(self, X):
        """Predict 1 for normal and -1 for anomalous samples.

        Parameters
        ----------
        X : array-like of the shape seen in ``fit``
            Images or feature vectors.

        Returns
        -------
        labels : ndarray of shape (n_samples,), dtype int
        """
        return np.where(self.decision_function(X) < 0, -1, 1)

    def __sklearn_is_fitted__(self):
        return hasattr(self, "offset_")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.non_deterministic = False
        return tags



class ReconstructionMixin:
    """``reconstruct(X)`` for the detectors that score X against a reconstruction.

    The detector implements ``_reconstruct_batch(x)``: a float32 batch on the
    device in, its reconstruction in the same value range out.
    """

    def reconstruct(self, X):
        """Reconstructions of X, in the input's (scaled) value range.

        Parameters
        ----------
        X : array-like of the shape seen in ``fit``
            Images or feature vectors.

        Returns
        -------
        X_hat : ndarray of shape ``(n_samples, *image_shape_)``, dtype float32
        """
        check_is_fitted(self)
        return self._map_batches(self._reconstruct_batch, self._validate_X(X, reset=False))
