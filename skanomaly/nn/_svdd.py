"""The networks and loss of Deep SVDD / Deep SAD (plain torch, no scikit-learn).

Ruff et al.'s one-class networks map normal data close to a centre ``c`` in a
representation space. The map must have no bias terms (nor the affine shift
of batch normalisation): with them, the trivial map to ``c`` would minimise
the loss (hypersphere collapse).
"""

import torch
from torch import nn

from ._autoencoder import ConvDecoder

__all__ = ["DeepSADLoss", "LeNetEncoder", "SVDDNetwork"]


class LeNetEncoder(nn.Module):
    """Ruff et al.'s bias-free LeNet-type encoder, for any image size.

    Levels of a 5x5 convolution (``n_filters * 2**i`` channels, no bias),
    batch normalisation without affine parameters, a leaky ReLU (slope
    0.01) and 2x2 max-pooling, while the shorter side is above 7 pixels
    (28 -> 14 -> 7: two levels, as Ruff et al.'s Fashion-MNIST network), then
    a linear layer without bias to ``rep_dim``.

    Parameters
    ----------
    image_shape : tuple of int
        ``(channels, height, width)``.
    rep_dim : int, default=64
        Size of the representation.
    n_filters : int, default=16
        Channels of the first level, doubled at every level.
    """

    def __init__(self, image_shape, rep_dim=64, n_filters=16):
        super().__init__()
        channels, height, width = image_shape
        layers, in_ch = [], channels
        level = 0
        while min(height, width) > 7:
            out_ch = n_filters * 2**level
            layers += [nn.Conv2d(in_ch, out_ch, 5, padding=2, bias=False),
                       nn.BatchNorm2d(out_ch, affine=False), nn.LeakyReLU(0.01),
                       nn.MaxPool2d(2)]
            height, width, in_ch, level = height // 2, width // 2, out_ch, level + 1
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(in_ch * height * width, rep_dim, bias=False)
        self.feature_shape = (in_ch, height, width)

    def forward(self, x):
        """The representation, ``(n, rep_dim)``."""
        return self.head(torch.flatten(self.features(x), 1))


class SVDDNetwork(nn.Module):
    """Bias-free encoder ``phi`` and, for its pretraining, a decoder.

    Images get Ruff et al.'s bias-free LeNet-type encoder
    (:class:`LeNetEncoder`) and a DCGAN decoder
    (:class:`~skanomaly.nn.ConvDecoder`) for the pretraining; feature vectors
    get two bias-free linear layers and a mirror MLP. Inputs are
    standardised by ``(x - input_shift) / input_scale`` first.

    Parameters
    ----------
    image_shape : tuple of int
        ``(channels, height, width)`` or ``(n_features,)``.
    rep_dim : int, default=64
        Size of the representation.
    n_filters : int, default=16
        Channels of the first convolution, doubled at every level (or
        ``4 * n_filters`` hidden units for vectors).
    input_shift, input_scale : float, default=0.0, 1.0
        Standardisation of the input.
    """

    def __init__(self, image_shape, rep_dim=64, n_filters=16, input_shift=0.0,
                 input_scale=1.0):
        super().__init__()
        self.register_buffer("input_shift", torch.tensor(float(input_shift)))
        self.register_buffer("input_scale", torch.tensor(float(input_scale)))
        if len(image_shape) == 3:
            self.encoder = LeNetEncoder(image_shape, rep_dim, n_filters)
            self.decoder = ConvDecoder(image_shape, rep_dim, 2 * n_filters)
        else:
            (n_features,) = image_shape
            hidden = 4 * n_filters
            self.encoder = nn.Sequential(
                nn.Linear(n_features, hidden, bias=False), nn.LeakyReLU(0.2),
                nn.Linear(hidden, rep_dim, bias=False),
            )
            self.decoder = nn.Sequential(
                nn.Linear(rep_dim, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, n_features),
            )

    def normalize(self, x):
        """The standardised input."""
        return (x - self.input_shift) / self.input_scale

    def forward(self, x):
        """The representation ``phi(x)``, ``(n, rep_dim)``."""
        return self.encoder(self.normalize(x))

    def reconstruct(self, x):
        """The autoencoder's reconstruction of the standardised input."""
        return self.decoder(self(x))


class DeepSADLoss(nn.Module):
    """Deep SAD's loss: distance to the centre for normal samples, its inverse for anomalies.

    For a representation ``z`` at squared distance ``d = ||z - c||^2`` from the
    centre ``c`` (a buffer, set after pretraining): ``d`` for normal samples
    (label 1), ``eta / (d + eps)`` for labelled anomalies (label -1), averaged
    over the batch (Ruff et al., 2020). With no labelled anomaly this is
    Deep SVDD's one-class loss.

    Parameters
    ----------
    rep_dim : int
        Size of the representation (of the centre).
    eta : float, default=1.0
        Weight of the labelled anomalies' term.
    eps : float, default=1e-6
        Keeps the inverse distance finite.
    """

    def __init__(self, rep_dim, eta=1.0, eps=1e-6):
        super().__init__()
        self.eta = eta
        self.eps = eps
        self.register_buffer("center", torch.zeros(rep_dim))

    def distance(self, z):
        """Squared distance of each representation to the centre, ``(n,)``."""
        return (z - self.center).pow(2).sum(1)

    def forward(self, z, y):
        """Mean loss of representations ``z`` with labels ``y`` (1 normal, -1 anomaly)."""
        d = self.distance(z)
        return torch.where(y > 0, d, self.eta / (d + self.eps)).mean()
