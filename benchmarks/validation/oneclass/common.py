import os
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
import json, time
import numpy as np
import torch
torch.set_num_threads(1)
from sklearn.metrics import roc_auc_score

HERE = os.path.dirname(os.path.abspath(__file__))
_D = None

def load():
    global _D
    if _D is None:
        d = np.load(os.path.join(HERE, "..", "fmnist_train.npz"))
        _D = (d["X"], d["y"])
    return _D

def split(c, seed, n_train=5000, n_anom=2000):
    """Train: n_train normals of class c; val: remaining normals of c + n_anom from other classes.
    Returns float32 arrays in [0,1] (n,28,28) and yval (1 normal, 0 anomaly)."""
    X, y = load()
    rng = np.random.RandomState(1000 * seed + c)
    idx_c = rng.permutation(np.where(y == c)[0])
    tr, vn = idx_c[:n_train], idx_c[n_train:]
    ia = rng.choice(np.where(y != c)[0], n_anom, replace=False)
    Xtr = X[tr].astype(np.float32) / 255.
    Xv = np.concatenate([X[vn], X[ia]]).astype(np.float32) / 255.
    yv = np.r_[np.ones(len(vn)), np.zeros(len(ia))]
    return Xtr, Xv, yv

def auroc(yv, score):
    """score: higher = more normal."""
    score = np.nan_to_num(np.asarray(score, dtype=np.float64), nan=-1e30, neginf=-1e30, posinf=1e30)
    return float(roc_auc_score(yv, score))

def log(path, **rec):
    with open(os.path.join(HERE, "results", path), "a") as f:
        f.write(json.dumps(rec) + "\n")
    print(json.dumps(rec), flush=True)
