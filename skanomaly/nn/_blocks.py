"""Size-adaptive convolutional building blocks (plain torch, no scikit-learn).

Every convolutional network of the package halves the image with stride-2
convolutions until its shorter side is at most 4 pixels
(:func:`downsampling_sizes`), and every decoder mirrors those steps with
transposed convolutions whose ``output_padding`` restores odd sizes exactly
(28 -> 14 -> 7 -> 3 and back to 7 -> 14 -> 28), so any image size works and
U-Net skip connections always line up.
"""

from torch import nn

__all__ = [
    "activation",
    "down_layers",
    "downsampling_sizes",
    "init_dcgan_weights",
    "levels",
]


def downsampling_sizes(height, width, min_size=4):
    """Spatial sizes visited by the stride-2 encoder, input size first.

    Parameters
    ----------
    height, width : int
        Input image size.
    min_size : int, default=4
        Stop halving once the shorter side is at most this size.

    Returns
    -------
    sizes : list of (int, int)
        ``sizes[0]`` is the input size, ``sizes[-1]`` the bottleneck size.
    """
    sizes = [(height, width)]
    while min(sizes[-1]) > min_size:
        h, w = sizes[-1]
        sizes.append((h // 2, w // 2))
    return sizes


def levels(height, width):
    """``(sizes, stride)`` of a network that must have at least one level.

    Images already at most 4 pixels on a side get one stride-1 level.
    """
    sizes = downsampling_sizes(height, width)
    if len(sizes) == 1:
        return [sizes[0], sizes[0]], 1
    return sizes, 2


def activation(name):
    """The output activation ``name``: None, 'sigmoid' or 'tanh'."""
    if name is None:
        return nn.Identity()
    if name == "sigmoid":
        return nn.Sigmoid()
    if name == "tanh":
        return nn.Tanh()
    raise ValueError(f"Unknown output activation {name!r}.")


def down_layers(in_channels, n_filters, n_levels, *, stride=2, batchnorm=True,
                negative_slope=0.2, affine=True):
    """The DCGAN down-sampling levels, as one list of layers per level.

    Level ``i`` is ``Conv2d(k=4, s=2, p=1)`` (``k=3, s=1`` when ``stride`` is
    1) to ``n_filters * 2**i`` channels without bias, batch normalisation (not
    on the first level; without its affine shift and scale unless
    ``affine``) and a leaky ReLU.

    Returns
    -------
    layers : list of list of nn.Module
        Callers nest them (one ``Sequential`` per level, for skip
        connections) or flatten them.
    out_channels : int
        Channels of the last level.
    """
    kernel = 4 if stride == 2 else 3
    blocks = []
    in_ch = in_channels
    for level in range(n_levels):
        out_ch = n_filters * 2**level
        block = [nn.Conv2d(in_ch, out_ch, kernel, stride, 1, bias=False)]
        if batchnorm and level > 0:
            block.append(nn.BatchNorm2d(out_ch, affine=affine))
        block.append(nn.LeakyReLU(negative_slope, inplace=True))
        blocks.append(block)
        in_ch = out_ch
    return blocks, in_ch


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
