"""Parameter descriptions shared by the deep estimators' docstrings.

A class or method docstring holds a line ``{name}`` (indented as a
parameter) where a shared description goes; :func:`fill_doc` substitutes it,
so the text is written once for every estimator (as imbalanced-learn's
``Substitution``). Applied to a class, it also fills the docstrings of the
class's own methods.
"""

import re

__all__ = ["fill_doc"]

_SHARED = {
    "contamination": """\
contamination : 'auto' or float, default='auto'
    Expected share of anomalies, which sets ``offset_``. With a float,
    ``offset_`` is that percentile of the training scores; with 'auto', it
    is the lower Tukey fence (Q1 - 1.5 IQR) of the normal training scores,
    raised to their 1st percentile when lower.""",
    "image_shape": """\
image_shape : tuple of int, default=None
    ``(channels, height, width)`` to fold flat 2-D input into images,
    as a Pipeline handing over 2-D arrays needs. None: 2-D input is a
    feature vector.""",
    "runtime_params": """\
callbacks : list of skorch callbacks, default=None
    Extra skorch callbacks (checkpoints, early stopping on
    ``train_loss``, learning-rate schedules).
device : str, default='cpu'
    Torch device, e.g. 'cuda'.
n_threads : int, default=None
    Torch threads during fit; None keeps torch's setting.
random_state : int, RandomState instance or None, default=None
    Seeds torch for the fit (weights, batches, noise); an int gives
    reproducible scores on the CPU. None draws the seed from numpy's
    global generator, as scikit-learn's estimators do; torch's global
    generator is left as it was.
verbose : int, default=0
    0 silent; 1 skorch's epoch table, with the time left in the fit; 2
    also a progress bar per epoch.""",
    "fitted_attributes": """\
image_shape_ : tuple of int
    Shape of one sample seen in ``fit``: ``(C, H, W)`` or ``(d,)``.
device_ : str
    The torch device the fitted modules run on.
n_epochs_ : int
    Training epochs completed.
fit_status_ : {'completed', 'stopped_early', 'interrupted'}
    How training ended: all epochs, an EarlyStopping callback, or Ctrl-C
    (skorch then returns normally; the model is usable, undertrained).
n_features_in_ : int
    Number of values per sample.""",
    "extractor_params": """\
backbone : str, nn.Module or nn.Module class, default='small'
    ``'small'`` (a small VGG-style network at the images' native
    resolution, what a CPU trains in minutes), a torchvision model
    (``'resnet18'``, ``'resnet34'``, ``'resnet50'``, ``'wide_resnet50_2'``,
    ``'vgg11'``, ``'vgg16'``, ``'mobilenet_v3_small'``,
    ``'mobilenet_v3_large'``, ``'efficientnet_b0'``), or a module (copied in
    ``fit``) or module class (called with no arguments).
layer : str, default=None
    Node of the backbone whose output is the feature (any name from
    ``torchvision.models.feature_extraction.get_graph_node_names``, e.g.
    ``'layer3'`` of a ResNet). None: the whole ``'small'`` net, the
    pooled features of the torchvision models (``'avgpool'``, or
    ``'features'`` for VGG), or a module's output.
weights : {None, 'imagenet', 'keep'}, default=None
    None trains the backbone with the self-supervised task; 'imagenet'
    loads torchvision's weights (downloaded once; without network, pass the
    file as ``weights_path``); 'keep' uses a module backbone's weights.
weights_path : str or path, default=None
    File of a state dict for the (uncut) backbone, loaded with
    ``weights_only=True``; no training then.
image_size : int or (int, int), default=None
    Size the backbone sees. None: 224 with ImageNet weights, else the
    native size (raised to 8 px, 32 px for VGG and MobileNet).
n_filters : int, default=16
    Channels of the first stage of ``'small'`` (ignored otherwise).
transformations : {'rotations', 'rotations+flip', 'rotations+translations'}, \
default='rotations'
    The self-supervised task (``weights=None``): recognise which of the 4
    rotations was applied; or which of 8 (the 4 rotations of the image and
    of its mirror image, a horizontal flip), at twice the cost per epoch;
    or which of 36 (the 4 rotations of the image shifted by 0 or a quarter
    of its side along each axis, the border filled by reflection, as
    GEOM), at 9 times the cost.
max_epochs : int or 'auto', default='auto'
    Epochs of self-supervised training. 'auto': 5, or more on a small
    training set, so that training takes at least 235 batches (5 epochs of
    6000 images).
batch_size : int, default=128
    Images per batch (training sees ``T * batch_size`` transformed images
    for T transformations).
lr : float, default=1e-3
    Adam learning rate.
image_shape : tuple of int, default=None
    ``(channels, height, width)`` to fold flat 2-D input into images.
    None: flat input is taken as ``1 x n_features`` images.
net_params : dict, default=None
    Extra arguments of the skorch net (``optimizer__weight_decay``).""",
    "pooling": """\
How the backbone's maps become a feature vector: averaged over the
image ('mean'), or kept on a coarse grid, each part scaled to unit
length ('grid': for ``'small'`` its last two stages' maps on 4x4 and
2x2 cells; for other backbones the output maps on 4x4 cells), which
keeps where in the image a feature is.""",
    "X_fitted": """\
Parameters
----------
X : array-like of the shape seen in ``fit``, or a torch Dataset
    Images or feature vectors.""",
    "X_train": """\
X : array-like of shape (n_samples, C, H, W), (n_samples, H, W) or \
(n_samples, n_features), or a torch Dataset
    Training images or feature vectors (uint8 is scaled to [0, 1]).""",
    "cnn_references": """\
Golan, I. and El-Yaniv, R. "Deep anomaly detection using geometric
transformations." NeurIPS 2018.

Hendrycks, D., Mazeika, M., Kadavath, S. and Song, D. "Using
self-supervised learning can improve model robustness and
uncertainty." NeurIPS 2019.""",
    "ax_returns_figure": """\
ax : matplotlib Axes, default=None
    Axes to draw into; None makes a new figure.

Returns
-------
fig : matplotlib.figure.Figure""",
}


#: the fitted attributes every detector has: its score's components, its
#: offset and the base's
_SHARED["detector_attributes"] = "\n".join([
    "offset_ : float\n    ``decision_function = score_samples - offset_``.",
    _SHARED["fitted_attributes"],
])

def fill_doc(obj):
    """Replace the ``{name}`` lines of ``obj.__doc__`` by the shared descriptions.

    Under ``python -OO`` docstrings are stripped (``__doc__`` is None) and
    ``obj`` is returned unchanged.
    """
    if isinstance(obj, type):
        for value in vars(obj).values():
            if callable(value) and getattr(value, "__doc__", None):
                fill_doc(value)
    if obj.__doc__ is None:
        return obj

    def substitute(match):
        indent, name = match.group(1), match.group(2)
        return "\n".join(indent + line if line else line
                         for line in _SHARED[name].splitlines())

    pattern = r"^( *)\{(" + "|".join(_SHARED) + r")\}$"
    obj.__doc__ = re.sub(pattern, substitute, obj.__doc__, flags=re.MULTILINE)
    return obj
