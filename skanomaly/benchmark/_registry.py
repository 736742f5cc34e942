"""The detectors of the benchmark, by name.

skanomaly's detectors are imported directly; ``knn`` (the pixel
:class:`~skanomaly.KNNDetector`) is the baseline every table shows; the
``recipe-*`` entries are :func:`~skanomaly.make_recipe`'s combinations; the
peers are scikit-learn estimators on raw pixels, a small CNN classifier and,
when ``pyod`` is installed, PyOD's models (imported when built: a missing
``pyod`` raises ImportError, and the benchmark skips them). Every entry
builds the detector with its own defaults: only the seed and the device are
set here; ``--set`` changes the rest.

Adding a detector is one entry in :data:`DETECTORS` (and its name in the
import), as ``"deep-sad": _skanomaly(DeepSAD),``.
"""

from collections.abc import Callable
from dataclasses import dataclass

from .. import (
    AnoGAN,
    AutoEncoder,
    CNNClassifier,
    CNNOneClassSVM,
    DeepSAD,
    DualDiscGAN,
    KNNDetector,
    MultiScalePatchKNN,
    TrimmedDetector,
    make_recipe,
)
from .._combine import RECIPES
from ._peers import BalancedCNN, PatchKNN, PyODDetector, RawPixels

__all__ = [
    "DETECTORS",
    "TRIMMED",
    "Entry",
    "build_detector",
    "default_detectors",
    "detector_kind",
    "effective_overrides",
    "needs_labels",
]

#: suffix of a detector name that wraps it in skanomaly's TrimmedDetector
TRIMMED = "+trimmed"


@dataclass(frozen=True)
class Entry:
    """One detector of the benchmark.

    Parameters
    ----------
    build : callable
        ``build(random_state, device)`` returns the unfitted detector.
    kind : {'skanomaly', 'baseline', 'peer'}
        Whose detector it is: skanomaly's, the pixel kNN, or another
        library's (the headline compares the best skanomaly detector with the
        best peer and with the pixel kNN).
    labelled : bool
        It needs labelled anomalies: the imbalanced protocol only.
    description : str
        What it is and the defaults it runs with (shown in ``--help``).
    default : bool
        Run when ``--detectors`` is not given (False: by name only).
    quick : bool
        Run by ``--quick`` when ``--detectors`` is not given (False: too slow
        at its defaults for a run of minutes).
    one_class : bool
        Run by default in the protocols without labels (False: a detector
        made to learn from labelled anomalies, run there by name only).
    """

    build: Callable
    kind: str
    labelled: bool = False
    description: str = ""
    default: bool = True
    quick: bool = True
    one_class: bool = True


def _skanomaly(cls, one_class=True, **kwargs):
    def build(random_state, device):
        return cls(device=device, random_state=random_state)

    return Entry(build, "skanomaly", description=f"skanomaly's {cls.__name__}, its defaults",
                 one_class=one_class, **kwargs)


def _knn(random_state, device):
    return KNNDetector(device=device)


def _recipe(name, one_class, labelled=False):
    def build(random_state, device):
        return make_recipe(name, random_state=random_state, device=device)

    return Entry(build, "skanomaly", description=(
        f"skanomaly.make_recipe({name!r}): {RECIPES[name][1]}; by name only"),
        one_class=one_class, labelled=labelled, default=False, quick=False)


def _ocsvm(random_state, device):
    from sklearn.svm import OneClassSVM

    return RawPixels(OneClassSVM())


def _iforest(random_state, device):
    from sklearn.ensemble import IsolationForest

    return RawPixels(IsolationForest(random_state=random_state))


def _logreg(random_state, device):
    from sklearn.linear_model import LogisticRegression

    return RawPixels(LogisticRegression(class_weight="balanced", max_iter=1000),
                     use_labels=True)


def _cnn_classifier(random_state, device):
    return BalancedCNN(device=device, random_state=random_state)


def _pyod_knn(random_state, device):
    from pyod.models.knn import KNN

    return PyODDetector(KNN)


def _patch_knn(random_state, device):
    return PatchKNN(device=device, random_state=random_state)


def _pyod_autoencoder(random_state, device):
    from pyod.models.auto_encoder import AutoEncoder as PyODAutoEncoder

    return PyODDetector(PyODAutoEncoder, random_state=random_state, model_params={
        "random_state": random_state, "device": device, "verbose": 0})


def _pyod_deepsvdd(random_state, device):
    from pyod.models.deep_svdd import DeepSVDD

    return PyODDetector(DeepSVDD, random_state=random_state,
                        model_params={"random_state": random_state, "verbose": 0})


def _pyod_anogan(random_state, device):
    from pyod.models.anogan import AnoGAN as PyODAnoGAN

    return PyODDetector(PyODAnoGAN, random_state=random_state, model_params={"device": device})


def _pyod_devnet(random_state, device):
    # PyOD 3.6.7 has DevNet (pyod.models.devnet). It ignores its random_seed
    # (the batches use a fixed RandomState(42), the weights torch's global
    # generator, which PyODDetector seeds) and keeps its network on the CPU.
    return PyODDetector(devnet_with_its_loss_fixed(), random_state=random_state,
                        use_labels=True)


def devnet_with_its_loss_fixed():
    """PyOD's DevNet, its training loss given its arguments in the right order.

    PyOD 3.6.7's ``DevNet.fit`` calls ``deviation_loss(outputs, labels)``
    while the function is ``deviation_loss(y_true, y_pred)``: the network's
    outputs stand where the labels should and every output is pushed down
    alike, so DevNet learns nothing (0.50 mean AUROC in the K=1 benchmark,
    0.48 on the very class its labels came from). Here the loss gets the
    labels first, and the ``(n, 1)`` outputs flattened so that they do not
    broadcast against the ``(n,)`` labels. A PyOD whose ``fit`` no longer
    makes that call gets its own DevNet unchanged.
    """
    import inspect

    from pyod.models import devnet

    if "deviation_loss(outputs, labels)" not in inspect.getsource(devnet.DevNet.fit):
        return devnet.DevNet

    class DevNet(devnet.DevNet):
        def fit(self, X, y):
            original = devnet.deviation_loss
            devnet.deviation_loss = lambda outputs, labels: original(
                labels.reshape(-1), outputs.reshape(-1))
            try:
                return super().fit(X, y)
            finally:
                devnet.deviation_loss = original

    return DevNet


#: benchmark name -> :class:`Entry`
DETECTORS = {
    "knn": Entry(_knn, "baseline", description=(
        "skanomaly's KNNDetector on the pixels, its defaults (mean distance to the 5 "
        "nearest normal training images after a square root and a 3x3 blur): the "
        "baseline of every table")),
    "autoencoder": _skanomaly(AutoEncoder),
    "dualdiscgan": _skanomaly(DualDiscGAN, one_class=False),
    "anogan": _skanomaly(AnoGAN),
    "cnn-ocsvm": _skanomaly(CNNOneClassSVM),
    "deep-sad": _skanomaly(DeepSAD, one_class=False),
    "recipe-one-class": _recipe("one-class", one_class=True),
    "recipe-few-kinds": _recipe("few-kinds", one_class=False),
    "recipe-all-kinds": _recipe("all-kinds", one_class=False, labelled=True),
    "ocsvm-raw": Entry(_ocsvm, "peer", description=(
        "scikit-learn's OneClassSVM on raw pixels, its defaults (RBF kernel, "
        "gamma='scale', nu=0.5)")),
    "iforest-raw": Entry(_iforest, "peer", description=(
        "scikit-learn's IsolationForest on raw pixels, its defaults (100 trees "
        "of 256 samples)")),
    "logreg-raw": Entry(_logreg, "peer", labelled=True, description=(
        "scikit-learn's LogisticRegression on raw pixels given the labels, "
        "class_weight='balanced', max_iter=1000 (so that lbfgs converges), "
        "otherwise its defaults (C=1)")),
    "cnn-classifier": Entry(_cnn_classifier, "peer", labelled=True, description=(
        "a small class-balanced CNN classifier given the labels (two conv "
        "layers of 16 and 32 filters, 10 epochs, Adam lr=1e-3, batch 64); "
        "score: the logit of normal")),
    "cnn-classifier-shifts": Entry(
        _skanomaly(CNNClassifier).build, "skanomaly", labelled=True, default=False,
        description=(
            "skanomaly's CNNClassifier, its defaults (batch normalisation, 16 and 32 "
            "filters, 20 epochs of batches of 64 with 16 labelled anomalies, images "
            "shifted by up to 2 pixels, Adam lr=1e-3 falling to 0 along a cosine); "
            "score: the logit of normal; by name only")),
    "pyod-knn": Entry(_pyod_knn, "peer", description=(
        "PyOD's KNN on raw pixels, its defaults (the distance to the 5th nearest "
        "training image, method 'largest')")),
    "pyod-autoencoder": Entry(_pyod_autoencoder, "peer", quick=False, description=(
        "PyOD's AutoEncoder on raw pixels, its defaults (hidden 64, 32, 10 "
        "epochs, batch 32, lr=1e-3, dropout 0.2, standardised input)")),
    "pyod-deepsvdd": Entry(_pyod_deepsvdd, "peer", quick=False, description=(
        "PyOD's DeepSVDD on raw pixels, its defaults (hidden 64, 32, 100 "
        "epochs, batch 32, lr=1e-4, standardised input)")),
    "pyod-anogan": Entry(_pyod_anogan, "peer", default=False, quick=False, description=(
        "PyOD's AnoGAN on raw pixels, its defaults (500 epochs, latent 2, "
        "a latent search of 20 steps per image, also over the training set in fit); "
        "by name only: hours per class on a CPU")),
    "pyod-devnet": Entry(_pyod_devnet, "peer", quick=False, labelled=True, description=(
        "PyOD's DevNet on raw pixels given the labels, its defaults (one hidden "
        "layer of 1000, 50 epochs, batch 512), its loss given its arguments in the "
        "right order (PyOD 3.6.7 swaps them and learns nothing)")),
    "patch-knn-raw": Entry(_patch_knn, "peer", default=False, description=(
        "the distance of each pixel's raw 7x7 patch (reflection-padded) to the nearest "
        "of up to 50000 patches of the normal training images, drawn at random: an "
        "anomaly map; score: minus its maximum; by name only (slow on many images)")),
    "multiscale-patch-knn": Entry(_skanomaly(MultiScalePatchKNN).build, "skanomaly",
                                  default=False, description=(
        "skanomaly's MultiScalePatchKNN, its defaults: each pixel's 5x5 patches at pyramid "
        "levels 0-2 and its local statistics, each group's distance to the nearest of "
        "10000 normal ones standardised on held-out normal crops, summed, smoothed; "
        "score: minus the map's maximum; by name only (made for textures)")),
}


def _base_name(name):
    return name.removesuffix(TRIMMED)


def _entry(name):
    base = _base_name(name)
    if base not in DETECTORS:
        raise ValueError(f"Unknown detector {name!r}; known: {', '.join(DETECTORS)} "
                         f"(each may end in {TRIMMED!r}).")
    return DETECTORS[base]


def detector_kind(name):
    """'skanomaly' or 'peer' (a peer wrapped in TrimmedDetector stays a peer)."""
    return _entry(name).kind


def needs_labels(name):
    """Whether the detector needs labelled anomalies (the imbalanced protocol)."""
    return _entry(name).labelled


def default_detectors(protocol, *, quick=False):
    """The detectors run when ``--detectors`` is not given.

    Every registered detector marked ``default`` (and ``quick`` with
    ``quick=True``) that the protocol can run (without labels, the one-class
    detectors only: DualDiscGAN and DeepSAD are made to learn from labelled
    anomalies and run there by name), and in the contaminated
    protocol each skanomaly detector wrapped in TrimmedDetector.
    """
    names = [n for n, e in DETECTORS.items()
             if e.default and (e.quick or not quick)
             and (protocol == "imbalanced" or (e.one_class and not e.labelled))]
    if protocol == "contaminated":
        names += [n + TRIMMED for n, e in DETECTORS.items()
                  if e.kind == "skanomaly" and e.one_class and not e.labelled]
    return names


def build_detector(name, *, random_state=None, device="cpu", contamination=0.05,
                   overrides=None):
    """Build the detector registered as ``name`` (``<name>+trimmed`` wraps it).

    Parameters
    ----------
    name : str
        A key of :data:`DETECTORS`, optionally followed by ``+trimmed``.
    random_state : int or None, default=None
        Seed of the detector.
    device : str, default='cpu'
        Torch device of the deep detectors.
    contamination : float, default=0.05
        The share that ``TrimmedDetector`` trims (``+trimmed`` only).
    overrides : dict, default=None
        ``{name: {param: value}}`` from ``--set``, applied with ``set_params``.
        The overrides of ``<name>`` also reach the detector inside
        ``<name>+trimmed``, so the two differ only by the trimming; those of
        ``<name>+trimmed`` go to the ``TrimmedDetector``
        (``estimator__<param>`` reaches the inner detector).

    Returns
    -------
    detector : estimator
        Unfitted; ``fit(X, y)`` with y in {1, -1}, and ``score_samples``.

    Raises
    ------
    ImportError
        When an optional library (pyod) is missing.
    ValueError
        For an unknown name or parameter.
    """
    overrides = overrides or {}
    base = _base_name(name)
    detector = _entry(name).build(random_state, device)
    detector.set_params(**overrides.get(base, {}))
    if name.endswith(TRIMMED):
        detector = TrimmedDetector(estimator=detector, contamination=contamination,
                                   random_state=random_state)
        detector.set_params(**overrides.get(name, {}))
    return detector


def effective_overrides(name, overrides):
    """The ``--set`` values that reach ``name``, as ``set_params`` on it sees them."""
    overrides = overrides or {}
    base = _base_name(name)
    if not name.endswith(TRIMMED):
        return dict(overrides.get(base, {}))
    return {**{f"estimator__{k}": v for k, v in overrides.get(base, {}).items()},
            **overrides.get(name, {})}
