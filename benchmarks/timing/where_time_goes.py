"""Where the time of a default one-class fit and of scoring goes.

For each one-class detector's defaults, on Fashion-MNIST class 0 (6000
training images, 10000 test images), one torch thread unless
``--threads``: the seconds of the fit's phases (read from the skorch
history: each epoch's duration; the rest of fit is building the kNN banks,
the hold-out standardisation and the offset), the scoring throughput, and
the share of scoring spent in the networks against the kNN distances
(torch's profiler over one scoring pass, top operators by self CPU time).

    python benchmarks/timing/where_time_goes.py --threads 1 > benchmarks/timing/where_time_goes.txt
"""

import argparse
import time

import numpy as np
import torch
from torch.profiler import ProfilerActivity, profile

from skanomaly import AnoGAN, AutoEncoder, CNNOneClassSVM
from skanomaly.datasets import load_fashion_mnist, make_anomaly_split

DETECTORS = {"autoencoder": AutoEncoder, "anogan": AnoGAN, "cnn-ocsvm": CNNOneClassSVM}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--detectors", default=",".join(DETECTORS))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    X_train, _, X_test, _ = make_anomaly_split(*load_fashion_mnist(), normal_class=0,
                                               random_state=0)
    print(f"torch {torch.__version__}, {args.threads} thread(s); "
          f"{len(X_train)} training, {len(X_test)} test images")
    for name in args.detectors.split(","):
        det = DETECTORS[name](random_state=0, n_threads=args.threads)
        start = time.perf_counter()
        det.fit(X_train)
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
