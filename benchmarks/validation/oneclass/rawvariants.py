"""Cheap raw-pixel kNN variants (preprocessing). usage: python rawvariants.py CLASSES SEEDS"""
import sys
from harness import *
import torch.nn.functional as F
def prep(X, kind):
    x = torch.from_numpy(X)[:, None]
    if kind == "blur3": x = F.avg_pool2d(x, 3, 1, 1)
    if kind == "down14": x = F.avg_pool2d(x, 2)
    if kind == "grad":
        gx = x[:, :, :, 1:] - x[:, :, :, :-1]; gy = x[:, :, 1:] - x[:, :, :-1]
        x = torch.cat([x.flatten(1), gx.flatten(1), gy.flatten(1)], 1)
    if kind.startswith("pow"):
        x = x ** float(kind.split("_")[0][3:])
    if kind.startswith("bin"): x = (x > 0.02).float()
    if kind.endswith("_blur3"): x = F.avg_pool2d(x, 3, 1, 1)
    if kind.endswith("_blur5"): x = F.avg_pool2d(x, 5, 1, 2)
    if kind.endswith("_gblur"):
        k = torch.tensor([1., 2., 1.]); k = (k[:, None] * k[None]) / 16
        x = F.conv2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), k[None, None])
    if kind == "sqrt": x = x.sqrt()
    return x.flatten(1).numpy()
for seed in [int(s) for s in sys.argv[2].split(",")]:
    for c in [int(s) for s in sys.argv[1].split(",")]:
        Xtr, Xv, yv = split(c, seed)
        for kind in sys.argv[3].split(","):
            A, B = prep(Xtr, kind), prep(Xv, kind)
            for k in (5,):
                log("rawvariants.jsonl", recipe=f"raw_knn{k}_{kind}", cls=c, seed=seed, auroc=round(auroc(yv, knn(A, B, k)), 4))
