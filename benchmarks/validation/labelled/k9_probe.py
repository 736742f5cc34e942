"""K=9 probe (validation only): which cheap supervised score ranks best when labels cover all nine kinds?

Same split as common.py (K=9: 250 labelled anomalies, 28/28/.../27). Prints one JSON line per
(class, seed, method) with validation AUROC (all). Components z-scored on the 500 held-out normals.
Usage: python k9_probe.py SEED [CLASSES]
"""
import json
import sys
import time

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.svm import SVC

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from common import data, split  # noqa: E402


def knn_dist(bank, Q, k=5):
    bb = (bank ** 2).sum(1)
    out = []
    for i in range(0, len(Q), 1000):
        q = Q[i:i + 1000]
        d = (q ** 2).sum(1)[:, None] + bb[None] - 2 * q @ bank.T
        d = np.sqrt(np.maximum(np.partition(d, k, axis=1)[:, :k], 0))
        out.append(d.mean(1))
    return np.concatenate(out)


def main():
    seed = int(sys.argv[1])
    classes = [int(c) for c in sys.argv[2].split(",")] if len(sys.argv) > 2 else range(10)
    X, _ = data()
    for c in classes:
        sp = split(c, seed, 9)
        f = lambda idx: X[idx].reshape(len(idx), -1).astype(np.float64) / 255.0  # noqa: E731
        Xn, Xa = f(sp["fit_n"]), f(sp["lab_a"])
        E = np.concatenate([f(sp["cal_n"]), f(sp["val_n"]), f(sp["val_a"])])
        nc, nv = len(sp["cal_n"]), len(sp["val_n"])
        Xtr = np.concatenate([Xn, Xa])
        ytr = np.r_[np.zeros(len(Xn)), np.ones(len(Xa))]
        S = {}
        t = time.time(); S["knn5"] = knn_dist(Xn, E); tk = time.time() - t
        S["knn_ratio"] = np.log(S["knn5"] + 1e-9) - np.log(knn_dist(Xa, E, k=1) + 1e-9)
        for C in (0.01, 0.1):
            m = LogisticRegression(C=C, class_weight="balanced", max_iter=2000).fit(Xtr, ytr)
            S[f"logreg_C{C}"] = m.decision_function(E)
        for C in (1.0, 10.0):
            t = time.time()
            m = SVC(C=C, kernel="rbf", gamma="scale", class_weight="balanced").fit(Xtr, ytr)
            S[f"svc_C{C}"] = m.decision_function(E)
            S[f"svc_C{C}_s"] = time.time() - t
        Z = {}
        for k, v in S.items():
            if k.endswith("_s"):
                continue
            mu, sd = v[:nc].mean(), v[:nc].std() + 1e-12
            Z[k] = (v - mu) / sd
        for a in ("logreg_C0.01", "svc_C1.0", "svc_C10.0"):
            for w in (0.5, 1.0, 2.0):
                Z[f"knn5+{w}*{a}"] = Z["knn5"] + w * Z[a]
        Z["knn5+svc10+logreg"] = Z["knn5"] + Z["svc_C10.0"] + Z["logreg_C0.01"]
        y = np.r_[np.zeros(nv), np.ones(len(sp["val_a"]))]
        for k, v in Z.items():
            auc = roc_auc_score(y, v[nc:])
            print(json.dumps(dict(c=c, seed=seed, method=k, all=round(auc, 4),
                                  fit_s=round(S.get(k + "_s", 0), 1))), flush=True)


if __name__ == "__main__":
    main()
