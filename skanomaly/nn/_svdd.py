"""The networks and loss of Deep SVDD / Deep SAD (plain torch, no scikit-learn).

Ruff et al.'s one-class networks map normal data close to a centre ``c`` in a
representation space. The map must have no bias terms (nor the affine shift
of batch normalisation): with them, the trivial map to ``c`` would minimise
the loss (hypersphere collapse).
"""

import torch
from torch import nn

from ._autoencoder import ConvDecoder, ConvEncoder

__all__ = ["DeepSADLoss", "SVDDNetwork"]


class SVDDNetwork(nn.Module):
    """Bias-free encoder ``phi`` and, for its pretraining, a decoder.

    Images get the size-adaptive DCGAN encoder without biases
    (:class:`~skanomaly.nn.ConvEncoder` with ``bias=False``) and its mirror
    decoder; feature vectors get two bias-free linear layers and a mirror
    MLP. Inputs are standardised by ``(x - input_shift) / input_scale`` first.

    Parameters
    ----------
    image_shape : tuple of int
        ``(channels, height, width)`` or ``(n_features,)``.
    rep_dim : int, default=32
        Size of the representation.
    n_filters : int, default=16
        Channels of the first convolution, doubled at every level (or
        ``4 * n_filters`` hidden units for vectors).
    input_shift, input_scale : float, default=0.0, 1.0
        Standardisation of the input.
    """

    def __init__(self, image_shape, rep_dim=32, n_filters=16, input_shift=0.0,
                 input_scale=1.0):
        super().__init__()
        self.register_buffer("input_shift", torch.tensor(float(input_shift)))
        self.register_buffer("input_scale", torch.tensor(float(input_scale)))
        if len(image_shape) == 3:
            self.encoder = ConvEncoder(image_shape, rep_dim, n_filters, bias=False)
            self.decoder = ConvDecoder(image_shape, rep_dim, n_filters)
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
