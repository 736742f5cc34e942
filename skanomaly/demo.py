"""Demo: AutoEncoder on Fashion-MNIST, one class normal, printing the test AUROC.

Run ``python -m skanomaly.demo [--normal-class 0] [--max-epochs N] [--download]``.
"""

import argparse
import time

from sklearn.metrics import roc_auc_score

from ._autoencoder import AutoEncoder
from .datasets import FASHION_MNIST_CLASSES, load_fashion_mnist, make_anomaly_split


def main(argv=None):
    """Fit an AutoEncoder on one Fashion-MNIST class and print its test AUROC."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--normal-class", type=int, default=0)
    parser.add_argument("--max-epochs", type=int, default=None)
    parser.add_argument("--data-home", default=None)
    parser.add_argument("--download", action="store_true",
                        help="download Fashion-MNIST with torchvision if missing")
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
    return auroc


if __name__ == "__main__":
    main()
