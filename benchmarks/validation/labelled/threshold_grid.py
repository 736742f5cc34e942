"""Where should the supervised components' one-sided z-scores start to count?

DeepSAD adds its supervised components (the pixel SVM, the CNN) as ``w * max(z, 0)``: a z-score on
held-out training normals, clipped at 0, so that about half of the normal images are raised by them.
This reads the validation z-scores that ``cnn_probe.py`` (kNN, SVM, small CNN) and
``cnn_plus_probe.py --save`` (the stronger CNN, ``aug20``) wrote, and prints, for thresholds ``t``,
the mean AUROC over the ten classes of ``knn + a * max(z_svm - t, 0) + b * max(z_cnn - t, 0)`` at
K=1 (all, unseen), K=3 (unseen) and K=9 (all), with the worst per-class change on the unseen classes
against the kNN alone (the one-class part) at K=1 and K=3 and the worst K=9 class margin over the
small CNN classifier. Rows are ranked by the earlier studies' criterion, the mean of K=1 all and K=3
unseen. The test set is never read.

Usage: python threshold_grid.py --zscores DIR --zplus DIR --records K1.jsonl,K3.jsonl,K9.jsonl
"""
import argparse
import itertools
import json
import os
import types

import numpy as np

from skanomaly.benchmark._runner import evaluate_scores


def load(zscores, zplus, records, variant="aug20", need_plus=True):
    """K -> [(normal class, seed, split, z-scores)] of the saved validation z-scores.

    ``records``: the probes' JSON lines (comma-separated files), which say the labelled classes of
    each run; ``z["plus"]`` is the stronger CNN's z-score (``cnn_plus_probe.py --save``); runs without
    it are left out when ``need_plus``.
    """
    known = {}
    for path in records.split(","):
        with open(path) as f:
            for line in f:
                r = json.loads(line)
                known[(r["K"], r["normal_class"], r["seed"])] = r["known"]
    runs = {}
    for (k, c, seed), kn in sorted(known.items()):
        plus = os.path.join(zplus, f"k{k}_c{c}_s{seed}_{variant}.npz")
        if need_plus and not os.path.exists(plus):
            continue
        z = dict(np.load(os.path.join(zscores, f"k{k}_c{c}_s{seed}.npz")))
        if os.path.exists(plus):
            z["plus"] = np.load(plus)["z"]
        unseen = [j for j in range(10) if j != c and j not in kn]
        split = types.SimpleNamespace(y_eval=z["y_eval"], eval_classes=z["eval_classes"], known=kn,
                                      unseen=unseen)
        runs.setdefault(k, []).append((c, seed, split, z))
    return runs


def per_class(runs, pairs):
    for k in sorted(k for k in runs if k < 9):
        for t, ws in pairs:
            diff = {}
            for c, _, sp, z in runs[k]:
                base = evaluate_scores(sp, -z["knn"])["auroc_unseen"]
                new = evaluate_scores(sp, -(z["knn"] + ws * np.maximum(z["svm"] - t, 0)))["auroc_unseen"]
                diff.setdefault(c, []).append(new - base)
            print(f"K={k} t={t} svm={ws}: " + " ".join(f"{c}:{np.mean(v):+.4f}(n={len(v)})"
                                                     for c, v in sorted(diff.items()))
                  + f"  worst {min(np.mean(v) for v in diff.values()):+.4f}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--zscores", required=True)
    p.add_argument("--zplus", required=True)
    p.add_argument("--records", required=True)
    p.add_argument("--t", default="0,0.5,1,1.5,2,3")
    p.add_argument("--svm", default="0,0.5,1,2,4")
    p.add_argument("--cnn", default="0,0.5,1,2,4,8")
    p.add_argument("--per-class", default="",
                   help="t:svm pairs, e.g. 0:0.5,0:0.25: per normal class, the mean over seeds of the "
                        "change on the unseen classes against the kNN alone (kNN + svm * clip(z - t))")
    a = p.parse_args()
    runs = load(a.zscores, a.zplus, a.records, need_plus=a.cnn != "0")
    if a.per_class:
        per_class(runs, [tuple(float(v) for v in pair.split(":")) for pair in a.per_class.split(",")])
        return
    print("runs:", {k: len(v) for k, v in runs.items()})
    ev = {k: [(sp, z, evaluate_scores(sp, -z["knn"]), evaluate_scores(sp, -z["cnn"]))
              for _, _, sp, z in v] for k, v in runs.items()}
    rows = []
    for t, ws, wc in itertools.product(*([float(v) for v in s.split(",")] for s in (a.t, a.svm, a.cnn))):
        row = {"t": t, "svm": ws, "cnn": wc}
        for k, items in ev.items():
            res = [evaluate_scores(sp, -(z["knn"] + ws * np.maximum(z["svm"] - t, 0)
                                         + (wc * np.maximum(z["plus"] - t, 0) if wc else 0.0)))
                   for sp, z, _, _ in items]
            row[f"K{k} all"] = np.mean([r["auroc"] for r in res])
            if k < 9:
                row[f"K{k} unseen"] = np.mean([r["auroc_unseen"] for r in res])
                row[f"K{k} worst vs kNN"] = min(r["auroc_unseen"] - knn["auroc_unseen"]
                                                for r, (_, _, knn, _) in zip(res, items, strict=True))
            else:
                row["K9 worst vs CNN"] = min(r["auroc"] - cnn["auroc"]
                                             for r, (_, _, _, cnn) in zip(res, items, strict=True))
        rows.append(row)
    keys = [k for k in rows[0] if k not in ("t", "svm", "cnn")]
    print("t svm cnn " + " | ".join(keys))
    # the criterion of the earlier weight studies: mean of K=1 all and K=3 unseen (K=9 all without them)
    crit = lambda r: (np.mean([r["K1 all"], r["K3 unseen"]]) if "K1 all" in r and "K3 unseen" in r
                      else r.get("K9 all", np.nan))
    for r in sorted(rows, key=lambda r: -crit(r)):
        print(f"{r['t']:3} {r['svm']:3} {r['cnn']:3} " + " | ".join(f"{r[k]:+.4f}" if "worst" in k else
                                                                 f"{r[k]:.4f}" for k in keys)
              + f" | crit {crit(r):.4f}")


if __name__ == "__main__":
    main()
