"""Sample-size sweep on Fashion-MNIST for the pixel methods. usage: python small_raw.py"""
from harness import *
from sklearn.ensemble import IsolationForest
from sklearn.svm import OneClassSVM
for n in (20, 50, 200, 1000):
    for c in range(10):
        Xtr, Xv, yv = split(c, 0); Xt = Xtr[:n]
        A, B = Xt.reshape(n, -1), Xv.reshape(len(Xv), -1)
        res = {"raw_if": auroc(yv, IsolationForest(n_estimators=100, random_state=0).fit(A).score_samples(B)),
               "raw_ocsvm": auroc(yv, OneClassSVM(gamma="scale", nu=0.1).fit(A).score_samples(B)),
               "raw_knn5": auroc(yv, knn(A, B, 5)),
               "rawsb_knn5": auroc(yv, knn(sqrt_blur(Xt), sqrt_blur(Xv), 5)),
               "rawsb_knn1": auroc(yv, knn(sqrt_blur(Xt), sqrt_blur(Xv), 1))}
        log("small.jsonl", recipe=f"FMNIST_n{n}_pixels", data="fmnist", n_train=n, cls=c, seed=0, auroc={k: round(v, 4) for k, v in res.items()})
