"""Weights of the pixel kNN, the clipped SVM and the clipped stronger CNN, from saved z-scores (no refit).

Reads the evaluation z-scores that ``cnn_probe.py`` (``knn``, ``svm``, the small ``cnn``) and
``cnn_plus_probe.py --save`` (the stronger CNN) wrote on the validation carve, and prints, per K, the
mean AUROC over the (class, seed) runs found of kNN + a * clip(svm) + b * clip(cnn+), on all anomalies
and on the unseen classes (K < 9), with the worst class margin over the small CNN classifier alone.

Usage: python cnn_plus_grid.py --known 9 --zscores DIR --zplus DIR --records FILE.jsonl [--variant aug20]
"""
import argparse

import numpy as np
from threshold_grid import load

from skanomaly.benchmark._runner import evaluate_scores


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--known", type=int, required=True)
    p.add_argument("--zscores", required=True)
    p.add_argument("--zplus", required=True)
    p.add_argument("--records", required=True, help="cnn_probe.py's records (the labelled classes)")
    p.add_argument("--variant", default="aug20")
    p.add_argument("--svm", default="0,0.5,1,2,4")
    p.add_argument("--cnn", default="0,0.5,1,2,4,8")
    a = p.parse_args()
    runs = load(a.zscores, a.zplus, a.records, a.variant).get(a.known, [])
    print(f"K={a.known}: {len(runs)} runs:", [(c, s) for c, s, _, _ in runs])
    clip = lambda v: np.maximum(v, 0)
    key = "auroc" if a.known == 9 else "auroc_unseen"
    base = [evaluate_scores(sp, -z["cnn"]) for _, _, sp, z in runs]
    rows = []
    for ws in [float(v) for v in a.svm.split(",")]:
        for wc in [float(v) for v in a.cnn.split(",")]:
            res = [evaluate_scores(sp, -(z["knn"] + ws * clip(z["svm"]) + wc * clip(z["plus"])))
                   for _, _, sp, z in runs]
            margin = min(r["auroc"] - b["auroc"] for r, b in zip(res, base, strict=True))
            rows.append((ws, wc, np.mean([r["auroc"] for r in res]), np.mean([r[key] for r in res]),
                         margin, [round(r[key], 4) for r in res]))
    for ws, wc, all_, sel, margin, per in sorted(rows, key=lambda r: -r[3]):
        print(f"svm {ws:3} cnn+ {wc:3}  all {all_:.4f}  {key} {sel:.4f}  worst margin over small CNN "
              f"{margin:+.4f}  {per}")
    small = np.mean([b[key] for b in base])
    plus = np.mean([evaluate_scores(sp, -z["plus"])[key] for _, _, sp, z in runs])
    print(f"small CNN alone {key} {small:.4f}; {a.variant} alone {plus:.4f}")


if __name__ == "__main__":
    main()
