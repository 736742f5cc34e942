"""Benchmark: peak memory when scoring 10,000 vs 70,000 images.

Fits a detector on a small sample, then, in a fresh process for each size,
scores N uint8 28x28 images (the Fashion-MNIST train+test set when installed,
repeated; random images otherwise) and prints the resident memory just before
scoring (the input array already loaded), its peak while scoring (sampled
every millisecond), and the difference. Scoring is batched,
so the difference should not grow with N.

    python examples/bench_memory.py --detector autoencoder --sizes 10000,70000

``--detector`` is a name of the benchmark's registry
(``skanomaly.benchmark.DETECTORS``).
"""

import argparse
import resource
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import joblib
import numpy as np

from skanomaly.benchmark import DETECTORS, build_detector


def rss_mb():
    """Current resident set size (Linux /proc; ru_maxrss elsewhere)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * resource.getpagesize() / 2**20
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


class PeakSampler(threading.Thread):
    """Samples the RSS every millisecond until stopped; ``peak`` is the maximum."""

    def __init__(self):
        super().__init__(daemon=True)
        self.peak = rss_mb()
        self._stop_event = threading.Event()

    def run(self):
        while not self._stop_event.wait(0.001):
            self.peak = max(self.peak, rss_mb())

    def stop(self):
        self._stop_event.set()
        self.join()
        self.peak = max(self.peak, rss_mb())


def images(n):
    from skanomaly.datasets import fashion_mnist_available, load_fashion_mnist

    if fashion_mnist_available():
        X_train, _, X_test, _ = load_fashion_mnist()
        pool = np.concatenate([X_train, X_test])
    else:
        pool = np.random.RandomState(0).randint(0, 256, (70000, 28, 28), dtype=np.uint8)
    return np.resize(pool, (n, 28, 28))


def child(model_path, n):
    det = joblib.load(model_path)
    X = images(n)
    det.score_samples(X[:1000])  # warm up torch and its allocator
    base = rss_mb()
    sampler = PeakSampler()
    sampler.start()
    scores = det.score_samples(X)
    sampler.stop()
    peak = sampler.peak
    print(f"{n}\t{X.nbytes / 2**20:.1f}\t{base:.1f}\t{peak:.1f}\t{peak - base:.1f}\t"
          f"{scores.nbytes / 2**20:.1f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--detector", default="autoencoder",
                        choices=[n for n, e in DETECTORS.items() if e.kind == "skanomaly"])
    parser.add_argument("--sizes", default="10000,70000")
    parser.add_argument("--child", nargs=2)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], int(args.child[1]))
        return
    det = build_detector(args.detector, random_state=0,
                         overrides={args.detector: {"max_epochs": 1}})
    det.fit(images(512))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "det.joblib"
        joblib.dump(det, path)
        print(f"{args.detector}, batch_size={det.batch_size}")
        print("n_images\tinput MiB\tRSS before MiB\tpeak RSS while scoring MiB\tgrowth MiB\tscores MiB")
        for n in args.sizes.split(","):
            subprocess.run([sys.executable, __file__, "--child", str(path), n], check=True)


if __name__ == "__main__":
    main()
