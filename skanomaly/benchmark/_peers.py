"""Peers: detectors of other libraries, with skanomaly's conventions.

Each adapter takes skanomaly's labels (1 normal, -1 anomaly), scores lower
for more abnormal samples (float64), and sets ``offset_`` from
``contamination`` at the end of ``fit`` like every skanomaly detector, so that
``predict`` flags the share of training samples that ``contamination`` asks
for; ``decision_function`` and ``predict`` come from
:class:`~skanomaly._base.OutlierDetectorMixin`.
"""

import contextlib
import hashlib
import inspect
import io
import warnings
from numbers import Integral, Real
from typing import ClassVar

import numpy as np
import torch
from sklearn.base import BaseEstimator, _fit_context, clone
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.validation import check_is_fitted, validate_data
from torch import nn
from torch.nn import functional as F

from .._base import (
    CONTAMINATION_CONSTRAINT,
    OutlierDetectorMixin,
    as_float32,
    check_labels,
)

__all__ = ["BalancedCNN", "PatchKNN", "PyODDetector", "RawPixels"]


def _images(X):
    """Samples as an ndarray of images ``(n, C, H, W)`` (``(n, H, W)`` gains C=1)."""
    X = np.asarray(X)
    if X.ndim == 3:
        X = X[:, None]
    if X.ndim != 4:
        raise ValueError(
            f"X must hold images of shape (n, H, W) or (n, C, H, W); got shape {X.shape}."
        )
    return X


def _flat_pixels(estimator, X, *, reset):
    """Samples as validated float32 rows; uint8 is scaled to [0, 1]."""
    X = np.asarray(X)
    X = as_float32(X.reshape(X.shape[0], -1))
    return validate_data(estimator, X, reset=reset, dtype=np.float32)


@contextlib.contextmanager
def _quiet():
    """What PyOD prints, and its UserWarnings (tensor copies, unused options), swallowed."""
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.filterwarnings("ignore", category=UserWarning, module="pyod")
        yield


@contextlib.contextmanager
def _seeded_globals(random_state):
    """numpy's and torch's global generators seeded inside the block, restored after.

    For models that draw from the global generators instead of taking a seed.
    """
    if random_state is None:
        yield
        return
    seed = check_random_state(random_state).randint(np.iinfo(np.int32).max)
    state = np.random.get_state()
    try:
        with torch.random.fork_rng(devices=[]):
            np.random.seed(seed)
            torch.manual_seed(seed)
            yield
    finally:
        np.random.set_state(state)


class _PixelPeer(OutlierDetectorMixin):
    """``score_samples`` of the peers that score the flattened images (``_score_samples``)."""

    def score_samples(self, X):
        """The peer's score of the flattened images, lower is more abnormal.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)

        Returns
        -------
        scores : ndarray of shape (n_samples,), dtype float64
        """
        check_is_fitted(self)
        return self._score_samples(_flat_pixels(self, X, reset=False))


class RawPixels(_PixelPeer, BaseEstimator):
    """A scikit-learn estimator on flattened pixels, with skanomaly's conventions.

    Images are flattened (uint8 scaled to [0, 1]). A one-class estimator is
    fitted on the samples labelled 1 only; a classifier (``use_labels=True``)
    on all of them, with their labels. ``score_samples`` is the estimator's
    ``score_samples``, or else its ``decision_function`` (positive for the
    class 1, normal), lower meaning more abnormal.

    Parameters
    ----------
    estimator : estimator object
        Unfitted; cloned in ``fit``. The benchmark uses
        ``OneClassSVM()`` (scikit-learn's defaults: RBF kernel,
        ``gamma='scale'``, ``nu=0.5``), ``IsolationForest(random_state=seed)``
        (100 trees of 256 samples) and
        ``LogisticRegression(class_weight='balanced', max_iter=1000)``.
    use_labels : bool, default=False
        Fit on every sample with its label (a classifier) instead of the
        normal samples alone.
    contamination : 'auto' or float, default='auto'
        Sets ``offset_`` from the training scores, as in skanomaly's
        detectors: a float flags that share of the training samples; 'auto'
        the lower Tukey fence of the normal training scores (at least 1% of
        them).

    Attributes
    ----------
    estimator_ : estimator object
        The fitted clone of ``estimator``.
    offset_ : float
        ``decision_function = score_samples - offset_``.
    n_features_in_ : int
        Pixels per image.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.ensemble import IsolationForest
    >>> from skanomaly.benchmark import RawPixels
    >>> X = np.random.RandomState(0).rand(200, 8, 8)
    >>> detector = RawPixels(IsolationForest(random_state=0), contamination=0.1).fit(X)
    >>> float((detector.predict(X) == -1).mean())
    0.1
    """

    _parameter_constraints: ClassVar[dict] = {
        "estimator": [HasMethods(["fit"])],
        "use_labels": ["boolean"],
        "contamination": CONTAMINATION_CONSTRAINT,
    }

    def __init__(self, estimator, *, use_labels=False, contamination="auto"):
        self.estimator = estimator
        self.use_labels = use_labels
        self.contamination = contamination

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None):
        """Fit the estimator on the flattened images.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Images or feature vectors.
        y : array-like of shape (n_samples,), default=None
            1 normal, -1 anomaly; None means all normal.

        Returns
        -------
        self : object
        """
        X = _flat_pixels(self, X, reset=True)
        y = check_labels(y, X.shape[0])
        self.estimator_ = clone(self.estimator)
        if self.use_labels:
            if not (y == -1).any():
                raise ValueError(
                    f"{type(self.estimator).__name__} is a classifier: it needs "
                    "labelled anomalies (y == -1)."
                )
            self.estimator_.fit(X, y)
        else:
            self.estimator_.fit(X[y == 1])
        self._set_offset(self._score_samples(X), y)
        return self

    def _score_samples(self, X):
        method = getattr(self.estimator_, "score_samples", None)
        if method is None:  # a classifier: the normal class 1 has positive decisions
            method = self.estimator_.decision_function
        return np.asarray(method(X), dtype=np.float64)



class PyODDetector(_PixelPeer, BaseEstimator):
    """A PyOD detector on flattened pixels, with skanomaly's conventions.

    PyOD scores the other way round (higher is more abnormal, negated here)
    and labels anomalies 1 (translated here), and some of its models take the
    number of features in their constructor, so the model is built in
    ``fit``: ``model(**model_params)``, plus ``n_features`` when its
    constructor asks for it (DeepSVDD). PyOD's own threshold is not used:
    ``offset_`` comes from ``contamination``. What PyOD prints, and the
    UserWarnings it raises, are swallowed.

    Parameters
    ----------
    model : class
        A PyOD detector class, e.g. ``pyod.models.iforest.IForest``.
    model_params : dict, default=None
        Arguments of ``model``; None or a missing key means PyOD's default.
    use_labels : bool, default=False
        Fit on every sample with its label (the semi-supervised PyOD models,
        e.g. DevNet) instead of the normal samples alone.
    contamination : 'auto' or float, default='auto'
        Sets ``offset_`` from the training scores (see :class:`RawPixels`).
    random_state : int, RandomState instance or None, default=None
        Seeds numpy's and torch's global generators for the length of ``fit``
        (restored afterwards), for the PyOD models that draw from them without
        a seed parameter; pass the model's own seed in ``model_params``.

    Attributes
    ----------
    model_ : PyOD detector
        The fitted model.
    offset_ : float
        ``decision_function = score_samples - offset_``.
    n_features_in_ : int
        Pixels per image.
    """

    _parameter_constraints: ClassVar[dict] = {
        "model": [callable],
        "model_params": [dict, None],
        "use_labels": ["boolean"],
        "contamination": CONTAMINATION_CONSTRAINT,
        "random_state": ["random_state"],
    }

    def __init__(self, model, *, model_params=None, use_labels=False, contamination="auto",
                 random_state=None):
        self.model = model
        self.model_params = model_params
        self.use_labels = use_labels
        self.contamination = contamination
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit the PyOD model on the flattened images.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
        y : array-like of shape (n_samples,), default=None
            1 normal, -1 anomaly; None means all normal. Without
            ``use_labels``, the anomalies are left out.

        Returns
        -------
        self : object
        """
        X = _flat_pixels(self, X, reset=True)
        y = check_labels(y, X.shape[0])
        params = dict(self.model_params or {})
        if "n_features" in inspect.signature(self.model).parameters:
            params.setdefault("n_features", X.shape[1])
        with _seeded_globals(self.random_state), _quiet():
            self.model_ = self.model(**params)
            if self.use_labels:
                if not (y == -1).any():
                    raise ValueError(f"{self.model.__name__} needs labelled anomalies.")
                self.model_.fit(X, (y == -1).astype(np.int64))
            else:
                self.model_.fit(X[y == 1])
            scores = self._score_samples(X)
        self._set_offset(scores, y)
        return self

    def _score_samples(self, X):
        with _quiet():
            return -np.asarray(self.model_.decision_function(X), dtype=np.float64).ravel()


class _SmallCNN(nn.Module):
    """Two 3x3 convolutions with ReLU and 2x2 max-pooling, then one logit."""

    def __init__(self, image_shape, n_filters):
        super().__init__()
        channels, height, width = image_shape
        self.features = nn.Sequential(
            nn.Conv2d(channels, n_filters, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(n_filters, 2 * n_filters, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(),
        )
        self.logit = nn.Linear(2 * n_filters * (height // 4) * (width // 4), 1)

    def forward(self, x):
        return self.logit(self.features(x)).squeeze(1)


class BalancedCNN(OutlierDetectorMixin, BaseEstimator):
    """A small class-balanced CNN classifier: the supervised peer on images.

    Two 3x3 convolutions (``n_filters`` and ``2 * n_filters`` channels, each
    followed by ReLU and 2x2 max-pooling) and a linear layer give one logit,
    the logit of "normal". It is trained with Adam on the binary
    cross-entropy between normal (1) and the labelled anomalies (-1), each
    class weighted by ``n_samples / (2 * n_class_samples)`` as scikit-learn's
    ``class_weight='balanced'`` does. ``score_samples`` is the logit.
    (skanomaly's own :class:`~skanomaly.CNNClassifier`, with batch
    normalisation, shifted images and balanced batches, is the one the
    recipes use; this one is the plain peer.)

    Parameters
    ----------
    n_filters : int, default=16
        Channels of the first convolution.
    max_epochs : int, default=10
        Training epochs.
    batch_size : int, default=64
        Training batch size.
    lr : float, default=1e-3
        Adam's learning rate.
    contamination : 'auto' or float, default='auto'
        Sets ``offset_`` from the training scores (see :class:`RawPixels`).
    device : str, default='cpu'
        Torch device.
    random_state : int, RandomState instance or None, default=None
        Seeds the weights and the batch order (torch's global generator is
        forked for the fit, so the caller's is unchanged).

    Attributes
    ----------
    module_ : torch.nn.Module
        The trained network.
    image_shape_ : tuple of int
        ``(C, H, W)`` of the training images.
    n_epochs_ : int
        Epochs completed.
    fit_status_ : str
        'completed'.
    offset_ : float
        ``decision_function = score_samples - offset_``.
    """

    _parameter_constraints: ClassVar[dict] = {
        "n_filters": [Interval(Integral, 1, None, closed="left")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "contamination": CONTAMINATION_CONSTRAINT,
        "device": [str],
        "random_state": ["random_state"],
    }

    def __init__(self, *, n_filters=16, max_epochs=10, batch_size=64, lr=1e-3,
                 contamination="auto", device="cpu", random_state=None):
        self.n_filters = n_filters
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.contamination = contamination
        self.device = device
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Train the classifier on normal images and labelled anomalies.

        Parameters
        ----------
        X : array-like of shape (n_samples, H, W) or (n_samples, C, H, W)
        y : array-like of shape (n_samples,)
            1 normal, -1 anomaly; both must occur.

        Returns
        -------
        self : object
        """
        X = _images(X)
        y = check_labels(y, X.shape[0])
        if not (y == -1).any() or not (y == 1).any():
            raise ValueError("BalancedCNN needs normal samples and labelled anomalies.")
        rng = check_random_state(self.random_state)
        self.image_shape_ = tuple(X.shape[1:])
        target = torch.as_tensor((y == 1).astype(np.float32))
        images = torch.as_tensor(as_float32(X))
        self._fit_weighted(images, y, target, rng)
        self.n_epochs_ = self.max_epochs
        self.fit_status_ = "completed"
        self._set_offset(self._score_samples(X), y)
        return self

    def _fit_weighted(self, images, y, target, rng):
        """The small CNN on class-weighted shuffled batches."""
        weight = torch.as_tensor(
            np.where(y == 1, len(y) / (2 * (y == 1).sum()), len(y) / (2 * (y == -1).sum())),
            dtype=torch.float32,
        )
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(rng.randint(np.iinfo(np.int32).max))
            self.module_ = _SmallCNN(self.image_shape_, self.n_filters).to(self.device)
        optimizer = torch.optim.Adam(self.module_.parameters(), lr=self.lr)
        self.module_.train()
        for _ in range(self.max_epochs):
            for batch in np.array_split(rng.permutation(len(y)),
                                        max(1, -(-len(y) // self.batch_size))):
                idx = torch.as_tensor(batch)
                logits = self.module_(images[idx].to(self.device))
                loss = F.binary_cross_entropy_with_logits(
                    logits, target[idx].to(self.device), weight=weight[idx].to(self.device))
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()

    def _score_samples(self, X):
        self.module_.eval()
        scores = []
        with torch.no_grad():
            for start in range(0, len(X), 1024):
                batch = torch.as_tensor(as_float32(X[start:start + 1024]))
                scores.append(self.module_(batch.to(self.device)).cpu().numpy())
        return np.concatenate(scores).astype(np.float64)

    def score_samples(self, X):
        """The logit of "normal", lower is more abnormal.

        Parameters
        ----------
        X : array-like of shape (n_samples, H, W) or (n_samples, C, H, W)

        Returns
        -------
        scores : ndarray of shape (n_samples,), dtype float64
        """
        check_is_fitted(self)
        X = _images(X)
        if tuple(X.shape[1:]) != self.image_shape_:
            raise ValueError(
                f"X has images of shape {X.shape[1:]}; BalancedCNN was fitted on "
                f"{self.image_shape_}."
            )
        return self._score_samples(X)


class PatchKNN(OutlierDetectorMixin, BaseEstimator):
    """Nearest-neighbour distance of raw pixel patches: a localising peer.

    Every pixel's ``patch_size`` x ``patch_size`` patch (the image padded
    by reflection, so that border pixels have one too; all channels) is a
    vector of raw pixel values (uint8 scaled to [0, 1]). ``fit`` keeps a
    bank of the patches of the normal training images: all of them, or
    ``max_patches`` drawn at random. The anomaly map of an image is, at
    each pixel, the Euclidean distance of its patch to the nearest patch of
    the bank; the image's score is minus the map's maximum. Distances are
    computed with torch in blocks of ``batch_size`` patches.

    Parameters
    ----------
    patch_size : int, default=7
        The patches' side, odd.
    max_patches : int or None, default=50000
        Size of the bank: a random subsample (drawn with ``random_state``)
        of the training patches when they are more; None keeps them all.
    batch_size : int, default=2048
        Patches per block of distances (against blocks of 8192 bank
        patches).
    contamination : 'auto' or float, default='auto'
        Sets ``offset_`` from training scores (see :class:`RawPixels`).
    device : str, default='cpu'
        Torch device of the distances.
    random_state : int, RandomState instance or None, default=None
        Draws the bank's patches and the images ``offset_`` is set from.

    Attributes
    ----------
    bank_ : ndarray of shape (n_patches, C * patch_size ** 2), dtype float32
        The patches of the normal training images.
    n_channels_ : int
        Channels of the training images.
    offset_ : float
        ``decision_function = score_samples - offset_``.

    Notes
    -----
    ``offset_`` comes from the scores of at most 64 normal training images
    (drawn with ``random_state``), each scored against the bank without
    its own patches, so that a training image is not its own neighbour.
    ``anomaly_map`` and ``score_samples`` of the same images share one
    computation: the maps of the last images scored are kept (keyed by the
    images' bytes).

    Examples
    --------
    >>> import numpy as np
    >>> from skanomaly.benchmark import PatchKNN
    >>> X = np.random.RandomState(0).rand(10, 1, 12, 12)
    >>> detector = PatchKNN(patch_size=3, random_state=0).fit(X)
    >>> defective = X[:2].copy()
    >>> defective[1, 0, 4:7, 4:7] = 1.0
    >>> maps = detector.anomaly_map(defective)
    >>> maps.shape, bool(maps[1, 4:7, 4:7].mean() > maps[0, 4:7, 4:7].mean())
    ((2, 12, 12), True)
    """

    _parameter_constraints: ClassVar[dict] = {
        "patch_size": [Interval(Integral, 1, None, closed="left")],
        "max_patches": [Interval(Integral, 1, None, closed="left"), None],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "contamination": CONTAMINATION_CONSTRAINT,
        "device": [str],
        "random_state": ["random_state"],
    }

    #: bank patches per block of distances
    _BANK_BLOCK = 8192
    #: at most this many training images set ``offset_``
    _OFFSET_IMAGES = 64

    def __init__(self, *, patch_size=7, max_patches=50000, batch_size=2048,
                 contamination="auto", device="cpu", random_state=None):
        self.patch_size = patch_size
        self.max_patches = max_patches
        self.batch_size = batch_size
        self.contamination = contamination
        self.device = device
        self.random_state = random_state

    def _check_images(self, X):
        X = _images(X)
        pad = self.patch_size // 2
        if min(X.shape[2:]) <= pad:
            raise ValueError(f"The images ({X.shape[2]}x{X.shape[3]}) are too small for "
                             f"patches of {self.patch_size}x{self.patch_size}.")
        return X

    def _padded(self, X):
        """Images as a float32 tensor padded by reflection, half a patch on each side."""
        images = torch.as_tensor(as_float32(np.asarray(X)))
        pad = self.patch_size // 2
        return F.pad(images, (pad, pad, pad, pad), mode="reflect") if pad else images

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Keep the patches of the normal training images, and set ``offset_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, C, H, W) or (n_samples, H, W)
            Training images (any size, at least a patch's half large).
        y : array-like of shape (n_samples,), default=None
            1 normal, -1 anomaly; None means all normal. The anomalies are
            left out.

        Returns
        -------
        self : object
        """
        if self.patch_size % 2 == 0:
            raise ValueError(f"patch_size must be odd; got {self.patch_size}.")
        X = self._check_images(X)
        y = check_labels(y, X.shape[0])
        normal = np.flatnonzero(y == 1)
        if not len(normal):
            raise ValueError("PatchKNN needs normal training images (y == 1).")
        rng = check_random_state(self.random_state)
        _, channels, height, width = X.shape
        self.n_channels_ = channels
        per_image = height * width
        total = len(normal) * per_image
        chosen = (np.arange(total) if self.max_patches is None or total <= self.max_patches
                  else np.sort(rng.choice(total, self.max_patches, replace=False)))
        owners = normal[chosen // per_image]
        padded = self._padded(X[normal])
        p = self.patch_size
        bank = []
        for k in np.unique(chosen // per_image):  # one image at a time: its chosen pixels
            pixels = chosen[chosen // per_image == k] % per_image
            patches = F.unfold(padded[k:k + 1], p)[0].T  # (H * W, C * p * p)
            bank.append(patches[torch.as_tensor(pixels)])
        self.bank_ = torch.cat(bank).numpy()  # grouped by image, in order
        self._last_maps = None
        # offset_: training images scored without their own patches in the bank
        scored = np.sort(rng.choice(normal, min(len(normal), self._OFFSET_IMAGES),
                                    replace=False))
        own = np.column_stack([np.searchsorted(owners, scored, side="left"),
                               np.searchsorted(owners, scored, side="right")])
        maps = self._maps(X[scored], own=own)
        self._set_offset(-maps.reshape(len(scored), -1).max(axis=1))
        return self

    def _maps(self, X, own=None):
        """Anomaly maps of validated images; ``own``: each image's rows of the bank, left out."""
        n, _, height, width = X.shape
        bank = torch.as_tensor(self.bank_).to(self.device)
        bank_sq = (bank * bank).sum(1)
        per_image = height * width
        # images per block of queries (one when each leaves its own rows out)
        step = 1 if own is not None else max(1, self.batch_size // per_image)
        maps = np.empty((n, per_image))
        with torch.no_grad():
            for start in range(0, n, step):
                padded = self._padded(X[start:start + step]).to(self.device)
                queries = F.unfold(padded, self.patch_size).transpose(1, 2)
                queries = queries.reshape(-1, queries.shape[-1])
                skip = None if own is None else own[start]
                maps[start:start + step] = self._nearest(queries, bank, bank_sq,
                                                         skip).reshape(-1, per_image)
        return maps.reshape(n, height, width)

    def _nearest(self, queries, bank, bank_sq, skip=None):
        """Distance of each query to its nearest bank patch, rows ``skip[0]:skip[1]`` left out."""
        out = []
        for q_start in range(0, len(queries), self.batch_size):
            q = queries[q_start:q_start + self.batch_size]
            best = torch.full((len(q),), torch.inf, device=q.device)
            for b_start in range(0, len(bank), self._BANK_BLOCK):
                b_end = min(b_start + self._BANK_BLOCK, len(bank))
                d2 = torch.addmm(bank_sq[b_start:b_end], q, bank[b_start:b_end].T, alpha=-2)
                if skip is not None:
                    lo, hi = max(skip[0], b_start), min(skip[1], b_end)
                    if lo < hi:
                        d2[:, lo - b_start:hi - b_start] = torch.inf
                best = torch.minimum(best, d2.min(1).values)
            out.append(torch.sqrt(torch.clamp(best + (q * q).sum(1), min=0)))
        return torch.cat(out).cpu().numpy().astype(np.float64)

    def anomaly_map(self, X):
        """Distance of each pixel's patch to the nearest normal training patch.

        Parameters
        ----------
        X : array-like of shape (n_samples, C, H, W) or (n_samples, H, W)
            Images of the training channels, any size.

        Returns
        -------
        maps : ndarray of shape (n_samples, H, W), dtype float64
            Higher is more abnormal.
        """
        check_is_fitted(self)
        X = self._check_images(X)
        if X.shape[1] != self.n_channels_:
            raise ValueError(f"X has {X.shape[1]} channels; PatchKNN was fitted on "
                             f"{self.n_channels_}.")
        X = np.ascontiguousarray(X)
        key = (X.shape, X.dtype.str, hashlib.sha1(X.data).hexdigest())
        last = getattr(self, "_last_maps", None)
        if last is None or last[0] != key:
            self._last_maps = (key, self._maps(X))
        return self._last_maps[1].copy()

    def score_samples(self, X):
        """Minus the largest value of each image's anomaly map: lower is more abnormal.

        Parameters
        ----------
        X : array-like of shape (n_samples, C, H, W) or (n_samples, H, W)

        Returns
        -------
        scores : ndarray of shape (n_samples,), dtype float64
        """
        maps = self.anomaly_map(X)
        return -maps.reshape(len(maps), -1).max(axis=1)
