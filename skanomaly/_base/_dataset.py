"""A torch ``Dataset`` of images seen as a lazily loaded array.

:class:`DatasetImages` lets the deep estimators take a map-style torch
``Dataset`` (torchvision's ``FashionMNIST``, ``ImageFolder``, your own) as
``X`` wherever they take an array: it has the ``shape``, ``dtype``, slicing
and the few reductions the estimators use, and loads only the items a batch
needs, so a dataset larger than memory is streamed batch by batch.
"""

import math

import numpy as np
import torch

from ._convert import as_float32

__all__ = ["DatasetImages", "item_to_array"]


def item_to_array(item):
    """One dataset item as a float32 ``(C, H, W)`` array in the data's range.

    ``(image, target)`` tuples give their image; PIL images are read as
    ``(H, W, C)`` and moved to channels first; tensors and arrays are taken
    as ``(C, H, W)`` or ``(H, W)``; uint8 values are scaled to [0, 1].
    """
    if isinstance(item, tuple | list):
        if not item:
            raise ValueError("A dataset item is an empty tuple: expected an image.")
        item = item[0]
    pil = type(item).__module__.startswith("PIL.")
    if isinstance(item, torch.Tensor):
        array = item.detach().cpu().numpy()
    else:
        try:
            array = np.asarray(item)
        except Exception as exc:  # any unreadable item
            raise TypeError(f"A dataset item of type {type(item).__name__} is not an "
                            "image (tensor, array or PIL image).") from exc
    if pil and array.ndim == 3:
        array = array.transpose(2, 0, 1)
    if array.ndim == 2:
        array = array[None]
    if array.ndim != 3:
        raise ValueError(
            f"A dataset item has shape {array.shape}: expected an image of shape "
            "(channels, height, width) or (height, width)."
        )
    if array.dtype.kind not in "biuf":
        raise ValueError(f"A dataset item has dtype {array.dtype}: expected numbers.")
    return as_float32(array)


class DatasetImages:
    """Images of a map-style torch ``Dataset``, loaded on demand.

    Not a torch ``Dataset`` itself, so that skorch pairs its items with the
    labels as it does for arrays. Indexing with an int gives one float32
    image (what skorch's data loader asks for); with a slice, a float32
    batch ``(n, C, H, W)``; with a boolean mask or an index array, a view of
    those items. Every loaded item is
    checked for its shape and for NaN or infinite values.

    Parameters
    ----------
    dataset : torch.utils.data.Dataset
        Map-style dataset whose items are images or ``(image, target)``.
    sample_shape : tuple of int
        ``(C, H, W)`` every item must have.
    indices : ndarray of int, default=None
        The items of ``dataset`` in this view; None is all of them.
    """

    dtype = np.dtype(np.float32)

    def __init__(self, dataset, sample_shape, indices=None):
        self.dataset = dataset
        self.sample_shape = tuple(sample_shape)
        self.indices = np.arange(len(dataset)) if indices is None else np.asarray(indices)
        self._stats = {}

    @property
    def shape(self):
        return (len(self.indices), *self.sample_shape)

    @property
    def ndim(self):
        return 1 + len(self.sample_shape)

    def __len__(self):
        return len(self.indices)

    def _load(self, i):
        x = item_to_array(self.dataset[int(i)])
        if x.shape != self.sample_shape:
            raise ValueError(
                f"Item {int(i)} of the dataset has shape {x.shape}; the others "
                f"have shape {self.sample_shape}. Resize the images to one size "
                "(e.g. with a torchvision transform)."
            )
        if not np.isfinite(x).all():
            raise ValueError(f"Item {int(i)} of the dataset contains NaN or infinity.")
        return x

    def __getitem__(self, key):
        if isinstance(key, int | np.integer):
            return self._load(self.indices[key])
        if isinstance(key, slice):
            idx = self.indices[key]
            if not len(idx):
                return np.empty((0, *self.sample_shape), dtype=np.float32)
            return np.stack([self._load(i) for i in idx])
        key = np.asarray(key)
        if key.dtype == bool and key.shape != self.indices.shape:
            raise IndexError("boolean mask of the wrong length")
        # a boolean mask or an index array: a view of those items
        return DatasetImages(self.dataset, self.sample_shape, self.indices[key])

    def batches(self, batch_size):
        """Float32 batches ``(n, C, H, W)`` in order."""
        for start in range(0, len(self), batch_size):
            yield self[start:start + batch_size]

    # -- the reductions the estimators use, streamed over batches ---------------
    def _moments(self):
        """Per-channel count, sum, sum of squares; global min and max (cached)."""
        if "moments" not in self._stats:
            c = self.sample_shape[0]
            total = np.zeros(c)
            total_sq = np.zeros(c)
            lo, hi = np.inf, -np.inf
            for batch in self.batches(256):
                total += batch.sum(axis=(0, 2, 3), dtype=np.float64)
                total_sq += np.square(batch, dtype=np.float64).sum(axis=(0, 2, 3))
                lo, hi = min(lo, float(batch.min())), max(hi, float(batch.max()))
            count = len(self) * math.prod(self.sample_shape[1:])
            self._stats["moments"] = (count, total, total_sq, lo, hi)
        return self._stats["moments"]

    def min(self):
        return self._moments()[3]

    def max(self):
        return self._moments()[4]

    def mean(self, axis=None, dtype=None):
        count, total, _, _, _ = self._moments()
        if axis is None:
            return float(total.sum() / (count * len(total)))
        if tuple(axis) == (0, 2, 3):
            return total / count
        raise ValueError(f"mean over axis {axis} is not supported for a dataset.")

    def std(self, axis=None, dtype=None):
        count, total, total_sq, _, _ = self._moments()
        if axis is None:
            n = count * len(total)
            mean = total.sum() / n
            return float(np.sqrt(max(total_sq.sum() / n - mean ** 2, 0.0)))
        if tuple(axis) == (0, 2, 3):
            mean = total / count
            return np.sqrt(np.maximum(total_sq / count - mean ** 2, 0.0))
        raise ValueError(f"std over axis {axis} is not supported for a dataset.")
