"""Validation only: can a per-pixel (marginal) term lift the AutoEncoder above raw-pixel IsolationForest
on ankle boots (the sneakers it misses), without costing the other classes?

IsolationForest splits on single pixels, so it sees a sneaker's missing shaft; the AutoEncoder's
residual and latent kNN do not (``ankle_boot.py``). Candidate terms, each fitted on 90 % of the normal
training images and z-scored on the other 10 %:

- ``diag_raw`` / ``diag_sb``: sum over pixels of the squared per-pixel z-score (a diagonal Gaussian),
  on the pixels in [0, 1] or after ``sqrt_blur``;
- ``hist``: per-pixel histogram negative log-likelihood (8 bins on [0, 1], add-one smoothing);
- ``mass``: absolute z-score of the total intensity.

The AutoEncoder's defaults are fitted once per (class, seed); its two components are z-scored on its own
held-out normals, as it scores. Scores on the benchmark's validation carve (the test set is never read);
z-scores saved with ``--scores DIR``.

    python benchmarks/validation/oneclass/marginal_component.py --seeds 0,1 \
        --out benchmarks/validation/oneclass/marginal_component.jsonl --scores DIR
"""

import argparse
import json
import os
import time

import numpy as np
import torch
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score

from skanomaly import AnoGAN, AutoEncoder
from skanomaly.benchmark._runner import SplitSettings, make_split
from skanomaly.datasets import load_fashion_mnist
from skanomaly.nn import sqrt_blur

from pixel_component import component_zscores

COMPONENTS = ["residual", "knn:latent"]


def pixel_terms(train, queries):
    """Raw marginal terms of ``queries`` (n, 784) in [0, 1], statistics from ``train``."""
    out = {}
    sb = lambda M: sqrt_blur(torch.as_tensor(M, dtype=torch.float32).reshape(-1, 1, 28, 28)).flatten(1).numpy()
    for name, f in (("diag_raw", lambda M: M), ("diag_sb", sb)):
        T, Q = f(train), f(queries)
        mu, sd = T.mean(0), T.std(0) + 0.05
        out[name] = (((Q - mu) / sd) ** 2).sum(1)
    bins = np.minimum((train * 8).astype(int), 7)
    counts = np.stack([(bins == b).sum(0) for b in range(8)]) + 1.0   # (8, 784)
    logp = np.log(counts / counts.sum(0))
    qb = np.minimum((queries * 8).astype(int), 7)
    out["hist"] = -logp[qb, np.arange(784)].sum(1)
    mass_t = train.sum(1)
    out["mass"] = np.abs(queries.sum(1) - mass_t.mean()) / mass_t.std()
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--detector", choices=("autoencoder", "anogan"), default="autoencoder")
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--classes", default="9,5,0,1,2,3,4,6,7,8")
    parser.add_argument("--out", required=True)
    parser.add_argument("--scores", required=True)
    args = parser.parse_args()
    torch.set_num_threads(1)
    os.makedirs(args.scores, exist_ok=True)
    data = load_fashion_mnist()
    cls = {"autoencoder": AutoEncoder, "anogan": AnoGAN}[args.detector]
    for seed in map(int, args.seeds.split(",")):
        for c in map(int, args.classes.split(",")):
            split = make_split(data, c, seed, SplitSettings(evaluate="validation",
                                                            validation_size=1000))
            det = cls(pixel_weight=0.0, random_state=seed)  # the score before the pixel term
            start = time.perf_counter()
            det.fit(split.X_train)
            fit = time.perf_counter() - start
            zscores = component_zscores(det, split.X_eval, COMPONENTS)
            z = {name: zscores[:, i] for i, name in enumerate(COMPONENTS)}
            flat = lambda a: np.asarray(a, np.float64).reshape(len(a), -1) / 255.0
            X = flat(split.X_train)
            held = np.zeros(len(X), bool)
            held[np.random.RandomState(seed).permutation(len(X))[:len(X) // 10]] = True
            h, e = pixel_terms(X[~held], X[held]), pixel_terms(X[~held], flat(split.X_eval))
            for name in h:
                z[name] = (e[name] - h[name].mean()) / h[name].std()
            forest = IsolationForest(random_state=seed).fit(X)
            z["iforest"] = -forest.score_samples(flat(split.X_eval))
            np.savez_compressed(os.path.join(args.scores, f"{args.detector}_c{c}_s{seed}.npz"),
                                y_eval=split.y_eval, eval_classes=split.eval_classes, **z)
            normal = split.y_eval == 1
            base = z["residual"] + z["knn:latent"]
            combos = {n: v for n, v in z.items()}
            combos["default"] = base
            for name in ("diag_raw", "diag_sb", "hist", "mass"):
                for w in (0.5, 1.0):
                    combos[f"default+{w}*{name}"] = base + w * z[name]
            aurocs, per_class = {}, {}
            for n, s in combos.items():
                aurocs[n] = roc_auc_score(normal, -s)
                per_class[n] = {int(k): round(roc_auc_score(normal[normal | (split.eval_classes == k)],
                                                            -s[normal | (split.eval_classes == k)]), 4)
                                for k in np.unique(split.eval_classes[~normal])}
            print(json.dumps({"detector": args.detector, "normal_class": c, "seed": seed,
                              "fit_seconds": fit, "auroc": aurocs, "per_class": per_class}),
                  flush=True)
            with open(args.out, "a") as f:
                f.write(json.dumps({"detector": args.detector, "normal_class": c, "seed": seed,
                                    "fit_seconds": fit, "auroc": aurocs,
                                    "per_class": per_class}) + "\n")


if __name__ == "__main__":
    main()
