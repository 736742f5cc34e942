"""Validation probe: the sqrt-blur pixel kNN with k = 1, 5, 20, 50, 200; (all, ankle boots vs sneakers).
Usage: python probe_knn_k.py 9,2,6"""
import sys

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

from skanomaly.benchmark._runner import SplitSettings, make_split
from skanomaly.datasets import load_fashion_mnist
from skanomaly.nn import sqrt_blur

torch.set_num_threads(1)
data = load_fashion_mnist()
for c in [int(x) for x in sys.argv[1].split(",")]:
  for seed in (0, 1):
    s = make_split(data, c, seed, SplitSettings(evaluate="validation", validation_size=1000))
    f = lambda X: sqrt_blur(torch.as_tensor(X, dtype=torch.float32).reshape(len(X), 1, 28, 28) / 255).flatten(1)
    bank, q = f(s.X_train), f(s.X_eval)
    d = torch.cdist(q, bank).topk(200, largest=False).values
    normal = s.eval_classes == c
    out = {}
    for k in (1, 5, 20, 50, 200):
        v = d[:, :k].mean(1).numpy()
        sn = s.eval_classes == (7 if c == 9 else -99)
        out[k] = (round(roc_auc_score(~normal, v), 4),
                  round(roc_auc_score(np.r_[np.zeros(normal.sum()), np.ones(sn.sum())], np.r_[v[normal], v[sn]]), 3) if sn.any() else None)
    print(c, seed, out, flush=True)
