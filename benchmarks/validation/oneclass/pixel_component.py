"""Validation only: does a third component, kNN on sqrt-blurred pixels, help AutoEncoder and AnoGAN?

CNNOneClassSVM's default score sums the z-scores of two kNN distances, in its
features and in the pixels after ``sqrt_blur``. AutoEncoder and AnoGAN sum a
reconstruction residual and a latent kNN distance. This study fits each of
them once per (class, seed) with the three components (residual, latent kNN,
pixel kNN) standardised on the same held-out normal images, and scores every
subset of them on the validation set the benchmark carves from the official
training split (1000 normal images, 1000 of each other class; the test set is
never read). IsolationForest on raw pixels is fitted on the same training
images. One torch thread per process.

    python benchmarks/validation/oneclass/pixel_component.py --detector autoencoder \
        --seeds 0,1 >> benchmarks/validation/oneclass/pixel_component.jsonl
"""

import argparse
import itertools
import json
import time

import numpy as np
import torch
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score

from skanomaly import AnoGAN, AutoEncoder
from skanomaly.benchmark._runner import SplitSettings, make_split
from skanomaly.datasets import load_fashion_mnist
from skanomaly.nn import sqrt_blur

COMPONENTS = ["residual", "knn:latent", "knn:pixels"]


def with_pixels(cls):
    """``cls`` scored by the residual, the latent kNN and the pixel kNN."""

    class ThreeComponents(cls):
        def _score_components(self):
            return COMPONENTS

        def _knn_spaces(self, x):
            return {**super()._knn_spaces(x), "pixels": sqrt_blur(x).flatten(1)}

    ThreeComponents.__name__ = cls.__name__
    return ThreeComponents


def component_zscores(det, X_eval, components):
    """A fitted detector's first components on ``X_eval``, z-scored as it scores."""
    X_eval = det._validate_input(X_eval, reset=False)
    raw = det._map_batches(det._component_matrix(), X_eval).astype(np.float64)
    raw = raw[:, :len(components)]
    mean = np.array([det.score_calibration_[k][0] for k in components])
    std = np.array([det.score_calibration_[k][1] for k in components])
    return (raw - mean) / std


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--detector", choices=("autoencoder", "anogan"), required=True)
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--classes", default="0,1,2,3,4,5,6,7,8,9")
    args = parser.parse_args()
    torch.set_num_threads(1)
    data = load_fashion_mnist()
    cls = with_pixels({"autoencoder": AutoEncoder, "anogan": AnoGAN}[args.detector])
    for seed in map(int, args.seeds.split(",")):
        for c in map(int, args.classes.split(",")):
            split = make_split(data, c, seed, SplitSettings(evaluate="validation",
                                                            validation_size=1000))
            det = cls(random_state=seed)
            start = time.perf_counter()
            det.fit(split.X_train)
            fit = time.perf_counter() - start
            z = component_zscores(det, split.X_eval, COMPONENTS)
            normal = split.y_eval == 1
            aurocs = {}
            for r in (1, 2, 3):
                for subset in itertools.combinations(range(3), r):
                    name = "+".join(COMPONENTS[i] for i in subset)
                    aurocs[name] = roc_auc_score(normal, -z[:, list(subset)].sum(1))
            flat = lambda a: a.reshape(len(a), -1)  # noqa: E731
            forest = IsolationForest(random_state=seed).fit(flat(split.X_train))
            aurocs["iforest-raw"] = roc_auc_score(normal, forest.score_samples(flat(split.X_eval)))
            print(json.dumps({"detector": args.detector, "normal_class": c, "seed": seed,
                              "fit_seconds": fit, "auroc": aurocs}), flush=True)


if __name__ == "__main__":
    main()
