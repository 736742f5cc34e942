"""Raw-pixel baselines on the validation split. usage: python baselines.py CLASSES SEEDS"""
import sys
from common import *
from sklearn.ensemble import IsolationForest
from sklearn.svm import OneClassSVM
from sklearn.decomposition import PCA
from sklearn.neighbors import NearestNeighbors

def knn_score(Ftr, Fv, k, metric):
    if metric == "cosine":
        Ftr = Ftr / np.linalg.norm(Ftr, axis=1, keepdims=True); Fv = Fv / np.linalg.norm(Fv, axis=1, keepdims=True)
    nn = NearestNeighbors(n_neighbors=k).fit(Ftr)
    d, _ = nn.kneighbors(Fv)
    return -d.mean(1)

classes = [int(x) for x in sys.argv[1].split(",")]
seeds = [int(x) for x in sys.argv[2].split(",")]
for seed in seeds:
    for c in classes:
        Xtr, Xv, yv = split(c, seed)
        A, B = Xtr.reshape(len(Xtr), -1), Xv.reshape(len(Xv), -1)
        def run(name, fn):
            t = time.time(); s = fn(); dt = time.time() - t
            log("baselines.jsonl", recipe=name, cls=c, seed=seed, auroc=round(auroc(yv, s), 4), seconds=round(dt, 2))
        run("raw_if100", lambda: IsolationForest(n_estimators=100, random_state=seed).fit(A).score_samples(B))
        run("raw_ocsvm_nu0.1", lambda: OneClassSVM(gamma="scale", nu=0.1).fit(A).score_samples(B))
        for k in (1, 5):
            for m in ("euclid", "cosine"):
                run(f"raw_knn{k}_{m}", lambda: knn_score(A, B, k, m))
        for nc in (10, 30, 0.9):
            def pca_err():
                p = PCA(nc, random_state=seed).fit(A)
                return -((B - p.inverse_transform(p.transform(B))) ** 2).sum(1)
            run(f"raw_pca{nc}_err", pca_err)
        def pca_maha():
            p = PCA(0.95, whiten=True, random_state=seed).fit(A)
            z = p.transform(B); rec = p.inverse_transform(z)
            return -(z ** 2).sum(1)
        run("raw_pca0.95_maha", pca_maha)
