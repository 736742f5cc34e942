"""Can a detector tell from its labels how many anomaly kinds they show? The simplest statistic.

For K = 1, 3, 9 known classes (the CLI's validation carve of the training split, ten normal classes, seeds
0 and 1): the mean pairwise distance of the labelled anomalies over that of as many normal training images, in
the pixels after ``sqrt_blur``. Output: ``threshold/coverage_probe.txt``. The test set is never read.

Usage: python coverage_probe.py > threshold/coverage_probe.txt
"""
import numpy as np
import torch
from skanomaly.benchmark._runner import make_split
from skanomaly.datasets import load_fashion_mnist
from skanomaly.nn import sqrt_blur

from classifier_probe import settings_for

torch.set_num_threads(2)
data = load_fashion_mnist()


def feat(M):
    return sqrt_blur(torch.as_tensor(np.asarray(M, np.float32).reshape(-1, 1, 28, 28) / 255.0)).flatten(1)


def mpd(F):
    return torch.pdist(F).mean().item()


out = {}
for k in (1, 3, 9):
    for seed in (0, 1):
        for c in range(10):
            sp = make_split(data, c, seed, settings_for(k))
            y, X = np.asarray(sp.y_train), np.asarray(sp.X_train)
            A = feat(X[y == -1])
            N = feat(X[y == 1][np.random.RandomState(seed).permutation((y == 1).sum())[:len(A)]])
            out.setdefault(k, []).append(mpd(A) / mpd(N))
for k, v in out.items():
    print(f"K={k}: mean pairwise distance, labelled anomalies / as many normals: "
          f"min {min(v):.3f} median {np.median(v):.3f} max {max(v):.3f}")
