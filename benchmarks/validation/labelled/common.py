"""Shared data protocol, helpers and scoring for the labelled-anomaly study.

Split per (normal class c, seed s):
  train normals: 5000 random train images of c; of these 4500 are used for fitting and
                 500 ("cal") are held out for score calibration (z-scores) only.
  val normals:   the other 1000 images of c.
  val anomalies: 200 random images of each of the 9 other classes (fixed per (c, s)).
  labelled anomalies: from the remaining images of the K known classes (first K of a
                 per-(c,s) permutation of the 9 others, so K=1 subset K=3 subset K=9);
                 n_a = 263 (K=1, 5% of the training set), 250 (K=3, K=9), split evenly.
"""
import os
os.environ.setdefault("OMP_NUM_THREADS", "1")
import json, time
import numpy as np
import torch
torch.set_num_threads(1)
from sklearn.metrics import roc_auc_score

ROOT = "/work/research/labelled"
_D = None


def data():
    global _D
    if _D is None:
        d = np.load("/work/research/fmnist_train.npz")
        _D = (d["X"], d["y"])
    return _D


N_A = {1: 263, 3: 250, 9: 250}


def split(c, seed, K=None):
    X, y = data()
    rng = np.random.RandomState(1000 * seed + c)
    idx_c = rng.permutation(np.where(y == c)[0])
    tr, val_n = idx_c[:5000], idx_c[5000:]
    fit_n, cal_n = tr[:4500], tr[4500:]
    others = [k for k in range(10) if k != c]
    order = list(rng.permutation(others))
    val_a, pool = [], {}
    for k in others:
        idk = rng.permutation(np.where(y == k)[0])
        val_a.append(idk[:200]); pool[k] = idk[200:]
    val_a = np.concatenate(val_a)
    out = dict(fit_n=fit_n, cal_n=cal_n, val_n=val_n, val_a=val_a,
               val_a_cls=y[val_a], known=[], lab_a=np.array([], int))
    if K:
        known = order[:K]
        n = N_A[K]
        per = [n // K + (1 if i < n % K else 0) for i in range(K)]
        lab = np.concatenate([pool[k][:m] for k, m in zip(known, per)])
        out.update(known=[int(k) for k in known], lab_a=lab)
    return out


def imgs(idx):
    """float32 (n,1,28,28) in [0,1]"""
    X, _ = data()
    return torch.from_numpy(X[idx].astype(np.float32)[:, None] / 255.0)


def eval_sets(sp):
    """index arrays: cal normals, val normals, val anomalies (scores are saved in this order)"""
    return np.concatenate([sp["cal_n"], sp["val_n"], sp["val_a"]])


def aurocs(s_valn, s_vala, cls, known):
    cls = np.asarray(cls)
    y = np.r_[np.zeros(len(s_valn)), np.ones(len(s_vala))]
    res = {"all": roc_auc_score(y, np.r_[s_valn, s_vala])}
    seen = np.isin(cls, known)
    for name, m in (("seen", seen), ("unseen", ~seen)):
        if m.any():
            res[name] = roc_auc_score(np.r_[np.zeros(len(s_valn)), np.ones(m.sum())],
                                      np.r_[s_valn, s_vala[m]])
    res["per_class"] = {int(k): round(roc_auc_score(
        np.r_[np.zeros(len(s_valn)), np.ones((cls == k).sum())],
        np.r_[s_valn, s_vala[cls == k]]), 4) for k in np.unique(cls)}
    return res


def save_scores(method, c, seed, K, scores, sp, fit_s, extra=None):
    """scores: higher = more anomalous, over eval_sets(sp) order. Writes npz + jsonl line."""
    scores = np.asarray(scores, dtype=np.float64)
    nc, nv = len(sp["cal_n"]), len(sp["val_n"])
    f = f"{ROOT}/scores/{method}__c{c}_s{seed}_K{K}.npz"
    np.savez(f, scores=scores, nc=nc, nv=nv, cls=sp["val_a_cls"], known=np.array(sp["known"]), fit_s=fit_s)
    r = aurocs(scores[nc:nc + nv], scores[nc + nv:], sp["val_a_cls"], sp["known"])
    line = dict(method=method, c=c, seed=seed, K=K, known=sp["known"], fit_s=round(fit_s, 1),
                **{k: round(v, 4) for k, v in r.items() if k != "per_class"}, per_class=r["per_class"])
    if extra:
        line.update(extra)
    with open(f"{ROOT}/results.jsonl", "a") as fh:
        fh.write(json.dumps(line) + "\n")
    print(json.dumps({k: line[k] for k in ("method", "c", "seed", "K", "fit_s", "all") if k in line}
                     | {k: line.get(k) for k in ("seen", "unseen")}), flush=True)
    return line


def have(method, c, seed, K):
    return os.path.exists(f"{ROOT}/scores/{method}__c{c}_s{seed}_K{K}.npz")


@torch.no_grad()
def batched(fn, X, bs=500):
    outs = []
    for i in range(0, len(X), bs):
        outs.append(fn(X[i:i + bs]))
    return torch.cat(outs).cpu().numpy()


def balanced_batches(n_n, n_a, bs, n_epochs, rng, ratio=0.5):
    """yield (idx_normals, idx_anoms) per batch; one epoch = one pass over normals."""
    bn = bs - int(round(bs * ratio)) if n_a else bs
    ba = bs - bn if n_a else 0
    for _ in range(n_epochs):
        perm = rng.permutation(n_n)
        for i in range(0, n_n - bn + 1, bn):
            ia = rng.randint(0, n_a, ba) if n_a else np.array([], int)
            yield perm[i:i + bn], ia
