"""Plain torch modules of :class:`~skanomaly.AnoGAN` (no scikit-learn in here).

Images get the size-adaptive DCGAN blocks of :mod:`skanomaly._modules`
(:class:`~skanomaly._modules.ConvDecoder` as the generator,
:class:`~skanomaly._modules.ConvEncoder` as the discriminator's body and as
the f-AnoGAN encoder); flat feature vectors get small fully connected nets
with the same interface, so that one detector serves both.
"""

import torch
from torch import nn

from ._modules import ConvDecoder, ConvEncoder, _activation

__all__ = [
    "AnoGANDiscriminator",
    "AnoGANEncoder",
    "AnoGANGenerator",
    "feature_residual",
    "image_residual",
]


def _mlp_width(n_filters):
    return 4 * n_filters


class AnoGANGenerator(nn.Module):
    """Generator: latent vector ``(n, latent_dim)`` to a sample.

    Parameters
    ----------
    image_shape : tuple of int
        ``(channels, height, width)`` for images, ``(n_features,)`` for
        feature vectors.
    latent_dim : int, default=64
        Size of the latent vector.
    n_filters : int, default=32
        Width of the DCGAN decoder (or ``4 * n_filters`` hidden units).
    out_activation : {None, 'sigmoid', 'tanh'}, default=None
        Activation of the generated sample (``'sigmoid'`` for data in [0, 1]).
    """

    def __init__(self, image_shape, latent_dim=64, n_filters=32, out_activation=None):
        super().__init__()
        self.image_shape = tuple(image_shape)
        if len(self.image_shape) == 3:
            self.net = ConvDecoder(self.image_shape, latent_dim, n_filters, out_activation)
        else:
            (n_features,) = self.image_shape
            hidden = _mlp_width(n_filters)
            self.net = nn.Sequential(
                nn.Linear(latent_dim, hidden), nn.LeakyReLU(0.2),
                nn.Linear(hidden, hidden), nn.LeakyReLU(0.2),
                nn.Linear(hidden, n_features), _activation(out_activation),
            )

    def forward(self, z):
        """Generate a batch of samples from latent vectors."""
        return self.net(z)


class AnoGANDiscriminator(nn.Module):
    """Discriminator with access to its intermediate features.

    ``forward`` returns the real-vs-fake logit, shape ``(n,)``;
    :meth:`features` returns the flattened activations of the last hidden
    layer, used for feature matching (the "discrimination loss" of AnoGAN and
    the feature residual of f-AnoGAN).

    Parameters
    ----------
    image_shape : tuple of int
        ``(channels, height, width)`` or ``(n_features,)``.
    n_filters : int, default=32
        Width of the first convolution (or ``4 * n_filters`` hidden units).
    batchnorm : bool, default=True
        Batch normalisation in the convolutional body.
    """

    def __init__(self, image_shape, n_filters=32, batchnorm=True):
        super().__init__()
        self.image_shape = tuple(image_shape)
        if len(self.image_shape) == 3:
            encoder = ConvEncoder(self.image_shape, 1, n_filters, batchnorm=batchnorm)
            self.body = encoder.features
            self.head = encoder.head
        else:
            (n_features,) = self.image_shape
            hidden = _mlp_width(n_filters)
            self.body = nn.Sequential(
                nn.Linear(n_features, hidden), nn.LeakyReLU(0.2),
                nn.Linear(hidden, hidden), nn.LeakyReLU(0.2),
            )
            self.head = nn.Linear(hidden, 1)

    def features(self, x):
        """Flattened last hidden activations, ``(n, n_hidden)``."""
        return torch.flatten(self.body(x), 1)

    def forward(self, x):
        """Real-vs-fake logit of every sample, ``(n,)``."""
        return self.head(self.features(x)).squeeze(1)

    def logit_and_features(self, x):
        """Both the logit and the features, in one pass."""
        features = self.features(x)
        return self.head(features).squeeze(1), features


class AnoGANEncoder(nn.Module):
    """f-AnoGAN encoder: a sample to its latent vector, ``(n, latent_dim)``.

    Parameters
    ----------
    image_shape : tuple of int
        ``(channels, height, width)`` or ``(n_features,)``.
    latent_dim : int, default=64
        Size of the latent vector.
    n_filters : int, default=32
        Width of the first convolution (or ``4 * n_filters`` hidden units).
    """

    def __init__(self, image_shape, latent_dim=64, n_filters=32):
        super().__init__()
        self.image_shape = tuple(image_shape)
        if len(self.image_shape) == 3:
            self.net = ConvEncoder(self.image_shape, latent_dim, n_filters)
        else:
            (n_features,) = self.image_shape
            hidden = _mlp_width(n_filters)
            self.net = nn.Sequential(
                nn.Linear(n_features, hidden), nn.LeakyReLU(0.2),
                nn.Linear(hidden, hidden), nn.LeakyReLU(0.2),
                nn.Linear(hidden, latent_dim),
            )

    def forward(self, x):
        """Encode a batch of samples."""
        return self.net(x)


def image_residual(x_hat, x, p=2):
    """Per-sample mean of ``|x_hat - x| ** p`` over pixels, ``(n,)``."""
    return (x_hat - x).abs().pow(p).flatten(1).mean(1)


def feature_residual(f_hat, f, p=2):
    """Per-sample mean of ``|f_hat - f| ** p`` over features, ``(n,)``."""
    return (f_hat - f).abs().pow(p).flatten(1).mean(1)
