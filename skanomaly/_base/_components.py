"""Scores made of several components, standardised on held-out normal images.

A detector may score with more than one signal: a reconstruction error and
the distance of an image's code to the codes of the normal training images,
say. Each component is standardised (a z-score) with its mean and standard
deviation on normal training images held out of the fit, so that components
of different scales weigh alike, and the z-scores are summed.

A ``"knn:<space>"`` component is the mean Euclidean distance from a sample to
its ``k`` nearest normal training samples, in a space the detector maps
samples to (its latent code, its CNN features, or the pixels after
:func:`skanomaly.nn.sqrt_blur`). A training image never counts as its own
neighbour, wherever it is scored: the bank keeps a digest of each of its
images (:func:`row_digests`), and a query with the digest of a bank image
leaves its nearest neighbour (itself) out. So the training images score as
new images of the same distribution would, and ``offset_`` computed on them
flags the ``contamination`` share of new normal images as well as of the
training set.

A ``"gauss:<space>"`` component is the squared distance of a sample to the
normal training samples' mean in that space, each feature scaled by its
standard deviation (the negative log-likelihood of a diagonal Gaussian, up to
constants; :func:`gaussian_moments`, :func:`gaussian_deviation`). In the
pixels it sees what a distance to whole images does not: a single region
where the normal images almost always have mass (or never do), such as the
shaft an ankle boot has and a sneaker lacks.
"""

import hashlib

import numpy as np
import torch

__all__ = ["KNN_NEIGHBORS", "gaussian_deviation", "gaussian_moments",
           "knn_distance", "pixel_components", "row_digests"]

#: neighbours of the kNN components (chosen on validation data, see the docs)
KNN_NEIGHBORS = 5

#: floor of a "gauss" component's scales, as a share of the largest feature's
#: standard deviation: a feature (pixel) constant on the normal images counts,
#: but no more than a few times as much as the most variable one
GAUSS_SCALE_FLOOR = 0.15


def pixel_components(components, weight):
    """``components`` and, if ``weight`` is positive, ``"gauss:pixels"``."""
    return [*components, "gauss:pixels"] if weight > 0 else list(components)


def gaussian_moments(bank):
    """Mean and floored standard deviation of each feature of ``bank`` ``(n, d)``.

    Returns
    -------
    mean, scale : ndarray of shape (d,), float64
        ``scale`` is the standard deviation plus :data:`GAUSS_SCALE_FLOOR`
        times the largest one (1 where every feature is constant).
    """
    bank = np.asarray(bank, dtype=np.float64)
    std = bank.std(axis=0)
    floor = GAUSS_SCALE_FLOOR * std.max() if std.max() > 0 else 1.0
    return bank.mean(axis=0), std + floor


def gaussian_deviation(mean, scale, queries):
    """Sum over features of ``((queries - mean) / scale) ** 2``, ``(n,)``.

    Parameters
    ----------
    mean, scale : torch.Tensor of shape (d,)
    queries : torch.Tensor of shape (n, d)
    """
    return ((queries.double() - mean) / scale).pow(2).sum(1)


def knn_distance(bank, queries, k=KNN_NEIGHBORS, exclude_self=None):
    """Mean Euclidean distance from each query to its ``k`` nearest bank rows.

    Parameters
    ----------
    bank : torch.Tensor of shape (n_bank, d)
    queries : torch.Tensor of shape (n, d)
    k : int, default=KNN_NEIGHBORS
        Neighbours (capped at the bank's size).
    exclude_self : torch.Tensor of bool of shape (n,), default=None
        Queries that are rows of the bank: their nearest neighbour (themselves)
        is left out.

    Returns
    -------
    torch.Tensor of shape (n,)
    """
    if bank.shape[0] < 2:
        exclude_self = None  # a bank of one image: nothing else to compare with
    k = min(k, bank.shape[0] - (exclude_self is not None and bool(exclude_self.any())))
    distances = torch.cdist(queries, bank)
    nearest = distances.topk(min(k + 1, bank.shape[0]), dim=1, largest=False).values
    if exclude_self is None:
        return nearest[:, :k].mean(1)
    own = exclude_self.to(nearest.device)[:, None]
    return torch.where(own, nearest[:, 1:k + 1].mean(1, keepdim=True),
                       nearest[:, :k].mean(1, keepdim=True))[:, 0]


def row_digests(x):
    """A 64-bit digest of each sample of a batch (its float32 bytes), int64 ``(n,)``."""
    rows = np.ascontiguousarray(x.detach().cpu().numpy().astype(np.float32, copy=False))
    rows = rows.reshape(rows.shape[0], -1)
    return torch.as_tensor(
        [int.from_bytes(hashlib.blake2b(row.tobytes(), digest_size=8).digest(), "little",
                        signed=True) for row in rows], dtype=torch.int64)
