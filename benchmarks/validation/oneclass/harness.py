"""Shared evaluation loop: splits, held-out normals for standardisation, raw baselines, z-score combos, jsonl logging."""
import argparse
from common import *
import torch.nn.functional as F
from sklearn.neighbors import NearestNeighbors
from sklearn.ensemble import IsolationForest
from sklearn.svm import OneClassSVM

def base_parser():
    p = argparse.ArgumentParser()
    p.add_argument("--classes", default="0,2,4,6"); p.add_argument("--seeds", default="0")
    p.add_argument("--data", default="fmnist")  # fmnist | digits
    p.add_argument("--n_train", type=int, default=5000)  # fmnist only: subsample for small-data tests
    p.add_argument("--holdout", type=float, default=0.1)
    p.add_argument("--tag", default=""); p.add_argument("--out", default=None)
    return p

def l2n(z): return z / (np.linalg.norm(z, axis=1, keepdims=True) + 1e-8)

def knn(bank, q, k):
    k = min(k, len(bank))
    d, _ = NearestNeighbors(n_neighbors=k).fit(bank).kneighbors(q)
    return -d.mean(1)

def sqrt_blur(X):
    """pixel preprocessing for kNN: sqrt intensities then 3x3 box blur -> flat vectors"""
    x = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))[:, None].sqrt()
    return F.avg_pool2d(x, 3, 1, 1).flatten(1).numpy()

def digits_split(c, seed):
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    d = load_digits(); X = d.images.astype(np.float32) / 16.; y = d.target
    Xa, Xb, ya, yb = train_test_split(X, y, test_size=0.3, stratify=y, random_state=seed)
    up = lambda Z: F.interpolate(torch.from_numpy(Z)[:, None], size=(28, 28), mode="bilinear", align_corners=False)[:, 0].numpy()
    return up(Xa[ya == c]), up(Xb), (yb == c).astype(float)

CUR = [None]

def run(a, method, recipe, combos=()):
    """method(Xt, Xh, Xv, seed) -> (S, info) with S[name] = (holdout_scores, val_scores), higher = more normal."""
    out = a.out or (a.tag.split("_")[0] + ".jsonl")
    for seed in [int(s) for s in a.seeds.split(",")]:
        for c in [int(s) for s in a.classes.split(",")]:
            if a.data == "digits":
                Xtr, Xv, yv = digits_split(c, seed)
            else:
                Xtr, Xv, yv = split(c, seed)
                if a.n_train < len(Xtr): Xtr = Xtr[:a.n_train]
            rng = np.random.RandomState(seed); perm = rng.permutation(len(Xtr)); nh = max(int(a.holdout * len(Xtr)), 5)
            Xh, Xt = Xtr[perm[:nh]], Xtr[perm[nh:]]
            torch.manual_seed(seed)
            CUR[:] = [c]
            S, info = method(Xt, Xh, Xv, seed)
            At, Ah, Av = (x.reshape(len(x), -1) for x in (Xt, Xh, Xv))
            if a.data == "digits" or a.n_train < 5000:
                # the raw baselines as references on the same split
                S["raw_if"] = tuple(IsolationForest(n_estimators=100, random_state=seed).fit(At).score_samples(x) for x in (Ah, Av))
                S["raw_ocsvm"] = tuple(OneClassSVM(gamma="scale", nu=0.1).fit(At).score_samples(x) for x in (Ah, Av))
            if "raw_knn5" not in S: S["raw_knn5"] = (knn(At, Ah, 5), knn(At, Av, 5))
            Bt, Bh, Bv = sqrt_blur(Xt), sqrt_blur(Xh), sqrt_blur(Xv)
            S["rawsb_knn5"] = (knn(Bt, Bh, 5), knn(Bt, Bv, 5))
            def z(name):
                h, v = S[name]; return (v - np.mean(h)) / (np.std(h) + 1e-12)
            res = {k: round(auroc(yv, v[1]), 4) for k, v in S.items()}
            for combo in combos:
                if all(n in S for n in combo):
                    res["Z:" + "+".join(combo)] = round(auroc(yv, sum(z(n) for n in combo)), 4)
            log(out, recipe=recipe, data=a.data, n_train=len(Xt), cls=c, seed=seed, auroc=res, **info)
