"""Autoencoders: convolutional for images, fully connected for vectors (plain torch).

The convolutional encoder and decoder adapt to any image size (see
:mod:`skanomaly.nn._blocks`); :class:`ConvEncoder` and :class:`ConvDecoder` are
also the discriminator body and the generator of AnoGAN.
"""

import math

import torch
from torch import nn

from ._blocks import activation, down_layers, downsampling_sizes
from ._preprocessing import preprocess

__all__ = [
    "ConvAutoEncoder",
    "ConvDecoder",
    "ConvEncoder",
    "MLPAutoEncoder",
    "make_autoencoder",
]


class ConvEncoder(nn.Module):
    """DCGAN-style encoder: stride-2 convolutions, then a linear layer.

    Parameters
    ----------
    image_shape : tuple of int
        ``(channels, height, width)`` of the input.
    out_features : int
        Size of the output vector (the latent code, or 1 for a critic).
    n_filters : int, default=32
        Channels after the first convolution; doubled at every level.
    batchnorm : bool, default=True
        Batch normalisation after every convolution but the first.
    negative_slope : float, default=0.2
        Slope of the leaky ReLU activations.
    bias : bool, default=True
        Bias terms (of the linear layer, and the batch normalisations'
        affine shift and scale). Deep SVDD and Deep SAD need an encoder
        without them, which could otherwise map every input to its centre.

    Attributes
    ----------
    sizes : list of (int, int)
        Spatial size at each level, input first.
    """

    def __init__(
        self, image_shape, out_features, n_filters=32, batchnorm=True, negative_slope=0.2,
        bias=True,
    ):
        super().__init__()
        channels, height, width = image_shape
        self.sizes = downsampling_sizes(height, width)
        blocks, out_ch = down_layers(channels, n_filters, len(self.sizes) - 1,
                                     batchnorm=batchnorm, negative_slope=negative_slope,
                                     affine=bias)
        self.features = nn.Sequential(*(layer for block in blocks for layer in block))
        self.feature_shape = (out_ch, *self.sizes[-1])
        self.head = nn.Linear(math.prod(self.feature_shape), out_features, bias=bias)

    def forward(self, x):
        """Encode a batch of images into ``(n, out_features)``."""
        return self.head(torch.flatten(self.features(x), 1))


class ConvDecoder(nn.Module):
    """DCGAN-style decoder, the mirror image of :class:`ConvEncoder`.

    Parameters
    ----------
    image_shape : tuple of int
        ``(channels, height, width)`` of the output.
    in_features : int
        Size of the input vector.
    n_filters : int, default=32
        Channels before the last transposed convolution; the deepest level has
        ``n_filters * 2 ** (levels - 1)``.
    out_activation : {None, 'sigmoid', 'tanh'}, default=None
        Activation applied to the output image.
    """

    def __init__(self, image_shape, in_features, n_filters=32, out_activation=None):
        super().__init__()
        channels, height, width = image_shape
        sizes = downsampling_sizes(height, width)
        n_levels = len(sizes) - 1
        deep_ch = n_filters * 2 ** (n_levels - 1) if n_levels else n_filters
        self.start_shape = (deep_ch, *sizes[-1])
        self.project = nn.Sequential(
            nn.Linear(in_features, math.prod(self.start_shape)),
            nn.ReLU(inplace=True),
        )
        layers = []
        in_ch = deep_ch
        for level in reversed(range(n_levels)):
            (h_out, w_out), (h_in, w_in) = sizes[level], sizes[level + 1]
            padding = (h_out - 2 * h_in, w_out - 2 * w_in)
            last = level == 0
            out_ch = channels if last else n_filters * 2 ** (level - 1)
            layers.append(
                nn.ConvTranspose2d(
                    in_ch, out_ch, 4, stride=2, padding=1,
                    output_padding=padding, bias=last,
                )
            )
            if not last:
                layers.append(nn.BatchNorm2d(out_ch))
                layers.append(nn.ReLU(inplace=True))
            in_ch = out_ch
        if n_levels == 0:
            layers.append(nn.Conv2d(in_ch, channels, 1))
        layers.append(activation(out_activation))
        self.features = nn.Sequential(*layers)

    def forward(self, z):
        """Decode ``(n, in_features)`` into images."""
        return self.features(self.project(z).view(-1, *self.start_shape))


class _AutoEncoder(nn.Module):
    """An ``encoder`` and a ``decoder`` of preprocessed samples (``preprocessing``)."""

    def prepare(self, x):
        """The samples as the network sees them (and reconstructs them)."""
        return preprocess(x, self.preprocessing)

    def encode(self, x):
        """The latent code of a batch of samples."""
        return self.encoder(self.prepare(x))

    def forward(self, x):
        """Reconstruct a batch of samples: the reconstruction of ``prepare(x)``."""
        return self.decoder(self.encode(x))


class ConvAutoEncoder(_AutoEncoder):
    """Convolutional autoencoder built from :class:`ConvEncoder` and :class:`ConvDecoder`.

    Parameters
    ----------
    image_shape : tuple of int
        ``(channels, height, width)`` of the images.
    latent_dim : int, default=32
        Size of the bottleneck code.
    n_filters : int, default=32
        Width of the first convolution, doubled at every level.
    out_activation : {None, 'sigmoid', 'tanh'}, default=None
        Activation applied to the reconstruction.
    preprocessing : {None, 'sqrt_blur'}, default=None
        What the network sees of an image (:func:`~skanomaly.nn.preprocess`):
        it reconstructs ``prepare(x)``.
    """

    def __init__(self, image_shape, latent_dim=32, n_filters=32, out_activation=None,
                 preprocessing=None):
        super().__init__()
        self.preprocessing = preprocessing
        self.encoder = ConvEncoder(image_shape, latent_dim, n_filters)
        self.decoder = ConvDecoder(image_shape, latent_dim, n_filters, out_activation)


class MLPAutoEncoder(_AutoEncoder):
    """Fully connected autoencoder for flat feature vectors.

    Parameters
    ----------
    image_shape : tuple of int
        ``(n_features,)``.
    latent_dim : int, default=32
        Size of the bottleneck code (capped at ``n_features``).
    n_filters : int, default=32
        Scales the hidden width: ``4 * n_filters`` units.
    out_activation : {None, 'sigmoid', 'tanh'}, default=None
        Activation applied to the reconstruction.
    preprocessing : {None, 'sqrt_blur'}, default=None
        What the network sees of a vector (the square root only: no blur).
    """

    def __init__(self, image_shape, latent_dim=32, n_filters=32, out_activation=None,
                 preprocessing=None):
        super().__init__()
        self.preprocessing = preprocessing
        (n_features,) = image_shape
        hidden = 4 * n_filters
        latent = max(1, min(latent_dim, n_features))
        self.encoder = nn.Sequential(
            nn.Linear(n_features, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, latent)
        )
        self.decoder = nn.Sequential(
            nn.Linear(latent, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, n_features),
            activation(out_activation),
        )


def make_autoencoder(image_shape, **kwargs):
    """Convolutional autoencoder for images, fully connected one for vectors."""
    if len(image_shape) == 3:
        return ConvAutoEncoder(image_shape, **kwargs)
    return MLPAutoEncoder(image_shape, **kwargs)
