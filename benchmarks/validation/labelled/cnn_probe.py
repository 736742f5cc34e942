"""Validation probe: does a learned-feature supervised component (the benchmark's balanced CNN
classifier) beside the pixel SVM and the pixel kNN reach K=9's target, and what does it cost at K=1/3?

Same carve as ``classifier_probe.py`` (the CLI's validation carve of the training split; the test
set is never read). Components, each z-scored on 10 % held-out training normals: the library's
pixel kNN (sqrt + 3x3 blur, k=5), the balanced RBF SVM on pixels (DeepSAD's default classifier) and
the benchmark's ``CNNClassifier`` (negated logit), fitted on the other 90 %. The z-scores of the
evaluation images are saved (``--scores DIR``) so that further sums need no refit.

Usage: python cnn_probe.py --known 9 --seeds 0 --out FILE.jsonl --scores DIR
"""
import argparse
import itertools
import os
import time

import numpy as np
import torch
from classifier_probe import carve, knn5, settings_for, standardise, write_combos
from sklearn.svm import SVC

from skanomaly.benchmark._peers import CNNClassifier
from skanomaly.benchmark._runner import make_split
from skanomaly.datasets import load_fashion_mnist
from skanomaly.nn import sqrt_blur


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--known", default="9")
    p.add_argument("--classes", default="0,1,2,3,4,5,6,7,8,9")
    p.add_argument("--seeds", default="0")
    p.add_argument("--out", required=True)
    p.add_argument("--scores", required=True)
    a = p.parse_args()
    torch.set_num_threads(1)
    os.makedirs(a.scores, exist_ok=True)
    data = load_fashion_mnist()
    for k in [int(v) for v in a.known.split(",")]:
        for seed in [int(v) for v in a.seeds.split(",")]:
            for c in [int(v) for v in a.classes.split(",")]:
                sp = make_split(data, c, seed, settings_for(k))
                X, E, y, held = carve(sp, seed)
                tr = ~held
                feat = lambda M: sqrt_blur(torch.as_tensor(M).reshape(-1, 1, 28, 28)).flatten(1).numpy()
                raw, secs = {}, {}
                bank = feat(X[tr & (y == 1)])
                raw["knn"] = (knn5(bank, feat(X[held])), knn5(bank, feat(E)))
                t = time.perf_counter()
                svm = SVC(C=1.0, gamma=1.0 / (X.shape[1] * X[tr].var()), class_weight="balanced")
                svm.fit(X[tr], y[tr])
                secs["svm"] = time.perf_counter() - t
                raw["svm"] = (-svm.decision_function(X[held]), -svm.decision_function(E))
                img = lambda M: M.reshape(-1, 1, 28, 28).astype(np.float32)
                t = time.perf_counter()
                cnn = CNNClassifier(random_state=seed).fit(img(X[tr]), y[tr])
                secs["cnn"] = time.perf_counter() - t
                raw["cnn"] = (-cnn.score_samples(img(X[held])), -cnn.score_samples(img(E)))
                z = standardise(raw)
                np.savez_compressed(os.path.join(a.scores, f"k{k}_c{c}_s{seed}.npz"),
                                    y_eval=np.asarray(sp.y_eval),
                                    eval_classes=np.asarray(sp.eval_classes), **z)
                combos = {n: z[n] for n in z}
                cl = {n: np.maximum(z[n], 0) for n in ("svm", "cnn")}
                for ws, wc in itertools.product((0, 0.5, 1, 2), (0, 0.5, 1, 2)):
                    if ws or wc:
                        combos[f"knn+{ws}*svmc+{wc}*cnnc"] = z["knn"] + ws * cl["svm"] + wc * cl["cnn"]
                combos["svm+cnn"] = z["svm"] + z["cnn"]
                write_combos(a.out, k, c, seed, sp, combos, secs)


if __name__ == "__main__":
    main()
