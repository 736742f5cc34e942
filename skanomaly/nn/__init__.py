"""The torch modules and losses of skanomaly's detectors (no scikit-learn in here).

These are plain :class:`torch.nn.Module` classes and functions, usable on their
own; the estimators build them from their parameters.

* blocks (:mod:`._blocks`): size-adaptive DCGAN down-sampling levels, the
  output activations, DCGAN initialisation;
* autoencoders (:mod:`._autoencoder`): convolutional and fully connected;
* GANs (:mod:`._gan`): the U-Net generator and patch critics of DualDiscGAN,
  the generator, discriminator and encoder of AnoGAN;
* CNNs (:mod:`._cnn`): backbones, the feature extractor, the self-supervised
  transformation classifier and its transformations;
* Deep SVDD / Deep SAD (:mod:`._svdd`): the bias-free network and the loss;
* classifier (:mod:`._classifier`): a small CNN of normal against anomalous
  samples and its random shifts;
* losses (:mod:`._losses`): per-sample loss terms and scores.
"""

from ._autoencoder import (
    ConvAutoEncoder,
    ConvDecoder,
    ConvEncoder,
    MLPAutoEncoder,
    make_autoencoder,
)
from ._blocks import (
    activation,
    down_layers,
    downsampling_sizes,
    init_dcgan_weights,
    levels,
)
from ._classifier import ImageClassifier, random_shift
from ._cnn import (
    BACKBONES,
    IMAGENET_MEAN,
    IMAGENET_STD,
    POOLINGS,
    SMALL_INPUT,
    TRANSFORMATIONS,
    FeatureExtractor,
    RotationClassifier,
    SmallConvNet,
    copy_module,
    cut_at,
    first_conv_channels,
    make_backbone,
    rotate,
    transform,
    translate,
)
from ._gan import (
    AnoGANDiscriminator,
    AnoGANEncoder,
    AnoGANGenerator,
    MLPDiscriminator,
    MLPGenerator,
    PatchDiscriminator,
    UNetGenerator,
    make_discriminator,
    make_generator,
)
from ._losses import (
    HingedReconstructionLoss,
    abc_loss,
    feature_residual,
    image_residual,
    patch_l1,
    reconstruction_error,
    rotation_log_likelihood,
    rotation_targets,
)
from ._preprocessing import PREPROCESSINGS, box_blur, preprocess, sqrt_blur
from ._svdd import DeepSADLoss, LeNetEncoder, SVDDNetwork

__all__ = [
    "BACKBONES",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "POOLINGS",
    "PREPROCESSINGS",
    "SMALL_INPUT",
    "TRANSFORMATIONS",
    "AnoGANDiscriminator",
    "AnoGANEncoder",
    "AnoGANGenerator",
    "ConvAutoEncoder",
    "ConvDecoder",
    "ConvEncoder",
    "DeepSADLoss",
    "FeatureExtractor",
    "HingedReconstructionLoss",
    "ImageClassifier",
    "LeNetEncoder",
    "MLPAutoEncoder",
    "MLPDiscriminator",
    "MLPGenerator",
    "PatchDiscriminator",
    "RotationClassifier",
    "SVDDNetwork",
    "SmallConvNet",
    "UNetGenerator",
    "abc_loss",
    "activation",
    "box_blur",
    "copy_module",
    "cut_at",
    "down_layers",
    "downsampling_sizes",
    "feature_residual",
    "first_conv_channels",
    "image_residual",
    "init_dcgan_weights",
    "levels",
    "make_autoencoder",
    "make_backbone",
    "make_discriminator",
    "make_generator",
    "patch_l1",
    "preprocess",
    "random_shift",
    "reconstruction_error",
    "rotate",
    "rotation_log_likelihood",
    "rotation_targets",
    "sqrt_blur",
    "transform",
    "translate",
]
