"""Plain torch modules of the CNN feature extractor (no scikit-learn in here).

* :class:`SmallConvNet`: a small VGG-style trunk for native-resolution images
  (28 px Fashion-MNIST), fast enough to train on a CPU;
* :func:`make_backbone`: torchvision classification models by name, with a
  CIFAR-style stem for small images;
* :class:`FeatureExtractor`: input adaptation (channels, size, normalisation),
  a trunk cut at a chosen layer, global average pooling to a vector;
* :class:`RotationClassifier`: the self-supervised task (which of the four
  90-degree rotations, optionally of the mirrored image too, was applied)
  on top of a :class:`FeatureExtractor`;
* :func:`transform`: the transformations of that task (rotations, flips,
  reflected shifts).

The task's loss and score are in :mod:`skanomaly.nn._losses`.
"""

import copy

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "BACKBONES",
    "POOLINGS",
    "TRANSFORMATIONS",
    "FeatureExtractor",
    "RotationClassifier",
    "SmallConvNet",
    "copy_module",
    "cut_at",
    "first_conv_channels",
    "make_backbone",
    "rotate",
    "transform",
    "translate",
]

#: named backbones: default feature layer and smallest input side (self-trained)
BACKBONES = {
    "small": {"layer": None, "min_size": 8},
    "resnet18": {"layer": "avgpool", "min_size": 8},
    "resnet34": {"layer": "avgpool", "min_size": 8},
    "resnet50": {"layer": "avgpool", "min_size": 8},
    "wide_resnet50_2": {"layer": "avgpool", "min_size": 8},
    "vgg11": {"layer": "features", "min_size": 32},
    "vgg16": {"layer": "features", "min_size": 32},
    "mobilenet_v3_small": {"layer": "avgpool", "min_size": 32},
    "mobilenet_v3_large": {"layer": "avgpool", "min_size": 32},
    "efficientnet_b0": {"layer": "avgpool", "min_size": 32},
}

#: the normalisation of torchvision's ImageNet classification weights
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

#: below this input side, self-trained ResNets get a 3x3 stride-1 stem
SMALL_INPUT = 64


def _conv_bn(in_ch, out_ch):
    return [
        nn.Conv2d(in_ch, out_ch, 3, padding=1, bias=False),
        nn.BatchNorm2d(out_ch),
        nn.ReLU(inplace=True),
    ]


class SmallConvNet(nn.Module):
    """Small VGG-style trunk for small images, trained from scratch.

    Three stages of two 3x3 convolutions (``n_filters``, twice and four
    times as many channels), with 2x2 max-pooling between stages: 28 px
    images are seen at 28, 14 and 7 px. Any input of at least 4 px works.

    Parameters
    ----------
    in_channels : int
        Channels of the input images.
    n_filters : int, default=16
        Channels of the first stage.
    """

    def __init__(self, in_channels, n_filters=16):
        super().__init__()
        w = n_filters
        self.stage1 = nn.Sequential(*_conv_bn(in_channels, w), *_conv_bn(w, w))
        self.pool1 = nn.MaxPool2d(2)
        self.stage2 = nn.Sequential(*_conv_bn(w, 2 * w), *_conv_bn(2 * w, 2 * w))
        self.pool2 = nn.MaxPool2d(2)
        self.stage3 = nn.Sequential(*_conv_bn(2 * w, 4 * w), *_conv_bn(4 * w, 4 * w))

    def forward(self, x):
        """Feature maps ``(n, 4 * n_filters, H / 4, W / 4)``."""
        return self.stage3(self.pool2(self.stage2(self.pool1(self.stage1(x)))))

    def spatial_features(self, x, grids=(4, 2)):
        """Where the features are, kept: the last two stages' maps pooled to small grids.

        The second stage's maps are average-pooled to ``grids[0] x grids[0]``
        cells and the third's to ``grids[1] x grids[1]``; each is flattened
        and scaled to unit length, and the two are concatenated.

        Returns
        -------
        torch.Tensor of shape (n, (2 * grids[0]**2 + 4 * grids[1]**2) * n_filters)
        """
        second = self.stage2(self.pool1(self.stage1(x)))
        third = self.stage3(self.pool2(second))
        parts = [F.normalize(F.adaptive_avg_pool2d(maps, grid).flatten(1), dim=1)
                 for maps, grid in zip((second, third), grids)]
        return torch.cat(parts, dim=1)


def make_backbone(name, in_channels=3, n_filters=16, small_stem=False):
    """A backbone by name, randomly initialised.

    Parameters
    ----------
    name : str
        ``'small'`` (:class:`SmallConvNet`) or a torchvision classification
        model of :data:`BACKBONES`.
    in_channels : int, default=3
        Input channels of ``'small'`` (torchvision models take 3).
    n_filters : int, default=16
        Width of ``'small'``.
    small_stem : bool, default=False
        Replace a ResNet's 7x7 stride-2 stem and its max-pooling by a 3x3
        stride-1 convolution (the CIFAR variant), for images under 64 px.

    Returns
    -------
    module : torch.nn.Module
    """
    if name == "small":
        return SmallConvNet(in_channels, n_filters)
    import torchvision

    model = torchvision.models.get_model(name, weights=None)
    if small_stem and "resnet" in name:
        model.conv1 = nn.Conv2d(3, model.conv1.out_channels, 3, padding=1, bias=False)
        model.maxpool = nn.Identity()
    return model


def first_conv_channels(module):
    """Input channels of the first ``Conv2d`` of ``module``, or None."""
    for sub in module.modules():
        if isinstance(sub, nn.Conv2d):
            return sub.in_channels
    return None


def cut_at(model, layer):
    """``model`` truncated after the node ``layer`` (torch.fx), or ``model`` if None.

    Raises
    ------
    ValueError
        If ``layer`` is not a node of the model's graph.
    """
    if layer is None:
        return model
    from torchvision.models.feature_extraction import (
        create_feature_extractor,
        get_graph_node_names,
    )

    _, nodes = get_graph_node_names(model)
    # a node, or a submodule (its last node): 'layer3' of a ResNet
    if not any(n == layer or n.startswith(layer + ".") for n in nodes):
        shown = list(dict.fromkeys(n.split(".")[0] for n in nodes))
        raise ValueError(
            f"layer={layer!r} is not a node of the backbone ({type(model).__name__}); "
            f"top-level nodes: {shown}."
        )
    return create_feature_extractor(model, return_nodes={layer: "features"})


class FeatureExtractor(nn.Module):
    """Images in, one feature vector per image out.

    Steps: channel adaptation (grey repeated to RGB, RGB averaged to grey,
    as the trunk's first convolution needs), bilinear resize to ``size``,
    ``(x - mean) / std`` per channel, the trunk, and global average pooling
    of spatial maps.

    Parameters
    ----------
    trunk : torch.nn.Module
        Maps images to ``(n, C, h, w)`` maps, ``(n, d)`` vectors, or a dict
        holding one of them (a torch.fx feature extractor).
    in_channels : int
        Channels of the input images.
    trunk_channels : int or None
        Channels the trunk takes; None takes ``in_channels``.
    size : tuple of int or None
        ``(height, width)`` the trunk sees; None keeps the input size.
    mean, std : sequence of float
        Per-channel normalisation, one value per trunk channel.
    pooling : {'mean', 'grid'}, default='mean'
        The features :meth:`forward` returns: the trunk's maps averaged over
        space (:meth:`embed`), or kept on a coarse grid (:meth:`grid_features`).
    """

    def __init__(self, trunk, in_channels, trunk_channels, size, mean, std, pooling="mean"):
        super().__init__()
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}; got {pooling!r}.")
        self.pooling = pooling
        self.trunk = trunk
        self.in_channels = in_channels
        self.trunk_channels = trunk_channels or in_channels
        if self.in_channels != self.trunk_channels and 1 not in (
            self.in_channels, self.trunk_channels
        ):
            raise ValueError(
                f"Images have {in_channels} channels; the backbone takes "
                f"{trunk_channels}. Only 1 <-> n channel adaptation is supported."
            )
        self.size = None if size is None else tuple(int(s) for s in size)
        c = self.trunk_channels
        self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float32).view(1, c, 1, 1))
        self.register_buffer("std", torch.as_tensor(std, dtype=torch.float32).view(1, c, 1, 1))

    def prepare(self, x):
        """Channel adaptation, resize and normalisation."""
        if self.in_channels != self.trunk_channels:
            if self.in_channels == 1:
                x = x.expand(-1, self.trunk_channels, -1, -1)
            else:
                x = x.mean(1, keepdim=True)
        if self.size is not None and tuple(x.shape[-2:]) != self.size:
            x = F.interpolate(x, size=self.size, mode="bilinear", align_corners=False)
        return (x - self.mean) / self.std

    def embed(self, x):
        """Trunk and global average pooling of prepared images."""
        out = self.trunk(x)
        if isinstance(out, dict):
            (out,) = out.values()
        if out.dim() == 4:
            out = out.mean((2, 3))
        return torch.flatten(out, 1)

    def grid_features(self, x):
        """Where the features are, kept: the trunk's maps pooled to a coarse grid.

        :meth:`SmallConvNet.spatial_features` for the small trunk (its last two
        stages on 4x4 and 2x2 cells); for other trunks the output maps
        averaged over 4x4 cells. Each part is scaled to unit length.
        """
        if hasattr(self.trunk, "spatial_features"):
            return self.trunk.spatial_features(x)
        out = self.trunk(x)
        if isinstance(out, dict):
            (out,) = out.values()
        if out.dim() == 4:
            out = F.adaptive_avg_pool2d(out, 4)
        return F.normalize(torch.flatten(out, 1), dim=1)

    def forward(self, x):
        """``(n, d)`` features of a batch of images (as ``pooling`` says)."""
        x = self.prepare(x)
        return self.grid_features(x) if self.pooling == "grid" else self.embed(x)


def rotate(x, k):
    """Rotate a batch of images by ``k`` quarter turns (counter-clockwise)."""
    return torch.rot90(x, k, dims=(2, 3)) if k % 4 else x


#: how :class:`FeatureExtractor` pools the trunk's maps into a feature vector
POOLINGS = ("mean", "grid")

#: the self-supervised tasks: number of transformations of each image
TRANSFORMATIONS = {"rotations": 4, "rotations+flip": 8, "rotations+translations": 36}

#: the 9 shifts of ``'rotations+translations'``, in quarters of the image side
_SHIFTS = [(dy, dx) for dy in (0, -1, 1) for dx in (0, -1, 1)]


def translate(x, dy, dx):
    """Shift a batch of images by ``(dy, dx)`` quarters of their sides.

    The uncovered border is filled by reflection, as in Golan & El-Yaniv
    (2018); a shift never exceeds a quarter of the side, so the reflection
    stays inside the image.
    """
    height, width = x.shape[-2:]
    sy, sx = dy * (height // 4), dx * (width // 4)
    if sy == 0 and sx == 0:
        return x
    padded = F.pad(x, (abs(sx), abs(sx), abs(sy), abs(sy)), mode="reflect")
    top, left = abs(sy) - sy, abs(sx) - sx
    return padded[..., top:top + height, left:left + width]


def transform(x, t, n_transforms=8):
    """The ``t``-th of ``n_transforms`` transformations of a batch of images.

    ``t % 4`` quarter turns (counter-clockwise) of

    * the image itself when ``t < 4``;
    * its mirror image (a horizontal flip) when ``n_transforms == 8``;
    * the image shifted by the ``t // 4``-th of the 9 shifts of zero or a
      quarter of the side along each axis (up/down, left/right) when
      ``n_transforms == 36``. Shift 0 is no shift, so the first four are
      the plain rotations in every task.
    """
    if t >= 4:
        if n_transforms == 36:
            x = translate(x, *_SHIFTS[t // 4])
        else:
            x = torch.flip(x, dims=(3,))
    return rotate(x, t % 4)


class RotationClassifier(nn.Module):
    """Which transformation was applied: a linear head on the features.

    ``forward(x)`` transforms every image of ``x`` ``n_transforms`` times
    (see :func:`transform`: the 4 rotations; with 8 also the rotations of
    the mirrored image; with 36 the rotations of 9 shifted copies) and
    returns logits of shape ``(n, T, T)``: for the ``t``-th transformation
    of each image, the scores of the ``T`` classes. Non-square images are
    transformed before the extractor's resize, so all transformations share
    one batch.

    Parameters
    ----------
    extractor : FeatureExtractor
        The trained feature extractor (shared, not copied).
    n_features : int
        Size of the extractor's output.
    n_transforms : {4, 8, 36}, default=4
        4: the rotations; 8: the rotations of the image and of its mirror;
        36: the rotations of the image shifted in 9 ways.
    """

    def __init__(self, extractor, n_features, n_transforms=4):
        super().__init__()
        if n_transforms not in set(TRANSFORMATIONS.values()):
            raise ValueError(f"n_transforms must be 4, 8 or 36; got {n_transforms!r}.")
        self.extractor = extractor
        self.n_transforms = n_transforms
        self.head = nn.Linear(n_features, n_transforms)

    def forward(self, x):
        """Transformation logits ``(n, T, T)``."""
        n, n_t = x.shape[0], self.n_transforms
        batch = torch.cat([self.extractor.prepare(transform(x, t, n_t))
                           for t in range(n_t)])
        logits = self.head(self.extractor.embed(batch))
        return logits.view(n_t, n, n_t).transpose(0, 1)


def copy_module(module):
    """A deep copy of an ``nn.Module`` instance, or a fresh instance of a class."""
    if isinstance(module, type):
        return module()
    return copy.deepcopy(module)
