"""Validation probe (pixels only, no network): does a "missing mass" term or a larger k make the sqrt-blur
pixel kNN see sneakers against ankle boots? The z-scaling of the sum uses the validation normals (a probe,
not a detector). Usage: python probe_missing_mass.py 9"""
import json
import sys

import numpy as np
import torch
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score

from skanomaly.benchmark._runner import SplitSettings, make_split
from skanomaly.datasets import load_fashion_mnist
from skanomaly.nn import sqrt_blur

torch.set_num_threads(1)
data = load_fashion_mnist()
classes = [int(c) for c in sys.argv[1].split(",")]
for c in classes:
  for seed in (0, 1):
    s = make_split(data, c, seed, SplitSettings(evaluate="validation", validation_size=1000))
    f = lambda X: sqrt_blur(torch.as_tensor(X, dtype=torch.float32).reshape(len(X), 1, 28, 28) / 255).flatten(1)
    bank, q = f(s.X_train), f(s.X_eval)
    d = torch.cdist(q, bank)
    idx = d.topk(5, largest=False).indices
    knn = d.topk(5, largest=False).values.mean(1)
    nb = bank[idx]                       # (n, 5, 784)
    missing = torch.relu(nb - q[:, None]).sum(2).mean(1)
    excess = torch.relu(q[:, None] - nb).sum(2).mean(1)
    flat = lambda X: X.reshape(len(X), -1)
    iso = -IsolationForest(random_state=seed).fit(flat(s.X_train)).score_samples(flat(s.X_eval))
    normal = s.eval_classes == c
    z = lambda v: (v - v[normal].mean()) / v[normal].std()   # (transductive scaling: a probe only)
    scores = {"knn": knn.numpy(), "missing": missing.numpy(), "excess": excess.numpy(),
              "knn+missing": (z(knn) + z(missing)).numpy(), "iforest": iso}
    res = {}
    for name, v in scores.items():
        per = {int(a): round(roc_auc_score(np.r_[np.zeros(normal.sum()), np.ones((s.eval_classes == a).sum())], np.r_[v[normal], v[s.eval_classes == a]]), 3) for a in np.unique(s.eval_classes) if a != c}
        res[name] = (round(roc_auc_score(~normal, v), 4), per)
    print(json.dumps({"class": c, "seed": seed, "res": res}), flush=True)
