"""Validation probe: variants of the balanced RBF SVM component (features, gamma, flips).

Same carve and z-scoring as classifier_probe.py. Variants: pixels or sqrt+blur features,
gamma = 'scale' x {0.5, 1, 2}, and the training set doubled by horizontal flips.

Usage: python svm_probe.py --known 9 --seeds 0 --out FILE.jsonl
"""
import argparse
import time

import numpy as np
import torch
from sklearn.svm import SVC

from skanomaly.benchmark._runner import make_split
from skanomaly.datasets import load_fashion_mnist
from skanomaly.nn import sqrt_blur

from classifier_probe import carve, knn5, settings_for, standardise, write_combos


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--known", default="9")
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
                sb = lambda M: sqrt_blur(torch.as_tensor(M).reshape(-1, 1, 28, 28)).flatten(1).numpy()  # noqa: E731
                flip = lambda M: M.reshape(-1, 28, 28)[:, :, ::-1].reshape(len(M), -1)  # noqa: E731
                raw, secs = {}, {}
                bank = sb(X[tr & (y == 1)])
                raw["knn"] = (knn5(bank, sb(X[held])), knn5(bank, sb(E)))
                variants = {
                    "px_g1": (lambda M: M, 1.0, False),
                    "px_g0.5": (lambda M: M, 0.5, False),
                    "px_g2": (lambda M: M, 2.0, False),
                    "sb_g1": (sb, 1.0, False),
                    "px_g1_flip": (lambda M: M, 1.0, True),
                    "sb_g1_flip": (sb, 1.0, True),
                }
                for name, (f, g, fl) in variants.items():
                    Xt, yt = X[tr], y[tr]
                    if fl:
                        Xt, yt = np.concatenate([Xt, flip(Xt)]), np.r_[yt, yt]
                    Ft = f(Xt)
                    gamma = g / (Ft.shape[1] * Ft.var())
                    t = time.perf_counter()
                    m = SVC(C=1.0, gamma=gamma, class_weight="balanced").fit(Ft, yt)
                    secs[name] = time.perf_counter() - t
                    raw[name] = (-m.decision_function(f(X[held])), -m.decision_function(f(E)))
                z = standardise(raw)
                combos = {n: z[n] for n in z}
                for n in variants:
                    for w in (1.0, 2.0):
                        combos[f"knn+{w}*{n}c"] = z["knn"] + w * np.maximum(z[n], 0)
                write_combos(a.out, k, c, seed, sp, combos, secs)


if __name__ == "__main__":
    main()
