"""skanomaly: image anomaly detectors that are scikit-learn estimators.

Every detector follows scikit-learn's outlier-detector conventions: lower
``score_samples`` is more abnormal, ``decision_function = score_samples -
offset_``, ``predict`` gives +1 (normal) or -1 (anomaly), and labels passed
to ``fit`` use the same code.

Each detector named after a method runs that method by default.

Detectors
---------
KNNDetector
    Mean distance to the k nearest normal training samples, in the pixels
    or in the features of a network: the baseline of every table.
AutoEncoder
    Reconstruction error of a convolutional autoencoder.
DualDiscGAN
    Autoencoder generator with a normal and an anomaly discriminator
    (Kim et al., ECCV 2020 workshops), for imbalanced labelled data.
DeepSAD
    Deep SAD (Ruff et al., ICLR 2020): normal data near a centre, labelled
    anomalies pushed away; Deep SVDD without labels.
AnoGAN
    DCGAN trained on normal data, scored by its discriminator, a latent
    search (AnoGAN) or an encoder (f-AnoGAN).
CNNOneClassSVM
    CNN features (:class:`CNNFeatures`) and scikit-learn's OneClassSVM, or
    the self-supervised transformation task that trains them.
ClassifierDetector, CNNClassifier
    Classifiers of normal against labelled anomalous samples (supervised).
CombinedDetector, make_recipe
    The weighted sum of several detectors' standardised scores; the
    package's measured combinations by name.
MultiScalePatchKNN
    Distance of each pixel's neighbourhood, at several scales, to the
    nearest normal one: a position-free detector of defects in textures.
TrimmedDetector
    Refits any detector without the most anomalous share of its training set.

Persistence
-----------
save, load
    A fitted estimator as weights and settings only, read back with
    ``torch.load(weights_only=True)``.

Subpackages
-----------
skanomaly.nn
    The torch modules and losses (no scikit-learn).
skanomaly.datasets, skanomaly.model_selection
    Data, anomaly-detection splits, synthetic defects (textures too),
    validation without the test set.
skanomaly.metrics, skanomaly.tiling
    Pixel AUROC and AUPRO of anomaly maps; whole images scored by a
    detector fitted on crops.
skanomaly.benchmark
    The benchmark command.
"""

from ._anogan import AnoGAN
from ._autoencoder import AutoEncoder
from ._cnn_features import CNNFeatures
from ._cnn_ocsvm import CNNOneClassSVM
from ._combine import CombinedDetector, make_recipe
from ._deep_sad import DeepSAD
from ._dual_gan import DualDiscGAN
from ._knn import KNNDetector
from ._patch_pyramid import MultiScalePatchKNN
from ._persistence import load, save
from ._supervised import ClassifierDetector, CNNClassifier
from ._trimmed import TrimmedDetector
from ._version import __version__
from .exceptions import TrainingDivergedError

__all__ = [
    "AnoGAN",
    "AutoEncoder",
    "CNNClassifier",
    "CNNFeatures",
    "CNNOneClassSVM",
    "ClassifierDetector",
    "CombinedDetector",
    "DeepSAD",
    "DualDiscGAN",
    "KNNDetector",
    "MultiScalePatchKNN",
    "TrainingDivergedError",
    "TrimmedDetector",
    "__version__",
    "load",
    "make_recipe",
    "save",
]
