"""The estimator template of skanomaly's image estimators.

Three layers, each adding one job:

:class:`BaseImageEstimator`
    What every estimator of images shares, with or without a network: input
    validation (image shapes, dtype, scaling), seeding and threads during
    ``fit``, the device, batched inference and pickling.
:class:`BaseDeepEstimator`
    A torch network trained by a skorch net (``net_``): parameters routed to
    the net, its common settings, the training run, its rebuild for
    :func:`~skanomaly.load`.
:class:`BaseDetector`
    The outlier-detector ``fit`` and scoring on top of either: labels, the
    ``offset_`` from ``contamination``, ``score_samples`` as minus a batched
    anomaly score. :class:`BaseDeepDetector` is a detector with a network.

A detector adds only its own model, losses and score, through these hooks:

``_fit_model(X, y)``
    Fit the model on the validated training samples (for the deep detectors
    :meth:`BaseDeepEstimator._fit_nets`: ``_learn_input``, ``_build_net``,
    ``_train``).
``_learn_input(X, y)``
    Return the settings of the net learnt from the training data (an output
    activation for data in [0, 1], a standardisation), kept as
    ``net_config_``; by default none.
``_build_net()`` (required for the deep estimators)
    Return the untrained skorch net. It reads only the parameters and the
    fitted attributes set before it is called (``image_shape_``, ``device_``,
    ``net_config_``), never the data: :func:`~skanomaly.load` calls it to
    rebuild a saved estimator, then fills in the weights (the rebuild
    contract).
``_train(X, y)``
    Train ``net_`` on float32 images; by default one :meth:`_run_net`.
``_anomaly_score(x)`` (required for detectors)
    The anomaly score of a float32 batch on the device, higher is more
    abnormal; ``score_samples`` is its negative.
``_modules_for_inference()``
    The torch modules put in eval mode for scoring.

Combining the scores of several detectors is not the base's job: it is
:class:`~skanomaly.CombinedDetector`'s.
"""

import contextlib
import copy
import inspect
import math
import warnings
from numbers import Integral, Real
from typing import ClassVar

import numpy as np
import torch
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from skorch.callbacks import ProgressBar
from torch import nn

from .._docstrings import fill_doc
from ._convert import as_float32, to_tensor
from ._net import TimeLeft, balanced_loader
from ._outlier import CONTAMINATION_CONSTRAINT, OutlierDetectorMixin
from ._validation import check_finite_scores, check_labels, validate_images

__all__ = [
    "AnomalyMapMixin",
    "BaseDeepDetector",
    "BaseDeepEstimator",
    "BaseDetector",
    "BaseImageEstimator",
    "EmbeddingMixin",
    "ReconstructionMixin",
    "resolve_device",
    "seeded",
    "store_params",
]


def resolve_device(device, *, fallback=False):
    """The torch device an estimator runs on.

    Parameters
    ----------
    device : str or torch.device
        The ``device`` parameter ('cpu', 'cuda', 'cuda:1'...).
    fallback : bool, default=False
        What to do when a CUDA device is asked for and none is available:
        raise a ValueError (fitting), or use the CPU (loading a model saved on
        a GPU).

    Returns
    -------
    device : str
    """
    device = torch.device(device)
    if device.type == "cuda" and not torch.cuda.is_available():
        if fallback:
            return "cpu"
        raise ValueError(
            f"device={str(device)!r} was asked for, but torch sees no CUDA device "
            "here; use device='cpu'."
        )
    return str(device)


@contextlib.contextmanager
def seeded(random_state, device):
    """Seed torch from ``random_state`` inside the block, without leaking it.

    The seed is drawn with :func:`sklearn.utils.check_random_state`: an int
    gives reproducible fits; None draws it from numpy's global generator, as
    scikit-learn's estimators do. Torch's global generator (and CUDA's on a
    CUDA device) is forked for the block, so the caller's torch random state
    is the same before and after a fit.
    """
    seed = check_random_state(random_state).randint(np.iinfo(np.int32).max)
    devices = []
    if torch.device(device).type == "cuda":
        devices = [torch.device(device).index or 0]
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield seed


def store_params(estimator, values):
    """Store the arguments of ``__init__`` as attributes of the same names, unchanged.

    scikit-learn's contract for ``__init__`` (skorch's for a net's own
    arguments); call it as ``store_params(self, locals())`` from an
    ``__init__`` whose signature lists every parameter (``**kwargs`` aside).
    """
    for name, parameter in inspect.signature(type(estimator).__init__).parameters.items():
        if name != "self" and parameter.kind not in (parameter.VAR_POSITIONAL,
                                                     parameter.VAR_KEYWORD):
            setattr(estimator, name, values[name])


def _on_cpu(value):
    """A CPU copy of a tensor or module that is on another device; else value."""
    if isinstance(value, torch.Tensor):
        return value.cpu()
    if isinstance(value, nn.Module) and any(
        t.device.type != "cpu" for t in (*value.parameters(), *value.buffers())
    ):
        return copy.deepcopy(value).cpu()
    return value


class BaseImageEstimator(BaseEstimator):
    """Template of the estimators of images, with or without a network.

    Not to be used directly. The subclass defines the parameters used here:
    ``image_shape``, ``batch_size``, ``device``, ``n_threads`` and
    ``random_state`` (which a subclass without randomness may leave out).
    """

    _parameter_constraints: ClassVar[dict] = {
        "image_shape": [tuple, list, None],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "device": [str, torch.device],
        "n_threads": [Interval(Integral, 1, None, closed="left"), None],
    }

    #: how flat ``(n, d)`` input is taken without ``image_shape``: 'vector' or
    #: 'row' (a one-row image, for estimators that need images)
    _flat_input = "vector"
    #: renamed parameters, old name -> new name: the old name is accepted for
    #: one release, with a FutureWarning in ``fit`` (default ``"deprecated"``)
    _renamed_params: ClassVar[dict] = {}
    #: renamed fitted attributes, old name -> new name, for estimators saved
    #: or pickled by an older version
    _renamed_attributes: ClassVar[dict] = {}

    def _param(self, name):
        """The value of parameter ``name``, or of its deprecated old name if set."""
        for old, new in self._renamed_params.items():
            if new == name and getattr(self, old) != "deprecated":
                return getattr(self, old)
        return getattr(self, name)

    def _warn_renamed_params(self):
        for old, new in self._renamed_params.items():
            value = getattr(self, old)
            if value != "deprecated":
                warnings.warn(
                    f"{type(self).__name__}'s parameter {old!r} was renamed {new!r} in "
                    f"0.2 and will be removed in 0.4: use {new}={value!r}.",
                    FutureWarning,
                )

    # -- input -----------------------------------------------------------------
    def _validate_input(self, X, *, reset):
        """Validated X, ``(n, *image_shape_)``; ``fit`` also sets ``image_shape_``."""
        X = validate_images(self, X, reset=reset, flat=self._flat_input)
        if reset:
            self.image_shape_ = tuple(int(s) for s in X.shape[1:])
        return X

    # -- fitting ---------------------------------------------------------------
    @contextlib.contextmanager
    def _torch_context(self):
        """Seeded torch generator and bounded threads for the length of a fit."""
        n_threads = torch.get_num_threads()
        if self.n_threads is not None:
            torch.set_num_threads(self.n_threads)
        try:
            if "random_state" in self._get_param_names():
                with seeded(self.random_state, self.device) as seed:
                    yield seed
            else:  # nothing random to seed
                yield None
        finally:
            torch.set_num_threads(n_threads)

    def _start_fit(self):
        """Reset the records of a previous fit; resolve the device; warn of old names."""
        self._warn_renamed_params()
        for name in ("offset_", "n_epochs_", "fit_status_"):
            self.__dict__.pop(name, None)
        self.device_ = resolve_device(self.device)

    # -- inference -------------------------------------------------------------
    def _modules_for_inference(self):
        """The torch modules used at inference (set to eval mode); none by default."""
        return []

    def _map_batches(self, fn, X):
        """Apply ``fn`` to float32 batches of X without gradients; numpy out.

        The modules of :meth:`_modules_for_inference` are put in eval mode;
        only one batch of activations is alive at a time. A ``fn`` that
        returns a dict of tensors gives a dict of arrays.
        """
        for module in self._modules_for_inference():
            module.eval()
        bs = self.batch_size
        outputs = []
        with torch.no_grad():
            for start in range(0, X.shape[0], bs):
                out = fn(to_tensor(X[start:start + bs], self.device_))
                outputs.append({k: v.cpu().numpy() for k, v in out.items()}
                               if isinstance(out, dict) else out.cpu().numpy())
        if isinstance(outputs[0], dict):
            return {k: np.concatenate([o[k] for o in outputs]) for k in outputs[0]}
        return np.concatenate(outputs)

    # -- pickling --------------------------------------------------------------
    def __getstate__(self):
        # tensors and modules kept outside the skorch net (which pickles its
        # own) are pickled from the CPU, so that the file loads without a GPU
        state = super().__getstate__()
        return {k: _on_cpu(v) if k != "net_" else v for k, v in state.items()}

    def __setstate__(self, state):
        for old, new in self._renamed_attributes.items():
            if old in state:
                state[new] = state.pop(old)
        # a pickle of an older version: the parameters added since keep its behaviour
        for key, value in getattr(self, "_defaults_before", {}).items():
            state.setdefault(key, value)
        super().__setstate__(state)
        if "device_" in vars(self):
            self.device_ = resolve_device(self.device_, fallback=True)
            for key, value in vars(self).items():
                if key != "net_" and isinstance(value, torch.Tensor | nn.Module):
                    setattr(self, key, value.to(self.device_))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.non_deterministic = False
        return tags


class BaseDeepEstimator(BaseImageEstimator):
    """Template of the estimators with a torch network trained by skorch.

    Not to be used directly. The subclass defines, besides those of
    :class:`BaseImageEstimator`, the parameters ``max_epochs``, ``lr``,
    ``net_params``, ``callbacks``, ``random_state`` and ``verbose``.
    """

    _parameter_constraints: ClassVar[dict] = {
        **BaseImageEstimator._parameter_constraints,
        "max_epochs": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "net_params": [dict, None],
        "callbacks": [list, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    #: ``max_epochs='auto'``: (epochs, batch steps): this many epochs, more on
    #: small data sets so that training takes at least this many steps; the
    #: other phases of a fit (pretraining, an encoder) are lengthened alike
    _auto_epochs = (10, 500)

    # -- parameters routed to the skorch net -----------------------------------
    def get_params(self, deep=True):
        """Get parameters, including those routed to the skorch net.

        With ``deep=True`` the entries of ``net_params`` appear as their own
        keys (``optimizer__weight_decay``), so that grid search can tune them.
        """
        params = super().get_params(deep=deep)
        if deep and isinstance(self.net_params, dict):
            params.update(self.net_params)
        return params

    def set_params(self, **params):
        """Set parameters; ``prefix__name`` keys go to the skorch net.

        A key such as ``optimizer__weight_decay`` or ``generator__n_filters``,
        whose prefix is not a parameter of this estimator, is stored in
        ``net_params`` and handed to the skorch net in ``fit``; the net
        checks it then.
        """
        own = self._get_param_names()
        routed = {k: v for k, v in params.items()
                  if "__" in k and k.split("__", 1)[0] not in own}
        if routed:
            net_params = dict(self.net_params) if isinstance(self.net_params, dict) else {}
            net_params.update(routed)
            params = {k: v for k, v in params.items() if k not in routed}
            params["net_params"] = net_params
        return super().set_params(**params)

    # -- the training run ------------------------------------------------------
    def _net_kwargs(self, **net_defaults):
        """Keyword arguments of the skorch net: the common ones, the detector's, ``net_params``.

        ``net_defaults`` are the detector's own arguments
        (``module__latent_dim=...``); entries of ``net_params`` override them
        and everything else.
        """
        callbacks = list(self.callbacks or [])
        if self.verbose:
            callbacks.append(("time_left", TimeLeft(self._planned_epochs())))
        if self.verbose and self.verbose > 1:
            callbacks.append(("progress", ProgressBar()))
        kwargs = {
            "max_epochs": self._epochs(),
            "batch_size": self.batch_size,
            "lr": self.lr,
            "device": self.device_,
            "train_split": None,
            "verbose": self.verbose,
            "callbacks": callbacks,
            "iterator_train__shuffle": True,
            "iterator_valid__batch_size": self.batch_size,
        }
        kwargs.update(net_defaults)
        kwargs.update(self.net_params or {})
        return kwargs

    def _epochs(self, epochs=None):
        """Epochs of a training phase: ``epochs``, or the main phase's when None.

        With ``max_epochs='auto'`` the main phase has ``_auto_epochs[0]``
        epochs, and every phase is lengthened by ``epoch_scale_`` (set in
        ``fit`` from the data size, 1 on large data sets).
        """
        if epochs is None:
            epochs = self._auto_epochs[0] if self.max_epochs == "auto" else self.max_epochs
        return math.ceil(epochs * getattr(self, "epoch_scale_", 1.0))

    def _run_net(self, X, y=None, *, epochs=None, anomaly_share=0.5, batch_size=None):
        """Train ``net_`` on float32 X for a phase of :meth:`_epochs` epochs.

        The net is initialised if it is not yet, then trained ``epochs``
        epochs more (None: the main phase). Batches are class-balanced
        (``anomaly_share`` of each is anomalies) when ``y`` holds labelled
        anomalies, shuffled otherwise (and with ``anomaly_share=None``), of
        ``batch_size`` samples (None: the net's ``batch_size``). Adds
        the completed epochs to ``n_epochs_`` and sets ``fit_status_``:
        'completed', 'stopped_early' (an EarlyStopping callback) or
        'interrupted' (Ctrl-C, which skorch turns into a normal return), with
        a warning in the last case; after an interruption, the later phases
        of the fit do not run.
        """
        net = self.net_
        if getattr(self, "fit_status_", None) == "interrupted":
            return  # Ctrl-C in an earlier phase: the user wants the fit to end
        y = np.ones(len(X), dtype=np.float32) if y is None else np.asarray(y, np.float32)
        if not getattr(net, "initialized_", False):
            net.initialize()
        # the loader's settings of this phase: set as attributes, which skorch
        # reads when it makes the iterator (its set_params would look for a
        # component to re-initialise on an initialised net, and find none)
        user = self.net_params or {}
        loader = {}
        if "iterator_train__batch_size" not in user:
            loader["iterator_train__batch_size"] = batch_size or net.batch_size
        if anomaly_share is not None and (y == -1).any() and "iterator_train" not in user:
            loader.update(iterator_train=balanced_loader, iterator_train__labels=y,
                          iterator_train__anomaly_share=anomaly_share)
        vars(net).update(loader)
        before = net.completed_epochs()
        expected = self._epochs(epochs)
        net.partial_fit(X, y, epochs=expected)
        done = net.completed_epochs() - before
        self.n_epochs_ = getattr(self, "n_epochs_", 0) + done
        if done < expected:
            self.fit_status_ = "stopped_early" if net.stopped_early() else "interrupted"
        if done < expected and self.fit_status_ == "interrupted":
            warnings.warn(
                f"{type(self).__name__}'s training was interrupted after {done} of "
                f"{expected} epochs; the model is usable but undertrained "
                "(fit_status_='interrupted').",
                UserWarning,
            )

    def _start_fit(self):
        super()._start_fit()
        self.n_epochs_ = 0
        self.fit_status_ = "completed"

    # -- hooks -----------------------------------------------------------------
    def _planned_epochs(self):
        """Epochs of the whole fit, in every phase (for the time-left estimate)."""
        return self._epochs()

    def _learn_input(self, X, y):
        """Settings of the net learnt from the training data (``net_config_``).

        Returns a dict of keyword arguments that ``_build_net`` passes to the
        net (an output activation for data in [0, 1], a standardisation);
        by default none.
        """
        return {}

    def _build_net(self):
        """Return the untrained skorch net (parameters and fitted attributes only)."""
        raise NotImplementedError

    def _train(self, X, y):
        """Train ``net_`` on float32 X."""
        self._run_net(X, y)

    def _modules_for_inference(self):
        return [self.net_.module_]

    def _fit_nets(self, X, y):
        """``_learn_input``, ``_build_net`` and ``_train``, in the torch context."""
        # max_epochs='auto': small data sets get more epochs (of fewer batches)
        epochs, steps = self._auto_epochs
        n_batches = math.ceil(int(np.sum(y == 1) if y is not None else len(X)) / self.batch_size)
        self.epoch_scale_ = (max(1.0, steps / (epochs * n_batches))
                             if self.max_epochs == "auto" else 1.0)
        self.net_config_ = self._learn_input(X, y)
        self.net_ = self._build_net()
        self._train(as_float32(X), y)

    _fit_model = _fit_nets

    def _rebuild(self, device):
        """Rebuild ``net_`` untrained, for :func:`~skanomaly.load` to fill in the weights.

        Called on an estimator whose parameters and fitted attributes are
        set; the loader then applies the net's saved settings, initializes it
        and loads the saved weights.
        """
        self.device_ = device
        # files of skanomaly 0.1 have no net_config_: the net's saved settings
        # carry the same values
        self.__dict__.setdefault("net_config_", {})
        self.net_ = self._build_net()


@fill_doc
class BaseDetector(OutlierDetectorMixin, BaseImageEstimator):
    """Base class of the outlier detectors of images.

    Not to be used directly: subclasses implement ``_fit_model`` and
    ``_anomaly_score``. Conventions, shared by every detector:

    * ``X`` is ``(n, C, H, W)`` or ``(n, H, W)`` images, or ``(n, d)`` feature
      vectors, folded into images when ``image_shape`` is set. ``uint8`` input
      is scaled to [0, 1]; float input is used as given.
    * ``y`` passed to ``fit`` is None (all normal) or in ``{1, -1}``:
      1 normal, -1 anomaly. Detectors that learn from labelled anomalies
      (``_learns_from_anomalies = True``) use them; the others fit on the
      ``y == 1`` samples only.
    * ``score_samples`` is float64, lower is more abnormal;
      ``decision_function = score_samples - offset_``; ``predict`` is -1 where
      it is negative.
    """

    _parameter_constraints: ClassVar[dict] = {
        **BaseImageEstimator._parameter_constraints,
        "contamination": CONTAMINATION_CONSTRAINT,
    }

    #: whether ``fit`` passes labelled anomalies to ``_fit_model``
    _learns_from_anomalies = False

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit the detector.

        Parameters
        ----------
        {X_train}
        y : array-like of shape (n_samples,), default=None
            1 for normal and -1 for anomalous samples; None means all normal.
            Detectors that do not learn from labelled anomalies fit on the
            samples labelled 1 only.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        # offset_ is set last: a fit that fails midway leaves the estimator
        # unfitted rather than half-fitted (__sklearn_is_fitted__)
        self._start_fit()
        X = self._validate_input(X, reset=True)
        y = check_labels(y, X.shape[0])
        if not (y == 1).any():
            raise ValueError("y has no normal sample (label 1): nothing to learn.")
        train = np.ones(len(y), dtype=bool) if self._learns_from_anomalies else y == 1
        with self._torch_context():
            self._fit_model(X[train], y[train])
            self._set_offset(self._score_samples(X), y)
        return self

    def _fit_model(self, X, y):
        """Fit the model on validated samples (labelled anomalies only if it learns from them)."""
        raise NotImplementedError

    def _anomaly_score(self, x):
        """Anomaly score of a float32 batch on the device, higher is more abnormal."""
        raise NotImplementedError

    def _score_samples(self, X):
        """Batched ``score_samples`` on validated input: minus the anomaly score."""
        scores = -self._map_batches(self._anomaly_score, X).astype(np.float64)
        return check_finite_scores(scores, self)

    def score_samples(self, X):
        """Opposite of the anomaly score of each sample.

        {X_fitted}

        Returns
        -------
        scores : ndarray of shape (n_samples,), dtype float64
            The lower, the more abnormal.
        """
        check_is_fitted(self)
        return self._score_samples(self._validate_input(X, reset=False))

    def __sklearn_is_fitted__(self):
        return hasattr(self, "offset_")


class BaseDeepDetector(BaseDetector, BaseDeepEstimator):
    """Base class of the detectors with a torch network trained by skorch.

    The hooks of :class:`BaseDeepEstimator` build and train the net;
    ``_anomaly_score`` scores with it.
    """

    _parameter_constraints: ClassVar[dict] = {
        **BaseDeepEstimator._parameter_constraints,
        "contamination": CONTAMINATION_CONSTRAINT,
    }

    _fit_model = BaseDeepEstimator._fit_nets


@fill_doc
class ReconstructionMixin:
    """``reconstruct(X)`` for the detectors that score X against a reconstruction.

    The detector implements ``_reconstruct_batch(x)``: a float32 batch on the
    device in, its reconstruction in the same value range out.
    """

    def reconstruct(self, X):
        """Reconstructions of X, in the input's (scaled) value range.

        {X_fitted}

        Returns
        -------
        X_hat : ndarray of shape ``(n_samples, *image_shape_)``, dtype float32
        """
        check_is_fitted(self)
        return self._map_batches(self._reconstruct_batch,
                                 self._validate_input(X, reset=False))


@fill_doc
class EmbeddingMixin:
    """``embed(X)`` for the detectors with an encoder: the code of each sample.

    The detector implements ``_embed_batch(x)``: a float32 batch on the
    device in, its codes out. :class:`~skanomaly.KNNDetector` measures
    distances between such codes (``feature_extractor``).
    """

    def embed(self, X):
        """The encoder's code of each sample, flattened.

        {X_fitted}

        Returns
        -------
        codes : ndarray of shape (n_samples, n_codes), dtype float64
        """
        check_is_fitted(self)
        X = self._validate_input(X, reset=False)
        codes = self._map_batches(lambda x: self._embed_batch(x).flatten(1), X)
        return codes.astype(np.float64)


@fill_doc
class AnomalyMapMixin:
    """``anomaly_map(X)`` for the detectors that localise anomalies in images.

    The detector implements ``_anomaly_map_batch(x)``: a float32 batch of
    images on the device in, ``(n, H, W)`` maps out, higher where the image
    is more abnormal (or ``_anomaly_map(X)`` for all the validated images). Detectors that cannot localise do not have this mixin,
    so ``hasattr(detector, "anomaly_map")`` tells.
    """

    def anomaly_map(self, X):
        """Per-pixel anomaly map of each image: where it is abnormal.

        Parameters
        ----------
        X : array-like of images of the shape seen in ``fit``, or a torch Dataset
            Images ``(n, C, H, W)`` or ``(n, H, W)`` (or flat vectors folded
            into the fitted image shape).

        Returns
        -------
        maps : ndarray of shape (n_samples, H, W), dtype float64
            Higher is more abnormal, at the input's resolution.

        Raises
        ------
        ValueError
            If the detector was fitted on feature vectors, not images.
        """
        check_is_fitted(self)
        if len(self.image_shape_) != 3:
            raise ValueError(
                f"{type(self).__name__} was fitted on feature vectors of shape "
                f"{self.image_shape_}: anomaly maps need images (pass image_shape "
                "to fit on flat images)."
            )
        X = self._validate_input(X, reset=False)
        return check_finite_scores(self._anomaly_map(X), self)

    def _anomaly_map(self, X):
        """Maps of validated images, float64 ``(n, H, W)``: ``_anomaly_map_batch`` in batches."""
        return self._map_batches(self._anomaly_map_batch, X).astype(np.float64)


def gradient_map(score, x, *, sigma=1.0):
    """Anomaly map of a differentiable score: ``|x * d score / d x|``, smoothed.

    Parameters
    ----------
    score : callable
        A float32 batch to per-sample anomaly scores ``(n,)``, differentiable.
    x : torch.Tensor of shape (n, C, H, W)
        The batch.
    sigma : float, default=1.0
        Standard deviation, in pixels, of the Gaussian that smooths the map.

    Returns
    -------
    maps : torch.Tensor of shape (n, H, W)
    """
    with torch.enable_grad():
        x = x.detach().clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(score(x).sum(), x)
    saliency = (grad * x).abs().sum(1, keepdim=True).detach()
    radius = max(1, round(2 * sigma))
    t = torch.arange(-radius, radius + 1, dtype=saliency.dtype, device=saliency.device)
    kernel = torch.exp(-0.5 * (t / sigma) ** 2)
    kernel = kernel / kernel.sum()
    blurred = torch.nn.functional.conv2d(
        torch.nn.functional.pad(saliency, (radius,) * 4, mode="replicate"),
        (kernel[:, None] * kernel[None, :])[None, None])
    return blurred[:, 0]
