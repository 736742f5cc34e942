"""Validation probe (issue 14, K=9): does a stronger supervised CNN lift the ceiling to 0.985?

Same carve as ``classifier_probe.py`` and ``cnn_probe.py`` (the CLI's validation carve of the training
split; the test set is never read). The pixel kNN, SVM and small-CNN z-scores of the evaluation images
are read from ``cnn_probe.py``'s ``--scores`` folder; this script fits one stronger CNN variant on the
same 90 % of the training images, z-scores its negated logit on the same 10 % held-out normals and
writes the AUROC of it alone and of its sums with the saved components.

Variants (``--variant``):
  bn20     the benchmark's small CNN (16/32 filters) with batch norm, 20 epochs, cosine learning rate
  aug20    bn20 trained on random shifts of up to 2 pixels, anomalies oversampled to a quarter of each batch
  wide20   aug20 with two convolutions per scale (32/64 filters) and dropout before the logit
  aug20const  aug20 at a constant learning rate
  aug10    aug20 for 10 epochs
  aug30    aug20 for 30 epochs
  aug20w32 aug20 with 32/64 filters

Usage: python cnn_plus_probe.py --variant aug20 --classes 6 --seeds 0 --zscores DIR --out FILE.jsonl
"""
import argparse
import os
import time

import numpy as np
import torch
from classifier_probe import carve, settings_for, write_combos
from torch import nn

from skanomaly.benchmark._runner import make_split
from skanomaly.datasets import load_fashion_mnist

VARIANTS = {
    "bn20": dict(width=16, double=False, epochs=20, shift_px=0, anomaly_share=None, dropout=0.0),
    "aug20": dict(width=16, double=False, epochs=20, shift_px=2, anomaly_share=0.25, dropout=0.0),
    "wide20": dict(width=32, double=True, epochs=20, shift_px=2, anomaly_share=0.25, dropout=0.3),
    "aug20const": dict(width=16, double=False, epochs=20, shift_px=2, anomaly_share=0.25, dropout=0.0,
                       cosine=False),
    "aug10": dict(width=16, double=False, epochs=10, shift_px=2, anomaly_share=0.25, dropout=0.0),
    "aug30": dict(width=16, double=False, epochs=30, shift_px=2, anomaly_share=0.25, dropout=0.0),
    "aug20w32": dict(width=32, double=False, epochs=20, shift_px=2, anomaly_share=0.25, dropout=0.0),
}


def block(c_in, c_out, double):
    layers = [nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU()]
    if double:
        layers += [nn.Conv2d(c_out, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU()]
    return layers + [nn.MaxPool2d(2)]


class Net(nn.Module):
    def __init__(self, width, double, dropout):
        super().__init__()
        self.features = nn.Sequential(*block(1, width, double), *block(width, 2 * width, double),
                                      nn.Flatten(), nn.Dropout(dropout))
        self.logit = nn.Linear(2 * width * 49, 1)

    def forward(self, x):
        return self.logit(self.features(x)).squeeze(1)


def shift(x, s, gen):
    """Each image moved by up to s pixels in each direction (zero padding)."""
    if not s:
        return x
    pad = nn.functional.pad(x, (s, s, s, s))
    dx, dy = torch.randint(0, 2 * s + 1, (2, len(x)), generator=gen)
    out = torch.empty_like(x)
    for i in range(len(x)):
        out[i] = pad[i, :, dy[i]:dy[i] + 28, dx[i]:dx[i] + 28]
    return out


def fit_cnn(X, y, seed, width, double, epochs, shift_px, anomaly_share, dropout, cosine=True, batch=64):
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    rng = np.random.RandomState(seed)
    net = Net(width, double, dropout)
    imgs = torch.as_tensor(X, dtype=torch.float32).reshape(-1, 1, 28, 28)
    target = torch.as_tensor((y == 1).astype(np.float32))
    normal, anomal = np.flatnonzero(y == 1), np.flatnonzero(y == -1)
    steps = -(-len(y) // batch)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs * steps) if cosine else None
    if anomaly_share is None:  # class-weighted loss, plain shuffles
        w = torch.as_tensor(np.where(y == 1, len(y) / (2 * len(normal)), len(y) / (2 * len(anomal))),
                            dtype=torch.float32)
    net.train()
    for _ in range(epochs):
        if anomaly_share is None:
            order = np.array_split(rng.permutation(len(y)), steps)
        else:
            n_a = max(1, round(anomaly_share * batch))
            perm = rng.permutation(normal)
            order = [np.concatenate([perm[i * (batch - n_a):(i + 1) * (batch - n_a)],
                                     rng.choice(anomal, n_a)]) for i in range(-(-len(normal) // (batch - n_a)))]
        for idx in order:
            idx = torch.as_tensor(idx)
            logit = net(shift(imgs[idx], shift_px, gen))
            loss = nn.functional.binary_cross_entropy_with_logits(
                logit, target[idx], weight=None if anomaly_share is not None else w[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            if sched is not None:
                sched.step()
    net.eval()
    return net


@torch.no_grad()
def logits(net, X):
    imgs = torch.as_tensor(X, dtype=torch.float32).reshape(-1, 1, 28, 28)
    return torch.cat([net(imgs[i:i + 1024]) for i in range(0, len(imgs), 1024)]).numpy().astype(np.float64)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--variant", required=True, choices=sorted(VARIANTS))
    p.add_argument("--known", type=int, default=9)
    p.add_argument("--classes", default="0,1,2,3,4,5,6,7,8,9")
    p.add_argument("--seeds", default="0")
    p.add_argument("--zscores", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--save", help="folder for the new z-scores (k{K}_c{class}_s{seed}_{variant}.npz)")
    a = p.parse_args()
    torch.set_num_threads(1)
    cfg = VARIANTS[a.variant]
    data = load_fashion_mnist()
    for seed in [int(v) for v in a.seeds.split(",")]:
        for c in [int(v) for v in a.classes.split(",")]:
            sp = make_split(data, c, seed, settings_for(a.known))
            X, E, y, held = carve(sp, seed)
            tr = ~held
            t = time.perf_counter()
            net = fit_cnn(X[tr], y[tr], seed, **cfg)
            secs = {a.variant: time.perf_counter() - t}
            h, e = -logits(net, X[held]), -logits(net, E)
            z_new = (e - h.mean()) / (h.std() or 1.0)
            if a.save:
                os.makedirs(a.save, exist_ok=True)
                np.savez_compressed(os.path.join(a.save, f"k{a.known}_c{c}_s{seed}_{a.variant}.npz"), z=z_new)
            saved = np.load(os.path.join(a.zscores, f"k{a.known}_c{c}_s{seed}.npz"))
            z = {n: saved[n] for n in ("knn", "svm", "cnn")}
            assert np.array_equal(saved["y_eval"], np.asarray(sp.y_eval))
            clip = lambda v: np.maximum(v, 0)
            v = a.variant
            combos = {v: z_new,
                      f"knn+2*{v}c": z["knn"] + 2 * clip(z_new),
                      f"knn+4*{v}c": z["knn"] + 4 * clip(z_new),
                      f"knn+2*svmc+2*{v}c": z["knn"] + 2 * clip(z["svm"]) + 2 * clip(z_new),
                      f"knn+2*svmc+4*{v}c": z["knn"] + 2 * clip(z["svm"]) + 4 * clip(z_new),
                      f"knn+1*svmc+2*{v}c": z["knn"] + clip(z["svm"]) + 2 * clip(z_new),
                      f"svm+{v}": z["svm"] + z_new,
                      f"knn+svm+{v}": z["knn"] + z["svm"] + z_new,
                      f"knn+svm+2*{v}": z["knn"] + z["svm"] + 2 * z_new}
            for w in (0.5, 1, 2, 4):  # beside DeepSAD's default sum (kNN + 0.5 clipped SVM)
                combos[f"knn+0.5*svmc+{w}*{v}c"] = z["knn"] + 0.5 * clip(z["svm"]) + w * clip(z_new)
            write_combos(a.out, a.known, c, seed, sp, combos, secs)


if __name__ == "__main__":
    main()
