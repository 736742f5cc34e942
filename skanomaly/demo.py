"""Demo: a detector on Fashion-MNIST, one class normal: test AUROC and figures.

Run ``python -m skanomaly.demo [--normal-class 0] [--out skanomaly_demo]``. It
fits the AutoEncoder on the normal class's training images, prints its AUROC
on the official test set (the other nine classes are the anomalies) beside
the baselines every table of the package shows, the pixel kNN
(:class:`~skanomaly.KNNDetector`) and an IsolationForest on the raw pixels,
and writes three figures (matplotlib):
the ROC curves, the score histograms with the threshold, and test images with
synthetic defects, their reconstructions and anomaly maps.
"""

import argparse
import time
from pathlib import Path

from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score

from ._autoencoder import AutoEncoder
from ._knn import KNNDetector
from .datasets import (
    FASHION_MNIST_CLASSES,
    load_fashion_mnist,
    make_anomaly_split,
    make_defects,
)


def main(argv=None):
    """Fit a detector on one Fashion-MNIST class, print its AUROC, write figures.

    Returns
    -------
    auroc : float
        The detector's test AUROC.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--normal-class", type=int, default=0)
    parser.add_argument("--max-epochs", type=int, default=None)
    parser.add_argument("--data-home", default=None)
    parser.add_argument("--download", action="store_true",
                        help="download Fashion-MNIST with torchvision if missing")
    parser.add_argument("--out", default="skanomaly_demo", help="folder of the figures")
    parser.add_argument("--no-figures", action="store_true")
    parser.add_argument("--verbose", type=int, default=1)
    args = parser.parse_args(argv)

    X_train, y_train, X_test, y_test = make_anomaly_split(
        *load_fashion_mnist(data_home=args.data_home, download=args.download),
        normal_class=args.normal_class, random_state=0,
    )
    params = {} if args.max_epochs is None else {"max_epochs": args.max_epochs}
    detector = AutoEncoder(random_state=0, verbose=args.verbose, **params)
    name = FASHION_MNIST_CLASSES[args.normal_class]
    print(f"Fitting {detector!r} on {len(X_train)} images of class "
          f"{args.normal_class} ({name}) ...")
    start = time.perf_counter()
    detector.fit(X_train, y_train)
    fit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    scores = detector.score_samples(X_test)
    score_seconds = time.perf_counter() - start
    auroc = roc_auc_score(y_test, scores)
    print(f"Test AUROC (class {args.normal_class} normal vs the other 9): {auroc:.4f}")
    print(f"fit {fit_seconds:.1f} s, scoring {len(X_test) / score_seconds:.0f} images/s")
    knn_scores = KNNDetector().fit(X_train, y_train).score_samples(X_test)
    print(f"KNNDetector on the pixels (the baseline): {roc_auc_score(y_test, knn_scores):.4f}")
    peer = IsolationForest(random_state=0).fit(X_train.reshape(len(X_train), -1) / 255.0)
    peer_scores = peer.score_samples(X_test.reshape(len(X_test), -1) / 255.0)
    print(f"IsolationForest on the raw pixels: {roc_auc_score(y_test, peer_scores):.4f}")
    if not args.no_figures:
        baselines = {"KNNDetector (pixels)": knn_scores,
                     "IsolationForest (raw pixels)": peer_scores}
        for path in _figures(detector, scores, baselines, X_test, y_test, Path(args.out)):
            print(f"Wrote {path}")
    return auroc


def _figures(detector, scores, baselines, X_test, y_test, out):
    try:
        import matplotlib

        matplotlib.use("Agg")
    except ImportError:
        print("matplotlib is not installed (pip install matplotlib): no figures.")
        return []
    from .plotting import plot_anomaly_maps, plot_roc, plot_score_histogram

    out.mkdir(parents=True, exist_ok=True)
    written = []
    fig = plot_roc({type(detector).__name__: scores, **baselines}, X_test, y_test)
    written.append(out / "roc.png")
    fig.savefig(written[-1], dpi=110)
    fig = plot_score_histogram(detector, X_test, y_test)
    written.append(out / "scores.png")
    fig.savefig(written[-1], dpi=110)
    normal = X_test[y_test == 1][:8]
    defective, masks, _ = make_defects(normal, random_state=0)
    fig = plot_anomaly_maps(detector, defective, masks=masks)
    written.append(out / "anomaly_maps.png")
    fig.savefig(written[-1], dpi=110)
    return written


if __name__ == "__main__":
    main()
