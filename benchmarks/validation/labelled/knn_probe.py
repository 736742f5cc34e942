import sys; sys.path.insert(0,'.')
from common import *
from sklearn.neighbors import NearestNeighbors
from sklearn.decomposition import PCA
def prep(X, how):
    X = X.reshape(len(X), -1).astype(np.float32) / 255
    if "gcn" in how:
        X = X - X.mean(1, keepdims=True); X /= np.linalg.norm(X, axis=1, keepdims=True) + 1e-8
    if "l2n" in how:
        X /= np.linalg.norm(X, axis=1, keepdims=True) + 1e-8
    return X
Xall, _ = data()
res = {}
for c in [0,2,4,6,8]:
    sp = split(c, 0)
    for how in ["raw", "l2n", "gcn"]:
        Xf = prep(Xall[sp["fit_n"]], how); Xe = prep(Xall[eval_sets(sp)], how)
        for k in [1, 5, 20]:
            for pca in [0, 50]:
                A, B = Xf, Xe
                if pca:
                    p = PCA(pca, whiten=True, random_state=0).fit(Xf); A, B = p.transform(Xf), p.transform(Xe)
                d, _ = NearestNeighbors(n_neighbors=k).fit(A).kneighbors(B)
                s = d.mean(1)
                r = aurocs(s[500:1500], s[1500:], sp["val_a_cls"], [])
                res.setdefault((how, k, pca), []).append(r["all"])
for key, v in sorted(res.items(), key=lambda kv: -np.mean(kv[1])):
    print(key, round(np.mean(v), 4), np.round(v, 3))
