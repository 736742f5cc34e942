"""CNN features (pretrained or self-supervised) and a One-Class SVM on them."""

from collections.abc import Mapping
from numbers import Integral, Real
from pathlib import Path

import numpy as np
import torch
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.preprocessing import StandardScaler
from sklearn.svm import OneClassSVM
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from torch import nn

from ._cnn_modules import (
    BACKBONES,
    IMAGENET_MEAN,
    IMAGENET_STD,
    SMALL_INPUT,
    TRANSFORMATIONS,
    FeatureExtractor,
    RotationClassifier,
    copy_module,
    cut_at,
    first_conv_channels,
    make_backbone,
    rotation_log_likelihood,
    rotation_targets,
)
from ._docstrings import fill_doc
from .base import BaseDeepDetector, DeepInputMixin, DetectorNet
from .exceptions import TrainingDivergedError

__all__ = ["CNNFeatures", "CNNOneClassSVM"]


class RotationNet(DetectorNet):
    """skorch engine of the self-supervised task: predict the rotation.

    The module is a :class:`~skanomaly._cnn_modules.RotationClassifier`;
    every batch of ``n`` images becomes ``4 n`` rotated images, and the loss
    is the cross-entropy of their rotation classes (``8 n`` images and 8
    classes with ``transformations='rotations+flip'``, ``36 n`` and 36 with
    ``'rotations+translations'``). ``y`` is ignored.
    """

    def get_loss(self, y_pred, y_true, X=None, training=False):
        """Cross-entropy of the rotation of every rotated image."""
        targets = rotation_targets(y_pred.shape[0], y_pred.device, y_pred.shape[-1])
        return self.criterion_(y_pred.reshape(-1, y_pred.shape[-1]), targets)

    def __getstate__(self):
        # ``module`` is the instance skorch also keeps as ``module_``; skorch
        # pickles ``module_`` so that a GPU net loads on a CPU, but would
        # pickle ``module`` plainly, with its CUDA tensors
        state = super().__getstate__()
        if isinstance(state.get("module"), nn.Module):
            state["module"] = None
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        if self.module is None and hasattr(self, "module_"):
            self.module = self.module_


# --------------------------------------------------------------------------
# the extractor, shared by the transformer and the detector
# --------------------------------------------------------------------------
_EXTRACTOR_CONSTRAINTS = {
    "backbone": [StrOptions(set(BACKBONES)), nn.Module, type],
    "layer": [str, None],
    "weights": [StrOptions({"imagenet", "keep"}), None],
    "weights_path": [str, Path, None],
    "image_size": [Interval(Integral, 1, None, closed="left"), tuple, list, None],
    "n_filters": [Interval(Integral, 1, None, closed="left")],
    "transformations": [StrOptions(set(TRANSFORMATIONS))],
}


class _CNNExtractorMixin:
    """Builds, trains and runs the CNN feature extractor of an estimator.

    Sets ``extractor_`` (a :class:`~skanomaly._cnn_modules.FeatureExtractor`)
    and returns the skorch :class:`RotationNet` that trains it, or None when
    the weights come from elsewhere. Expects the estimator to have the
    parameters of ``_EXTRACTOR_CONSTRAINTS`` and those of
    :class:`~skanomaly.base.BaseDeepDetector` it uses (``batch_size``,
    ``device``, ...), and validated input ``(n, C, H, W)``.
    """

    _net_prefixes = ("optimizer", "iterator_train", "iterator_valid")

    def _fold_shape(self, n_features, reset):
        # a CNN needs images: flat vectors without image_shape are 1 x d images
        shape = BaseDeepDetector._fold_shape(self, n_features, reset)
        return shape if len(shape) == 3 else (1, 1, n_features)

    # -- configuration ----------------------------------------------------------
    def _pretrained(self):
        return self.weights_path is not None or self.weights == "imagenet"

    def _backbone_name(self):
        return self.backbone if isinstance(self.backbone, str) else None

    def _target_size(self, height, width):
        """``(height, width)`` the trunk sees."""
        if self.image_size is not None:
            size = self.image_size
            size = (size, size) if isinstance(size, Integral) else tuple(size)
            if len(size) != 2 or not all(isinstance(s, Integral) and s > 0 for s in size):
                raise ValueError(
                    f"image_size must be an int or (height, width); got {self.image_size!r}."
                )
            return tuple(int(s) for s in size)
        if self.weights == "imagenet":
            return (224, 224)
        name = self._backbone_name()
        min_size = BACKBONES[name]["min_size"] if name else 1
        return (max(height, min_size), max(width, min_size))

    def _make_trunk(self, channels, size):
        """The backbone with its weights, cut at ``layer``; and its input channels."""
        name = self._backbone_name()
        if name is None:
            model = copy_module(self.backbone)
        else:
            small_stem = self.weights != "imagenet" and min(size) < SMALL_INPUT
            model = make_backbone(name, channels, self.n_filters, small_stem)
        if getattr(self, "_rebuilding", False):
            pass  # skanomaly.load fills in the saved weights
        elif self.weights_path is not None:
            _load_state_dict(model, _read_weights(self.weights_path), name, size)
        elif self.weights == "imagenet":
            _load_state_dict(model, _imagenet_weights(name), name, size)
        layer = self.layer
        if layer is None and name is not None:
            layer = BACKBONES[name]["layer"]
        return cut_at(model, layer), first_conv_channels(model)

    def _normalisation(self, X, trunk_channels):
        """ImageNet statistics for external torchvision weights, else the data's."""
        if self._pretrained() and self._backbone_name() not in (None, "small"):
            return IMAGENET_MEAN, IMAGENET_STD
        x = self._as_float32(X)
        mean = x.mean(axis=(0, 2, 3), dtype=np.float64)
        std = x.std(axis=(0, 2, 3), dtype=np.float64)
        std = np.where(std > 1e-6, std, 1.0)
        if len(mean) != trunk_channels:  # 1 <-> n channel adaptation
            mean = np.full(trunk_channels, mean.mean())
            std = np.full(trunk_channels, std.mean())
        return mean, std

    # -- fitting ----------------------------------------------------------------
    def _build_extractor(self, X):
        """Set ``extractor_``; return the (uninitialized) :class:`RotationNet` or None."""
        if self.weights_path is not None and self.weights is not None:
            raise ValueError(
                f"Pass either weights={self.weights!r} or weights_path, not both: "
                "weights_path loads the backbone's weights from a file."
            )
        channels, height, width = X.shape[1:]
        size = self._target_size(height, width)
        trunk, trunk_channels = self._make_trunk(channels, size)
        trunk_channels = trunk_channels or channels
        mean, std = self._normalisation(X, trunk_channels)
        self.extractor_ = FeatureExtractor(trunk, channels, trunk_channels, size, mean, std)
        self.extractor_.to(self.device)
        with torch.no_grad():
            self.extractor_.eval()
            probe = self.extractor_(torch.zeros(2, channels, height, width, device=self.device))
            self.extractor_.train()
        self._n_features_out = int(probe.shape[1])
        if self._pretrained() or self.weights == "keep":
            return None
        if self.transformations == "rotations+translations" and min(height, width) < 4:
            raise ValueError(
                "transformations='rotations+translations' shifts images by a quarter "
                f"of their side and needs images of at least 4x4 pixels; got "
                f"{height}x{width}. Use transformations='rotations'."
            )
        kwargs = self._net_kwargs(np.ones(X.shape[0]))
        return RotationNet(
            module=RotationClassifier(
                self.extractor_, self._n_features_out, TRANSFORMATIONS[self.transformations]
            ),
            criterion=nn.CrossEntropyLoss,
            optimizer=torch.optim.Adam,
            **kwargs,
        )

    def _train_extractor(self, X):
        """Self-supervised training of ``net_`` on float32 images (if any)."""
        if self.net_ is not None:
            self.net_.fit(X, np.zeros(X.shape[0], dtype=np.float32))

    def _modules_for_inference(self):
        return [self.extractor_] + ([self.net_.module_] if self.net_ is not None else [])

    def _rebuild_torch_state(self):
        """Rebuild ``extractor_`` and ``net_`` untrained, for :func:`~skanomaly.load`.

        No weights file is read: the loader fills in the saved weights.
        """
        self._rebuilding = True
        try:
            self.net_ = self._build_extractor(
                np.zeros((4, *self.image_shape_), dtype=np.float32))
        finally:
            del self._rebuilding

    # -- inference --------------------------------------------------------------
    def _features(self, X):
        """Features of validated images, float64 ``(n, n_features_out)``."""
        return self._map_batches(self.extractor_, X).astype(np.float64)

    def _rotation_score(self, X):
        """Sum over the transformations of the log-probability of the right one."""
        if self.net_ is None:
            raise ValueError(
                "The rotation score needs the self-supervised rotation head, "
                "trained only with weights=None and no weights_path."
            )
        module = self.net_.module_
        return self._map_batches(
            lambda x: rotation_log_likelihood(module(x)), X
        ).astype(np.float64)


@fill_doc
class CNNFeatures(
    _CNNExtractorMixin, DeepInputMixin, ClassNamePrefixFeaturesOutMixin, TransformerMixin,
    BaseEstimator,
):
    """Image features from a convolutional network, as a scikit-learn transformer.

    The images are adapted to the backbone (grey repeated to three channels
    when it takes RGB, resized to ``image_size``, normalised), run through
    the backbone up to ``layer``, and spatial maps are averaged into one
    vector per image.

    The backbone's weights come from one of three places:

    * ``weights=None`` (default): the backbone is trained here, on the
      training images alone, to tell which of four rotations (0, 90, 180,
      270 degrees) was applied to an image (RotNet; Golan & El-Yaniv 2018,
      Hendrycks et al. 2019). No download is needed; the features describe
      the shapes and orientations typical of the training data.
    * ``weights='imagenet'``: torchvision's ImageNet weights, downloaded
      once into torch's hub cache (``$TORCH_HOME/hub/checkpoints``).
      Without internet access, fitting raises an error saying which file
      to fetch; pass it as ``weights_path``.
    * ``weights_path``: a state dict saved with ``torch.save`` (loaded with
      ``weights_only=True``, so no code in the file runs).

    ``weights='keep'`` uses an ``nn.Module`` backbone's own weights.

    Training from scratch on a CPU calls for a small network at the images'
    native resolution, hence ``backbone='small'`` (three stages of 3x3
    convolutions, 28 px images seen at 28, 14 and 7 px; about 7 million
    multiply-adds per 28 px image with 16 filters) by default; a ResNet-18
    at 224 px needs 1.8 billion, some 250 times more. Torchvision ResNets
    trained here on images under 64 px get a 3x3 stride-1 stem (the CIFAR
    variant) and no max-pooling, so 28 px images are not shrunk to 7 px at
    once.

    Parameters
    ----------
    backbone : str, nn.Module or nn.Module class, default='small'
        ``'small'``, a torchvision model (``'resnet18'``, ``'resnet34'``,
        ``'resnet50'``, ``'wide_resnet50_2'``, ``'vgg11'``, ``'vgg16'``,
        ``'mobilenet_v3_small'``, ``'mobilenet_v3_large'``,
        ``'efficientnet_b0'``), or a module (copied in ``fit``) or module
        class (called with no arguments).
    layer : str, default=None
        Node of the backbone whose output is the feature (any name from
        ``torchvision.models.feature_extraction.get_graph_node_names``, e.g.
        ``'layer3'`` of a ResNet). None: the whole ``'small'`` net, the
        pooled features of the torchvision models (``'avgpool'``, or
        ``'features'`` for VGG), or a module's output.
    weights : {None, 'imagenet', 'keep'}, default=None
        None trains the backbone with the rotation task; 'imagenet' loads
        torchvision's weights; 'keep' uses a module backbone's weights.
    weights_path : str or path, default=None
        File of a state dict for the (uncut) backbone; no training then.
    image_size : int or (int, int), default=None
        Size the backbone sees. None: 224 with ImageNet weights, else the
        native size (raised to 8 px, 32 px for VGG and MobileNet).
    n_filters : int, default=16
        Channels of the first stage of ``'small'`` (ignored otherwise).
    transformations : {'rotations', 'rotations+flip', 'rotations+translations'}, \
default='rotations'
        The self-supervised task (``weights=None``): recognise which of the
        4 rotations was applied; or which of 8 (the 4 rotations of the
        image and of its mirror image, a horizontal flip), at twice the
        cost per epoch; or which of 36 (the 4 rotations of the image
        shifted by 0 or a quarter of its side along each axis, the border
        filled by reflection, as GEOM), at 9 times the cost.
    max_epochs : int, default=5
        Epochs of self-supervised training.
    batch_size : int, default=128
        Images per batch (training sees ``4 * batch_size`` rotated images,
        ``8 * batch_size`` with ``transformations='rotations+flip'``,
        ``36 * batch_size`` with ``'rotations+translations'``).
    lr : float, default=1e-3
        Adam learning rate.
    image_shape : tuple of int, default=None
        ``(channels, height, width)`` to fold flat 2-D input into images.
        None: flat input is taken as ``1 x n_features`` images.
    net_params : dict, default=None
        Extra arguments of the skorch net (``optimizer__weight_decay``).
    {callbacks}
    {device}
    {n_threads}
    random_state : int, RandomState instance or None, default=None
        Seeds the weights and the batches.
    {verbose}

    Attributes
    ----------
    extractor_ : torch.nn.Module
        Images to features: adaptation, truncated backbone, pooling.
    net_ : skorch.NeuralNet or None
        The skorch net of the rotation task (None with external weights).
    image_shape_ : tuple of int
        ``(C, H, W)`` of one sample seen in ``fit``.
    n_features_in_ : int
        Number of values per sample.

    See Also
    --------
    CNNOneClassSVM : One-Class SVM on these features.

    References
    ----------
    Golan, I. and El-Yaniv, R. "Deep anomaly detection using geometric
    transformations." NeurIPS 2018.

    Hendrycks, D., Mazeika, M., Kadavath, S. and Song, D. "Using
    self-supervised learning can improve model robustness and
    uncertainty." NeurIPS 2019.

    Examples
    --------
    >>> import numpy as np
    >>> from skanomaly import CNNFeatures
    >>> X = np.random.RandomState(0).rand(32, 1, 8, 8).astype(np.float32)
    >>> features = CNNFeatures(n_filters=4, max_epochs=1, random_state=0)
    >>> features.fit_transform(X).shape
    (32, 16)
    """

    _parameter_constraints: dict = {
        **{k: v for k, v in BaseDeepDetector._parameter_constraints.items()
           if k != "contamination"},
        **_EXTRACTOR_CONSTRAINTS,
    }

    def __init__(
        self,
        *,
        backbone="small",
        layer=None,
        weights=None,
        weights_path=None,
        image_size=None,
        n_filters=16,
        transformations="rotations",
        max_epochs=5,
        batch_size=128,
        lr=1e-3,
        image_shape=None,
        net_params=None,
        callbacks=None,
        device="cpu",
        n_threads=None,
        random_state=None,
        verbose=0,
    ):
        self.backbone = backbone
        self.layer = layer
        self.weights = weights
        self.weights_path = weights_path
        self.image_size = image_size
        self.n_filters = n_filters
        self.transformations = transformations
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.image_shape = image_shape
        self.net_params = net_params
        self.callbacks = callbacks
        self.device = device
        self.n_threads = n_threads
        self.random_state = random_state
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Build the backbone, and train it on X unless its weights are given.

        Parameters
        ----------
        X : array-like of shape (n_samples, C, H, W), (n_samples, H, W) or \
                (n_samples, n_features)
            Training images (uint8 is scaled to [0, 1]).
        y : None
            Ignored.

        Returns
        -------
        self : object
            Fitted transformer.
        """
        X = self._validate_X(X, reset=True)
        with self._torch_context():
            self.net_ = self._build_extractor(X)
            self._train_extractor(self._as_float32(X) if self.net_ is not None else X)
        return self

    def transform(self, X):
        """Feature vectors of images.

        Parameters
        ----------
        X : array-like of the shape seen in ``fit``
            Images or flat vectors.

        Returns
        -------
        features : ndarray of shape (n_samples, n_features_out), dtype float64
        """
        check_is_fitted(self)
        return self._features(self._validate_X(X, reset=False))

    def rotation_score(self, X):
        """Self-supervised normality: how well the rotations of X are recognised.

        The sum over the transformations (the four rotations, and their
        mirror images with ``transformations='rotations+flip'`` or their
        shifted copies with ``'rotations+translations'``) of the
        log-probability the network gives to the right one; higher is more
        normal. Needs ``weights=None``.

        Parameters
        ----------
        X : array-like of the shape seen in ``fit``
            Images or flat vectors.

        Returns
        -------
        scores : ndarray of shape (n_samples,), dtype float64
        """
        check_is_fitted(self)
        return self._rotation_score(self._validate_X(X, reset=False))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.non_deterministic = False
        return tags


@fill_doc
class CNNOneClassSVM(_CNNExtractorMixin, BaseDeepDetector):
    """One-Class SVM on CNN features (pretrained or learnt by rotation prediction).

    A :class:`CNNFeatures` extractor, a :class:`~sklearn.preprocessing.StandardScaler`
    and a :class:`~sklearn.svm.OneClassSVM`, fitted on the normal samples
    (``y == 1``), with the package's conventions: lower ``score_samples`` is
    more abnormal, ``offset_`` from ``contamination``, float64 scores.
    ``make_pipeline(CNNFeatures(), StandardScaler(), OneClassSVM())`` is the
    same model without those conventions.

    With ``weights=None`` (default), the backbone learns on the training
    images to recognise which of four rotations was applied (or, with
    ``transformations='rotations+flip'``, which of eight: the rotations of
    the image and of its mirror image; with ``'rotations+translations'``,
    which of 36: the rotations of 9 shifted copies), and
    ``anomaly_score='rotation'`` scores with that task directly: the sum
    over the transformations of the log-probability of the right one
    (GEOM/RotNet), which needs no SVM.

    Parameters
    ----------
    backbone : str, nn.Module or nn.Module class, default='small'
        See :class:`CNNFeatures`. The default small network at native
        resolution is what a CPU can train in minutes; a ResNet at 224 px
        suits ImageNet weights on a GPU.
    layer : str, default=None
        Backbone node the features are taken from (see :class:`CNNFeatures`).
    weights : {None, 'imagenet', 'keep'}, default=None
        None: self-supervised training on the normal training images;
        'imagenet': torchvision's weights (downloaded once; without network,
        pass the file as ``weights_path``); 'keep': a module's own weights.
    weights_path : str or path, default=None
        State dict of the backbone, loaded with ``weights_only=True``.
    image_size : int or (int, int), default=None
        Size the backbone sees (see :class:`CNNFeatures`).
    n_filters : int, default=16
        Width of the ``'small'`` backbone.
    transformations : {'rotations', 'rotations+flip', 'rotations+translations'}, \
default='rotations'
        Self-supervised task (``weights=None``): which of the 4 rotations,
        of 8 (the rotations of the image and of its horizontal mirror,
        twice the cost per epoch and per scored image) or of 36 (the
        rotations of the image shifted by 0 or a quarter of its side along
        each axis, 9 times the cost) was applied. 'rotation' scores sum
        over all of them. See Notes.
    anomaly_score : {'rotation', 'ocsvm', 'combined'}, default='rotation'
        'ocsvm': the One-Class SVM's score of the standardised features.
        'rotation': the rotation task's log-likelihood (``weights=None``
        only). 'combined': the sum of both, each standardised by its mean
        and standard deviation on the training samples (``weights=None``
        only).
    kernel : {'rbf', 'linear', 'poly', 'sigmoid'}, default='rbf'
        Kernel of the One-Class SVM.
    nu : float, default=0.1
        Upper bound on the share of training margin errors of the SVM.
    gamma : 'scale', 'auto' or float, default='scale'
        Kernel coefficient of the SVM.
    max_epochs : int, default=5
        Epochs of self-supervised training.
    batch_size : int, default=128
        Images per batch (training sees ``4 * batch_size`` rotated images,
        ``8 * batch_size`` with ``transformations='rotations+flip'``,
        ``36 * batch_size`` with ``'rotations+translations'``).
    lr : float, default=1e-3
        Adam learning rate.
    image_shape : tuple of int, default=None
        ``(channels, height, width)`` to fold flat 2-D input into images.
        None: flat input is taken as ``1 x n_features`` images.
    {contamination}
    net_params : dict, default=None
        Extra arguments of the skorch net (``optimizer__weight_decay``).
    {callbacks}
    {device}
    {n_threads}
    random_state : int, RandomState instance or None, default=None
        Seeds the weights and the batches.
    {verbose}

    Attributes
    ----------
    extractor_ : torch.nn.Module
        Images to features.
    net_ : skorch.NeuralNet or None
        The skorch net of the rotation task (None with external weights).
    scaler_ : StandardScaler or None
        Standardises the features (``anomaly_score='ocsvm'``).
    ocsvm_ : OneClassSVM or None
        The fitted One-Class SVM (``anomaly_score='ocsvm'``).
    score_scale_ : tuple of ndarray or None
        Training mean and standard deviation of the SVM and rotation scores
        (``anomaly_score='combined'``).
    image_shape_ : tuple of int
        ``(C, H, W)`` of one sample seen in ``fit``.
    offset_ : float
        ``decision_function = score_samples - offset_``.
    n_features_in_ : int
        Number of values per sample.

    See Also
    --------
    CNNFeatures : The feature extractor alone, for a Pipeline.
    AutoEncoder : Reconstruction-error detector.

    Notes
    -----
    With the default four rotations, images that look the same upside down
    (some bags, trousers) make the rotation task ambiguous for their class.

    On Fashion-MNIST (one class normal, the 10000 test images;
    ``examples/bench_cnn_ocsvm.py``), the mean AUROC over the ten classes
    was, with 3000 training images and 4 epochs, 0.917 with
    ``anomaly_score='rotation'``, 0.913 with 'combined' and 0.896 with
    'ocsvm'; with the defaults and all 6000 images, 0.905, 0.904 and 0.893.
    A One-Class SVM on raw pixels gave 0.887 on class 0 (the rotation
    score: 0.918 and 0.909). The rotation score is best on most classes,
    but varies with the training run (class 3: 0.906 and 0.796).

    ``transformations='rotations+translations'`` (36 transformations: the
    rotations of 9 reflected shifts, GEOM's set without its flip) is the
    most accurate setting measured: with ``max_epochs=2, batch_size=64``
    and all 6000 images the mean rotation-score AUROC was 0.930 (per class
    0.928, 0.985, 0.915, 0.890, 0.934, 0.889, 0.818, 0.987, 0.961, 0.994),
    against 0.905 for the defaults; the hard classes gain most (shirt
    0.775 to 0.818, pullover 0.875 to 0.915, coat 0.895 to 0.934). It
    costs 9 times the default per image and epoch: on an idle 2-core CPU,
    class 0 took 354 s to fit and scored 120 images/s, against 54 s and
    2,050 images/s for the defaults (one thread per fit, two fits sharing
    the cores: 440-780 s per class), so the default stays at the four
    rotations; use it where accuracy is worth the time, on a GPU above all.

    ``transformations='rotations+flip'`` (8 transformations, as a subset of
    GEOM's 72) did worse at the defaults on the three hardest classes,
    whose garments look alike in a mirror, so the flip is a guess for the
    normal class: rotation-score AUROC 0.862, 0.839 and 0.779 on classes
    0, 2 and 6 (T-shirt, pullover, shirt), against 0.909, 0.875 and 0.775
    with the 4 rotations (mean 0.826 against 0.853), at about twice the
    cost per image (fit 157-167 s per class on 2 threads, 260 s for class 0
    while other jobs shared the CPU; rotation scoring 580-740 images/s).
    It is meant for data whose handedness matters (text, digits), where it
    was not measured.

    References
    ----------
    Golan, I. and El-Yaniv, R. "Deep anomaly detection using geometric
    transformations." NeurIPS 2018.

    Hendrycks, D., Mazeika, M., Kadavath, S. and Song, D. "Using
    self-supervised learning can improve model robustness and
    uncertainty." NeurIPS 2019.

    Schölkopf, B. et al. "Estimating the support of a high-dimensional
    distribution." Neural Computation 13(7), 2001.

    Examples
    --------
    >>> import numpy as np
    >>> from skanomaly import CNNOneClassSVM
    >>> X = np.random.RandomState(0).rand(32, 1, 8, 8).astype(np.float32)
    >>> detector = CNNOneClassSVM(n_filters=4, max_epochs=1, random_state=0)
    >>> detector.fit(X).score_samples(X[:3]).shape
    (3,)
    """

    _parameter_constraints: dict = {
        **BaseDeepDetector._parameter_constraints,
        **_EXTRACTOR_CONSTRAINTS,
        "anomaly_score": [StrOptions({"ocsvm", "rotation", "combined"})],
        "kernel": [StrOptions({"rbf", "linear", "poly", "sigmoid"})],
        "nu": [Interval(Real, 0, 1, closed="right")],
        "gamma": [StrOptions({"scale", "auto"}), Interval(Real, 0, None, closed="left")],
    }

    def __init__(
        self,
        *,
        backbone="small",
        layer=None,
        weights=None,
        weights_path=None,
        image_size=None,
        n_filters=16,
        transformations="rotations",
        anomaly_score="rotation",
        kernel="rbf",
        nu=0.1,
        gamma="scale",
        max_epochs=5,
        batch_size=128,
        lr=1e-3,
        image_shape=None,
        contamination="auto",
        net_params=None,
        callbacks=None,
        device="cpu",
        n_threads=None,
        random_state=None,
        verbose=0,
    ):
        self.backbone = backbone
        self.layer = layer
        self.weights = weights
        self.weights_path = weights_path
        self.image_size = image_size
        self.n_filters = n_filters
        self.transformations = transformations
        self.anomaly_score = anomaly_score
        self.kernel = kernel
        self.nu = nu
        self.gamma = gamma
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.image_shape = image_shape
        self.contamination = contamination
        self.net_params = net_params
        self.callbacks = callbacks
        self.device = device
        self.n_threads = n_threads
        self.random_state = random_state
        self.verbose = verbose

    def _build_net(self, X, y):
        if self.anomaly_score != "ocsvm" and (self._pretrained() or self.weights == "keep"):
            raise ValueError(
                f"anomaly_score={self.anomaly_score!r} needs the self-supervised "
                "rotation head, trained only with weights=None and no weights_path; "
                "use anomaly_score='ocsvm'."
            )
        return self._build_extractor(X)

    def _fit_net(self, X, y):
        self._train_extractor(X)
        self.scaler_ = self.ocsvm_ = self.score_scale_ = None
        if self.anomaly_score in ("ocsvm", "combined"):
            features = self._features(X)
            self.scaler_ = StandardScaler().fit(features)
            self.ocsvm_ = OneClassSVM(kernel=self.kernel, nu=self.nu, gamma=self.gamma)
            self.ocsvm_.fit(self.scaler_.transform(features))
        if self.anomaly_score == "combined":
            parts = self._score_parts(X)
            std = parts.std(axis=0)
            self.score_scale_ = (parts.mean(axis=0), np.where(std > 0, std, 1.0))

    def _score_parts(self, X):
        """The SVM's and the rotation task's scores, ``(n, 2)``."""
        features = self._features(X)
        svm = self.ocsvm_.score_samples(self.scaler_.transform(features))
        return np.column_stack([svm, self._rotation_score(X)])

    def _score_samples(self, X):
        if self.anomaly_score == "ocsvm":
            scores = self.ocsvm_.score_samples(self.scaler_.transform(self._features(X)))
        elif self.anomaly_score == "rotation":
            scores = self._rotation_score(X)
        else:
            mean, std = self.score_scale_
            scores = ((self._score_parts(X) - mean) / std).sum(axis=1)
        scores = np.asarray(scores, dtype=np.float64)
        if not np.isfinite(scores).all():
            raise TrainingDivergedError(
                f"{type(self).__name__} produced non-finite scores: the model "
                "diverged or the input is far outside the training range."
            )
        return scores

    def embed(self, X):
        """CNN features of X, as :class:`CNNFeatures` gives them.

        (Not named ``transform``: the detector is no transformer.)

        Parameters
        ----------
        X : array-like of the shape seen in ``fit``
            Images or flat vectors.

        Returns
        -------
        features : ndarray of shape (n_samples, n_features_out), dtype float64
        """
        check_is_fitted(self)
        return self._features(self._validate_X(X, reset=False))


# --------------------------------------------------------------------------
# weights
# --------------------------------------------------------------------------
def _read_weights(path):
    """A state dict from a file, loaded without running code from it."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"weights_path={str(path)!r} does not exist. Pass the path of a state "
            "dict saved with torch.save(model.state_dict(), path), e.g. "
            "torchvision's resnet18-f37072fd.pth."
        )
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ValueError(
            f"Could not read a state dict from {str(path)!r}: {exc}. The file "
            "must hold tensors only (torch.save(model.state_dict(), path))."
        ) from exc
    for key in ("state_dict", "model"):
        if isinstance(state, Mapping) and isinstance(state.get(key), Mapping):
            state = state[key]
    if not isinstance(state, Mapping):
        raise ValueError(f"{str(path)!r} does not hold a state dict (a dict of tensors).")
    return state


def _imagenet_weights(name):
    """torchvision's ImageNet state dict of ``name``, from the hub cache or the web."""
    if name in (None, "small"):
        raise ValueError(
            "weights='imagenet' needs a torchvision backbone by name, e.g. "
            f"backbone='resnet18'; got backbone={name or 'a module'!r}."
        )
    import torchvision

    url = torchvision.models.get_model_weights(name).DEFAULT.url
    try:
        return torch.hub.load_state_dict_from_url(
            url, map_location="cpu", progress=False, check_hash=True, weights_only=True,
        )
    except Exception as exc:
        checkpoints = Path(torch.hub.get_dir()) / "checkpoints"
        raise OSError(
            f"Could not download the ImageNet weights of {name} from {url} "
            f"({type(exc).__name__}: {exc}). Without internet access, fetch that "
            f"file on another machine, then either put it in {checkpoints} or "
            f"pass weights=None, weights_path='/path/to/{url.rsplit('/', 1)[-1]}'."
        ) from exc


def _load_state_dict(model, state, name, size):
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        hint = ""
        if name and "resnet" in name and min(size) < SMALL_INPUT:
            hint = (
                f" Below {SMALL_INPUT} px ({size}) ResNets are built with a 3x3 stem; "
                "for ImageNet-style checkpoints set image_size=224."
            )
        raise ValueError(
            f"The weights do not fit the backbone {name or type(model).__name__!r}: "
            f"{str(exc).splitlines()[0]}{hint}"
        ) from exc
