"""Can a non-linear rule combine DeepSAD's score components better than the clipped sum?

``threshold_grid.py`` showed that DeepSAD's clipped sum ``knn + a max(z_svm - t, 0) + b max(z_cnn - t, 0)``
trades the kinds the labels never showed (K=1, K=3) against the labelled kinds (K=9): no ``t``, ``a``, ``b``
reaches 0.985 at K=9 without losing on K=1's unseen classes. This asks whether another rule escapes the
trade-off, on the same validation z-scores (the test set is never read). Families, each over a grid:

- ``lin``: the clipped sum above (``t`` the threshold);
- ``gate``: ``knn + (a max(z_svm, 0) + b max(z_cnn, 0)) * sigmoid(s (knn - m))``: the supervised
  components count only where the one-class part already finds the image unusual, so that normals the
  classifiers find a little like the labelled kinds are not raised;
- ``max``: ``max(knn, a z_svm, b z_cnn)``;
- ``lse``: ``log(exp(knn) + exp(a z_svm) + exp(b z_cnn))``, a smooth maximum.

It prints every rule's mean AUROC (K=1 all and unseen, K=3 unseen, K=9 all) with the worst run's change on
the unseen classes against the kNN alone, then, per family, the rule with the best K=1 unseen AUROC among
those that reach a K=9 level (``--k9``).

Usage: python combination_rules.py --zscores DIR --zplus DIR --records K1.jsonl,K3.jsonl,K9.jsonl
"""
import argparse
import itertools

import numpy as np
from threshold_grid import load

from skanomaly.benchmark._runner import evaluate_scores


def relu(x):
    return np.maximum(x, 0)


def rules():
    """(family, parameters, score function of the z-score dict): higher is more anomalous."""
    out = []
    weights = [(0.25, 0), (0.5, 0.5), (0.5, 1), (1, 1), (1, 2), (2, 2), (2, 4), (4, 8)]
    for t, (a, b) in itertools.product([0, 0.5, 1, 2], weights):
        out.append(("lin", f"t={t} a={a} b={b}",
                    lambda z, t=t, a=a, b=b: z["knn"] + a * relu(z["svm"] - t) + b * relu(z["plus"] - t)))
    for s, m, (a, b) in itertools.product([1, 2, 4], [-1, 0, 1, 2], weights):
        out.append(("gate", f"s={s} m={m} a={a} b={b}",
                    lambda z, s=s, m=m, a=a, b=b: z["knn"] + (a * relu(z["svm"]) + b * relu(z["plus"]))
                    / (1 + np.exp(-s * (z["knn"] - m)))))
    for a, b in [(0.5, 0.5), (0.5, 1), (1, 1), (1, 2), (0.25, 0.5), (0.5, 0.25)]:
        out.append(("max", f"a={a} b={b}",
                    lambda z, a=a, b=b: np.maximum.reduce([z["knn"], a * z["svm"], b * z["plus"]])))
        out.append(("lse", f"a={a} b={b}",
                    lambda z, a=a, b=b: np.logaddexp.reduce([z["knn"], a * z["svm"], b * z["plus"]])))
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--zscores", required=True)
    p.add_argument("--zplus", required=True)
    p.add_argument("--records", required=True)
    p.add_argument("--k9", type=float, default=0.985)
    a = p.parse_args()
    runs = load(a.zscores, a.zplus, a.records)
    print("runs:", {k: len(v) for k, v in sorted(runs.items())})
    base = {k: [evaluate_scores(sp, -z["knn"]) for _, _, sp, z in v] for k, v in runs.items()}
    rows = []
    keys = ["K1 all", "K1 unseen", "K1 worst vs kNN", "K3 unseen", "K3 worst vs kNN", "K9 all"]
    print("family params | " + " | ".join(keys))
    knn_row = {"K1 all": np.mean([r["auroc"] for r in base[1]]),
               "K1 unseen": np.mean([r["auroc_unseen"] for r in base[1]]), "K1 worst vs kNN": 0.0,
               "K3 unseen": np.mean([r["auroc_unseen"] for r in base[3]]), "K3 worst vs kNN": 0.0,
               "K9 all": np.mean([r["auroc"] for r in base[9]])}
    print("kNN alone | " + " | ".join(f"{knn_row[k]:.4f}" for k in keys), flush=True)
    for family, params, f in rules():
        row = {"family": family, "params": params}
        for k, items in sorted(runs.items()):
            res = [evaluate_scores(sp, -f(z)) for _, _, sp, z in items]
            if k == 9:
                row["K9 all"] = np.mean([r["auroc"] for r in res])
                continue
            if k == 1:
                row["K1 all"] = np.mean([r["auroc"] for r in res])
            row[f"K{k} unseen"] = np.mean([r["auroc_unseen"] for r in res])
            row[f"K{k} worst vs kNN"] = min(r["auroc_unseen"] - b["auroc_unseen"]
                                            for r, b in zip(res, base[k], strict=True))
        rows.append(row)
        print(f"{family} {params} | " + " | ".join(f"{row[k]:.4f}" for k in keys), flush=True)
    print(f"\nper family, the best K=1 unseen AUROC among the rules with K=9 all >= {a.k9} "
          f"(kNN alone: K=1 unseen {knn_row['K1 unseen']:.4f}):")
    for family in dict.fromkeys(r["family"] for r in rows):
        ok = [r for r in rows if r["family"] == family and r["K9 all"] >= a.k9]
        if not ok:
            print(f"{family}: none reaches it (best K=9 "
                  f"{max(r['K9 all'] for r in rows if r['family'] == family):.4f})")
            continue
        r = max(ok, key=lambda r: r["K1 unseen"])
        print(f"{family} {r['params']} | " + " | ".join(f"{k} {r[k]:.4f}" for k in keys))


if __name__ == "__main__":
    main()
