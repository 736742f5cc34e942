"""Conversion of validated images to what the networks take.

The one place where uint8 images are scaled to [0, 1]: the training arrays
(:func:`as_float32`), the scoring batches (:func:`to_tensor`) and the items of a
torch ``Dataset`` all go through :func:`as_float32`.
"""

import numpy as np
import torch

__all__ = ["as_float32", "to_tensor"]


def as_float32(X):
    """X as a float32 array; uint8 is scaled to [0, 1], other dtypes are cast.

    Parameters
    ----------
    X : ndarray or DatasetImages
        Validated samples. A :class:`~skanomaly._base.DatasetImages` is
        returned as it is: it loads float32 batches.

    Returns
    -------
    X : ndarray of dtype float32, or the DatasetImages
    """
    if not isinstance(X, np.ndarray):
        return X
    if X.dtype == np.uint8:
        return X.astype(np.float32) / np.float32(255.0)
    return X.astype(np.float32, copy=False)


def to_tensor(X, device):
    """A batch of validated samples as a float32 tensor on ``device``.

    Parameters
    ----------
    X : ndarray
        A batch (uint8 is scaled to [0, 1]).
    device : str or torch.device

    Returns
    -------
    x : torch.Tensor of dtype float32
    """
    # a writeable C-contiguous copy only where needed (memmaps are read-only)
    x = torch.as_tensor(np.require(X, requirements=("C", "W")))
    if x.dtype == torch.uint8:
        return x.to(device=device).to(torch.float32).div_(255.0)
    return x.to(device=device, dtype=torch.float32)
