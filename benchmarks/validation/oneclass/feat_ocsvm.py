"""OCSVM vs kNN on saved rotation-net features and on sqrt-blur pixels. usage: python feat_ocsvm.py TAG CLASSES SEED"""
import sys
from harness import *
from nets import VGGS
tag, classes, seed = sys.argv[1], [int(c) for c in sys.argv[2].split(",")], int(sys.argv[3])
for c in classes:
    Xtr, Xv, yv = split(c, seed)
    rng = np.random.RandomState(seed); perm = rng.permutation(len(Xtr)); Xh, Xt = Xtr[perm[:500]], Xtr[perm[500:]]
    net = VGGS(4, 16, 3).to(memory_format=torch.channels_last); net.load_state_dict(torch.load(f"models/{tag}_c{c}_s{seed}.pt")); net.eval()
    with torch.no_grad():
        P = [[l2n(p.numpy()) for p in net.embed_spatial(torch.from_numpy(x)[:, None].contiguous(memory_format=torch.channels_last))] for x in (Xt, Xh, Xv)]
    cat = [np.concatenate(p, 1) for p in P]
    B = [sqrt_blur(x) for x in (Xt, Xh, Xv)]
    res = {}
    for nm, (ft, fv) in {"sp_cat": (cat[0], cat[2]), "rawsb": (B[0], B[2])}.items():
        for nu in (0.05, 0.1, 0.5):
            t = time.time(); s = OneClassSVM(gamma="scale", nu=nu).fit(ft).score_samples(fv)
            res[f"{nm}_ocsvm_nu{nu}"] = round(auroc(yv, s), 4); res[f"{nm}_ocsvm_nu{nu}_s"] = round(time.time() - t, 1)
        res[f"{nm}_knn5"] = round(auroc(yv, knn(ft, fv, 5)), 4)
    log("feat_ocsvm.jsonl", recipe=tag, cls=c, seed=seed, auroc=res)
