"""raw-pixel kNN on sqrt+blur: k, metric, and z-combos with IsolationForest. usage: python rawcombo.py CLASSES SEEDS"""
import sys
from harness import *
from sklearn.ensemble import IsolationForest
for seed in [int(s) for s in sys.argv[2].split(",")]:
    for c in [int(s) for s in sys.argv[1].split(",")]:
        Xtr, Xv, yv = split(c, seed)
        rng = np.random.RandomState(seed); perm = rng.permutation(len(Xtr)); Xh, Xt = Xtr[perm[:500]], Xtr[perm[500:]]
        Bt, Bh, Bv = sqrt_blur(Xt), sqrt_blur(Xh), sqrt_blur(Xv)
        S = {}
        for k in (1, 3, 5, 10):
            S[f"sb_knn{k}"] = (knn(Bt, Bh, k), knn(Bt, Bv, k))
        S["sb_knn5_cos"] = (knn(l2n(Bt), l2n(Bh), 5), knn(l2n(Bt), l2n(Bv), 5))
        At, Ah, Av = (x.reshape(len(x), -1) for x in (Xt, Xh, Xv))
        ifo = IsolationForest(n_estimators=100, random_state=seed).fit(At); S["raw_if"] = (ifo.score_samples(Ah), ifo.score_samples(Av))
        ifo = IsolationForest(n_estimators=100, random_state=seed).fit(Bt); S["sb_if"] = (ifo.score_samples(Bh), ifo.score_samples(Bv))
        # full 5000-bank version (no holdout) for the plain kNN
        Ball = sqrt_blur(Xtr); S["sb_knn5_full"] = (None, knn(Ball, Bv, 5))
        z = lambda n: (S[n][1] - S[n][0].mean()) / S[n][0].std()
        res = {k: round(auroc(yv, v[1]), 4) for k, v in S.items()}
        res["Z:sb_knn5+raw_if"] = round(auroc(yv, z("sb_knn5") + z("raw_if")), 4)
        res["Z:sb_knn5+sb_if"] = round(auroc(yv, z("sb_knn5") + z("sb_if")), 4)
        log("rawcombo.jsonl", recipe="rawcombo", cls=c, seed=seed, auroc=res)
