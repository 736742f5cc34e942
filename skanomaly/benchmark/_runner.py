"""Splits, one run, and the records of a benchmark.

One run fits one detector on one split (a normal class, a protocol, a seed)
and scores the evaluation set: the official test set, or a validation set
carved from the official training split. Each run appends one JSON line (a
record) to ``OUT/results.jsonl`` as soon as it ends, whatever its status.
"""

import contextlib
import datetime
import hashlib
import json
import platform
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass
from numbers import Integral
from pathlib import Path

import numpy as np
import sklearn
import torch
from sklearn.metrics import roc_auc_score
from threadpoolctl import threadpool_limits

from .. import metrics
from ..datasets import (
    TEXTURE_DEFECT_KINDS,
    make_anomaly_split,
    make_defects,
    make_texture_split,
)
from ..exceptions import TrainingDivergedError
from ._registry import build_detector, detector_kind, effective_overrides

__all__ = [
    "DONE",
    "RESULTS_FILE",
    "STATUSES",
    "Split",
    "SplitSettings",
    "TextureData",
    "environment",
    "latest",
    "limit_threads",
    "make_split",
    "pixel_metrics",
    "read_records",
    "run_benchmark",
    "run_key",
    "run_one",
    "source_revision",
]

RESULTS_FILE = "results.jsonl"
PROTOCOLS = ("one-class", "imbalanced", "contaminated", "defects")
#: every status a record can have
STATUSES = ("completed", "stopped_early", "interrupted", "diverged", "failed")
#: the statuses of runs that count: tables use them, ``--resume`` skips them
DONE = ("completed", "stopped_early")
#: with --evaluate validation, the share of the normal class's training images
#: held out when no count is given
VALIDATION_SHARE = 0.2
#: images shown per detector in reconstructions.png (half normal, half anomalous)
N_RECONSTRUCTIONS = 8
#: textures: the side of the crops, the normal training crops, the test and
#: the validation crops (half of them defective), and the labelled defective
#: crops of the imbalanced protocol, when the settings do not say
TEXTURE_CROP_SIZE = 64
TEXTURE_N_TRAIN = 300
TEXTURE_N_TEST = 200
TEXTURE_N_VALIDATION = 100
TEXTURE_N_LABELLED = 10
#: textures: the share of the evaluation crops given a defect
TEXTURE_DEFECT_SHARE = 0.5


# --------------------------------------------------------------------------
# splits
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class SplitSettings:
    """How the splits of a benchmark are drawn.

    Parameters
    ----------
    protocol : {'one-class', 'imbalanced', 'contaminated', 'defects'}
        Normal training images only; plus labelled anomalies; plus unlabelled
        anomalies; or normal training images only, evaluated on the normal
        class's evaluation images, half of them with a synthetic defect
        (:func:`~skanomaly.datasets.make_defects`) or, on a data set with defect
        masks (MVTec AD), its own defective images: the image AUROC and the
        pixel AUROC of the anomaly maps.
    anomaly_ratio : float
        Imbalanced: labelled anomalies per normal training image (used when
        ``labelled_share`` is None).
    labelled_share : float or None
        Imbalanced: labelled anomalies as a share of the training set,
        ``n_a / (n_n + n_a)`` (Deep SAD's way).
    known_classes : int or None
        Imbalanced: the labelled anomalies come from this many of the anomaly
        classes, drawn per seed; None is all of them.
    contamination : float
        Contaminated: share of unlabelled anomalies in the training set.
    max_train, max_test : int or None
        Caps on the training and evaluation images (stratified subsamples).
    evaluate : {'test', 'validation'}
        Score the official test set, or a validation set carved from the
        official training split (the test set is then never read).
    validation_size : int, float or None
        Validation: the normal images held out (an int), or their share of
        the normal class's training images (a float); as many images of each
        anomaly class. None: ``VALIDATION_SHARE``. Textures: the validation
        crops (an int; None: ``TEXTURE_N_VALIDATION``).
    crop_size : int or None
        Textures (:class:`TextureData`): the crops' side (None:
        ``TEXTURE_CROP_SIZE``). On textures ``max_train`` is the number of
        normal training crops and ``max_test`` of test crops (None:
        ``TEXTURE_N_TRAIN``, ``TEXTURE_N_TEST``).
    labelled_defects : int or None
        Textures, imbalanced: labelled defective training crops (None:
        ``TEXTURE_N_LABELLED``).
    known_kinds : int or None
        Textures, imbalanced: their defects are of this many of the defect
        kinds, drawn per seed; None is all of them.
    """

    protocol: str = "one-class"
    anomaly_ratio: float = 0.05
    labelled_share: float = None
    known_classes: int = None
    contamination: float = 0.05
    max_train: int = None
    max_test: int = None
    evaluate: str = "test"
    validation_size: object = None
    crop_size: int = None
    labelled_defects: int = None
    known_kinds: int = None

    def config(self):
        """The settings that change a run's result, for its record and key."""
        config = {"evaluate": self.evaluate, "max_train": self.max_train,
                  "max_test": self.max_test}
        if self.evaluate == "validation":
            config["validation_size"] = self.validation_size
        if self.crop_size is not None:  # textures
            config["crop_size"] = self.crop_size
            if self.protocol == "imbalanced":
                config["labelled_defects"] = self.labelled_defects
                config["known_kinds"] = self.known_kinds
            return config
        if self.protocol == "imbalanced":
            config["known_classes"] = self.known_classes
            if self.labelled_share is None:
                config["anomaly_ratio"] = self.anomaly_ratio
            else:
                config["labelled_share"] = self.labelled_share
        if self.protocol == "contaminated":
            config["contamination"] = self.contamination
        return config


@dataclass
class Split:
    """One anomaly-detection split.

    ``*_classes`` are the original class labels; ``train_rows`` are rows of
    the official training split, ``eval_rows`` rows of the official test split
    (``evaluate='test'``) or of the training split (``'validation'``).
    ``known`` are the anomaly classes labelled anomalies were drawn from and
    ``unseen`` the others (both None outside the imbalanced protocol).
    ``eval_masks`` marks the defects' pixels (the defects protocol and
    textures), ``eval_kinds`` the kind of each evaluation image's defect
    ('good' for normal images; None when unknown); ``known_kinds`` are the
    kinds of the labelled defects and ``unseen_kinds`` the others (textures,
    imbalanced protocol).
    """

    X_train: np.ndarray
    y_train: np.ndarray
    train_classes: np.ndarray
    train_rows: np.ndarray
    X_eval: np.ndarray
    y_eval: np.ndarray
    eval_classes: np.ndarray
    eval_rows: np.ndarray
    normal_class: int
    evaluate: str = "test"
    known: list = None
    unseen: list = None
    eval_masks: np.ndarray = None
    eval_kinds: np.ndarray = None
    known_kinds: list = None
    unseen_kinds: list = None


@dataclass(frozen=True)
class TextureData:
    """Texture photographs, each a normal class of the benchmark.

    Parameters
    ----------
    images : tuple of ndarray of shape (C, H, W)
        The photographs, uint8, all of one shape (e.g.
        :func:`~skanomaly.datasets.load_texture` with a channel axis).
    names : tuple of str
        Their names, e.g. :data:`~skanomaly.datasets.TEXTURES`; class ``c``
        is ``images[c]``.
    """

    images: tuple
    names: tuple

    def __post_init__(self):
        shapes = {np.shape(image) for image in self.images}
        if len(shapes) != 1 or len(next(iter(shapes))) != 3 or len(self.names) != len(
                self.images):
            raise ValueError(f"TextureData needs photographs (C, H, W) of one shape, one name "
                             f"each; got shapes {sorted(shapes)} and {len(self.names)} names.")


def stratified_subsample(labels, n, rng):
    """Sorted indices of about ``n`` samples keeping each label's share (>= 1 each)."""
    labels = np.asarray(labels)
    if n is None or n >= len(labels):
        return np.arange(len(labels))
    chosen = []
    for value in np.unique(labels):
        idx = np.flatnonzero(labels == value)
        k = max(1, round(n * len(idx) / len(labels)))
        chosen.append(rng.choice(idx, min(k, len(idx)), replace=False))
    return np.sort(np.concatenate(chosen))


def carve_validation(y, normal_class, size, rng):
    """Split the rows of a training set into (training pool, validation rows).

    The validation rows are ``size`` images of the normal class (an int, or a
    share of the class's images as a float; None: ``VALIDATION_SHARE``) and as
    many of each other class (at most half of that class), drawn with ``rng``.
    """
    y = np.asarray(y)
    n_normal = int((y == normal_class).sum())
    size = VALIDATION_SHARE if size is None else size
    n_val = size if isinstance(size, Integral) else round(size * n_normal)
    if not 0 < n_val < n_normal:
        raise ValueError(f"A validation set of {n_val} normal images cannot be carved "
                         f"from the {n_normal} of class {normal_class}.")
    held_out = []
    for c in np.unique(y):
        rows = np.flatnonzero(y == c)
        k = n_val if c == normal_class else min(n_val, len(rows) // 2)
        held_out.append(rng.choice(rows, k, replace=False))
    held_out = np.sort(np.concatenate(held_out))
    pool = np.setdiff1d(np.arange(len(y)), held_out)
    return pool, held_out


def make_split(data, normal_class, seed, settings=None):
    """The training and evaluation sets of one (class, seed) run.

    Parameters
    ----------
    data : tuple or TextureData
        ``(X_train, y_train, X_test, y_test)`` with class labels, e.g. from
        :func:`~skanomaly.datasets.load_fashion_mnist` (MVTec AD adds the
        test masks and defect types). With ``settings.evaluate ==
        'validation'``, ``X_test`` and ``y_test`` are never read. Texture
        photographs give the split of :func:`texture_split`.
    normal_class : int
        The normal class.
    seed : int
        Draws the known classes, the validation set, the anomalies and the
        training subsample. The test subsample (``max_test``) does not depend
        on it: every run of a class sees the same test images.
    settings : SplitSettings, default=None
        The protocol and its options; None is the one-class protocol.

    Returns
    -------
    split : Split
    """
    settings = settings or SplitSettings()
    if settings.protocol not in PROTOCOLS:
        raise ValueError(f"Unknown protocol {settings.protocol!r}; known: {PROTOCOLS}.")
    if isinstance(data, TextureData):
        return texture_split(data, normal_class, seed, settings)
    X_train, y_train = data[0], np.asarray(data[1])
    rng = np.random.RandomState(seed)
    others = [int(c) for c in np.unique(y_train) if c != normal_class]
    labelled = settings.protocol == "imbalanced"
    known = unseen = None
    if labelled:
        k = settings.known_classes
        known = others if k is None or k >= len(others) else sorted(
            int(c) for c in rng.choice(others, k, replace=False))
        unseen = [c for c in others if c not in known]

    if settings.evaluate == "validation":
        pool, eval_rows = carve_validation(y_train, normal_class, settings.validation_size, rng)
        eval_rows = eval_rows[stratified_subsample(y_train[eval_rows], settings.max_test, rng)]
        X_eval, eval_classes = X_train[eval_rows], y_train[eval_rows]
    elif settings.evaluate == "test":
        pool = np.arange(len(y_train))
        y_test = np.asarray(data[3])
        eval_rows = stratified_subsample(y_test, settings.max_test, np.random.RandomState(0))
        X_eval, eval_classes = data[2][eval_rows], y_test[eval_rows]
    else:
        raise ValueError(f"evaluate must be 'test' or 'validation'; got {settings.evaluate!r}.")

    if settings.protocol == "defects":
        return _defects_split(data, normal_class, seed, settings, pool, X_eval,
                              eval_classes, eval_rows, rng)

    # the split of the row numbers tells where each training image comes from
    rows, y, _, _ = make_anomaly_split(
        pool, y_train[pool], np.empty(0), np.empty(0), normal_class=normal_class,
        anomaly_ratio=settings.anomaly_ratio if labelled and settings.labelled_share is None
        else 0.0,
        labelled_share=settings.labelled_share if labelled else None,
        known_classes=known if labelled else None,
        contamination=settings.contamination if settings.protocol == "contaminated" else 0.0,
        random_state=seed,
    )
    train_classes = y_train[rows]
    if settings.max_train is not None and len(rows) > settings.max_train:
        # normal, hidden anomaly, labelled anomaly: each keeps its share
        group = np.where(y == -1, 2, np.where(train_classes == normal_class, 0, 1))
        keep = stratified_subsample(group, settings.max_train, rng)
        rows, y, train_classes = rows[keep], y[keep], train_classes[keep]
    return Split(
        X_train=X_train[rows], y_train=y, train_classes=train_classes, train_rows=rows,
        X_eval=X_eval, y_eval=np.where(eval_classes == normal_class, 1, -1),
        eval_classes=eval_classes, eval_rows=eval_rows, normal_class=int(normal_class),
        evaluate=settings.evaluate, known=known, unseen=unseen,
    )


def _defects_split(data, normal_class, seed, settings, pool, X_eval, eval_classes,
                   eval_rows, rng):
    """The split of the defects protocol: normal images, half with a defect.

    On data with masks (a fifth element of ``data``: MVTec AD's test masks)
    the evaluation images and masks are the data set's own; else the normal
    class's evaluation images, every second one given a synthetic defect
    drawn with ``seed``.
    """
    X_train, y_train = data[0], np.asarray(data[1])
    rows = pool[y_train[pool] == normal_class]
    if settings.max_train is not None and len(rows) > settings.max_train:
        rows = np.sort(rng.choice(rows, settings.max_train, replace=False))
    kinds = None
    if len(data) > 4 and settings.evaluate == "test":
        masks = np.asarray(data[4])[eval_rows]
        y_eval = np.where(eval_classes == normal_class, 1, -1)
        if len(data) > 5:  # MVTec AD's defect types
            kinds = np.asarray(data[5], dtype=object)[eval_rows]
    else:
        keep = eval_classes == normal_class
        X_eval, eval_rows = X_eval[keep], eval_rows[keep]
        defective = np.arange(len(X_eval)) % 2 == 1
        X_eval = X_eval.copy()
        height, width = X_eval.shape[-2:]
        masks = np.zeros((len(X_eval), height, width), dtype=bool)
        kinds = np.full(len(X_eval), "good", dtype=object)
        X_eval[defective], masks[defective], kinds[defective] = make_defects(
            X_eval[defective], random_state=seed)
        y_eval = np.where(defective, -1, 1)
        eval_classes = np.where(defective, -1, normal_class)
    return Split(
        X_train=X_train[rows], y_train=np.ones(len(rows), dtype=int),
        train_classes=y_train[rows], train_rows=rows, X_eval=X_eval, y_eval=y_eval,
        eval_classes=eval_classes, eval_rows=eval_rows, normal_class=int(normal_class),
        evaluate=settings.evaluate, eval_masks=masks, eval_kinds=kinds,
    )


def texture_split(data, normal_class, seed, settings):
    """The split of one texture photograph (:func:`~skanomaly.datasets.make_texture_split`).

    Normal training crops from the photograph's left half; evaluation crops
    from its right half (the test crops, or with ``evaluate='validation'``
    the validation crops, from a region of their own: the test crops are
    then never made), half of them with one defect; the discs are cut from
    the other photographs of ``data``. The seed draws the crops' places and
    the defects (the same evaluation crops in both protocols) and, in the
    imbalanced protocol, the labelled defective crops (from the training
    region, with defects of the known kinds only). The known kinds turn
    with the seed: seed ``s`` labels the ``known_kinds`` kinds from number
    ``s * known_kinds`` on (modulo 4) of
    :data:`~skanomaly.datasets.TEXTURE_DEFECT_KINDS`, so that with one known
    kind, seeds 0 to 3 label each kind once.

    Parameters
    ----------
    data : TextureData
    normal_class : int
        The photograph: ``data.images[normal_class]``.
    seed : int
    settings : SplitSettings
        Protocol 'defects' or 'imbalanced'.

    Returns
    -------
    split : Split
    """
    if settings.protocol not in ("defects", "imbalanced"):
        raise ValueError(f"Textures run the defects or imbalanced protocol; got "
                         f"{settings.protocol!r}.")
    c = int(normal_class)
    known = unseen = None
    n_labelled = 0
    if settings.protocol == "imbalanced":
        k = settings.known_kinds
        kinds = list(TEXTURE_DEFECT_KINDS)
        if k is None or k >= len(kinds):
            known = kinds
        else:  # they turn with the seed, so that a few seeds label every kind
            known = [kinds[(seed * k + j) % len(kinds)] for j in range(k)]
        unseen = [kind for kind in kinds if kind not in known]
        n_labelled = (TEXTURE_N_LABELLED if settings.labelled_defects is None
                      else settings.labelled_defects)
    others = [image for j, image in enumerate(data.images) if j != c]
    validation = settings.evaluate == "validation"
    n_eval = ((TEXTURE_N_VALIDATION if settings.validation_size is None
               else int(settings.validation_size)) if validation
              else TEXTURE_N_TEST if settings.max_test is None else settings.max_test)
    parts = make_texture_split(
        data.images[c],
        crop_size=TEXTURE_CROP_SIZE if settings.crop_size is None else settings.crop_size,
        n_train=TEXTURE_N_TRAIN if settings.max_train is None else settings.max_train,
        n_validation=n_eval if validation else 0, n_test=0 if validation else n_eval,
        defect_share=TEXTURE_DEFECT_SHARE, source=np.stack(others) if others else None,
        n_labelled=n_labelled, labelled_kinds=known, random_state=seed)
    part = "validation" if validation else "test"
    n_normal, y_eval = len(parts.X_train), parts[f"y_{part}"]
    X_train = np.concatenate([parts.X_train, parts.X_labelled])
    y_train = np.repeat([1, -1], [n_normal, len(parts.X_labelled)])
    return Split(
        X_train=X_train, y_train=y_train, train_classes=np.where(y_train == 1, c, -1),
        train_rows=np.arange(len(X_train)), X_eval=parts[f"X_{part}"], y_eval=y_eval,
        eval_classes=np.where(y_eval == 1, c, -1), eval_rows=np.arange(len(y_eval)),
        normal_class=c, evaluate=settings.evaluate, eval_masks=parts[f"masks_{part}"],
        eval_kinds=parts[f"kinds_{part}"], known_kinds=known, unseen_kinds=unseen,
    )


def pixel_metrics(detector, split):
    """How well the detector's anomaly maps localise the split's defects.

    Returns
    -------
    metrics : dict
        ``pixel_auroc`` and ``aupro`` (:mod:`skanomaly.metrics`) over every
        evaluation image, and ``pixel_auroc_per_kind``: for each defect kind,
        the pixel AUROC over the normal images and those of that kind. Each
        None when the split has no masks, the detector cannot localise, or
        (per kind) the images have no defect pixel.
    """
    out = {"pixel_auroc": None, "aupro": None, "pixel_auroc_per_kind": None}
    if split.eval_masks is None or not hasattr(detector, "anomaly_map"):
        return out
    masks = np.asarray(split.eval_masks, dtype=bool)
    if not masks.any() or masks.all():
        return out
    maps = np.asarray(detector.anomaly_map(split.X_eval), dtype=np.float64)
    out["pixel_auroc"] = metrics.pixel_auroc(masks, maps)
    out["aupro"] = metrics.aupro(masks, maps)
    if split.eval_kinds is not None:
        normal = split.y_eval == 1
        per_kind = {}
        for kind in _unique_kinds(split.eval_kinds[~normal]):
            chosen = normal | (split.eval_kinds == kind)
            per_kind[kind] = (metrics.pixel_auroc(masks[chosen], maps[chosen])
                              if masks[chosen].any() else None)
        out["pixel_auroc_per_kind"] = per_kind
    return out


def _unique_kinds(kinds):
    return sorted({str(kind) for kind in kinds})


# --------------------------------------------------------------------------
# one run
# --------------------------------------------------------------------------
@contextlib.contextmanager
def limit_threads(n_threads):
    """Torch's threads and the BLAS/OpenMP pools limited to ``n_threads`` inside.

    Both are restored afterwards; None changes nothing.
    """
    if n_threads is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(n_threads)
    try:
        with threadpool_limits(limits=n_threads):
            yield
    finally:
        torch.set_num_threads(before)


def _fitted_attribute(detector, name):
    """``detector.<name>``, else that of the detector it wraps (``estimator_``)."""
    while detector is not None:
        value = getattr(detector, name, None)
        if value is not None:
            return value
        detector = getattr(detector, "estimator_", None)
    return None


def _auroc(y, scores, mask=None):
    if mask is not None:
        y, scores = y[mask], scores[mask]
    if len(np.unique(y)) < 2:
        return None
    return float(roc_auc_score(y, scores))  # y: 1 normal; higher score = more normal


def evaluate_scores(split, scores):
    """AUROC on all anomalies, on the seen and unseen classes, per class and per kind.

    Each is the AUROC of the normal evaluation images against a subset of
    the anomalous ones: all of them; those of the classes labelled anomalies
    were drawn from (seen); of the others (unseen); of one class; of one
    defect kind (when the split knows them: ``auroc_per_kind``, else None).
    On textures, seen and unseen are the defect kinds of the labelled
    defects and the others.
    """
    normal = split.y_eval == 1
    classes = split.eval_classes
    per_class = {str(int(c)): _auroc(split.y_eval, scores, normal | (classes == c))
                 for c in np.unique(classes[~normal])}
    seen = unseen = per_kind = None
    if split.known is not None:
        seen = _auroc(split.y_eval, scores, normal | np.isin(classes, split.known))
        if split.unseen:
            unseen = _auroc(split.y_eval, scores, normal | np.isin(classes, split.unseen))
    if split.eval_kinds is not None:
        kinds = np.asarray(split.eval_kinds).astype(str)
        per_kind = {kind: _auroc(split.y_eval, scores, normal | (kinds == kind))
                    for kind in _unique_kinds(kinds[~normal])}
        if split.known_kinds is not None:
            seen = _auroc(split.y_eval, scores, normal | np.isin(kinds, split.known_kinds))
            if split.unseen_kinds:
                unseen = _auroc(split.y_eval, scores,
                                normal | np.isin(kinds, split.unseen_kinds))
    return {"auroc": _auroc(split.y_eval, scores), "auroc_seen": seen,
            "auroc_unseen": unseen, "auroc_per_class": per_class, "auroc_per_kind": per_kind}


def _trimming(detector, split):
    """What a trimming detector dropped from the training set (None otherwise)."""
    mask = getattr(detector, "support_mask_", None)
    if mask is None or len(mask) != len(split.y_train):
        return None
    dropped = ~np.asarray(mask, dtype=bool)
    is_anomaly = split.train_classes != split.normal_class
    return {
        "dropped": int(dropped.sum()),
        "dropped_that_are_anomalies": float(is_anomaly[dropped].mean()) if dropped.any()
        else None,
        "anomalies_dropped": float(dropped[is_anomaly].mean()) if is_anomaly.any() else None,
    }


def reconstruction_rows(split):
    """Evaluation indices shown in reconstructions.png: first normals, then anomalies."""
    half = N_RECONSTRUCTIONS // 2
    return np.concatenate([np.flatnonzero(split.y_eval == 1)[:half],
                           np.flatnonzero(split.y_eval == -1)[:half]])


def blank_outcome(**values):
    """Every field of a run's outcome, None unless given."""
    fields = ("status", "n_epochs", "error", "traceback", "fit_seconds",
              "score_images_per_s", "auroc", "auroc_seen", "auroc_unseen",
              "auroc_per_class", "auroc_per_kind", "pixel_auroc", "aupro",
              "pixel_auroc_per_kind", "trimming")
    return {**dict.fromkeys(fields), **values}


def run_one(detector, split, *, n_threads=None):
    """Fit and score one detector, whatever happens.

    Parameters
    ----------
    detector : estimator
        Unfitted.
    split : Split
    n_threads : int or None, default=None
        Thread limit of the fit and the scoring (see :func:`limit_threads`).

    Returns
    -------
    outcome : dict
        ``status`` (one of :data:`STATUSES`), ``n_epochs``, ``error``,
        ``traceback``, ``fit_seconds``, ``score_images_per_s``, and for
        finished runs the metrics of :func:`evaluate_scores` and
        :func:`pixel_metrics`, and ``trimming``.
        A ``KeyboardInterrupt`` (or a fit that reports
        ``fit_status_='interrupted'``) gives status 'interrupted' and no
        scores: the caller records it and stops.
    scores : ndarray or None
        ``score_samples`` of the evaluation images.
    reconstructions : ndarray or None
        Of the images of :func:`reconstruction_rows`, for detectors that
        reconstruct.
    """
    outcome = blank_outcome()
    scores = reconstructions = None
    try:
        start = time.perf_counter()
        with limit_threads(n_threads):
            detector.fit(split.X_train, split.y_train)
        outcome["fit_seconds"] = time.perf_counter() - start
        outcome["status"] = _fitted_attribute(detector, "fit_status_") or "completed"
        outcome["n_epochs"] = _fitted_attribute(detector, "n_epochs_")
        if outcome["status"] == "interrupted":
            outcome["error"] = "the fit was interrupted (fit_status_='interrupted')"
            return outcome, None, None
        start = time.perf_counter()
        with limit_threads(n_threads):
            scores = np.asarray(detector.score_samples(split.X_eval), dtype=np.float64)
        outcome["score_images_per_s"] = len(scores) / max(time.perf_counter() - start, 1e-9)
        if not np.isfinite(scores).all():
            raise ValueError(f"{type(detector).__name__} gave non-finite scores.")
        with limit_threads(n_threads):
            outcome.update(pixel_metrics(detector, split))
        if hasattr(detector, "reconstruct"):
            with limit_threads(n_threads):
                reconstructions = np.asarray(
                    detector.reconstruct(split.X_eval[reconstruction_rows(split)]),
                    dtype=np.float32)
    except KeyboardInterrupt:
        outcome.update(status="interrupted", error="KeyboardInterrupt")
        return outcome, None, None
    except Exception as exc:  # noqa: BLE001 (one broken detector must not stop the others)
        status = "diverged" if isinstance(exc, TrainingDivergedError) else "failed"
        outcome.update(status=status, error=f"{type(exc).__name__}: {exc}",
                       traceback=traceback.format_exc(limit=-4))
        return outcome, None, None
    outcome.update(evaluate_scores(split, scores), trimming=_trimming(detector, split))
    return outcome, scores, reconstructions


# --------------------------------------------------------------------------
# records
# --------------------------------------------------------------------------
def source_revision(path):
    """``(commit, dirty)`` of the git checkout holding the package at ``path``.

    ``commit`` is ``git rev-parse HEAD`` run in ``path``, and ``dirty`` whether
    files under ``path`` differ from it (modified, staged or untracked); both
    None when ``path`` is not tracked by git (an installed copy) or git is
    missing.
    """
    def git(*args):
        return subprocess.run(["git", *args], cwd=path, capture_output=True, text=True,
                              timeout=30, check=True).stdout.strip()

    try:
        git("ls-files", "--error-unmatch", "__init__.py")  # the package is tracked here
        return git("rev-parse", "HEAD"), bool(git("status", "--porcelain", "--", "."))
    except (OSError, subprocess.SubprocessError):
        return None, None


def environment():
    """The versions a record is made with: package, git commit, libraries."""
    import skanomaly

    commit, dirty = source_revision(Path(skanomaly.__file__).resolve().parent)
    pyod = sys.modules.get("pyod")
    return {
        "version": skanomaly.__version__, "commit": commit, "dirty": dirty,
        "python": platform.python_version(), "numpy": np.__version__,
        "torch": torch.__version__, "sklearn": sklearn.__version__,
        "pyod": getattr(pyod, "__version__", None),
    }


def json_safe(value):
    """``value`` with numpy scalars as Python ones and other objects as their repr."""
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    return repr(value)


def run_key(record):
    """What identifies a run: a record with the same key replaces the earlier one."""
    return json.dumps([record["dataset"], record["protocol"], record["normal_class"],
                       record["detector"], record["seed"], record["config"]], sort_keys=True)


def read_records(path):
    """The records of a results.jsonl file (a line cut by an interruption is skipped)."""
    path = Path(path)
    records = []
    if path.exists():
        for line in path.read_text().splitlines():
            line = line.strip()
            if line:
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError:
                    continue
    return records


def latest(records):
    """The last record of each run, in the order the runs first appear."""
    by_key = {}
    for record in records:
        by_key[run_key(record)] = record
    return by_key


def scores_path(out, key):
    """Where the scores of the run ``key`` are saved (for the figures)."""
    return Path(out) / "scores" / f"{hashlib.sha1(key.encode()).hexdigest()[:12]}.npz"


def run_benchmark(data, *, dataset, classes, seeds, detectors, settings, out,
                  overrides=None, class_names=None, device="cpu", n_threads=None,
                  resume=False, command="", progress=None, log=print):
    """Run every (class, seed, detector), appending a record per run to ``out``.

    The runs whose last record is completed or stopped early are skipped with
    ``resume`` (the others, interrupted, diverged or failed, run again).
    Without ``resume`` an earlier results file is moved aside. A run whose fit
    is interrupted (Ctrl-C, which skorch turns into a normal return with
    ``fit_status_='interrupted'``) is recorded as interrupted, and then
    ``KeyboardInterrupt`` is raised: the benchmark stops.

    Returns
    -------
    records : list of dict
        The last record of each run of this benchmark, in file order.
    """
    from tqdm.auto import tqdm

    out = Path(out)
    (out / "scores").mkdir(parents=True, exist_ok=True)
    results = out / RESULTS_FILE
    if results.exists() and not resume and results.stat().st_size:
        backup = out / f"results.{time.strftime('%Y%m%d-%H%M%S')}.jsonl"
        results.rename(backup)
        log(f"Moved the previous results to {backup} (use --resume to continue them).")
    env = environment()
    base_config = settings.config()
    plan = []
    for c in classes:
        for seed in seeds:
            for name in detectors:
                config = {**base_config, "set": json_safe(effective_overrides(name, overrides))}
                record = {"dataset": dataset, "protocol": settings.protocol,
                          "normal_class": int(c), "detector": name, "seed": int(seed),
                          "config": config}
                plan.append((run_key(record), record))
    previous = latest(read_records(results)) if resume else {}
    todo = [(key, r) for key, r in plan if previous.get(key, {}).get("status") not in DONE]
    if resume and len(todo) < len(plan):
        log(f"Resuming: {len(plan) - len(todo)} of {len(plan)} runs already done.")

    bar = tqdm(total=len(todo), unit="run", disable=not progress if progress is not None
               else None, desc="benchmark", file=sys.stderr)
    split_cache = {}
    with bar, open(results, "a") as sink:
        for key, head in todo:
            c, seed, name = head["normal_class"], head["seed"], head["detector"]
            bar.set_postfix_str(f"class {c} seed {seed} {name}")
            if (c, seed) not in split_cache:
                split_cache.clear()
                split_cache[c, seed] = make_split(data, c, seed, settings)
            split = split_cache[c, seed]
            params = None
            try:
                detector = build_detector(name, random_state=seed, device=device,
                                          contamination=settings.contamination,
                                          overrides=overrides)
                params = json_safe(detector.get_params(deep=True))
                outcome, scores, recon = run_one(detector, split, n_threads=n_threads)
            except Exception as exc:  # noqa: BLE001 (a detector that cannot be built)
                outcome = blank_outcome(status="failed", error=f"{type(exc).__name__}: {exc}")
                scores = recon = None
            record = {
                **head, "evaluate": settings.evaluate, "kind": detector_kind(name),
                **outcome,
                "known_classes": split.known, "unseen_classes": split.unseen,
                "known_kinds": split.known_kinds, "unseen_kinds": split.unseen_kinds,
                "n_train": len(split.y_train),
                "n_train_anomalies": int((split.y_train == -1).sum()),
                "n_train_hidden": int(((split.y_train == 1)
                                       & (split.train_classes != c)).sum()),
                "n_eval": len(split.y_eval), "class_names": class_names,
                "params": params, "device": device, "n_threads": n_threads,
                "command": command, **env,
                "time": datetime.datetime.now().isoformat(timespec="seconds"),
            }
            sink.write(json.dumps(json_safe(record)) + "\n")
            sink.flush()
            bar.update()
            status = record["status"]
            if status in DONE:
                extra = {}
                if recon is not None:
                    extra = {"reconstructions": recon,
                             "originals": np.asarray(split.X_eval[reconstruction_rows(split)])}
                np.savez_compressed(scores_path(out, key), scores=scores.astype(np.float32),
                                    y_eval=split.y_eval.astype(np.int8), **extra)
            elif status == "interrupted":
                epochs = record.get("n_epochs")
                bar.write(f"INTERRUPTED {name} (class {c}, seed {seed})"
                          + ("" if epochs is None else f" after {epochs} epoch(s)")
                          + ": recorded; the benchmark stops. Run again with --resume to "
                          "continue.", file=sys.stderr)
                raise KeyboardInterrupt
            else:
                bar.write(f"{status.upper()} {name} (class {c}, seed {seed}): "
                          f"{record.get('error')}", file=sys.stderr)
                if record.get("traceback"):
                    bar.write(record["traceback"], file=sys.stderr)
    keys = {key for key, _ in plan}
    return [r for key, r in latest(read_records(results)).items() if key in keys]
