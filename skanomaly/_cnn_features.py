"""CNN features: a backbone trained by transformation prediction, or pretrained.

:class:`CNNFeatures` is the transformer; :class:`CNNOneClassSVM` (in
:mod:`skanomaly._cnn_ocsvm`) shares its extractor through
:class:`CNNExtractorMixin`.
"""

from collections.abc import Mapping
from numbers import Integral
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch
from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from torch import nn

from ._base import BaseDeepEstimator, DetectorNet, as_float32, store_params
from ._docstrings import fill_doc
from .nn import (
    BACKBONES,
    IMAGENET_MEAN,
    IMAGENET_STD,
    POOLINGS,
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

__all__ = ["CNNExtractorMixin", "CNNFeatures", "CNNNet"]


class CNNNet(DetectorNet):
    """skorch engine of the CNN estimators: the self-supervised transformation task.

    The module is a :class:`~skanomaly.nn.RotationClassifier`: every batch of
    ``n`` images becomes ``T n`` transformed images (the 4 rotations, or 8
    or 36 transformations), and the loss is the cross-entropy of their
    transformation classes; ``y`` is ignored. With external weights the
    module is the :class:`~skanomaly.nn.FeatureExtractor` alone and the net
    is initialised, never trained.
    """

    def get_loss(self, y_pred, y_true, X=None, training=False):
        """Cross-entropy of the transformation of every transformed image."""
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


#: ``_parameter_constraints`` of the extractor's parameters
EXTRACTOR_CONSTRAINTS = {
    "backbone": [StrOptions(set(BACKBONES)), nn.Module, type],
    "layer": [str, None],
    "weights": [StrOptions({"imagenet", "keep"}), None],
    "weights_path": [str, Path, None],
    "image_size": [Interval(Integral, 1, None, closed="left"), tuple, list, None],
    "n_filters": [Interval(Integral, 1, None, closed="left")],
    "transformations": [StrOptions(set(TRANSFORMATIONS))],
    "pooling": [StrOptions(set(POOLINGS))],
}


@fill_doc
class CNNExtractorMixin:
    """The CNN feature extractor of an estimator: built, trained or loaded, run.

    Files of skanomaly 0.2 and earlier have no ``pooling``: their features were
    the averaged maps (``pooling='mean'``).

    For estimators with the parameters of :data:`EXTRACTOR_CONSTRAINTS` and
    those of :class:`~skanomaly._base.BaseDeepEstimator`. Implements the
    hooks ``_learn_input`` (the normalisation), ``_build_net`` (the backbone
    cut at ``layer``, with the transformation head when it is trained here)
    and ``_train`` (the self-supervised task, or the external weights).
    """

    _flat_input = "row"  # a CNN needs images: flat vectors are 1 x d images
    _auto_epochs = (5, 235)
    #: files of skanomaly 0.2 and earlier have no such parameter: their behaviour then
    _defaults_before: ClassVar[dict] = {"pooling": "mean"}

    # -- configuration ----------------------------------------------------------
    def _pretrained(self):
        return self.weights_path is not None or self.weights == "imagenet"

    def _self_supervised(self):
        return not self._pretrained() and self.weights != "keep"

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

    def _check_extractor_params(self, height, width):
        if self.weights_path is not None and self.weights is not None:
            raise ValueError(
                f"Pass either weights={self.weights!r} or weights_path, not both: "
                "weights_path loads the backbone's weights from a file."
            )
        if (self._self_supervised() and self.transformations == "rotations+translations"
                and min(height, width) < 4):
            raise ValueError(
                "transformations='rotations+translations' shifts images by a quarter "
                f"of their side and needs images of at least 4x4 pixels; got "
                f"{height}x{width}. Use transformations='rotations'."
            )

    # -- hooks ------------------------------------------------------------------
    def _learn_input(self, X, y):
        """The normalisation: ImageNet's for torchvision weights, else the data's."""
        self._check_extractor_params(*X.shape[2:])
        if self._pretrained() and self._backbone_name() not in (None, "small"):
            return {"mean": np.asarray(IMAGENET_MEAN), "std": np.asarray(IMAGENET_STD)}
        x = as_float32(X)  # the values the network sees, arrays and datasets alike
        mean = np.asarray(x.mean(axis=(0, 2, 3), dtype=np.float64), dtype=np.float64)
        std = np.asarray(x.std(axis=(0, 2, 3), dtype=np.float64), dtype=np.float64)
        return {"mean": mean, "std": np.where(std > 1e-6, std, 1.0)}

    def _build_net(self):
        channels, height, width = self.image_shape_
        size = self._target_size(height, width)
        name = self._backbone_name()
        if name is None:
            model = copy_module(self.backbone)
        else:
            small_stem = self.weights != "imagenet" and min(size) < SMALL_INPUT
            model = make_backbone(name, channels, self.n_filters, small_stem)
        layer = self.layer if self.layer is not None or name is None else BACKBONES[name]["layer"]
        trunk_channels = first_conv_channels(model) or channels
        # the normalisation buffers (a loaded model's come with its weights)
        mean = np.asarray(self.net_config_.get("mean", [0.0]), dtype=np.float64)
        std = np.asarray(self.net_config_.get("std", [1.0]), dtype=np.float64)
        if len(mean) != trunk_channels:  # 1 <-> n channel adaptation
            mean = np.full(trunk_channels, mean.mean())
            std = np.full(trunk_channels, std.mean())
        module = extractor = FeatureExtractor(
            cut_at(model, layer), channels, trunk_channels, size, mean, std, self.pooling)
        if self._self_supervised():
            # the head takes the averaged maps, whatever the features' pooling
            module = RotationClassifier(
                extractor, _n_outputs(extractor, self.image_shape_, pooled=True),
                TRANSFORMATIONS[self.transformations])
        return CNNNet(module=module, criterion=nn.CrossEntropyLoss,
                      optimizer=torch.optim.Adam, **self._net_kwargs())

    def _train(self, X, y):
        if self._self_supervised():
            self._run_net(X)
        else:
            self.net_.initialize()
            if self._pretrained():
                name = self._backbone_name()
                state = (_read_weights(self.weights_path) if self.weights_path is not None
                         else _imagenet_weights(name))
                _load_state_dict(self.extractor_.trunk, state, name, self.extractor_.size)
        self._n_features_out = _n_outputs(self.extractor_, self.image_shape_)

    # -- inference --------------------------------------------------------------
    @property
    def extractor_(self):
        """The feature extractor: images to feature vectors."""
        module = self.net_.module_
        return module.extractor if isinstance(module, RotationClassifier) else module

    def embed(self, X):
        """CNN features of X: the extractor's feature vector of each image.

        {X_fitted}

        Returns
        -------
        features : ndarray of shape (n_samples, n_features_out), dtype float64
        """
        check_is_fitted(self)
        return self._features(self._validate_input(X, reset=False))

    def _features(self, X):
        """Features of validated images, float64 ``(n, n_features_out)``."""
        return self._map_batches(self.extractor_, X).astype(np.float64)

    def _rotation_log_likelihood(self, x):
        """Sum over the transformations of the log-probability of the right one."""
        if not self._self_supervised():
            raise ValueError(
                "The rotation score needs the self-supervised rotation head, "
                "trained only with weights=None and no weights_path."
            )
        return rotation_log_likelihood(self.net_.module_(x))


def _n_outputs(extractor, image_shape, pooled=False):
    """Length of the extractor's feature vector (``pooled``: of its averaged maps)."""
    training = extractor.training
    extractor.eval()
    try:
        with torch.no_grad():
            device = next((p.device for p in extractor.parameters()), torch.device("cpu"))
            x = torch.zeros(2, *image_shape, device=device)
            out = extractor.embed(extractor.prepare(x)) if pooled else extractor(x)
            return int(out.shape[1])
    finally:
        extractor.train(training)


@fill_doc
class CNNFeatures(
    CNNExtractorMixin, ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseDeepEstimator,
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
    {extractor_params}
    pooling : {'mean', 'grid'}, default='mean'
        {pooling}
    {runtime_params}

    Attributes
    ----------
    extractor_ : torch.nn.Module
        Images to features: adaptation, truncated backbone, pooling.
    net_ : CNNNet
        The skorch net: ``net_.module_`` is the rotation task (a
        :class:`~skanomaly.nn.RotationClassifier` holding ``extractor_``),
        or ``extractor_`` itself with external weights (no training).
    net_config_ : dict
        The input normalisation (``mean``, ``std`` per channel): the training
        images' own, or ImageNet's for torchvision weights.
    {fitted_attributes}

    See Also
    --------
    CNNOneClassSVM : One-Class SVM on these features.

    References
    ----------
    {cnn_references}

    Examples
    --------
    The features feed any scikit-learn estimator, here a one-class SVM in a
    pipeline (what :class:`CNNOneClassSVM` packages, with more care):

    >>> import numpy as np
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.svm import OneClassSVM
    >>> from skanomaly import CNNFeatures
    >>> X = np.random.RandomState(0).rand(32, 1, 8, 8).astype(np.float32)
    >>> model = make_pipeline(
    ...     CNNFeatures(n_filters=4, max_epochs=1, random_state=0), OneClassSVM()
    ... ).fit(X)
    >>> model[0].transform(X).shape
    (32, 16)
    """

    _parameter_constraints: ClassVar[dict] = {
        **BaseDeepEstimator._parameter_constraints,
        **EXTRACTOR_CONSTRAINTS,
    }

    def __init__(self, *, backbone="small", layer=None, weights=None, weights_path=None,
            image_size=None, n_filters=16, transformations="rotations", pooling="mean",
            max_epochs="auto", batch_size=128, lr=1e-3, image_shape=None, net_params=None,
            callbacks=None,
            device="cpu", n_threads=None, random_state=None, verbose=0):
        store_params(self, locals())

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Build the backbone, and train it on X unless its weights are given.

        Parameters
        ----------
        {X_train}
        y : None
            Ignored.

        Returns
        -------
        self : object
            Fitted transformer.
        """
        self._start_fit()
        X = self._validate_input(X, reset=True)
        with self._torch_context():
            self._fit_nets(X, None)
        return self

    def transform(self, X):
        """Feature vectors of images (the same as :meth:`embed`).

        {X_fitted}

        Returns
        -------
        features : ndarray of shape (n_samples, n_features_out), dtype float64
        """
        return self.embed(X)

    def rotation_score(self, X):
        """Self-supervised normality: how well the rotations of X are recognised.

        The sum over the transformations (the four rotations, and their
        mirror images with ``transformations='rotations+flip'`` or their
        shifted copies with ``'rotations+translations'``) of the
        log-probability the network gives to the right one; higher is more
        normal. Needs ``weights=None``.

        {X_fitted}

        Returns
        -------
        scores : ndarray of shape (n_samples,), dtype float64
        """
        check_is_fitted(self)
        X = self._validate_input(X, reset=False)
        return self._map_batches(self._rotation_log_likelihood, X).astype(np.float64)


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
        # the file's content is wrong, not an argument's type: ValueError, as for any bad file
        raise ValueError(f"{str(path)!r} does not hold a state dict (a dict of tensors).")  # noqa: TRY004
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


def _load_state_dict(trunk, state, name, size):
    """Load the weights of the layers ``trunk`` keeps (a cut model drops the head)."""
    try:
        missing = [k for k in trunk.state_dict() if k not in state]
        if missing:
            raise RuntimeError(f"missing keys {missing[:5]}")
        trunk.load_state_dict({k: state[k] for k in trunk.state_dict()})
    except RuntimeError as exc:
        hint = ""
        if name and "resnet" in name and min(size) < SMALL_INPUT:
            hint = (
                f" Below {SMALL_INPUT} px ({size}) ResNets are built with a 3x3 stem; "
                "for ImageNet-style checkpoints set image_size=224."
            )
        raise ValueError(
            f"The weights do not fit the backbone {name or type(trunk).__name__!r}: "
            f"{str(exc).splitlines()[0]}{hint}"
        ) from exc
