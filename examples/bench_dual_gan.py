"""Benchmark DualDiscGAN on Fashion-MNIST (one class normal, nine anomalous).

Protocol: for every class ``c`` in ``--classes``, the training set is every
training image of class ``c`` (6000) plus labelled anomalies drawn from the
other nine classes at ``--anomaly-ratio`` of the normal count; the test set is
the whole official test set (1000 normal, 9000 anomalous). Prints the AUROC
(anomaly = positive class, score = minus ``score_samples``), the fit time and
the training throughput (images through the training loop per second) of
every class, and their means.

The default ``--anomaly-ratio`` is 0.05 (300 labelled anomalies for 6000
normal images): the paper does not state its ratio in what could be read of
it, and the authors' follow-up code hints at about 1%; 0.01 and 0.1 are
reported too.

Run ``python examples/bench_dual_gan.py --classes 0 --max-epochs 5``, and
e.g. ``--set horizontal_flip=True abc_weight=1.0`` for other estimator
parameters. This is a script, not a test: it takes minutes per class on a
CPU (one torch thread by default, ``--threads`` to change).
"""

import argparse
import ast
import time

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

from skanomaly import DualDiscGAN
from skanomaly.datasets import load_fashion_mnist, make_anomaly_split


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classes", type=int, nargs="+", default=list(range(10)))
    parser.add_argument("--anomaly-ratio", type=float, default=0.05)
    parser.add_argument("--max-epochs", type=int, default=None,
                        help="default: the estimator's default")
    parser.add_argument("--n-filters", type=int, default=None)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--lr", type=float, default=None)
    parser.add_argument("--no-skip", action="store_true",
                        help="generator without U-Net skip connections")
    parser.add_argument("--set", nargs="*", default=[], metavar="NAME=VALUE",
                        help="extra estimator parameters, e.g. abc_weight=1.0")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--verbose", type=int, default=0)
    args = parser.parse_args(argv)

    torch.set_num_threads(args.threads)
    params = dict(random_state=args.seed, verbose=args.verbose)
    for name in ("max_epochs", "n_filters", "batch_size", "lr"):
        if getattr(args, name) is not None:
            params[name] = getattr(args, name)
    if args.no_skip:
        params["skip_connections"] = False
    for item in args.set:
        name, value = item.split("=", 1)
        params[name] = ast.literal_eval(value)  # numbers, tuples, booleans
    print(f"DualDiscGAN({', '.join(f'{k}={v!r}' for k, v in params.items())}), "
          f"anomaly_ratio={args.anomaly_ratio}, torch threads={args.threads}")

    data = load_fashion_mnist()
    rows = []
    print(f"{'class':>5} {'n_train':>7} {'n_anom':>6} {'AUROC':>7} {'fit s':>7} "
          f"{'img/s':>7} {'score s':>7}", flush=True)
    for c in args.classes:
        X_train, y_train, X_test, y_test = make_anomaly_split(
            *data, normal_class=c, anomaly_ratio=args.anomaly_ratio,
            random_state=args.seed)
        model = DualDiscGAN(**params)
        start = time.perf_counter()
        model.fit(X_train, y_train)
        fit_s = time.perf_counter() - start
        start = time.perf_counter()
        scores = model.score_samples(X_test)
        score_s = time.perf_counter() - start
        auroc = roc_auc_score(y_test == -1, -scores)
        # images through the training loop: batches hold normals and anomalies
        n_seen = sum(batch["train_batch_size"] for epoch in model.net_.history
                     for batch in epoch["batches"])
        rows.append((c, auroc, fit_s, n_seen / fit_s))
        print(f"{c:>5} {len(y_train):>7} {(y_train == -1).sum():>6} {auroc:>7.4f} "
              f"{fit_s:>7.1f} {n_seen / fit_s:>7.0f} {score_s:>7.1f}", flush=True)
    aurocs = np.array([r[1] for r in rows])
    print(f" mean {'':>7} {'':>6} {aurocs.mean():>7.4f} "
          f"{np.mean([r[2] for r in rows]):>7.1f} {np.mean([r[3] for r in rows]):>7.0f}")


if __name__ == "__main__":
    main()
