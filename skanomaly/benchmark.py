"""Benchmark the detectors: ``python -m skanomaly.benchmark`` (or ``skanomaly-benchmark``).

One run fits one detector on one anomaly-detection split (a normal class, a
protocol, a seed) and measures the test AUROC, the fit time and the scoring
throughput. Runs are appended to ``OUT/results.jsonl`` as they finish, so an
interrupted benchmark keeps what it finished and ``--resume`` skips it; at the
end a markdown table is printed and written to ``OUT/results.md``, with the
figures ``OUT/roc.png`` and ``OUT/reconstructions.png`` when matplotlib is
installed.

Protocols
---------
``one-class``
    Train on normal images only.
``imbalanced``
    Normal images plus labelled anomalies (``y == -1``) drawn from the other
    classes at ``--anomaly-ratio`` of the normal count. ``--unseen-classes N``
    withholds N anomaly classes from training, and the AUROC is also reported
    on the test anomalies of the classes seen in training and of the unseen
    ones.
``contaminated``
    Normal images plus unlabelled anomalies (``y == 1``) making up
    ``--contamination`` of the training set. Detectors are also run wrapped
    in ``TrimmedDetector`` (``<name>+trimmed``).

Detectors
---------
The package's detectors (``autoencoder``, ``dualdiscgan``, ``anogan``,
``cnn-ocsvm``) are looked up lazily, so one that this installation does not
have is skipped; scikit-learn peers on raw pixels (``ocsvm-raw``,
``iforest-raw``, and ``logreg-raw``: a class-balanced logistic regression
given the same labels, the supervised baseline of the imbalanced protocol);
and PyOD's ``pyod-autoencoder``, ``pyod-deepsvdd`` and ``pyod-anogan`` when
``pyod`` is installed.

Examples
--------
A smoke run on scikit-learn's digits (no download, well under a minute)::

    python -m skanomaly.benchmark --dataset digits --quick

The Fashion-MNIST benchmark with labelled anomalies, three seeds::

    python -m skanomaly.benchmark --protocol imbalanced --seeds 0,1,2
"""

import argparse
import hashlib
import importlib
import importlib.util
import inspect
import json
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, OutlierMixin, clone
from sklearn.metrics import roc_auc_score, roc_curve
from sklearn.utils.validation import check_is_fitted

__all__ = [
    "DETECTORS",
    "PyODDetector",
    "RawPixels",
    "Unavailable",
    "build_detector",
    "main",
    "make_parser",
]

RESULTS_FILE = "results.jsonl"
TABLE_FILE = "results.md"
PROTOCOLS = ("one-class", "imbalanced", "contaminated")
#: the package's deep detectors: benchmark name -> (class name, private module)
PACKAGE_DETECTORS = {
    "autoencoder": ("AutoEncoder", "_autoencoder"),
    "dualdiscgan": ("DualDiscGAN", "_dual_gan"),
    "anogan": ("AnoGAN", "_anogan"),
    "cnn-ocsvm": ("CNNOneClassSVM", "_cnn_ocsvm"),
}
TRIMMED = "+trimmed"
#: images shown per detector in reconstructions.png (half normal, half anomalous)
N_RECONSTRUCTIONS = 8


class Unavailable(Exception):
    """A detector cannot be built here (missing class or package, wrong protocol)."""


# --------------------------------------------------------------------------
# adapters for peers that are not skanomaly detectors
# --------------------------------------------------------------------------
def _flat_pixels(X):
    """Samples as flat float32 rows, uint8 scaled to [0, 1]."""
    X = np.asarray(X)
    flat = X.reshape(X.shape[0], -1)
    if flat.dtype == np.uint8:
        return flat.astype(np.float32) / np.float32(255.0)
    return flat.astype(np.float32, copy=False)


class RawPixels(OutlierMixin, BaseEstimator):
    """A scikit-learn estimator on flattened pixels, with skanomaly's conventions.

    Images are flattened (and uint8 scaled to [0, 1]); ``fit`` takes skanomaly's
    labels (1 normal, -1 anomaly). A one-class estimator is fitted on the
    samples labelled 1 only; a classifier (``use_labels=True``) on all of them,
    with their labels. ``score_samples`` is the estimator's ``score_samples``
    or else ``decision_function``, lower meaning more abnormal.

    Parameters
    ----------
    estimator : estimator object
        E.g. ``OneClassSVM()``, ``IsolationForest()``, or
        ``LogisticRegression(class_weight="balanced")``.
    use_labels : bool, default=False
        Fit on every sample with its label (a classifier) instead of the
        normal samples alone.
    """

    def __init__(self, estimator, *, use_labels=False):
        self.estimator = estimator
        self.use_labels = use_labels

    def fit(self, X, y=None):
        """Fit the estimator on the flattened images.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Images or feature vectors.
        y : array-like of shape (n_samples,), default=None
            1 normal, -1 anomaly; None means all normal.

        Returns
        -------
        self : object
        """
        from ._base import check_labels

        X = _flat_pixels(X)
        y = check_labels(y, X.shape[0])
        self.estimator_ = clone(self.estimator)
        if self.use_labels:
            if not (y == -1).any():
                raise ValueError(f"{type(self.estimator).__name__} needs labelled anomalies.")
            self.estimator_.fit(X, y)
        else:
            self.estimator_.fit(X[y == 1])
        self.offset_ = 0.0
        return self

    def score_samples(self, X):
        """The estimator's score of the flattened images, lower is more abnormal.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)

        Returns
        -------
        scores : ndarray of shape (n_samples,), dtype float64
        """
        check_is_fitted(self)
        X = _flat_pixels(X)
        method = getattr(self.estimator_, "score_samples", None)
        if method is None:  # a classifier: +1 (normal) has positive decisions
            method = self.estimator_.decision_function
        return np.asarray(method(X), dtype=np.float64)

    def decision_function(self, X):
        """``score_samples(X) - offset_``."""
        return self.score_samples(X) - self.offset_

    def predict(self, X):
        """1 normal, -1 anomaly."""
        return np.where(self.decision_function(X) < 0, -1, 1)


class PyODDetector(OutlierMixin, BaseEstimator):
    """A PyOD detector on flattened pixels, with skanomaly's conventions.

    PyOD scores the other way round (higher is more abnormal) and builds
    some models from the number of features, so the model is created in
    ``fit``. Only the samples labelled 1 are used.

    Parameters
    ----------
    model : str
        ``"module:Class"`` in ``pyod.models``, e.g. ``"auto_encoder:AutoEncoder"``.
    epochs : int or None, default=None
        Training epochs (PyOD's ``epoch_num`` or ``epochs``); None: PyOD's default.
    device : str or None, default=None
        Torch device for PyOD's deep models.
    random_state : int or None, default=None
        Seed.
    """

    def __init__(self, model, *, epochs=None, device=None, random_state=None):
        self.model = model
        self.epochs = epochs
        self.device = device
        self.random_state = random_state

    def fit(self, X, y=None):
        """Fit the PyOD model on the flattened normal images.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
        y : array-like of shape (n_samples,), default=None
            1 normal, -1 anomaly (the anomalies are left out).

        Returns
        -------
        self : object
        """
        from ._base import check_labels

        module, name = self.model.split(":")
        cls = getattr(importlib.import_module(f"pyod.models.{module}"), name)
        X = _flat_pixels(X)
        y = check_labels(y, X.shape[0])
        settings = {
            "n_features": X.shape[1], "epoch_num": self.epochs, "epochs": self.epochs,
            "device": self.device, "random_state": self.random_state, "verbose": 0,
        }
        settings = {k: v for k, v in settings.items() if v is not None}
        self.model_ = cls(**_accepted(cls, settings))
        self.model_.fit(X[y == 1])
        self.offset_ = 0.0
        return self

    def score_samples(self, X):
        """Negated PyOD outlier score, lower is more abnormal."""
        check_is_fitted(self)
        return -np.asarray(self.model_.decision_function(_flat_pixels(X)), dtype=np.float64)

    def decision_function(self, X):
        """``score_samples(X) - offset_``."""
        return self.score_samples(X) - self.offset_

    def predict(self, X):
        """1 normal, -1 anomaly."""
        return np.where(self.decision_function(X) < 0, -1, 1)


# --------------------------------------------------------------------------
# the detector registry
# --------------------------------------------------------------------------
def _accepted(cls, settings):
    """The entries of ``settings`` that ``cls`` accepts as keyword arguments."""
    params = inspect.signature(cls).parameters
    if any(p.kind == p.VAR_KEYWORD for p in params.values()):
        return dict(settings)
    return {k: v for k, v in settings.items() if k in params}


def _lookup(class_name, module):
    """``skanomaly.<class_name>``, else the class in its private module, else None."""
    import skanomaly

    cls = getattr(skanomaly, class_name, None)
    if cls is None:
        try:
            cls = getattr(importlib.import_module(f"skanomaly.{module}"), class_name, None)
        except ImportError:
            cls = None
    return cls


def _deep_settings(args, random_state):
    settings = {"device": args.device, "random_state": random_state, "verbose": 0}
    if args.max_epochs is not None:
        settings["max_epochs"] = args.max_epochs
    if args.n_threads is not None:
        settings["n_threads"] = args.n_threads
    return settings


def _package_factory(name):
    class_name, module = PACKAGE_DETECTORS[name]

    def factory(args, random_state):
        cls = _lookup(class_name, module)
        if cls is None:
            raise Unavailable(f"skanomaly has no {class_name} (skanomaly/{module}.py) yet")
        return cls(**_accepted(cls, _deep_settings(args, random_state)))

    factory.__doc__ = f"skanomaly's {class_name} with the benchmark's settings."
    return factory


def _ocsvm(args, random_state):
    """OneClassSVM (RBF, gamma='scale', nu=0.1) on raw pixels."""
    from sklearn.svm import OneClassSVM

    return RawPixels(OneClassSVM(kernel="rbf", gamma="scale", nu=0.1))


def _iforest(args, random_state):
    """IsolationForest (100 trees) on raw pixels."""
    from sklearn.ensemble import IsolationForest

    return RawPixels(IsolationForest(n_estimators=100, random_state=random_state))


def _logreg(args, random_state):
    """Class-balanced LogisticRegression on raw pixels, given the labelled anomalies."""
    if args.protocol != "imbalanced":
        raise Unavailable("a classifier needs labelled anomalies (--protocol imbalanced)")
    from sklearn.linear_model import LogisticRegression

    return RawPixels(
        LogisticRegression(class_weight="balanced", C=1.0, max_iter=1000),
        use_labels=True,
    )


def _pyod_factory(model):
    def factory(args, random_state):
        if importlib.util.find_spec("pyod") is None:
            raise Unavailable("pyod is not installed (pip install 'skanomaly[pyod]')")
        try:
            importlib.import_module(f"pyod.models.{model.split(':')[0]}")
        except ImportError as exc:  # e.g. pyod's AnoGAN imports pandas
            raise Unavailable(f"pyod.models.{model.split(':')[0]} cannot be imported: {exc}")
        epochs = args.max_epochs if args.max_epochs is not None else None
        return PyODDetector(model, epochs=epochs, device=args.device,
                            random_state=random_state)

    factory.__doc__ = f"PyOD's {model.split(':')[1]} on raw pixels."
    return factory


#: benchmark name -> factory(args, random_state) returning an unfitted detector
DETECTORS = {
    "autoencoder": _package_factory("autoencoder"),
    "dualdiscgan": _package_factory("dualdiscgan"),
    "anogan": _package_factory("anogan"),
    "cnn-ocsvm": _package_factory("cnn-ocsvm"),
    "ocsvm-raw": _ocsvm,
    "iforest-raw": _iforest,
    "logreg-raw": _logreg,
    "pyod-autoencoder": _pyod_factory("auto_encoder:AutoEncoder"),
    "pyod-deepsvdd": _pyod_factory("deep_svdd:DeepSVDD"),
    "pyod-anogan": _pyod_factory("anogan:AnoGAN"),
}


def _trimmed(detector, args, random_state):
    """``detector`` wrapped in skanomaly's TrimmedDetector, trimming ``--contamination``."""
    cls = _lookup("TrimmedDetector", "_trimmed")
    if cls is None:
        raise Unavailable("skanomaly has no TrimmedDetector (skanomaly/_trimmed.py) yet")
    settings = _accepted(cls, {"contamination": args.contamination,
                               "random_state": random_state})
    params = inspect.signature(cls).parameters
    for name in ("estimator", "detector", "base_estimator"):
        if name in params:
            return cls(**{name: detector}, **settings)
    return cls(detector, **settings)


def build_detector(name, args, random_state):
    """Build the detector registered as ``name`` (``<name>+trimmed`` wraps it).

    Parameters
    ----------
    name : str
        A key of :data:`DETECTORS`, optionally followed by ``+trimmed``.
    args : argparse.Namespace
        The benchmark's settings (``protocol``, ``max_epochs``, ``device``...).
    random_state : int
        Seed of the detector.

    Returns
    -------
    detector : estimator
        Unfitted; ``fit(X, y)`` with y in {1, -1} and ``score_samples``.

    Raises
    ------
    Unavailable
        When the detector cannot be built here.
    """
    base, trimmed = name.removesuffix(TRIMMED), name.endswith(TRIMMED)
    if base not in DETECTORS:
        raise ValueError(f"Unknown detector {name!r}; known: {', '.join(DETECTORS)}.")
    detector = DETECTORS[base](args, random_state)
    return _trimmed(detector, args, random_state) if trimmed else detector


def _default_detectors(protocol):
    names = [n for n in DETECTORS if not (n == "logreg-raw" and protocol != "imbalanced")]
    if protocol == "contaminated":
        names += [n + TRIMMED for n in PACKAGE_DETECTORS]
    return names


# --------------------------------------------------------------------------
# data and splits
# --------------------------------------------------------------------------
def _load(args):
    from . import datasets

    if args.dataset == "digits":
        return datasets.load_digits_images(), [str(i) for i in range(10)]
    data = datasets.load_fashion_mnist(data_home=args.data_home, download=args.download)
    return data, list(datasets.FASHION_MNIST_CLASSES)


def _stratified_subsample(labels, n, rng):
    """Sorted indices of about ``n`` samples keeping each label's share (>= 1 each)."""
    labels = np.asarray(labels)
    if n is None or n >= len(labels):
        return np.arange(len(labels))
    chosen = []
    for value in np.unique(labels):
        idx = np.flatnonzero(labels == value)
        k = max(1, int(round(n * len(idx) / len(labels))))
        chosen.append(rng.choice(idx, min(k, len(idx)), replace=False))
    return np.sort(np.concatenate(chosen))


@dataclass
class Split:
    """One anomaly-detection split; ``test_classes`` are the original labels."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    test_classes: np.ndarray
    unseen: list = field(default_factory=list)


def make_split(data, normal_class, seed, args):
    """The training and test sets of one (class, seed) run under ``args.protocol``.

    In the imbalanced protocol, ``args.unseen_classes`` anomaly classes
    (drawn with ``seed``) are removed from the training pool before
    :func:`~skanomaly.datasets.make_anomaly_split` draws the labelled
    anomalies, so they only appear at test time.
    """
    from .datasets import make_anomaly_split

    X_train, y_train, X_test, y_test = data
    rng = np.random.RandomState(seed)
    unseen = []
    if args.protocol == "imbalanced" and args.unseen_classes:
        others = sorted(set(np.unique(y_train).tolist()) - {normal_class})
        if args.unseen_classes >= len(others):
            raise ValueError(
                f"--unseen-classes {args.unseen_classes} leaves no anomaly class "
                f"to label: there are {len(others)}."
            )
        unseen = sorted(int(c) for c in rng.choice(others, args.unseen_classes, replace=False))
        keep = ~np.isin(y_train, unseen)
        X_train, y_train = X_train[keep], y_train[keep]
    # a fixed test subsample: every run of a class sees the same test images
    test_idx = _stratified_subsample(y_test, args.max_test, np.random.RandomState(0))
    X_test, test_classes = X_test[test_idx], y_test[test_idx]
    Xtr, ytr, Xte, yte = make_anomaly_split(
        X_train, y_train, X_test, test_classes, normal_class=normal_class,
        anomaly_ratio=args.anomaly_ratio if args.protocol == "imbalanced" else 0.0,
        contamination=args.contamination if args.protocol == "contaminated" else 0.0,
        random_state=seed,
    )
    if args.max_train is not None and len(Xtr) > args.max_train:
        idx = _stratified_subsample(ytr, args.max_train, rng)
        Xtr, ytr = Xtr[idx], ytr[idx]
    return Split(Xtr, ytr, Xte, yte, test_classes, unseen)


# --------------------------------------------------------------------------
# one run
# --------------------------------------------------------------------------
def _json_safe(value):
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    return repr(value)


def _auroc(y, scores, mask=None):
    if mask is not None:
        y, scores = y[mask], scores[mask]
    if len(np.unique(y)) < 2:
        return None
    return float(roc_auc_score(y, scores))  # y: 1 normal; higher score = more normal


def _reconstruction_rows(split):
    """Test indices shown in reconstructions.png: first normals, then anomalies."""
    half = N_RECONSTRUCTIONS // 2
    return np.concatenate([np.flatnonzero(split.y_test == 1)[:half],
                           np.flatnonzero(split.y_test == -1)[:half]])


def run_one(detector, split):
    """Fit and score one detector; returns (metrics, test scores, reconstructions)."""
    start = time.perf_counter()
    detector.fit(split.X_train, split.y_train)
    fit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    scores = np.asarray(detector.score_samples(split.X_test), dtype=np.float64)
    score_seconds = time.perf_counter() - start
    normal = split.y_test == 1
    seen_mask = unseen_mask = None
    if split.unseen:
        is_unseen = np.isin(split.test_classes, split.unseen)
        seen_mask, unseen_mask = normal | ~is_unseen, normal | is_unseen
    metrics = {
        "auroc": _auroc(split.y_test, scores),
        "auroc_seen": _auroc(split.y_test, scores, seen_mask) if split.unseen else None,
        "auroc_unseen": _auroc(split.y_test, scores, unseen_mask) if split.unseen else None,
        "fit_seconds": fit_seconds,
        "score_images_per_s": len(scores) / max(score_seconds, 1e-9),
    }
    reconstructions = None
    if hasattr(detector, "reconstruct"):
        rows = _reconstruction_rows(split)
        reconstructions = np.asarray(detector.reconstruct(split.X_test[rows]), dtype=np.float32)
    return metrics, scores, reconstructions


# --------------------------------------------------------------------------
# records, resume and the table
# --------------------------------------------------------------------------
def _config(args):
    """Settings that change a run's result, besides dataset/protocol/class/detector/seed."""
    config = {"max_epochs": args.max_epochs, "max_train": args.max_train,
              "max_test": args.max_test, "quick": args.quick}
    if args.protocol == "imbalanced":
        config.update(anomaly_ratio=args.anomaly_ratio, unseen_classes=args.unseen_classes)
    if args.protocol == "contaminated":
        config["contamination"] = args.contamination
    return config


def _key(dataset, protocol, normal_class, detector, seed, config):
    return json.dumps([dataset, protocol, int(normal_class), detector, int(seed), config],
                      sort_keys=True)


def _record_key(record):
    return _key(record["dataset"], record["protocol"], record["normal_class"],
                record["detector"], record["seed"], record["config"])


def _read_records(path):
    records = []
    if path.exists():
        for line in path.read_text().splitlines():
            line = line.strip()
            if line:
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError:  # a line cut by an interruption
                    continue
    return records


def _scores_path(out, key):
    digest = hashlib.sha1(key.encode()).hexdigest()[:12]
    return out / "scores" / f"{digest}.npz"


def _fmt(values, digits=3):
    values = [v for v in values if v is not None]
    if not values:
        return "–"
    mean = float(np.mean(values))
    if len(values) == 1:
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {float(np.std(values)):.{digits}f}"


def _fmt_rate(values):
    values = [v for v in values if v is not None]
    if not values:
        return "–"
    mean = float(np.mean(values))
    return f"{mean:,.0f}" if mean >= 100 else f"{mean:.2f}" if mean < 10 else f"{mean:.1f}"


def _mean_over_classes(records, classes, metric):
    """Mean over classes of the per-class mean of ``metric`` (None values ignored)."""
    means = []
    for c in classes:
        values = [r.get(metric) for r in records if r["normal_class"] == c]
        values = [v for v in values if v is not None]
        if values:
            means.append(float(np.mean(values)))
    return f"{np.mean(means):.3f}" if means else "–"


def format_table(records, detectors, classes, class_names, unseen):
    """Markdown table: AUROC mean ± std over seeds per class, mean over classes, timings.

    The mean column and the seen/unseen columns (AUROC on the normal test
    images plus the anomalies of the classes seen, or not seen, as labelled
    anomalies in training) are means over classes of the per-class means.
    Timings (fit seconds, scoring images per second) are means over every run
    of the detector.
    """
    header = ["detector"] + [str(c) for c in classes] + ["mean"]
    if unseen:
        header += ["seen", "unseen"]
    header += ["fit s", "score img/s"]
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|"]
    for name in detectors:
        mine = [r for r in records if r["detector"] == name]
        if not mine:
            continue
        row = [name]
        class_means = []
        for c in classes:
            values = [r["auroc"] for r in mine if r["normal_class"] == c]
            row.append(_fmt(values))
            values = [v for v in values if v is not None]
            if values:
                class_means.append(float(np.mean(values)))
        row.append(f"**{np.mean(class_means):.3f}**" if class_means else "–")
        if unseen:
            row.append(_mean_over_classes(mine, classes, "auroc_seen"))
            row.append(_mean_over_classes(mine, classes, "auroc_unseen"))
        row.append(_fmt_rate([r["fit_seconds"] for r in mine]))
        row.append(_fmt_rate([r["score_images_per_s"] for r in mine]))
        lines.append("| " + " | ".join(row) + " |")
    legend = ", ".join(f"{c}: {class_names[c]}" for c in classes
                       if c < len(class_names) and class_names[c] != str(c))
    if legend:
        lines += ["", f"Normal classes: {legend}."]
    return "\n".join(lines)


# --------------------------------------------------------------------------
# figures
# --------------------------------------------------------------------------
def _matplotlib_figure(**kwargs):
    """A matplotlib Figure drawn by the Agg canvas (no pyplot, no global backend)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(**kwargs)
    FigureCanvasAgg(fig)
    return fig


def plot_roc(curves, title, path):
    """ROC curves, one per detector: ``curves`` maps name -> (y_test, scores)."""
    fig = _matplotlib_figure(figsize=(5.5, 5), layout="constrained")
    ax = fig.add_subplot()
    for name, (y, scores) in curves.items():
        # anomalies are the positive class; lower score_samples is more abnormal
        fpr, tpr, _ = roc_curve(y == -1, -scores)
        ax.plot(fpr, tpr, label=f"{name} ({roc_auc_score(y, scores):.3f})")
    ax.plot([0, 1], [0, 1], color="0.7", linestyle=":", linewidth=1)
    ax.set(xlabel="false positive rate", ylabel="true positive rate (anomalies)",
           title=title, xlim=(0, 1), ylim=(0, 1.01))
    ax.legend(loc="lower right", fontsize="small", title="AUROC")
    fig.savefig(path, dpi=120)


def _as_2d(image):
    """One image as a 2-D (grey) or (H, W, 3) array in [0, 1] for imshow."""
    image = np.asarray(image)
    image = image.astype(np.float32) / (255.0 if image.dtype == np.uint8 else 1.0)
    if image.ndim == 3:
        image = image[0] if image.shape[0] == 1 else np.moveaxis(image[:3], 0, -1)
    return np.clip(image, 0, 1) if image.ndim == 3 else image


def plot_reconstructions(originals, reconstructions, title, path):
    """A grid: the test images on top, then one row per detector's reconstructions."""
    rows = [("input", originals)] + list(reconstructions.items())
    n = len(originals)
    fig = _matplotlib_figure(figsize=(1.1 * n + 1.2, 1.2 * len(rows) + 0.4),
                             layout="constrained")
    axes = fig.subplots(len(rows), n, squeeze=False)
    for i, (name, images) in enumerate(rows):
        for j in range(n):
            ax = axes[i, j]
            ax.imshow(_as_2d(images[j]), cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if j == 0:
                ax.set_ylabel(name, fontsize="small")
            if i == 0:
                ax.set_title("normal" if j < n // 2 else "anomaly", fontsize="small")
    fig.suptitle(title)
    fig.savefig(path, dpi=100)


def _figures(out, runs, config, args, class_names, log):
    """roc.png and reconstructions.png for the first class and seed of the run list."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        log("matplotlib is not installed: no figures.")
        return []
    normal_class, seed = runs[0][0], runs[0][1]
    curves, recon, originals = {}, {}, None
    for c, s, name in runs:
        if (c, s) != (normal_class, seed):
            continue
        path = _scores_path(out, _key(args.dataset, args.protocol, c, name, s, config))
        if not path.exists():
            continue
        with np.load(path) as saved:
            curves[name] = (saved["y_test"], saved["scores"])
            if "reconstructions" in saved:
                recon[name] = saved["reconstructions"]
                originals = saved["originals"]
    label = class_names[normal_class] if normal_class < len(class_names) else str(normal_class)
    label = f" ({label})" if label != str(normal_class) else ""
    title = f"{args.dataset}, normal class {normal_class}{label}, seed {seed}"
    written = []
    if curves:
        plot_roc(curves, title, out / "roc.png")
        written.append(out / "roc.png")
    if recon:
        plot_reconstructions(originals, recon, title, out / "reconstructions.png")
        written.append(out / "reconstructions.png")
    return written


# --------------------------------------------------------------------------
# command line
# --------------------------------------------------------------------------
def _int_list(text):
    return [int(v) for v in str(text).split(",") if v.strip()]


def make_parser():
    """The ``argparse`` parser of the benchmark command."""
    parser = argparse.ArgumentParser(
        prog="python -m skanomaly.benchmark",
        description="Benchmark skanomaly's detectors and their peers on one-vs-rest "
                    "anomaly-detection splits; results go to OUT/results.jsonl, "
                    "OUT/results.md, OUT/roc.png and OUT/reconstructions.png.",
    )
    parser.add_argument("--dataset", choices=("fashion-mnist", "digits"),
                        default="fashion-mnist",
                        help="fashion-mnist (default) or scikit-learn's 8x8 digits "
                             "(bundled, no download)")
    parser.add_argument("--normal-class", default=None,
                        help="normal class(es), each a separate benchmark: one, a comma "
                             "list, or 'all' (default: all; 0 with --quick)")
    parser.add_argument("--detectors", default=None,
                        help="comma list of detector names (default: all available); "
                             f"known: {', '.join(DETECTORS)}; append '{TRIMMED}' to wrap "
                             "one in TrimmedDetector")
    parser.add_argument("--protocol", choices=PROTOCOLS, default="one-class",
                        help="one-class: normal training images only; imbalanced: plus "
                             "labelled anomalies; contaminated: plus unlabelled anomalies")
    parser.add_argument("--anomaly-ratio", type=float, default=0.05,
                        help="imbalanced: labelled anomalies per normal training image "
                             "(default 0.05)")
    parser.add_argument("--unseen-classes", type=int, default=0,
                        help="imbalanced: anomaly classes withheld from training, to "
                             "report the AUROC on seen and unseen anomaly classes (default 0)")
    parser.add_argument("--contamination", type=float, default=0.05,
                        help="contaminated: share of unlabelled anomalies in the training "
                             "set (default 0.05)")
    parser.add_argument("--seeds", default="0", help="comma list of seeds (default 0)")
    parser.add_argument("--max-epochs", type=int, default=None,
                        help="training epochs of the deep detectors (default: each "
                             "detector's own; 1 with --quick)")
    parser.add_argument("--max-train", type=int, default=None,
                        help="cap on training images per run (default: all; 300 with --quick)")
    parser.add_argument("--max-test", type=int, default=None,
                        help="cap on test images, a fixed stratified subsample (default: "
                             "all; 500 with --quick)")
    parser.add_argument("--device", default="cpu", help="torch device, e.g. cuda (default cpu)")
    parser.add_argument("--n-threads", type=int, default=None,
                        help="torch threads of the deep detectors (default: torch's)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: class 0 only (unless --normal-class), 300 "
                             "training images, one epoch, 500 test images")
    parser.add_argument("--out", default="benchmark_results",
                        help="output folder (default benchmark_results/)")
    parser.add_argument("--resume", action="store_true",
                        help="keep OUT/results.jsonl and skip the runs it holds")
    parser.add_argument("--data-home", default=None, help="folder holding Fashion-MNIST")
    parser.add_argument("--download", action="store_true",
                        help="download Fashion-MNIST with torchvision when missing")
    parser.add_argument("--no-figures", action="store_true", help="skip the figures")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def _parse(argv):
    parser = make_parser()
    args = parser.parse_args(argv)
    if args.normal_class is None:
        args.normal_class = "0" if args.quick else "all"
    if args.quick:
        args.max_epochs = 1 if args.max_epochs is None else args.max_epochs
        args.max_train = 300 if args.max_train is None else args.max_train
        args.max_test = 500 if args.max_test is None else args.max_test
    try:
        args.seed_list = _int_list(args.seeds)
    except ValueError:
        parser.error(f"--seeds must be comma-separated integers; got {args.seeds!r}")
    if not args.seed_list:
        parser.error("--seeds is empty")
    if not 0 < args.anomaly_ratio:
        parser.error("--anomaly-ratio must be > 0")
    if not 0 < args.contamination < 0.5:
        parser.error("--contamination must be in (0, 0.5)")
    if args.unseen_classes < 0:
        parser.error("--unseen-classes must be >= 0")
    if args.unseen_classes and args.protocol != "imbalanced":
        parser.error("--unseen-classes applies to --protocol imbalanced only")
    names = (args.detectors.split(",") if args.detectors
             else _default_detectors(args.protocol))
    args.detector_list = [n.strip() for n in names if n.strip()]
    for name in args.detector_list:
        base = name.removesuffix(TRIMMED)
        if base not in DETECTORS:
            parser.error(f"unknown detector {name!r}; known: {', '.join(DETECTORS)}")
    return args


def _normal_classes(text, labels):
    available = sorted(int(c) for c in np.unique(labels))
    if str(text).strip().lower() == "all":
        return available
    classes = _int_list(text)
    bad = [c for c in classes if c not in available]
    if bad or not classes:
        raise SystemExit(f"--normal-class {text!r}: classes must be among {available}.")
    return classes


def main(argv=None):
    """Run the benchmark command.

    Parameters
    ----------
    argv : list of str, default=None
        Command-line arguments; None reads ``sys.argv``. See
        ``python -m skanomaly.benchmark --help``.

    Returns
    -------
    status : int
        0 when every run finished, 1 when some failed (their errors are
        printed; the others are recorded).
    """
    from tqdm.auto import tqdm

    args = _parse(argv)
    out = Path(args.out)
    (out / "scores").mkdir(parents=True, exist_ok=True)
    results = out / RESULTS_FILE
    if results.exists() and not args.resume and results.stat().st_size:
        backup = out / f"results.{time.strftime('%Y%m%d-%H%M%S')}.jsonl"
        results.rename(backup)
        print(f"Moved the previous results to {backup} (use --resume to continue them).")

    data, class_names = _load(args)
    classes = _normal_classes(args.normal_class, data[1])
    config = _config(args)

    # which detectors can be built here
    detectors, skipped = [], {}
    for name in args.detector_list:
        try:
            build_detector(name, args, 0)
            detectors.append(name)
        except Unavailable as exc:
            skipped[name] = str(exc)
    for name, reason in skipped.items():
        print(f"Skipping {name}: {reason}.")
    if not detectors:
        print("No detector to run.")
        return 1

    done = {_record_key(r) for r in _read_records(results)} if args.resume else set()
    runs = [(c, s, d) for c in classes for s in args.seed_list for d in detectors]
    todo = [run for run in runs
            if _key(args.dataset, args.protocol, run[0], run[2], run[1], config) not in done]
    if args.resume and len(todo) < len(runs):
        print(f"Resuming: {len(runs) - len(todo)} of {len(runs)} runs already done.")

    failures = []
    bar = tqdm(total=len(todo), unit="run", disable=args.no_progress or None,
               desc="benchmark", file=sys.stderr)
    split_cache = {}
    with bar, open(results, "a") as sink:
        for normal_class, seed, name in todo:
            bar.set_postfix_str(f"class {normal_class} seed {seed} {name}")
            if (normal_class, seed) not in split_cache:
                split_cache.clear()
                split_cache[normal_class, seed] = make_split(data, normal_class, seed, args)
            split = split_cache[normal_class, seed]
            key = _key(args.dataset, args.protocol, normal_class, name, seed, config)
            try:
                detector = build_detector(name, args, seed)
                metrics, scores, recon = run_one(detector, split)
            except Exception as exc:  # one broken detector must not stop the others
                failures.append((normal_class, seed, name))
                bar.write(f"FAILED {name} (class {normal_class}, seed {seed}): "
                          f"{type(exc).__name__}: {exc}")
                bar.write(traceback.format_exc(limit=-3))
                bar.update()
                continue
            extra = {}
            if recon is not None:
                extra = {"reconstructions": recon,
                         "originals": np.asarray(split.X_test[_reconstruction_rows(split)])}
            np.savez_compressed(_scores_path(out, key), scores=scores.astype(np.float32),
                                y_test=split.y_test.astype(np.int8), **extra)
            record = dict(
                dataset=args.dataset, protocol=args.protocol, normal_class=int(normal_class),
                detector=name, seed=int(seed), **metrics,
                unseen_classes=split.unseen, n_train=int(len(split.y_train)),
                n_train_anomalies=int((split.y_train == -1).sum()),
                n_test=int(len(split.y_test)), config=config,
                params=_json_safe(detector.get_params(deep=False)),
                device=args.device, time=time.strftime("%Y-%m-%dT%H:%M:%S"),
            )
            sink.write(json.dumps(record) + "\n")
            sink.flush()
            bar.update()

    keys = {_key(args.dataset, args.protocol, c, d, s, config) for c, s, d in runs}
    records = [r for r in _read_records(results) if _record_key(r) in keys]
    table = format_table(records, detectors, classes, class_names,
                         unseen=args.protocol == "imbalanced" and args.unseen_classes > 0)
    command = "python -m skanomaly.benchmark " + " ".join(
        sys.argv[1:] if argv is None else argv)
    settings = ", ".join(f"{k}={v}" for k, v in config.items() if v not in (None, False))
    heading = (f"## {args.dataset}, {args.protocol} protocol\n\n"
               f"AUROC on the test set (mean ± std over seeds {args.seeds}); "
               f"fit seconds and scoring images/s on device {args.device}."
               + (f" Settings: {settings}." if settings else "")
               + f"\n\n`{command.strip()}`\n")
    notes = []
    if skipped:
        notes.append("Skipped: " + "; ".join(f"{k} ({v})" for k, v in skipped.items()) + ".")
    if failures:
        notes.append("Failed: " + ", ".join(f"{d} (class {c}, seed {s})"
                                            for c, s, d in failures) + ".")
    text = heading + "\n" + table + "\n" + ("\n" + "\n".join(notes) + "\n" if notes else "")
    (out / TABLE_FILE).write_text(text)
    print()
    print(text)
    if not args.no_figures:
        for path in _figures(out, runs, config, args, class_names, print):
            print(f"Wrote {path}")
    print(f"Wrote {results} and {out / TABLE_FILE}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
