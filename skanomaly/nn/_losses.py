"""Loss terms and anomaly scores of the detectors (plain torch, per sample).

Each function returns one value per sample, shape ``(n,)``, so that the same
expression is a training loss (averaged over a batch) and an anomaly score.
"""

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "HingedReconstructionLoss",
    "abc_loss",
    "feature_residual",
    "image_residual",
    "patch_l1",
    "reconstruction_error",
    "rotation_log_likelihood",
    "rotation_targets",
]


def reconstruction_error(x_hat, x):
    """Per-sample mean squared error, ``(n,)``."""
    return (x_hat - x).pow(2).flatten(1).mean(1)


class HingedReconstructionLoss(nn.Module):
    """Reconstruction loss of normal samples plus a bounded hinge on anomalies.

    ``mean(e_normal) + anomaly_weight * mean(relu(m - e_anomaly))`` with
    ``e`` the per-sample squared error and ``m = anomaly_margin *
    mean(e_normal)`` (detached): labelled anomalies are pushed to an error
    ``anomaly_margin`` times the normal one, and no further, so the loss is
    bounded and scale-free.

    Parameters
    ----------
    anomaly_weight : float, default=1.0
        Weight of the hinge.
    anomaly_margin : float, default=5.0
        Error the hinge pushes anomalies to, as a multiple of the batch's mean
        normal error.
    """

    def __init__(self, anomaly_weight=1.0, anomaly_margin=5.0):
        super().__init__()
        self.anomaly_weight = anomaly_weight
        self.anomaly_margin = anomaly_margin

    def forward(self, x_hat, x, y):
        """The loss of reconstructions ``x_hat`` of ``x`` with labels ``y`` (1 / -1)."""
        error = reconstruction_error(x_hat, x)
        normal = y > 0
        loss = error[normal].mean()
        if self.anomaly_weight and not normal.all():
            margin = self.anomaly_margin * loss.detach()
            loss = loss + self.anomaly_weight * torch.relu(margin - error[~normal]).mean()
        return loss


def image_residual(x_hat, x, p=2):
    """Per-sample mean of ``|x_hat - x| ** p`` over pixels, ``(n,)``."""
    return (x_hat - x).abs().pow(p).flatten(1).mean(1)


def feature_residual(f_hat, f, p=2):
    """Per-sample mean of ``|f_hat - f| ** p`` over features, ``(n,)``."""
    return (f_hat - f).abs().pow(p).flatten(1).mean(1)


def abc_loss(error):
    """ABC loss of labelled anomalies: ``-log(1 - exp(-error))``, elementwise.

    Large when an anomaly is reconstructed well, tending to 0 as its error
    grows (Yamanaka et al., 2019). Computed as ``-log(-expm1(-error))`` with
    the error floored at 1e-6, so it stays finite.
    """
    return -torch.log(-torch.expm1(-error.clamp_min(1e-6)))


def patch_l1(x, x_hat, patch_size=None, stride=None, top_k=10):
    """Patch loss: per sample, the mean L1 error of its ``top_k`` worst patches.

    The absolute error is averaged over channels and over every
    ``patch_size`` window (sliding by ``stride``); the ``top_k`` largest
    window means are averaged. Unlike the authors' code (which copies the
    patch errors into a new tensor), the result carries gradients.

    Parameters
    ----------
    x, x_hat : torch.Tensor of shape (n, C, H, W) or (n, d)
        Inputs and reconstructions.
    patch_size : int, default=None
        Window side; None is a quarter of the shorter side (at least 1),
        as the authors' 32-pixel patches on 128-pixel images.
    stride : int, default=None
        Window step; None is half the window (at least 1).
    top_k : int, default=10
        Number of worst patches averaged (capped at the number of patches).

    Returns
    -------
    loss : torch.Tensor of shape (n,)
    """
    error = (x - x_hat).abs()
    if error.dim() == 2:  # flat vectors: windows over the features
        error = error.unsqueeze(1)
        side = error.shape[-1]
        pool = F.avg_pool1d
    else:
        error = error.mean(1, keepdim=True)
        side = min(error.shape[-2:])
        pool = F.avg_pool2d
    size = max(1, side // 4) if patch_size is None else min(int(patch_size), side)
    step = max(1, size // 2) if stride is None else int(stride)
    patches = pool(error, size, step).flatten(1)
    k = min(int(top_k), patches.shape[1])
    return patches.topk(k, dim=1).values.mean(1)


def rotation_targets(n, device=None, n_transforms=4):
    """Class of each row of ``logits.reshape(-1, T)``: ``t`` for transformation t."""
    return torch.arange(n_transforms, device=device).repeat(n)


def rotation_log_likelihood(logits):
    """Sum over the transformations of the log-probability of the right one, ``(n,)``.

    Parameters
    ----------
    logits : torch.Tensor of shape (n, T, T)
        Output of :class:`RotationClassifier`.
    """
    return torch.diagonal(F.log_softmax(logits, dim=2), dim1=1, dim2=2).sum(1)
