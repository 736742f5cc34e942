"""Where the time of a default fit and of scoring goes.

For each one-class detector's defaults, on Fashion-MNIST class 0 (6000
training images, 10000 test images), and for DeepSAD and DualDiscGAN on the
same class with labelled anomalies from one other class making 5% of the
training set (Deep SAD's scenario (i), seed 0), one torch thread unless
``--threads``: the seconds of the fit's phases (read from the skorch
history: each epoch's duration; the rest of fit is building the kNN banks,
the hold-out standardisation and the offset), the scoring throughput, and
the share of scoring spent in the networks against the kNN distances
(torch's profiler over one scoring pass, top operators by self CPU time).

    python benchmarks/timing/where_time_goes.py --threads 1 > benchmarks/timing/where_time_goes.txt
    python benchmarks/timing/where_time_goes.py --threads 2 --detectors deep-sad,dualdiscgan

``--known-classes 9`` draws the labelled anomalies from all nine anomaly classes instead, 5% of
the normal count (the K=9 table); ``--set PARAM=VALUE`` (a Python literal, repeatable) sets a
parameter of every detector timed, e.g. ``--set "score_weights={'classifier': 2.0, 'cnn': 4.0}"``.
"""

import argparse
import ast
import time

import numpy as np
import torch
from torch.profiler import ProfilerActivity, profile

from skanomaly import AnoGAN, AutoEncoder, CNNOneClassSVM, DeepSAD, DualDiscGAN
from skanomaly.benchmark._runner import SplitSettings, make_split
from skanomaly.datasets import load_fashion_mnist

DETECTORS = {"autoencoder": AutoEncoder, "anogan": AnoGAN, "cnn-ocsvm": CNNOneClassSVM}
LABELLED = {"deep-sad": DeepSAD, "dualdiscgan": DualDiscGAN}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--detectors", default=",".join(DETECTORS))
    parser.add_argument("--known-classes", type=int, default=1)
    parser.add_argument("--set", action="append", default=[], dest="overrides")
    args = parser.parse_args()
    overrides = {}
    for item in args.overrides:
        key, _, value = item.partition("=")
        overrides[key] = ast.literal_eval(value)
    torch.set_num_threads(args.threads)
    data = load_fashion_mnist()
    one_class = make_split(data, 0, 0)
    if args.known_classes == 1:
        settings = SplitSettings(protocol="imbalanced", known_classes=1, labelled_share=0.05)
    else:
        settings = SplitSettings(protocol="imbalanced", known_classes=args.known_classes,
                                 anomaly_ratio=0.05)
    labelled = make_split(data, 0, 0, settings)
    X_test = one_class.X_eval
    print(f"torch {torch.__version__}, {args.threads} thread(s); "
          f"{len(one_class.X_train)} training images ({len(labelled.X_train)} with the "
          f"labelled anomalies from {args.known_classes} class(es)), {len(X_test)} test images"
          + (f"; set {overrides}" if overrides else ""))
    for name in args.detectors.split(","):
        split = labelled if name in LABELLED else one_class
        det = {**DETECTORS, **LABELLED}[name](random_state=0, n_threads=args.threads,
                                              **overrides)
        start = time.perf_counter()
        det.fit(split.X_train, split.y_train)
        fit = time.perf_counter() - start
        epochs = [row["dur"] for row in det.net_.history]
        start = time.perf_counter()
        det.score_samples(X_test)
        score = time.perf_counter() - start
        print(f"\n== {name}: fit {fit:.1f} s = {len(epochs)} epochs {sum(epochs):.1f} s "
              f"(median epoch {np.median(epochs):.2f} s) + {fit - sum(epochs):.1f} s "
              f"banks, standardisation and offset; scoring {len(X_test) / score:,.0f} img/s")
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            det.score_samples(X_test[:2000])
        print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=8))


if __name__ == "__main__":
    main()
