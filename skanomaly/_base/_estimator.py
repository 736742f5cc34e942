"""The estimator template of the deep (torch-backed) estimators.

:class:`BaseDeepEstimator` owns what every torch-backed estimator of the
package shares, the detectors and :class:`~skanomaly.CNNFeatures` alike:
parameters routed to the skorch net, seeding and threads during ``fit``, the
device, the skorch net's common settings and training run, pickling, and
batched inference. :class:`BaseDeepDetector` adds the outlier-detector ``fit``
and scoring.

A detector subclass adds only its own nets, losses and score, through these
hooks:

``_learn_input(X, y)``
    Return the settings of the net learnt from the training data (an output
    activation for data in [0, 1], a standardisation), kept as
    ``net_config_``; by default none.
``_build_net()`` (required)
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
from ._components import (
    KNN_NEIGHBORS,
    gaussian_deviation,
    gaussian_moments,
    knn_distance,
    row_digests,
)
from ._convert import as_float32, to_tensor
from ._net import TimeLeft, balanced_loader
from ._outlier import CONTAMINATION_CONSTRAINT, OutlierDetectorMixin
from ._validation import check_finite_scores, check_labels, validate_images

__all__ = [
    "AnomalyMapMixin",
    "BaseDeepDetector",
    "BaseDeepEstimator",
    "ReconstructionMixin",
    "resolve_device",
    "seeded",
    "store_params",
]


#: share of the normal training samples held out to standardise a score of
#: several components
_CALIBRATION_SHARE = 0.1


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


class BaseDeepEstimator(BaseEstimator):
    """Template of the torch-backed estimators (detectors and transformers).

    Not to be used directly. The subclass defines the parameters used here:
    ``image_shape``, ``max_epochs``, ``batch_size``, ``lr``, ``net_params``,
    ``callbacks``, ``device``, ``n_threads``, ``random_state``, ``verbose``.
    """

    _parameter_constraints: ClassVar[dict] = {
        "image_shape": [tuple, list, None],
        "max_epochs": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "net_params": [dict, None],
        "callbacks": [list, None],
        "device": [str, torch.device],
        "n_threads": [Interval(Integral, 1, None, closed="left"), None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    #: how flat ``(n, d)`` input is taken without ``image_shape``: 'vector' or
    #: 'row' (a one-row image, for estimators that need images)
    _flat_input = "vector"
    #: ``max_epochs='auto'``: (epochs, batch steps): this many epochs, more on
    #: small data sets so that training takes at least this many steps; the
    #: other phases of a fit (pretraining, an encoder) are lengthened alike
    _auto_epochs = (10, 500)
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
                    f"0.2 and will be removed in 0.3: use {new}={value!r}.",
                    FutureWarning,
                )

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

    # -- input -----------------------------------------------------------------
    def _validate_input(self, X, *, reset):
        """Validated X, ``(n, *image_shape_)``; ``fit`` also sets ``image_shape_``."""
        X = validate_images(self, X, reset=reset, flat=self._flat_input)
        if reset:
            self.image_shape_ = tuple(int(s) for s in X.shape[1:])
        return X

    # -- the training run ------------------------------------------------------
    @contextlib.contextmanager
    def _torch_context(self):
        """Seeded torch generator and bounded threads for the length of a fit."""
        n_threads = torch.get_num_threads()
        if self.n_threads is not None:
            torch.set_num_threads(self.n_threads)
        try:
            with seeded(self.random_state, self.device) as seed:
                yield seed
        finally:
            torch.set_num_threads(n_threads)

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
        """Reset the records of a previous fit; resolve the device; warn of old names."""
        self._warn_renamed_params()
        for name in ("offset_", "n_epochs_", "fit_status_"):
            self.__dict__.pop(name, None)
        self.n_epochs_ = 0
        self.fit_status_ = "completed"
        self.device_ = resolve_device(self.device)

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
        """The torch modules used at inference (set to eval mode)."""
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

    # -- inference -------------------------------------------------------------
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


@fill_doc
class BaseDeepDetector(OutlierDetectorMixin, BaseDeepEstimator):
    """Base class of the torch-backed outlier detectors.

    Not to be used directly: subclasses implement the hooks of
    :class:`BaseDeepEstimator` and ``_anomaly_score``. Conventions, shared by
    every detector:

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
        **BaseDeepEstimator._parameter_constraints,
        "contamination": CONTAMINATION_CONSTRAINT,
    }

    #: whether ``fit`` passes labelled anomalies to ``_train``
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
        components = self._score_components()
        with self._torch_context():
            if components:
                # the normal images held out of the fit, to standardise the
                # score's components; the other normal ones are the kNN bank
                # (below 15 normal images, too few to spare two: the components
                # are standardised on the training images themselves)
                normal = np.flatnonzero(train & (y == 1))
                n_held = round(_CALIBRATION_SHARE * len(normal))
                held = np.zeros(len(y), dtype=bool)
                if n_held >= 2:
                    held[normal[torch.randperm(len(normal))[:n_held].numpy()]] = True
                    train &= ~held
                else:
                    held[normal] = True
            self._fit_nets(X[train], y[train])
            if components:
                self._fit_components(X[train & (y == 1)], X[held])
            self._set_offset(self._score_samples(X), y)
        return self

    def _anomaly_score(self, x):
        """Anomaly score of a float32 batch on the device, higher is more abnormal."""
        raise NotImplementedError

    # -- scores of several components -------------------------------------------
    def _score_components(self):
        """Names of the components of the score, or None for ``_anomaly_score``.

        A name is a key of :meth:`_direct_scores`, ``"knn:<space>"``, the
        kNN distance in the space :meth:`_knn_spaces` gives under that key,
        or ``"gauss:<space>"``, the scaled distance to the normal images'
        mean there (:func:`~skanomaly._base._components.gaussian_deviation`).
        """
        return None  # noqa: RET501 (a hook: a detector with components returns their names)

    def _direct_scores(self, x):
        """Component scores of a batch computed directly: name -> ``(n,)``, higher abnormal."""
        return {}

    def _component_weight(self, name):
        """Weight of a component's z-score in the sum (1 unless a detector says otherwise)."""
        return 1.0

    def _one_sided_components(self):
        """Components whose z-score can only raise the anomaly score (clipped at 0).

        A supervised component belongs here: its "very normal" verdict on an
        image of a kind it never saw must not cancel the others' alarm.
        """
        return ()

    def _knn_spaces(self, x):
        """The spaces of the kNN and Gaussian components for a batch: name -> ``(n, d)``."""
        return {}

    def _fit_components(self, X_bank, X_held):
        """The kNN banks, the Gaussians' moments and the standardisation.

        ``reference_features_`` maps each kNN space to the features of the
        normal training images in it; ``reference_moments_`` maps each
        ``"gauss"`` space to their mean and scale (:func:`gaussian_moments`);
        ``score_calibration_`` maps each component to the mean and standard
        deviation of its scores on the held-out normal images.
        """
        components = self._score_components()
        knn = {c.split(":", 1)[1] for c in components if c.startswith("knn:")}
        gauss = {c.split(":", 1)[1] for c in components if c.startswith("gauss:")}
        spaces = sorted(knn | gauss)

        def needed(x):  # every space from one call: the networks run once a batch
            mapped = self._knn_spaces(x)
            return {space: mapped[space] for space in spaces}

        features = self._map_batches(needed, X_bank) if spaces else {}
        self.reference_features_ = {space: features[space] for space in sorted(knn)}
        self.reference_moments_ = {space: gaussian_moments(features[space])
                                   for space in sorted(gauss)}
        # which queries are bank images: they leave themselves out
        self._reference_digests = self._map_batches(row_digests, X_bank)
        raw = self._map_batches(self._component_matrix(), X_held).astype(np.float64)
        std = raw.std(axis=0)
        self.score_calibration_ = {
            c: (float(raw[:, i].mean()), float(std[i]) if std[i] > 0 else 1.0)
            for i, c in enumerate(components)}

    def _component_matrix(self):
        """A batch function: the raw components' scores, ``(n, n_components)``."""
        components = self._score_components()
        banks = {space: torch.as_tensor(bank, device=self.device_)
                 for space, bank in self.reference_features_.items()}
        moments = {space: tuple(torch.as_tensor(m, dtype=torch.float64, device=self.device_)
                                for m in pair)
                   for space, pair in getattr(self, "reference_moments_", {}).items()}
        digests = getattr(self, "_reference_digests", None)
        digests = None if digests is None else torch.as_tensor(digests)

        def scores(x):
            direct = self._direct_scores(x)
            spaces = self._knn_spaces(x) if banks or moments else {}
            in_bank = None if digests is None else torch.isin(row_digests(x), digests)
            columns = []
            for c in components:
                if c.startswith("knn:"):
                    space = c.split(":", 1)[1]
                    columns.append(knn_distance(banks[space], spaces[space], KNN_NEIGHBORS,
                                                in_bank))
                elif c.startswith("gauss:"):
                    space = c.split(":", 1)[1]
                    columns.append(gaussian_deviation(*moments[space], spaces[space]))
                else:
                    columns.append(direct[c])
            return torch.stack([col.double() for col in columns], dim=1)

        return scores

    def _score_samples(self, X):
        """Batched ``score_samples`` on validated input.

        With components, minus the weighted sum of their z-scores (those of
        :meth:`_one_sided_components` clipped at 0 from below); a training
        image in the kNN banks is not its own neighbour (see ``_components``).
        """
        components = self._score_components()
        if not components:
            scores = -self._map_batches(self._anomaly_score, X).astype(np.float64)
            return check_finite_scores(scores, self)
        raw = self._map_batches(self._component_matrix(), X).astype(np.float64)
        calibration = [self.score_calibration_[c] for c in components]
        mean = np.asarray([m for m, _ in calibration])
        std = np.asarray([s for _, s in calibration])
        z = (raw - mean) / std
        one_sided = [i for i, c in enumerate(components) if c in self._one_sided_components()]
        z[:, one_sided] = np.maximum(z[:, one_sided], 0.0)
        weights = np.asarray([self._component_weight(c) for c in components])
        return check_finite_scores(-(z * weights).sum(axis=1), self)

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
class AnomalyMapMixin:
    """``anomaly_map(X)`` for the detectors that localise anomalies in images.

    The detector implements ``_anomaly_map_batch(x)``: a float32 batch of
    images on the device in, ``(n, H, W)`` maps out, higher where the image
    is more abnormal. Detectors that cannot localise do not have this mixin,
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
        maps = self._map_batches(self._anomaly_map_batch, X).astype(np.float64)
        return check_finite_scores(maps, self)


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
