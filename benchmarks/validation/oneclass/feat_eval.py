"""Evaluate feature-kNN variants from saved rotation nets (or random init). usage: python feat_eval.py TAG CLASSES SEED [random]"""
import sys
from harness import *
from nets import VGGS
import torch.nn as nn
tag, classes, seed = sys.argv[1], [int(c) for c in sys.argv[2].split(",")], int(sys.argv[3])
rand = len(sys.argv) > 4
@torch.no_grad()
def stage_maps(net, X, bs=500):
    res = []
    for i in range(0, len(X), bs):
        x = X[i:i + bs].contiguous(memory_format=torch.channels_last); outs = []
        for m in net.features:
            if isinstance(m, nn.MaxPool2d): outs.append(x)
            x = m(x)
        outs.append(x); res.append(outs)
    return [torch.cat([r[j] for r in res]) for j in range(len(res[0]))]
for c in classes:
    Xtr, Xv, yv = split(c, seed)
    rng = np.random.RandomState(seed); perm = rng.permutation(len(Xtr)); Xh, Xt = Xtr[perm[:500]], Xtr[perm[500:]]
    net = VGGS(4, 16, 3).to(memory_format=torch.channels_last)
    if not rand: net.load_state_dict(torch.load(f"models/{tag}_c{c}_s{seed}.pt"))
    net.eval()
    M = [stage_maps(net, torch.from_numpy(x)[:, None]) for x in (Xt, Xh, Xv)]
    S = {}
    for st in (0, 1, 2):
        for g in (2, 3, 4, 7):
            if g > M[0][st].shape[-1]: continue
            f = [l2n(F.adaptive_avg_pool2d(m[st], g).flatten(1).numpy()) for m in M]
            S[f"st{st}g{g}"] = (knn(f[0], f[1], 5), knn(f[0], f[2], 5))
            if st == 1 and g == 4:
                fs = [F.adaptive_avg_pool2d(m[st], g).flatten(1).sqrt().numpy() for m in M]
                fs = [l2n(x) for x in fs]
                S[f"st{st}g{g}_sqrt"] = (knn(fs[0], fs[1], 5), knn(fs[0], fs[2], 5))
                fe = [F.adaptive_avg_pool2d(m[st], g).flatten(1).numpy() for m in M]
                S[f"st{st}g{g}_euc"] = (knn(fe[0], fe[1], 5), knn(fe[0], fe[2], 5))
    B = [sqrt_blur(x) for x in (Xt, Xh, Xv)]; S["rawsb"] = (knn(B[0], B[1], 5), knn(B[0], B[2], 5))
    z = lambda n: (S[n][1] - S[n][0].mean()) / S[n][0].std()
    res = {k: round(auroc(yv, v[1]), 4) for k, v in S.items()}
    for k in list(S):
        if k != "rawsb": res["Z:" + k + "+rawsb"] = round(auroc(yv, z(k) + z("rawsb")), 4)
    res["Z:st1g4+st2g2+rawsb"] = round(auroc(yv, z("st1g4") + z("st2g2") + z("rawsb")), 4)
    res["Z:st1g4+st2g3+rawsb"] = round(auroc(yv, z("st1g4") + z("st2g3") + z("rawsb")), 4)
    log("feat_eval.jsonl", recipe=("random" if rand else tag), cls=c, seed=seed, auroc=res)
