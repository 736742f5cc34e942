"""What the networks see of an image (plain torch)."""

import torch
import torch.nn.functional as F

__all__ = ["PREPROCESSINGS", "box_blur", "preprocess", "sqrt_blur"]

#: the preprocessings of :func:`preprocess`
PREPROCESSINGS = (None, "sqrt_blur")

#: images smaller than this on their shorter side are not blurred: a box of a
#: few pixels would wipe out their details (8x8 digits)
MIN_BLUR_SIZE = 16


def box_blur(x, size):
    """Each image of a batch averaged over ``size x size`` boxes (same shape).

    Images under :data:`MIN_BLUR_SIZE` pixels on their shorter side, and flat
    vectors, are returned unchanged.
    """
    if x.dim() != 4 or min(x.shape[-2:]) < MIN_BLUR_SIZE:
        return x
    return F.avg_pool2d(x, size, stride=1, padding=size // 2, count_include_pad=False)


def sqrt_blur(x):
    """The square root of the intensities, then a 3x3 box blur of each image.

    Dark regions gain contrast, bright ones and small shifts count less. The
    sign is kept (``sign(x) * sqrt(|x|)``) for data that are not in [0, 1];
    flat vectors ``(n, d)`` and images under 16 pixels get the square root
    only (:func:`box_blur`).

    Parameters
    ----------
    x : torch.Tensor of shape (n, C, H, W) or (n, d)

    Returns
    -------
    torch.Tensor of the same shape
    """
    # floored below 1e-12 so that the gradient at 0 stays finite
    x = torch.sign(x) * x.abs().clamp_min(1e-12).sqrt()
    return box_blur(x, 3)


def preprocess(x, name):
    """``x`` after the preprocessing ``name`` (None: unchanged)."""
    if name is None:
        return x
    if name == "sqrt_blur":
        return sqrt_blur(x)
    raise ValueError(f"Unknown preprocessing {name!r}; use one of {PREPROCESSINGS}.")
