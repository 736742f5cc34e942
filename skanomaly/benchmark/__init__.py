"""Benchmark the detectors: ``python -m skanomaly.benchmark`` (or ``skanomaly-benchmark``).

One run fits one detector on one anomaly-detection split (a normal class, a
protocol, a seed) and measures the AUROC on the evaluation set, the fit time
and the scoring throughput. Each run appends one record (a JSON line) to
``OUT/results.jsonl`` as soon as it ends, whatever its status; at the end the
tables are printed and written to ``OUT/results.md``, with the figures
``OUT/roc.png`` and ``OUT/reconstructions.png`` when matplotlib is installed.
``python -m skanomaly.benchmark.report OUT/results.jsonl`` prints the same
tables again from the records.

Protocols
---------
``one-class``
    Train on normal images only.
``imbalanced``
    Normal images plus labelled anomalies (``y == -1``) drawn from the other
    classes, ``--anomaly-ratio`` of the normal count (default 0.05) or
    ``--labelled-share`` of the training set. ``--known-classes K`` draws
    them from K of the anomaly classes (chosen per seed), and the AUROC is
    also given on the anomalies of the seen and of the unseen classes.
``contaminated``
    Normal images plus unlabelled anomalies (``y == 1``) making up
    ``--contamination`` of the training set; skanomaly's detectors are also
    run in ``TrimmedDetector`` (``<name>+trimmed``).

``defects``
    Normal images only, evaluated on the normal class's images, half of them
    with a synthetic defect (or MVTec AD's defective images): image AUROC,
    and the pixel AUROC and AUPRO of the detectors' anomaly maps.

``--dataset textures`` (or ``texture:brick``, ``grass``, ``gravel``) cuts
scikit-image's texture photographs into crops of ``--crop-size`` (64 pixels)
with :func:`~skanomaly.datasets.make_texture_split`, each photograph a
normal class: the defects protocol by default, or the imbalanced one with
``--labelled-defects`` defective training crops of ``--known-kinds`` defect
kinds. The records then also give the AUROC and pixel AUROC per defect kind.

``--evaluate validation`` scores a validation set carved from the official
training split instead of the test set, which is then never read: settings
are chosen there (``--set NAME.PARAM=VALUE``) before the test set is looked at.

Records
-------
Each record holds the run (dataset, protocol, evaluate, normal_class,
detector, kind, seed, config with the ``--set`` values, params), its
``status`` (completed, stopped_early, interrupted, diverged, failed),
``n_epochs``, ``error``, the metrics (``auroc``, ``auroc_seen``,
``auroc_unseen``, ``auroc_per_class``, ``auroc_per_kind``, ``pixel_auroc``,
``aupro``, ``pixel_auroc_per_kind``, ``fit_seconds``,
``score_images_per_s``), the split sizes, and where it was made (device,
n_threads, command, version, commit, dirty, python, numpy, torch, sklearn,
pyod, time). Tables use completed and stopped-early runs only; an
interrupted fit is recorded and stops the benchmark; ``--resume`` runs again
every run whose last record did not complete.

Examples
--------
A quick run: class 0, 2000 training images, every detector at its default
epochs::

    python -m skanomaly.benchmark --quick

Deep SAD's scenario (i), three seeds::

    python -m skanomaly.benchmark --protocol imbalanced --known-classes 1 \\
        --labelled-share 0.05 --seeds 0,1,2

Raw 7x7 patch kNN and IsolationForest on the three textures::

    python -m skanomaly.benchmark --dataset textures \\
        --detectors iforest-raw,patch-knn-raw --breakdown

Choose a setting on validation data::

    python -m skanomaly.benchmark --evaluate validation --detectors autoencoder \\
        --set autoencoder.latent_dim=16
"""

from ._cli import main, make_parser
from ._peers import BalancedCNN, PatchKNN, PyODDetector, RawPixels
from ._registry import DETECTORS, TRIMMED, Entry, build_detector, default_detectors
from ._report import format_report
from ._runner import (
    Split,
    SplitSettings,
    limit_threads,
    make_split,
    read_records,
    run_benchmark,
    run_one,
)

__all__ = [
    "DETECTORS",
    "TRIMMED",
    "BalancedCNN",
    "Entry",
    "PatchKNN",
    "PyODDetector",
    "RawPixels",
    "Split",
    "SplitSettings",
    "build_detector",
    "default_detectors",
    "format_report",
    "limit_threads",
    "main",
    "make_parser",
    "make_split",
    "read_records",
    "run_benchmark",
    "run_one",
]
