"""The command line: ``python -m skanomaly.benchmark`` (or ``skanomaly-benchmark``)."""

import argparse
import ast
import shlex
import sys
from pathlib import Path

import numpy as np

from ._registry import (
    DETECTORS,
    TRIMMED,
    build_detector,
    default_detectors,
    needs_labels,
)
from ._report import FORMATS, format_report, write_figures
from ._runner import (
    PROTOCOLS,
    TEXTURE_CROP_SIZE,
    TEXTURE_N_LABELLED,
    TEXTURE_N_TEST,
    TEXTURE_N_TRAIN,
    TEXTURE_N_VALIDATION,
    SplitSettings,
    TextureData,
    run_benchmark,
)

__all__ = ["QUICK_MAX_TEST", "QUICK_MAX_TRAIN", "main", "make_parser"]

#: --quick: normal class 0 only, each detector at its default epochs, on at
#: most this many training images (a stratified subsample, 1/3 of a
#: Fashion-MNIST class) ...
QUICK_MAX_TRAIN = 2000
#: ... and this many evaluation images (a stratified subsample of the test set)
QUICK_MAX_TEST = 2000
QUICK_NORMAL_CLASS = 0
#: --evaluate validation on Fashion-MNIST: normal images held out per class
#: (as many as the official test set has); 20% on other datasets
FASHION_VALIDATION_SIZE = 1000
DEFAULT_ANOMALY_RATIO = 0.05


def _int_list(text):
    return [int(v) for v in str(text).split(",") if v.strip()]


def _dataset(text):
    from ..datasets import TEXTURES

    if text in ("fashion-mnist", "digits", "textures") or (
            text.startswith("mvtec-ad:") and len(text) > len("mvtec-ad:")) or (
            text.startswith("texture:") and text.split(":", 1)[1] in TEXTURES):
        return text
    raise argparse.ArgumentTypeError(
        f"{text!r}: use fashion-mnist, digits, mvtec-ad:CATEGORY, textures or "
        f"texture:NAME (NAME one of {', '.join(TEXTURES)})")


def _is_textures(args):
    return args.dataset == "textures" or args.dataset.startswith("texture:")


def _literal(text):
    """A Python literal, or the text itself when it is not one (``rotations+flip``)."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def _size(text):
    value = _literal(text)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise argparse.ArgumentTypeError(f"expected a count or a share; got {text!r}")
    return value


def _detectors_epilog():
    lines = ["detectors (each with its own defaults; --set changes them):"]
    for name, entry in DETECTORS.items():
        labelled = (" [imbalanced protocol only]" if entry.labelled else
                    "" if entry.one_class else " [by default in the imbalanced protocol only]")
        slow = "" if entry.quick or not entry.default else " [not in --quick]"
        lines.append(f"  {name}: {entry.description}{labelled}{slow}")
    lines.append(f"  <name>{TRIMMED}: <name> in skanomaly's TrimmedDetector, trimming "
                 "--contamination (default in the contaminated protocol for skanomaly's "
                 "detectors)")
    return "\n".join(lines)


def make_parser():
    """The ``argparse`` parser of the benchmark command."""
    parser = argparse.ArgumentParser(
        prog="python -m skanomaly.benchmark",
        description="Benchmark skanomaly's detectors and their peers on one-vs-rest "
                    "anomaly-detection splits; results go to OUT/results.jsonl (one "
                    "record a run), OUT/results.md, OUT/roc.png and "
                    "OUT/reconstructions.png. Regenerate the tables with "
                    "python -m skanomaly.benchmark.report OUT/results.jsonl.",
        epilog=_detectors_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    data = parser.add_argument_group("data")
    data.add_argument("--dataset", type=_dataset, default="fashion-mnist",
                      help="fashion-mnist (default), scikit-learn's 8x8 digits "
                           "(bundled, no download), mvtec-ad:CATEGORY (MVTec AD "
                           "under --data-home or $SKANOMALY_DATA; with --protocol defects), "
                           "or textures: scikit-image's photographs brick, grass and gravel "
                           "(pip install 'skanomaly[textures]'), each a normal class, cut "
                           "into crops with small synthetic defects (texture:NAME: one of "
                           "them)")
    data.add_argument("--normal-class", default=None,
                      help="normal class(es), each a separate benchmark: one, a comma "
                           "list, or 'all' (default: all; 0 with --quick); textures by "
                           "name, e.g. brick,gravel")
    data.add_argument("--data-home", default=None, help="folder holding Fashion-MNIST")
    data.add_argument("--download", action="store_true",
                      help="download Fashion-MNIST with torchvision when missing")

    protocol = parser.add_argument_group("protocol")
    protocol.add_argument("--protocol", choices=PROTOCOLS, default=None,
                          help="one-class (default): normal training images only; "
                               "imbalanced: plus labelled anomalies; contaminated: plus "
                               "unlabelled anomalies; defects (the default on textures): "
                               "one-class, evaluated on the normal class's images, half with "
                               "a synthetic defect (or MVTec AD's defects), with the anomaly "
                               "maps' pixel AUROC and AUPRO. Textures run defects or "
                               "imbalanced")
    protocol.add_argument("--known-classes", type=int, default=None, metavar="K",
                          help="imbalanced: the labelled anomalies come from K of the "
                               "anomaly classes, drawn per seed (default: all); the records "
                               "give the AUROC on the seen and the unseen classes")
    protocol.add_argument("--unseen-classes", type=int, default=None, metavar="N",
                          help="deprecated alias of --known-classes (9 - N on the "
                               "10-class datasets): N anomaly classes withheld")
    amount = protocol.add_mutually_exclusive_group()
    amount.add_argument("--anomaly-ratio", type=float, default=None,
                        help="imbalanced: labelled anomalies per normal training image "
                             f"(default {DEFAULT_ANOMALY_RATIO})")
    amount.add_argument("--labelled-share", type=float, default=None,
                        help="imbalanced: labelled anomalies as a share of the training "
                             "set, n_a / (n_n + n_a), as Deep SAD states it; "
                             "--known-classes 1 --labelled-share 0.05 is Deep SAD's "
                             "scenario (i)")
    protocol.add_argument("--crop-size", type=int, default=None,
                          help=f"textures: the crops' side (default {TEXTURE_CROP_SIZE}); "
                               f"--max-train and --max-test are the numbers of normal "
                               f"training crops and of test crops (default {TEXTURE_N_TRAIN} "
                               f"and {TEXTURE_N_TEST}), --validation-size of validation "
                               f"crops (default {TEXTURE_N_VALIDATION}); half of the "
                               "evaluation crops have a defect")
    protocol.add_argument("--labelled-defects", type=int, default=None, metavar="N",
                          help="textures, imbalanced: N labelled defective training crops "
                               f"(default {TEXTURE_N_LABELLED}), from the training region of "
                               "the photograph")
    protocol.add_argument("--known-kinds", type=int, default=None, metavar="K",
                          help="textures, imbalanced: the labelled defects are of K of the "
                               "four defect kinds, turning with the seed (seed s labels kinds "
                               "s*K to s*K+K-1, modulo 4; default: all); the records give the "
                               "AUROC on the seen and the unseen kinds")
    protocol.add_argument("--contamination", type=float, default=0.05,
                          help="contaminated: share of unlabelled anomalies in the training "
                               "set, and the share TrimmedDetector trims (default 0.05)")
    protocol.add_argument("--evaluate", choices=("test", "validation"), default="test",
                          help="test (default): the official test set; validation: a "
                               "validation set carved from the official training split "
                               "(seeded; the test set is never read), to choose settings")
    protocol.add_argument("--validation-size", type=_size, default=None,
                          help="--evaluate validation: normal images held out (a count) or "
                               "their share of the normal class (a float), as many of each "
                               "anomaly class (default: 1000 on Fashion-MNIST, 0.2 otherwise)")
    protocol.add_argument("--seeds", default="0", help="comma list of seeds (default 0)")
    protocol.add_argument("--max-train", type=int, default=None,
                          help="cap on training images per run, a stratified subsample "
                               f"(default: all; {QUICK_MAX_TRAIN} with --quick)")
    protocol.add_argument("--max-test", type=int, default=None,
                          help="cap on evaluation images, a fixed stratified subsample "
                               f"(default: all; {QUICK_MAX_TEST} with --quick)")
    protocol.add_argument("--quick", action="store_true",
                          help=f"class {QUICK_NORMAL_CLASS} only (unless --normal-class), "
                               f"{QUICK_MAX_TRAIN} training and {QUICK_MAX_TEST} test images, "
                               "every detector at its default epochs; without --detectors, "
                               "the PyOD peers are left out (minutes each at their defaults)")

    detectors = parser.add_argument_group("detectors")
    detectors.add_argument("--detectors", default=None,
                           help="comma list of detector names (default: every one the "
                                "protocol can run; see below)")
    detectors.add_argument("--set", action="append", default=[], dest="overrides",
                           metavar="NAME.PARAM=VALUE",
                           help="a parameter of one detector, the value a Python literal "
                                "(repeatable), e.g. autoencoder.latent_dim=16, "
                                "anogan+trimmed.trim_share=0.1; recorded with each run")
    detectors.add_argument("--max-epochs", type=int, default=None,
                           help="shorthand of --set NAME.max_epochs=N for every detector "
                                "that has a max_epochs parameter (skanomaly's detectors, "
                                "cnn-classifier); the others keep their own")
    detectors.add_argument("--device", default="cpu",
                           help="torch device, e.g. cuda (default cpu)")
    detectors.add_argument("--n-threads", type=int, default=None,
                           help="thread limit of every fit and scoring, peers included "
                                "(torch and the BLAS/OpenMP pools; default: no limit)")

    output = parser.add_argument_group("output")
    output.add_argument("--out", default="benchmark_results",
                        help="output folder (default benchmark_results/)")
    output.add_argument("--resume", action="store_true",
                        help="keep OUT/results.jsonl and skip the runs whose last record "
                             "is completed (interrupted, diverged and failed runs run again)")
    output.add_argument("--format", choices=FORMATS, default="md",
                        help="table markup: md (default) or rst")
    output.add_argument("--breakdown", action="store_true",
                        help="also print the AUROC per anomaly class")
    output.add_argument("--no-figures", action="store_true", help="skip the figures")
    output.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def _parse_overrides(parser, items, detectors):
    """``{name: {param: value}}`` from the ``--set NAME.PARAM=VALUE`` items."""
    overrides = {}
    allowed = set(detectors) | {n.removesuffix(TRIMMED) for n in detectors}
    for item in items:
        target, sep, value = item.partition("=")
        name, dot, param = target.partition(".")
        if not sep or not dot or not name or not param:
            parser.error(f"--set {item!r}: expected NAME.PARAM=VALUE")
        if name not in allowed:
            parser.error(f"--set {item!r}: {name!r} is not among the detectors run "
                         f"({', '.join(detectors)})")
        overrides.setdefault(name, {})[param] = _literal(value)
    return overrides


def _parse(argv):
    parser = make_parser()
    args = parser.parse_args(argv)
    textures = _is_textures(args)
    if args.protocol is None:
        args.protocol = "defects" if textures else "one-class"
    if args.dataset.startswith("texture:"):
        if args.normal_class is not None:
            parser.error(f"--dataset {args.dataset} is one texture: leave out --normal-class "
                         "(or use --dataset textures)")
        args.normal_class = args.dataset.split(":", 1)[1]
    if args.normal_class is None:
        args.normal_class = str(QUICK_NORMAL_CLASS) if args.quick else "all"
    if textures:
        _check_texture_args(parser, args)
    else:
        for flag in ("crop_size", "labelled_defects", "known_kinds"):
            if getattr(args, flag) is not None:
                parser.error(f"--{flag.replace('_', '-')} applies to --dataset textures only")
    if args.quick and not textures:
        args.max_train = QUICK_MAX_TRAIN if args.max_train is None else args.max_train
        args.max_test = QUICK_MAX_TEST if args.max_test is None else args.max_test
    try:
        args.seed_list = _int_list(args.seeds)
    except ValueError:
        parser.error(f"--seeds must be comma-separated integers; got {args.seeds!r}")
    if not args.seed_list:
        parser.error("--seeds is empty")
    imbalanced = args.protocol == "imbalanced"
    for flag in ("known_classes", "unseen_classes", "anomaly_ratio", "labelled_share"):
        if getattr(args, flag) is not None and not imbalanced:
            parser.error(f"--{flag.replace('_', '-')} applies to --protocol imbalanced only")
    if args.known_classes is not None and args.unseen_classes is not None:
        parser.error("give --known-classes or --unseen-classes, not both")
    if args.known_classes is not None and args.known_classes < 1:
        parser.error("--known-classes must be >= 1")
    if args.unseen_classes is not None and args.unseen_classes < 0:
        parser.error("--unseen-classes must be >= 0")
    if args.anomaly_ratio is not None and not args.anomaly_ratio > 0:
        parser.error("--anomaly-ratio must be > 0")
    if args.labelled_share is not None and not 0 < args.labelled_share < 1:
        parser.error("--labelled-share must be in (0, 1)")
    if not 0 < args.contamination < 0.5:
        parser.error("--contamination must be in (0, 0.5)")
    if args.max_epochs is not None and args.max_epochs < 1:
        parser.error("--max-epochs must be >= 1")
    if args.n_threads is not None and args.n_threads < 1:
        parser.error("--n-threads must be >= 1")
    if args.validation_size is not None:
        if args.evaluate != "validation":
            parser.error("--validation-size applies to --evaluate validation only")
        if isinstance(args.validation_size, float) and not 0 < args.validation_size < 1:
            parser.error("--validation-size as a share must be in (0, 1)")
        if textures and not isinstance(args.validation_size, int):
            parser.error("--validation-size is a number of crops on textures")
    names = (args.detectors.split(",") if args.detectors
             else default_detectors(args.protocol, quick=args.quick))
    args.detector_list = list(dict.fromkeys(n.strip() for n in names if n.strip()))
    for name in args.detector_list:
        if name.removesuffix(TRIMMED) not in DETECTORS:
            parser.error(f"unknown detector {name!r}; known: {', '.join(DETECTORS)} "
                         f"(each may end in {TRIMMED!r})")
    args.overrides = _parse_overrides(parser, args.overrides, args.detector_list)
    return args


def _check_texture_args(parser, args):
    """The flags that textures take, and those they do not."""
    if args.protocol not in ("defects", "imbalanced"):
        parser.error(f"--dataset {args.dataset} runs --protocol defects (the default) or "
                     f"imbalanced; got {args.protocol}")
    for flag in ("known_classes", "unseen_classes", "anomaly_ratio", "labelled_share"):
        if getattr(args, flag) is not None:
            parser.error(f"--{flag.replace('_', '-')} does not apply to textures: use "
                         "--labelled-defects and --known-kinds")
    if args.protocol != "imbalanced":
        for flag in ("labelled_defects", "known_kinds"):
            if getattr(args, flag) is not None:
                parser.error(f"--{flag.replace('_', '-')} applies to --protocol imbalanced "
                             "only")
    for flag, low in (("crop_size", 2), ("labelled_defects", 1), ("known_kinds", 1),
                      ("max_train", 1), ("max_test", 2)):
        if getattr(args, flag) is not None and getattr(args, flag) < low:
            parser.error(f"--{flag.replace('_', '-')} must be >= {low}")


def _load(args):
    from .. import datasets

    if args.dataset == "digits":
        return datasets.load_digits_images(), [str(i) for i in range(10)]
    if _is_textures(args):
        # every photograph, the discs of one being cut from the others
        try:
            images = tuple(datasets.load_texture(name)[None] for name in datasets.TEXTURES)
        except ImportError as exc:
            raise SystemExit(str(exc)) from None
        return TextureData(images, datasets.TEXTURES), list(datasets.TEXTURES)
    if args.dataset.startswith("mvtec-ad:"):
        # one category: class 0 the good images, class 1 the defective ones
        X_train, X_test, y_test, masks, defect_types = datasets.load_mvtec_ad(
            args.dataset.split(":", 1)[1], data_home=args.data_home)
        data = (X_train, np.zeros(len(X_train), dtype=int), X_test,
                np.where(y_test == 1, 0, 1), masks, defect_types)
        return data, ["good", "defect"]
    data = datasets.load_fashion_mnist(data_home=args.data_home, download=args.download)
    return data, list(datasets.FASHION_MNIST_CLASSES)


def _normal_classes(text, labels, names=None):
    """The normal classes of ``--normal-class``: numbers, or names among ``names``."""
    available = sorted(int(c) for c in np.unique(labels))
    if str(text).strip().lower() == "all":
        return available
    if names is not None:
        chosen = [v.strip() for v in str(text).split(",") if v.strip()]
        bad = [v for v in chosen if v not in names and not (v.isdigit() and int(v) in available)]
        if bad or not chosen:
            raise SystemExit(f"--normal-class {text!r}: classes must be among "
                             f"{', '.join(names)}.")
        return [names.index(v) if v in names else int(v) for v in chosen]
    try:
        classes = _int_list(text)
    except ValueError:
        classes = []
    bad = [c for c in classes if c not in available]
    if bad or not classes:
        raise SystemExit(f"--normal-class {text!r}: classes must be among {available}.")
    return classes


def _settings(args, n_classes):
    known = args.known_classes
    if args.unseen_classes is not None:
        known = n_classes - 1 - args.unseen_classes
        print(f"Note: --unseen-classes is deprecated; it means --known-classes {known} here.",
              file=sys.stderr)
        if known < 1:
            raise SystemExit(f"--unseen-classes {args.unseen_classes} leaves no anomaly "
                             f"class to label: there are {n_classes - 1}.")
    validation_size = args.validation_size
    if _is_textures(args):
        imbalanced = args.protocol == "imbalanced"
        return SplitSettings(
            protocol=args.protocol, contamination=args.contamination,
            max_train=TEXTURE_N_TRAIN if args.max_train is None else args.max_train,
            max_test=(TEXTURE_N_TEST if args.max_test is None else args.max_test)
            if args.evaluate == "test" else None,
            evaluate=args.evaluate,
            validation_size=(TEXTURE_N_VALIDATION if validation_size is None
                             else validation_size) if args.evaluate == "validation" else None,
            crop_size=TEXTURE_CROP_SIZE if args.crop_size is None else args.crop_size,
            labelled_defects=(TEXTURE_N_LABELLED if args.labelled_defects is None
                              else args.labelled_defects) if imbalanced else None,
            known_kinds=args.known_kinds,
        )
    if args.evaluate == "validation" and validation_size is None:
        validation_size = FASHION_VALIDATION_SIZE if args.dataset == "fashion-mnist" else 0.2
    return SplitSettings(
        protocol=args.protocol,
        anomaly_ratio=(DEFAULT_ANOMALY_RATIO if args.anomaly_ratio is None
                       else args.anomaly_ratio),
        labelled_share=args.labelled_share, known_classes=known,
        contamination=args.contamination, max_train=args.max_train,
        max_test=args.max_test, evaluate=args.evaluate, validation_size=validation_size,
    )


def _available(args):
    """The detectors that can run here, and the reasons of those that cannot."""
    detectors, skipped = [], {}
    for name in args.detector_list:
        if needs_labels(name) and args.protocol != "imbalanced":
            skipped[name] = "it needs labelled anomalies (--protocol imbalanced)"
            continue
        try:
            detector = build_detector(name, random_state=0, device=args.device,
                                      overrides=args.overrides)
            inner = detector.estimator if name.endswith(TRIMMED) else detector
            if args.max_epochs is not None and "max_epochs" in inner.get_params():
                args.overrides.setdefault(name.removesuffix(TRIMMED), {}).setdefault(
                    "max_epochs", args.max_epochs)
        except ImportError as exc:
            skipped[name] = f"{exc} (pip install 'skanomaly[pyod]')"
            continue
        except ValueError as exc:  # a --set parameter the detector does not have
            raise SystemExit(f"--set for {name}: {exc}") from None
        detectors.append(name)
    return detectors, skipped


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
        0 when every run completed, 1 when some failed or diverged (they are
        recorded, and left out of the tables) or nothing could run.

    Raises
    ------
    KeyboardInterrupt
        When a fit is interrupted, after its record is written.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    args = _parse(argv)
    data, class_names = _load(args)
    textures = isinstance(data, TextureData)
    if textures:
        names = list(data.names)
        classes = _normal_classes(args.normal_class, np.arange(len(names)), names)
    else:
        classes = _normal_classes(args.normal_class, data[1])
    settings = _settings(args, len(class_names))
    detectors, skipped = _available(args)
    for name, reason in skipped.items():
        print(f"Skipping {name}: {reason}.")
    if not detectors:
        print("No detector to run.")
        return 1
    if args.quick and not textures:
        n_normal = min(int((np.asarray(data[1]) == c).sum()) for c in classes)
        n_test = "the" if args.evaluate == "validation" else f"the {len(data[3])}"
        print(f"Quick run, cut to: normal class {', '.join(map(str, classes))} only; at most "
              f"{settings.max_train} training images (of {n_normal} normal ones) and "
              f"{settings.max_test} of {n_test} evaluation images (stratified subsamples); "
              "every detector at its default epochs"
              + ("" if args.detectors else "; the PyOD peers left out (name them with "
                 "--detectors)")
              + ("" if args.detectors or args.protocol == "imbalanced" else
                 "; DualDiscGAN and DeepSAD left out: they learn from labelled anomalies "
                 "(--protocol imbalanced)") + ".")
    records = run_benchmark(
        data, dataset=args.dataset, classes=classes, seeds=args.seed_list,
        detectors=detectors, settings=settings, out=args.out, overrides=args.overrides,
        class_names=class_names, device=args.device, n_threads=args.n_threads,
        resume=args.resume, command="python -m skanomaly.benchmark " + shlex.join(argv),
        progress=False if args.no_progress else None,
    )
    text = format_report(records, fmt=args.format, breakdown=args.breakdown)
    out = Path(args.out)
    table = out / f"results.{args.format}"
    table.write_text(text)
    print()
    print(text, end="")
    if not args.no_figures:
        for path in write_figures(out, records):
            print(f"Wrote {path}")
    print(f"Wrote {out / 'results.jsonl'} and {table}")
    return 1 if any(r["status"] in ("failed", "diverged") for r in records) else 0
