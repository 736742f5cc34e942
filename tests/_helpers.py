"""Small torch modules shared by several test files."""

from torch import nn


class TinyBackbone(nn.Module):
    """A one-convolution backbone for grayscale images: 3 output channels."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 3, 3)

    def forward(self, x):
        return self.conv(x)
