"""Benchmark: parallel fits and grid search, against sequential.

* two AutoEncoder fits one after the other (torch's threads) against the same
  two fits in two warm joblib processes at once (joblib's loky workers start
  with ``OMP_NUM_THREADS=cpu_count // n_jobs``, which torch honours);
* a 4-point GridSearchCV (2-fold) sequentially, with ``n_jobs=2``, and on a
  dask ``LocalCluster`` of 2 single-threaded workers.

    python examples/bench_parallel.py --n-images 3000 --epochs 3
"""

import argparse
import time

import joblib
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from skanomaly import AutoEncoder
from skanomaly.benchmark import SplitSettings, make_split
from skanomaly.datasets import (
    fashion_mnist_available,
    load_digits_images,
    load_fashion_mnist,
)


def timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-images", type=int, default=3000)
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    data = load_fashion_mnist() if fashion_mnist_available() else load_digits_images()
    # the benchmark's imbalanced split (5% labelled anomalies), a stratified subsample
    split = make_split(data, 0, 0, SplitSettings(protocol="imbalanced", max_train=args.n_images))
    X, y = split.X_train, split.y_train
    params = {"max_epochs": args.epochs, "random_state": 0}

    def fit(seed, n_threads=None):
        AutoEncoder(**{**params, "random_state": seed, "n_threads": n_threads}).fit(X, y)

    # start the worker processes (and their torch import) before timing
    joblib.Parallel(n_jobs=2)(joblib.delayed(__import__)("skanomaly") for _ in range(2))
    seq = timed(lambda: [fit(0), fit(1)])
    par = timed(lambda: joblib.Parallel(n_jobs=2)(joblib.delayed(fit)(s) for s in (0, 1)))
    par1 = timed(lambda: joblib.Parallel(n_jobs=2)(joblib.delayed(fit)(s, 1) for s in (0, 1)))
    print(f"2 fits of {len(X)} images x {args.epochs} epochs: sequential {seq:.1f} s, "
          f"2 joblib processes {par:.1f} s, 2 processes with n_threads=1 {par1:.1f} s")

    def search(n_jobs):
        return GridSearchCV(
            AutoEncoder(**params, n_threads=1 if n_jobs != 1 else None),
            {"latent_dim": [8, 16], "lr": [1e-3, 3e-3]}, scoring="roc_auc",
            cv=StratifiedKFold(2, shuffle=True, random_state=0), n_jobs=n_jobs,
        ).fit(X, y)

    t_seq = timed(lambda: search(1))
    t_jobs = timed(lambda: search(2))
    line = (f"4-point grid x 2 folds: sequential {t_seq:.1f} s, n_jobs=2 {t_jobs:.1f} s")
    try:
        import distributed
    except ImportError:
        print(line + " (dask.distributed not installed)")
        return
    with (distributed.LocalCluster(n_workers=2, threads_per_worker=1,
                                   dashboard_address=None) as cluster,
          distributed.Client(cluster), joblib.parallel_backend("dask")):
        t_dask = timed(lambda: search(-1))
    print(line + f", dask LocalCluster(2 workers) {t_dask:.1f} s")


if __name__ == "__main__":
    main()
