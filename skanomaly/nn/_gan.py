"""The GAN modules of DualDiscGAN and AnoGAN (plain torch, no scikit-learn).

DualDiscGAN (Kim et al. 2020):

* :class:`UNetGenerator`: a convolutional autoencoder whose decoder can
  concatenate the encoder's feature maps (U-Net skip connections), for any
  image size and channel count; :class:`MLPGenerator` its fully connected
  twin for flat feature vectors;
* :class:`PatchDiscriminator` and :class:`MLPDiscriminator`: critics that
  return logits (a map of per-patch logits for images);
* :func:`make_generator` and :func:`make_discriminator` pick the convolutional
  or the fully connected version from the sample shape.

AnoGAN / f-AnoGAN (Schlegl et al. 2017, 2019): :class:`AnoGANGenerator`,
:class:`AnoGANDiscriminator` (with access to its last hidden features) and
:class:`AnoGANEncoder`, built from the DCGAN blocks of
:mod:`skanomaly.nn._autoencoder` for images and small MLPs for vectors.
"""

import torch
from torch import nn

from ._autoencoder import ConvDecoder, ConvEncoder
from ._blocks import activation, down_layers, init_dcgan_weights, levels

__all__ = [
    "AnoGANDiscriminator",
    "AnoGANEncoder",
    "AnoGANGenerator",
    "MLPDiscriminator",
    "MLPGenerator",
    "PatchDiscriminator",
    "UNetGenerator",
    "make_discriminator",
    "make_generator",
]


class UNetGenerator(nn.Module):
    """Convolutional autoencoder with optional U-Net skip connections.

    Encoder level ``i`` is ``Conv2d(k=4, s=2, p=1)`` to ``n_filters * 2**i``
    channels, batch norm (not on the first level) and LeakyReLU(0.2). The
    decoder mirrors it with ``ConvTranspose2d(k=4, s=2, p=1)``, batch norm and
    ReLU; with ``skip_connections`` every decoder level but the last
    concatenates the encoder's feature map of the same size, as in pix2pix.

    Parameters
    ----------
    image_shape : tuple of int
        ``(channels, height, width)``.
    n_filters : int, default=32
        Channels of the first encoder level, doubled at every level.
    skip_connections : bool, default=True
        Concatenate the encoder's feature maps into the decoder.
    out_activation : {None, 'sigmoid', 'tanh'}, default='tanh'
        Activation of the reconstruction.

    Attributes
    ----------
    sizes : list of (int, int)
        Spatial size of the input and of every encoder level.
    """

    def __init__(self, image_shape, n_filters=32, skip_connections=True,
                 out_activation="tanh"):
        super().__init__()
        channels, height, width = image_shape
        self.sizes, stride = levels(height, width)
        self.skip_connections = skip_connections
        n_levels = len(self.sizes) - 1
        kernel = 4 if stride == 2 else 3
        width_of = [n_filters * 2**i for i in range(n_levels)]

        blocks, in_ch = down_layers(channels, n_filters, n_levels, stride=stride)
        self.down = nn.ModuleList(nn.Sequential(*block) for block in blocks)

        self.up = nn.ModuleList()
        for i in reversed(range(n_levels)):
            (h_out, w_out), (h_in, w_in) = self.sizes[i], self.sizes[i + 1]
            pad = (h_out - stride * h_in, w_out - stride * w_in) if stride == 2 else 0
            last = i == 0
            out_ch = channels if last else width_of[i - 1]
            layers = [nn.ConvTranspose2d(in_ch, out_ch, kernel, stride, 1,
                                         output_padding=pad, bias=last)]
            if last:
                layers.append(activation(out_activation))
            else:
                layers += [nn.BatchNorm2d(out_ch), nn.ReLU(inplace=True)]
            self.up.append(nn.Sequential(*layers))
            in_ch = 2 * out_ch if (skip_connections and not last) else out_ch
        init_dcgan_weights(self)

    def encode(self, x):
        """Feature maps of every encoder level, the deepest (the latent) last."""
        features = []
        for block in self.down:
            x = block(x)
            features.append(x)
        return features

    def decode(self, features):
        """Reconstruction from the encoder's feature maps."""
        x = features[-1]
        skips = features[-2::-1]
        for j, block in enumerate(self.up):
            x = block(x)
            if self.skip_connections and j < len(skips):
                x = torch.cat([x, skips[j]], 1)
        return x

    def forward(self, x):
        """Reconstruct a batch of images."""
        return self.decode(self.encode(x))


class MLPGenerator(nn.Module):
    """Fully connected autoencoder for flat vectors, with an optional skip.

    Parameters
    ----------
    image_shape : tuple of int
        ``(n_features,)``.
    n_filters : int, default=32
        Scales the widths: hidden layer ``4 * n_filters``, latent
        ``n_filters`` units.
    skip_connections : bool, default=True
        Concatenate the hidden encoder layer into the decoder.
    out_activation : {None, 'sigmoid', 'tanh'}, default='tanh'
        Activation of the reconstruction.
    """

    def __init__(self, image_shape, n_filters=32, skip_connections=True,
                 out_activation="tanh"):
        super().__init__()
        (n_features,) = image_shape
        hidden, latent = 4 * n_filters, n_filters
        self.skip_connections = skip_connections
        self.down = nn.ModuleList([
            nn.Sequential(nn.Linear(n_features, hidden), nn.LeakyReLU(0.2)),
            nn.Sequential(nn.Linear(hidden, latent), nn.LeakyReLU(0.2)),
        ])
        self.up = nn.ModuleList([
            nn.Sequential(nn.Linear(latent, hidden), nn.ReLU()),
            nn.Sequential(nn.Linear(2 * hidden if skip_connections else hidden, n_features),
                          activation(out_activation)),
        ])

    def encode(self, x):
        """Hidden and latent activations, the latent last."""
        h = self.down[0](x)
        return [h, self.down[1](h)]

    def decode(self, features):
        """Reconstruction from :meth:`encode`'s output."""
        h = self.up[0](features[-1])
        if self.skip_connections:
            h = torch.cat([h, features[0]], 1)
        return self.up[1](h)

    def forward(self, x):
        """Reconstruct a batch of vectors."""
        return self.decode(self.encode(x))


class PatchDiscriminator(nn.Module):
    """PatchGAN critic: stride-2 convolutions, then a map of patch logits.

    Parameters
    ----------
    image_shape : tuple of int
        ``(channels, height, width)``.
    n_filters : int, default=32
        Channels of the first level, doubled at every level.
    """

    def __init__(self, image_shape, n_filters=32):
        super().__init__()
        channels, height, width = image_shape
        sizes, stride = levels(height, width)
        blocks, in_ch = down_layers(channels, n_filters, len(sizes) - 1, stride=stride)
        self.features = nn.Sequential(*(layer for block in blocks for layer in block),
                                      nn.Conv2d(in_ch, 1, 3, 1, 1))
        init_dcgan_weights(self)

    def forward(self, x):
        """Patch logits, shape ``(n, 1, h, w)``."""
        return self.features(x)


class MLPDiscriminator(nn.Module):
    """Fully connected critic for flat vectors; returns ``(n, 1)`` logits.

    Parameters
    ----------
    image_shape : tuple of int
        ``(n_features,)``.
    n_filters : int, default=32
        Hidden layers of ``4 * n_filters`` units.
    """

    def __init__(self, image_shape, n_filters=32):
        super().__init__()
        (n_features,) = image_shape
        hidden = 4 * n_filters
        self.features = nn.Sequential(
            nn.Linear(n_features, hidden), nn.LeakyReLU(0.2),
            nn.Linear(hidden, hidden), nn.LeakyReLU(0.2),
            nn.Linear(hidden, 1),
        )

    def forward(self, x):
        """Logits, shape ``(n, 1)``."""
        return self.features(x)


def make_generator(image_shape, **kwargs):
    """:class:`UNetGenerator` for images, :class:`MLPGenerator` for vectors."""
    if len(image_shape) == 3:
        return UNetGenerator(image_shape, **kwargs)
    return MLPGenerator(image_shape, **kwargs)


def make_discriminator(image_shape, **kwargs):
    """:class:`PatchDiscriminator` for images, :class:`MLPDiscriminator` for vectors."""
    if len(image_shape) == 3:
        return PatchDiscriminator(image_shape, **kwargs)
    return MLPDiscriminator(image_shape, **kwargs)



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
                nn.Linear(hidden, n_features), activation(out_activation),
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


