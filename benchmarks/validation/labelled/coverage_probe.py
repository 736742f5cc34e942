"""Can a detector tell from its labels how many anomaly kinds they show? The simplest statistic.

For K = 1, 3, 9 known classes (the CLI's validation carve of the training split, ten normal classes, seeds
0 and 1), three statistics of the labelled anomalies in the pixels after ``sqrt_blur``: their mean pairwise
distance over that of as many normal training images; the exponential of the entropy of their assignment to
20 k-means clusters (of their 20 principal components); the variance share of their first two principal
components. Output: ``threshold/coverage_probe.txt``. The test set is never read.

Usage: python coverage_probe.py > threshold/coverage_probe.txt
"""
import numpy as np
import torch
from classifier_probe import settings_for
from sklearn.cluster import MiniBatchKMeans
from sklearn.decomposition import PCA

from skanomaly.benchmark._runner import make_split
from skanomaly.datasets import load_fashion_mnist
from skanomaly.nn import sqrt_blur


def feat(M):
    return sqrt_blur(torch.as_tensor(np.asarray(M, np.float32).reshape(-1, 1, 28, 28) / 255.0)).flatten(1)


def mpd(F):
    return torch.pdist(F).mean().item()


def main():
    torch.set_num_threads(2)
    data = load_fashion_mnist()
    out = {}
    for k in (1, 3, 9):
        for seed in (0, 1):
            for c in range(10):
                sp = make_split(data, c, seed, settings_for(k))
                y, X = np.asarray(sp.y_train), np.asarray(sp.X_train)
                A = feat(X[y == -1])
                N = feat(X[y == 1][np.random.RandomState(seed).permutation((y == 1).sum())[:len(A)]])
                a = A.numpy()
                lab = MiniBatchKMeans(20, random_state=0, n_init=3).fit_predict(
                    PCA(20, random_state=0).fit_transform(a))
                share = np.bincount(lab, minlength=20) / len(lab)
                share = share[share > 0]
                top2 = PCA(2, random_state=0).fit(a).explained_variance_ratio_.sum()
                out.setdefault(k, []).append((mpd(A) / mpd(N), np.exp(-(share * np.log(share)).sum()), top2))
    names = ("mean pairwise distance, labelled anomalies / as many normals",
             "exp(entropy) of their 20 k-means clusters", "variance share of their first 2 components")
    for k, v in out.items():
        for name, col in zip(names, np.asarray(v).T, strict=True):
            print(f"K={k}: {name}: min {col.min():.3f} median {np.median(col):.3f} max {col.max():.3f}")


if __name__ == "__main__":
    main()
