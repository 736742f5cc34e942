"""Validation: which CNN features and One-Class SVM settings make CNNOneClassSVM's default.

For each normal class (seed 0): one rotation-trained CNNFeatures (the default
backbone, trained once), then One-Class SVMs on its features -- globally
averaged maps ('mean') or maps kept on a coarse grid ('grid'), standardised
or not, several nu -- and, for reference, the kNN on the same features and
on the pixels. Validation carve of Fashion-MNIST's training split (the test
set is never read). One JSON line per (class, scorer) to OUT.

    python cnn_ocsvm.py --classes 0,2,4,6 --out cnn_ocsvm.jsonl

A second pass, the grid features standardised, wider kernels (``--gammas``:
multiples of scikit-learn's 'scale', 1 / n_features on standardised features),
with the features cached in ``--cache`` so that the CNN is trained once a class::

    python cnn_ocsvm.py --classes 0,2,4,6,9 --gammas 1,2,4,8,16 --nus 0.1,0.5 \
        --cache FEATURES_DIR --out cnn_ocsvm_gamma.jsonl
"""

import argparse
import json
import time

import numpy as np
import torch
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import StandardScaler
from sklearn.svm import OneClassSVM

from skanomaly import CNNFeatures, KNNDetector
from skanomaly.benchmark._runner import SplitSettings, make_split
from skanomaly.datasets import load_fashion_mnist


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--classes", default="0,2,4,6")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="cnn_ocsvm.jsonl")
    parser.add_argument("--gammas", default=None,
                        help="second pass: multiples of gamma='scale' (grid, scaled only)")
    parser.add_argument("--nus", default="0.5,0.1,0.01")
    parser.add_argument("--cache", default=None, help="folder of cached features")
    args = parser.parse_args()
    torch.set_num_threads(1)
    data = load_fashion_mnist()
    settings = SplitSettings(protocol="one-class", evaluate="validation", validation_size=1000)
    for c in [int(v) for v in args.classes.split(",")]:
        split = make_split(data, c, args.seed, settings)
        X, Xv, yv = split.X_train, split.X_eval, split.y_eval
        cached = None if args.cache is None else f"{args.cache}/c{c}_s{args.seed}.npz"
        if args.gammas is not None:
            second_pass(args, c, cached, X, Xv, yv)
            continue
        t = time.time()
        cnn = CNNFeatures(pooling="grid", random_state=args.seed, n_threads=1).fit(X)
        fit_s = time.time() - t
        ext = cnn.extractor_
        feats = {}
        for name, data_ in (("train", X), ("val", Xv)):
            x = torch.as_tensor(np.asarray(data_, np.float32) / 255.0)
            x = x[:, None] if x.dim() == 3 else x
            grid, mean = [], []
            ext.eval()
            with torch.no_grad():
                for i in range(0, len(x), 512):
                    p = ext.prepare(x[i:i + 512])
                    grid.append(ext.grid_features(p).numpy())
                    mean.append(ext.embed(p).numpy())
            feats[name] = {"grid": np.concatenate(grid).astype(np.float64),
                           "mean": np.concatenate(mean).astype(np.float64)}
        rows = []
        for space in ("grid", "mean"):
            ftr, fva = feats["train"][space], feats["val"][space]
            for scale in (True, False):
                if scale:
                    sc = StandardScaler().fit(ftr)
                    a, b = sc.transform(ftr), sc.transform(fva)
                else:
                    a, b = ftr, fva
                for nu in (0.5, 0.1, 0.01):
                    for gamma in ("scale", "half", "double"):
                        g = 1.0 / (a.shape[1] * a.var())
                        g = {"scale": g, "half": g / 2, "double": g * 2}[gamma]
                        t0 = time.time()
                        svm = OneClassSVM(nu=nu, gamma=g).fit(a)
                        s = svm.score_samples(b)
                        rows.append({"scorer": "ocsvm", "space": space, "scaled": scale,
                                     "nu": nu, "gamma": gamma,
                                     "auroc": roc_auc_score(yv, s),
                                     "seconds": time.time() - t0})
            knn = KNNDetector(preprocessing=None).fit(ftr)
            rows.append({"scorer": "knn", "space": space,
                         "auroc": roc_auc_score(yv, knn.score_samples(fva))})
        pix = KNNDetector().fit(X)
        rows.append({"scorer": "knn", "space": "pixels-sqrt-blur",
                     "auroc": roc_auc_score(yv, pix.score_samples(Xv))})
        rows.append({"scorer": "rotation", "space": "head",
                     "auroc": roc_auc_score(yv, cnn.rotation_score(Xv))})
        with open(args.out, "a") as f:
            for r in rows:
                f.write(json.dumps({"normal_class": c, "seed": args.seed,
                                    "cnn_fit_s": fit_s, **r}) + "\n")
        best = max((r for r in rows if r["scorer"] == "ocsvm"), key=lambda r: r["auroc"])
        print(c, "cnn", round(fit_s), "best ocsvm", best, flush=True)


def second_pass(args, c, cached, X, Xv, yv):
    """OCSVMs of wider kernels on the standardised grid features (cached)."""
    import os

    if cached and os.path.exists(cached):
        saved = np.load(cached)
        ftr, fva, fit_s = saved["train"], saved["val"], float(saved["fit_s"])
    else:
        t = time.time()
        cnn = CNNFeatures(pooling="grid", random_state=args.seed, n_threads=1).fit(X)
        fit_s = time.time() - t
        ftr, fva = cnn.transform(X), cnn.transform(Xv)
        if cached:
            os.makedirs(os.path.dirname(cached), exist_ok=True)
            np.savez(cached, train=ftr, val=fva, fit_s=fit_s)
    sc = StandardScaler().fit(ftr)
    a, b = sc.transform(ftr), sc.transform(fva)
    base = 1.0 / (a.shape[1] * a.var())
    with open(args.out, "a") as f:
        for nu in [float(v) for v in args.nus.split(",")]:
            for m in [float(v) for v in args.gammas.split(",")]:
                t0 = time.time()
                s = OneClassSVM(nu=nu, gamma=m * base).fit(a).score_samples(b)
                row = {"normal_class": c, "seed": args.seed, "cnn_fit_s": fit_s,
                       "scorer": "ocsvm", "space": "grid", "scaled": True, "nu": nu,
                       "gamma_multiple": m, "auroc": roc_auc_score(yv, s),
                       "seconds": time.time() - t0}
                f.write(json.dumps(row) + "\n")
                print(c, nu, m, round(row["auroc"], 4), round(row["seconds"], 1), flush=True)


if __name__ == "__main__":
    main()
