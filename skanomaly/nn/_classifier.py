"""A small classifier of normal against anomalous samples, and its augmentation (plain torch)."""

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["ImageClassifier", "random_shift"]


class ImageClassifier(nn.Module):
    """Normal against anomalous: one logit per sample, of "normal".

    Images get levels of a 3x3 convolution (``n_filters * 2**i`` channels),
    batch normalisation, a ReLU and 2x2 max-pooling while the shorter side
    is above 7 pixels (28 -> 14 -> 7: two levels; 8 -> 4: one), then one
    linear layer. Feature vectors get a hidden layer of ``4 * n_filters``
    units with batch normalisation and a ReLU, then the linear layer.
    Inputs are standardised by ``(x - input_shift) / input_scale`` first.

    Parameters
    ----------
    image_shape : tuple of int
        ``(channels, height, width)`` or ``(n_features,)``.
    n_filters : int, default=16
        Channels of the first convolution, doubled at every level.
    input_shift, input_scale : float, default=0.0, 1.0
        Standardisation of the input.
    """

    def __init__(self, image_shape, n_filters=16, input_shift=0.0, input_scale=1.0):
        super().__init__()
        self.register_buffer("input_shift", torch.tensor(float(input_shift)))
        self.register_buffer("input_scale", torch.tensor(float(input_scale)))
        if len(image_shape) == 3:
            channels, height, width = image_shape
            layers, in_ch, level = [], channels, 0
            while min(height, width) > 7:
                out_ch = n_filters * 2**level
                layers += [nn.Conv2d(in_ch, out_ch, 3, padding=1), nn.BatchNorm2d(out_ch),
                           nn.ReLU(), nn.MaxPool2d(2)]
                height, width, in_ch, level = height // 2, width // 2, out_ch, level + 1
            n_out = in_ch * height * width
        else:
            (n_features,) = image_shape
            n_out = 4 * n_filters
            layers = [nn.Linear(n_features, n_out), nn.BatchNorm1d(n_out), nn.ReLU()]
        self.features = nn.Sequential(*layers, nn.Flatten())
        self.logit = nn.Linear(n_out, 1)

    def forward(self, x):
        """The logit of "normal", ``(n,)``."""
        x = (x - self.input_shift) / self.input_scale
        return self.logit(self.features(x)).squeeze(1)


def random_shift(x, max_shift):
    """Each image of a batch moved by up to ``max_shift`` pixels along each axis.

    The shifts are drawn uniformly from ``-max_shift..max_shift`` (torch's
    generator), independently per image and axis; the uncovered border
    repeats the edge pixels. Flat vectors ``(n, d)``, and ``max_shift=0``,
    are returned unchanged.

    Parameters
    ----------
    x : torch.Tensor of shape (n, C, H, W) or (n, d)
    max_shift : int

    Returns
    -------
    torch.Tensor of the same shape
    """
    if x.dim() != 4 or max_shift <= 0:
        return x
    n, _, height, width = x.shape
    s = max_shift
    padded = F.pad(x, (s, s, s, s), mode="replicate")
    dy, dx = torch.randint(0, 2 * s + 1, (2, n, 1), device=x.device)
    rows = (dy + torch.arange(height, device=x.device))[:, None, :, None]
    cols = (dx + torch.arange(width, device=x.device))[:, None, None, :]
    batch = torch.arange(n, device=x.device)[:, None, None, None]
    channel = torch.arange(x.shape[1], device=x.device)[None, :, None, None]
    return padded[batch, channel, rows, cols]
