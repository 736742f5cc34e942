"""Validation: DeepSAD's components with an RBF SVM as the classifier, weighed afterwards.

Reads the component z-scores saved by ``guard.py --scores`` (distance, pixel kNN, logistic
regression; one DeepSAD fit per class, seed and K on the CLI's validation carve), fits the
balanced RBF SVM the library now uses (C=1, gamma = 1 / (n_features * X.var())) on the same
training images less 10 % held-out normals (its z-scores are standardised on those, as the
library does; the held-out images differ from the DeepSAD fit's, which only moves the
standardisation by sampling noise), and scores weightings of the components.

Usage: python svm_combos.py --scores DIR[,DIR] --known 1,3,9 --out FILE.jsonl
"""
import argparse
import itertools
import json
import os

import numpy as np
from sklearn.svm import SVC

from skanomaly.benchmark._runner import evaluate_scores, make_split
from skanomaly.datasets import load_fashion_mnist

from classifier_probe import carve, settings_for


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--scores", required=True)
    p.add_argument("--known", default="1,3,9")
    p.add_argument("--classes", default="0,1,2,3,4,5,6,7,8,9")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True)
    a = p.parse_args()
    data = load_fashion_mnist()
    folders = a.scores.split(",")
    for k in [int(v) for v in a.known.split(",")]:
        settings = settings_for(k)
        for c in [int(v) for v in a.classes.split(",")]:
            name = f"new_K{k}_c{c}_s{a.seed}.npz"
            path = next(f"{d}/{name}" for d in folders if os.path.exists(f"{d}/{name}"))
            saved = np.load(path)
            names = list(saved["names"])
            z = {n: saved["z"][:, i] for i, n in enumerate(names)}
            sp = make_split(data, c, a.seed, settings)
            assert np.array_equal(saved["y_eval"], sp.y_eval)
            X, E, y, held = carve(sp, a.seed)
            Xt = X[~held]
            svm = SVC(C=1.0, gamma=1.0 / (Xt.shape[1] * Xt.var()), class_weight="balanced")
            svm.fit(Xt, y[~held])
            h, e = -svm.decision_function(X[held]), -svm.decision_function(E)
            z["svm"] = (e - h.mean()) / h.std()
            for clf, wd, wc in itertools.product(
                    ("classifier", "svm"), (0.0, 0.25, 0.5), (0.25, 0.5, 0.75, 1.0, 1.5, 2.0)):
                score = wd * z["distance"] + z["knn:pixels"] + wc * np.maximum(z[clf], 0)
                rec = {"K": k, "normal_class": c, "seed": a.seed,
                       "combo": f"{clf}:d{wd}:c{wc}", "known": sp.known,
                       **evaluate_scores(sp, -score)}
                with open(a.out, "a") as f:
                    f.write(json.dumps(rec) + "\n")
            print(k, c, flush=True)


if __name__ == "__main__":
    main()
