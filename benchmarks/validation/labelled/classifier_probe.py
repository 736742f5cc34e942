"""Validation probe: which supervised component beside the pixel kNN (logistic regression or an RBF SVM)?

On the benchmark CLI's validation carve of Fashion-MNIST's training split (the test set is never
read), for K = 1, 3, 9 known anomaly classes: the pixel kNN of the library (sqrt + 3x3 blur, k=5)
and several balanced classifiers on pixels, each z-scored on 10 % held-out training normals (as
the library does), combined as knn + w * clip(z_clf, 0) ("c") or knn + w * z_clf ("u").

Usage: python classifier_probe.py --known 1,3,9 --seeds 0 --out FILE.jsonl
"""
import argparse
import json
import time

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.svm import SVC

from skanomaly.benchmark._runner import SplitSettings, evaluate_scores, make_split
from skanomaly.datasets import load_fashion_mnist
from skanomaly.nn import sqrt_blur


def knn5(bank, Q, k=5):
    bank, Q = torch.as_tensor(bank, dtype=torch.float64), torch.as_tensor(Q, dtype=torch.float64)
    out = []
    for i in range(0, len(Q), 1000):
        d = torch.cdist(Q[i:i + 1000], bank)
        out.append(d.topk(k, largest=False).values.mean(1))
    return torch.cat(out).numpy()


def settings_for(k):
    """The CLI's validation carve for K known classes (K=1: 5 % of the training set)."""
    return SplitSettings(protocol="imbalanced", known_classes=k, evaluate="validation",
                         validation_size=1000,
                         labelled_share=0.05 if k == 1 else None, anomaly_ratio=0.05)


def carve(sp, seed):
    """Flat [0, 1] training and evaluation pixels, labels, and 10 % held-out normals."""
    X = np.asarray(sp.X_train, np.float64).reshape(len(sp.X_train), -1) / 255.0
    E = np.asarray(sp.X_eval, np.float64).reshape(len(sp.X_eval), -1) / 255.0
    y = np.asarray(sp.y_train)
    normal = np.flatnonzero(y == 1)
    held = np.zeros(len(y), bool)
    held[np.random.RandomState(seed).permutation(normal)[:round(0.1 * len(normal))]] = True
    return X, E, y, held


def standardise(raw):
    """name -> (held-out scores, evaluation scores) to the evaluation z-scores."""
    return {n: (e - h.mean()) / (h.std() or 1.0) for n, (h, e) in raw.items()}


def write_combos(path, k, c, seed, sp, combos, secs):
    """One JSON line per combined score: its AUROCs on the carve, and fit seconds."""
    with open(path, "a") as f:
        for name, s in combos.items():
            rec = {"K": k, "normal_class": c, "seed": seed, "combo": name,
                   "fit_seconds": secs.get(name), "known": sp.known,
                   **evaluate_scores(sp, -s)}
            f.write(json.dumps(rec) + "\n")
    print(k, seed, c, {n: round(v, 1) for n, v in secs.items()}, flush=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--known", default="1,3,9")
    p.add_argument("--classes", default="0,1,2,3,4,5,6,7,8,9")
    p.add_argument("--seeds", default="0")
    p.add_argument("--out", required=True)
    a = p.parse_args()
    torch.set_num_threads(1)
    data = load_fashion_mnist()
    for k in [int(v) for v in a.known.split(",")]:
        settings = settings_for(k)
        for seed in [int(v) for v in a.seeds.split(",")]:
            for c in [int(v) for v in a.classes.split(",")]:
                sp = make_split(data, c, seed, settings)
                X, E, y, held = carve(sp, seed)
                tr = ~held
                feat = lambda M: sqrt_blur(torch.as_tensor(M).reshape(-1, 1, 28, 28)).flatten(1).numpy()  # noqa: E731
                raw, secs = {}, {}
                bank = feat(X[tr & (y == 1)])
                raw["knn"] = (knn5(bank, feat(X[held])), knn5(bank, feat(E)))
                models = {
                    "logreg": lambda: LogisticRegression(C=0.01, class_weight="balanced", max_iter=2000),
                    "svc1": lambda: SVC(C=1.0, gamma="scale", class_weight="balanced"),
                    "svc10": lambda: SVC(C=10.0, gamma="scale", class_weight="balanced"),
                }
                for name, make in models.items():
                    t = time.perf_counter()
                    m = make().fit(X[tr], y[tr])
                    secs[name] = time.perf_counter() - t
                    raw[name] = (-m.decision_function(X[held]), -m.decision_function(E))
                z = standardise(raw)
                combos = {n: z[n] for n in z}
                for n in models:
                    for w in (0.25, 0.5, 1.0, 2.0):
                        combos[f"knn+{w}*{n}c"] = z["knn"] + w * np.maximum(z[n], 0)
                        combos[f"knn+{w}*{n}u"] = z["knn"] + w * z[n]
                write_combos(a.out, k, c, seed, sp, combos, secs)


if __name__ == "__main__":
    main()
