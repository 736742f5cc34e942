"""Plain torch modules of the GAN detectors (no scikit-learn in here).

* :class:`UNetGenerator`: a convolutional autoencoder whose decoder can
  concatenate the encoder's feature maps (U-Net skip connections), for any
  image size and channel count;
* :class:`MLPGenerator`: its fully connected twin for flat feature vectors;
* :class:`PatchDiscriminator` and :class:`MLPDiscriminator`: critics that
  return logits (a map of per-patch logits for images);
* :func:`make_generator` and :func:`make_discriminator` pick the convolutional
  or the fully connected version from the sample shape;
* :func:`patch_l1`: the differentiable "Patch loss", the mean L1 error over
  the worst-reconstructed patches of each sample.

The spatial sizes follow :func:`skanomaly._modules.downsampling_sizes`: the
encoder halves the image with stride-2 convolutions until its shorter side is
at most 4 pixels, and every transposed convolution of the decoder uses
``output_padding`` to restore odd sizes (28 -> 14 -> 7 -> 3 -> 7 -> 14 -> 28),
so the skip connections always line up.
"""

import torch
import torch.nn.functional as F
from torch import nn

from ._modules import _activation, downsampling_sizes

__all__ = [
    "MLPDiscriminator",
    "MLPGenerator",
    "PatchDiscriminator",
    "UNetGenerator",
    "init_dcgan_weights",
    "make_discriminator",
    "make_generator",
    "patch_l1",
]


def init_dcgan_weights(module):
    """DCGAN/pix2pix initialisation: convolutions N(0, 0.02), batch norm N(1, 0.02)."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


def _levels(height, width):
    """``(sizes, stride)``: the spatial sizes of the levels and their stride.

    Images already at most 4 pixels on a side get one stride-1 level.
    """
    sizes = downsampling_sizes(height, width)
    if len(sizes) == 1:
        return [sizes[0], sizes[0]], 1
    return sizes, 2


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
        self.sizes, stride = _levels(height, width)
        self.skip_connections = skip_connections
        n_levels = len(self.sizes) - 1
        kernel = 4 if stride == 2 else 3
        width_of = [n_filters * 2**i for i in range(n_levels)]

        self.down = nn.ModuleList()
        in_ch = channels
        for i in range(n_levels):
            layers = [nn.Conv2d(in_ch, width_of[i], kernel, stride, 1, bias=False)]
            if i > 0:
                layers.append(nn.BatchNorm2d(width_of[i]))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
            self.down.append(nn.Sequential(*layers))
            in_ch = width_of[i]

        self.up = nn.ModuleList()
        for i in reversed(range(n_levels)):
            (h_out, w_out), (h_in, w_in) = self.sizes[i], self.sizes[i + 1]
            pad = (h_out - stride * h_in, w_out - stride * w_in) if stride == 2 else 0
            last = i == 0
            out_ch = channels if last else width_of[i - 1]
            layers = [nn.ConvTranspose2d(in_ch, out_ch, kernel, stride, 1,
                                         output_padding=pad, bias=last)]
            if last:
                layers.append(_activation(out_activation))
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
                          _activation(out_activation)),
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
        sizes, stride = _levels(height, width)
        kernel = 4 if stride == 2 else 3
        layers = []
        in_ch = channels
        for i in range(len(sizes) - 1):
            out_ch = n_filters * 2**i
            layers.append(nn.Conv2d(in_ch, out_ch, kernel, stride, 1, bias=False))
            if i > 0:
                layers.append(nn.BatchNorm2d(out_ch))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
            in_ch = out_ch
        layers.append(nn.Conv2d(in_ch, 1, 3, 1, 1))
        self.features = nn.Sequential(*layers)
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
