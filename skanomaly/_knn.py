"""The k-nearest-neighbour detector: distances to the normal training samples."""

import hashlib
from numbers import Integral
from typing import ClassVar

import numpy as np
import torch
from sklearn.base import clone, is_outlier_detector
from sklearn.utils._available_if import available_if
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions

from ._base import (
    AnomalyMapMixin,
    BaseDetector,
    BaseImageEstimator,
    store_params,
    to_tensor,
)
from ._docstrings import fill_doc
from .nn import preprocess

__all__ = ["KNNDetector", "knn_distance", "row_digests"]


@fill_doc
class KNNDetector(AnomalyMapMixin, BaseDetector):
    """Mean distance to the k nearest normal training samples.

    The score of a sample is minus the mean Euclidean distance from it to its
    ``n_neighbors`` nearest normal training samples, in the pixels after a
    light preprocessing (by default the square root of the intensities and
    a 3x3 box blur, :func:`skanomaly.nn.sqrt_blur`) or in the features of a
    feature extractor (:class:`CNNFeatures`, the encoder of a detector, any
    scikit-learn transformer). No network is trained for the pixels, yet on
    small aligned images it is a strong detector: on Fashion-MNIST it ranks
    the anomalies about as well as the deep detectors (see the benchmarks).
    It is the baseline every table of the package shows.

    A training sample never counts as its own neighbour: the bank keeps a
    digest of each of its samples, and a query that is a bank sample leaves
    its nearest neighbour (itself) out. So the training samples score as new
    samples of the same distribution would, and ``offset_`` computed on them
    flags the ``contamination`` share of new normal samples too. Distances
    are computed in batches of ``batch_size`` queries on ``device``.

    Parameters
    ----------
    n_neighbors : int, default=5
        Neighbours averaged (capped at the number of normal training
        samples); 5 was chosen on validation data carved from
        Fashion-MNIST's training split.
    preprocessing : {'sqrt_blur', None}, default='sqrt_blur'
        What the distances see of the pixels (``feature_extractor=None``
        only): the square root of the intensities (signed for negative
        values), blurred by a 3x3 box on images of 16 pixels or more
        (:func:`skanomaly.nn.sqrt_blur`); or the values themselves.
    feature_extractor : estimator or None, default=None
        Distances in a feature space instead of the pixels: an estimator
        with ``transform`` (:class:`CNNFeatures`, a scikit-learn
        transformer) or ``embed`` (the encoder of a skanomaly detector:
        :class:`AutoEncoder`, :class:`DeepSAD`, :class:`DualDiscGAN`,
        :class:`AnoGAN`). It is cloned and fitted in ``fit``: an outlier
        detector on all the samples with their labels, any other on the
        normal samples. To use an extractor fitted before, wrap it in
        :class:`sklearn.frozen.FrozenEstimator`. skanomaly's estimators get
        images; other transformers get each sample as a flat row.
    batch_size : int, default=256
        Queries per batch of distances (and images per batch of features).
    {image_shape}
    {contamination}
    device : str, default='cpu'
        Torch device of the distances, e.g. 'cuda'.
    n_threads : int, default=None
        Torch threads during fit; None keeps torch's setting.

    Attributes
    ----------
    bank_ : ndarray of shape (n_normal, n_features), dtype float32
        The normal training samples in the space of the distances.
    feature_extractor_ : estimator or None
        The fitted clone of ``feature_extractor``.
    offset_ : float
        ``decision_function = score_samples - offset_``.
    image_shape_ : tuple of int
        Shape of one sample seen in ``fit``: ``(C, H, W)`` or ``(d,)``.
    device_ : str
        The torch device the distances run on.
    n_features_in_ : int
        Number of values per sample.

    See Also
    --------
    CombinedDetector : Sums the standardised scores of several detectors.
    sklearn.neighbors.LocalOutlierFactor : Density relative to the neighbours.

    Notes
    -----
    ``anomaly_map`` (pixels only) is the squared difference, per pixel,
    between the preprocessed image and the mean of its nearest neighbours,
    averaged over channels: where the image departs from the normal images
    most like it.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skanomaly import KNNDetector
    >>> digits = load_digits()
    >>> X = digits.images[:, None] / 16
    >>> detector = KNNDetector().fit(X[digits.target == 0])
    >>> scores = detector.score_samples(X[:100])
    >>> bool(scores[digits.target[:100] == 0].mean() > scores[digits.target[:100] != 0].mean())
    True
    """

    _parameter_constraints: ClassVar[dict] = {
        **BaseDetector._parameter_constraints,
        "n_neighbors": [Interval(Integral, 1, None, closed="left")],
        "preprocessing": [StrOptions({"sqrt_blur"}), None],
        "feature_extractor": [HasMethods(["fit", "transform"]), HasMethods(["fit", "embed"]),
                              None],
    }
    _learns_from_anomalies = True  # an extractor may; the bank holds the normal ones only

    def __init__(self, *, n_neighbors=5, preprocessing="sqrt_blur", feature_extractor=None,
                 batch_size=256, image_shape=None, contamination="auto", device="cpu",
                 n_threads=None):
        store_params(self, locals())

    # -- fitting -----------------------------------------------------------------
    def _fit_model(self, X, y):
        self.feature_extractor_ = None
        if self.feature_extractor is not None:
            extractor = clone(self.feature_extractor)
            if is_outlier_detector(extractor):
                extractor.fit(X, y)
            else:
                extractor.fit(self._extractor_input(extractor, X[y == 1]))
            self.feature_extractor_ = extractor
        normal = X[y == 1]
        self.bank_ = self._features(normal).astype(np.float32)
        self._bank_digests = self._map_batches(row_digests, normal)

    def _extractor_input(self, extractor, X):
        """X as the extractor takes it: images for skanomaly's, flat rows for others."""
        inner = getattr(extractor, "estimator", extractor)  # a FrozenEstimator's
        return X if isinstance(inner, BaseImageEstimator) else X.reshape(len(X), -1)

    def _features(self, X):
        """Samples in the space of the distances, ``(n, d)``."""
        extractor = self.feature_extractor_
        if extractor is None:
            return self._map_batches(
                lambda x: preprocess(x, self.preprocessing).flatten(1), X)
        X = self._extractor_input(extractor, X)
        transform = getattr(extractor, "transform", None) or extractor.embed
        chunks = (X[i:i + self.batch_size] for i in range(0, len(X), self.batch_size))
        return np.concatenate([np.asarray(transform(chunk), np.float32).reshape(len(chunk), -1)
                               for chunk in chunks])

    # -- scoring -----------------------------------------------------------------
    def _neighbours(self, X):
        """For batches of X: (mean distance to the k nearest, their indices)."""
        bank = torch.as_tensor(self.bank_, device=self.device_)
        digests = torch.as_tensor(self._bank_digests)
        features = self._features(X)
        distances, indices = [], []
        for start in range(0, len(X), self.batch_size):
            stop = start + self.batch_size
            in_bank = torch.isin(torch.as_tensor(self._map_batches(row_digests, X[start:stop])),
                                 digests)
            queries = to_tensor(features[start:stop], self.device_)
            d, i = knn_distance(bank, queries, self.n_neighbors, in_bank, return_indices=True)
            distances.append(d.cpu().numpy())
            indices.append(i.cpu().numpy())
        return np.concatenate(distances), np.concatenate(indices)

    def _score_samples(self, X):
        return -self._neighbours(X)[0].astype(np.float64)

    @available_if(lambda self: self.feature_extractor is None)
    def anomaly_map(self, X):
        """Per-pixel anomaly map: where each image departs from its nearest neighbours.

        The squared difference between the preprocessed image and the mean of
        its ``n_neighbors`` nearest normal training images, averaged over
        channels.

        Parameters
        ----------
        X : array-like of images of the shape seen in ``fit``, or a torch Dataset

        Returns
        -------
        maps : ndarray of shape (n_samples, H, W), dtype float64
            Higher is more abnormal.

        Raises
        ------
        ValueError
            If the detector was fitted on feature vectors. (With a
            ``feature_extractor`` it has no ``anomaly_map``.)
        """
        return super().anomaly_map(X)

    def _anomaly_map(self, X):
        _, indices = self._neighbours(X)
        features = self._features(X)
        maps = []
        for start in range(0, len(X), self.batch_size):
            stop = start + self.batch_size
            neighbours = self.bank_[indices[start:stop]].mean(1)
            diff = (features[start:stop] - neighbours) ** 2
            maps.append(diff.reshape(-1, *self.image_shape_).mean(1))
        return np.concatenate(maps).astype(np.float64)


def knn_distance(bank, queries, k=5, exclude_self=None, *, return_indices=False):
    """Mean Euclidean distance from each query to its ``k`` nearest bank rows.

    Parameters
    ----------
    bank : torch.Tensor of shape (n_bank, d)
    queries : torch.Tensor of shape (n, d)
    k : int, default=5
        Neighbours (capped at the bank's size).
    exclude_self : torch.Tensor of bool of shape (n,), default=None
        Queries that are rows of the bank: their nearest neighbour (themselves)
        is left out.
    return_indices : bool, default=False
        Also return the indices of the ``k`` neighbours of each query.

    Returns
    -------
    distance : torch.Tensor of shape (n,)
    indices : torch.Tensor of shape (n, k), only with ``return_indices``
    """
    if bank.shape[0] < 2:
        exclude_self = None  # a bank of one sample: nothing else to compare with
    k = min(k, bank.shape[0] - (exclude_self is not None and bool(exclude_self.any())))
    nearest = torch.cdist(queries, bank).topk(min(k + 1, bank.shape[0]), dim=1, largest=False)
    values, indices = nearest.values[:, :k], nearest.indices[:, :k]
    if exclude_self is not None:
        own = exclude_self.to(values.device)[:, None]
        values = torch.where(own, nearest.values[:, 1:k + 1], values)
        indices = torch.where(own, nearest.indices[:, 1:k + 1], indices)
    distance = values.mean(1)
    return (distance, indices) if return_indices else distance


def row_digests(x):
    """A 64-bit digest of each sample of a batch (its float32 bytes), int64 ``(n,)``."""
    rows = np.ascontiguousarray(x.detach().cpu().numpy().astype(np.float32, copy=False))
    rows = rows.reshape(rows.shape[0], -1)
    return torch.as_tensor(
        [int.from_bytes(hashlib.blake2b(row.tobytes(), digest_size=8).digest(), "little",
                        signed=True) for row in rows], dtype=torch.int64)
