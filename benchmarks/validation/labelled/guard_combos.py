"""Weights of DeepSAD's score components, on the z-scores saved by guard.py.

For each saved validation run (``guard/scores/new_K{K}_c{c}_s{seed}.npz``)
the score ``w_d z_distance + w_k z_knn + w_c max(z_classifier, 0)`` is formed for
a grid of weights; printed: the mean AUROC over the normal classes on all
anomalies and on the unseen classes, per K, and the criterion fixed before
looking: the mean of the K=1 AUROC on all anomalies and the K=3 AUROC on the
unseen classes (the issue's two targets).

Usage::

    python benchmarks/validation/labelled/guard_combos.py > guard/combos.txt
"""

import glob
import os

import numpy as np
from sklearn.metrics import roc_auc_score

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "guard", "scores")


def aurocs(path, w_d, w_k, w_c):
    run = np.load(path)
    z = dict(zip(run["names"], run["z"].T, strict=True))
    score = w_d * z["distance"] + w_k * z["knn:pixels"] + w_c * np.maximum(z["classifier"], 0)
    normal = run["y_eval"] == 1
    unseen = normal | ~np.isin(run["eval_classes"], run["known"])
    # y_eval: 1 normal, -1 anomaly; the score is higher for anomalies
    return (roc_auc_score(~normal, score),
            roc_auc_score(~normal[unseen], score[unseen]))


def main():
    runs = {k: sorted(glob.glob(f"{HERE}/new_K{k}_c*_s0.npz")) for k in (1, 3)}
    print("runs:", {k: len(v) for k, v in runs.items()})
    rows = []
    for w_d in (0.0, 0.25, 0.5, 0.75, 1.0, 1.5):
        for w_c in (0.0, 0.25, 0.5, 0.75, 1.0):
            res = {k: np.mean([aurocs(p, w_d, 1.0, w_c) for p in v], axis=0)
                   for k, v in runs.items()}
            crit = (res[1][0] + res[3][1]) / 2
            rows.append((crit, w_d, w_c, res))
    print("w_distance w_classifier | K=1 all unseen | K=3 all unseen | criterion")
    for crit, w_d, w_c, res in rows:
        print(f"{w_d:4.2f} {w_c:4.2f} | {res[1][0]:.4f} {res[1][1]:.4f} | "
              f"{res[3][0]:.4f} {res[3][1]:.4f} | {crit:.5f}")


if __name__ == "__main__":
    main()
