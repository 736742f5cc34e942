import sys, glob; sys.path.insert(0, "/work/research27")
import numpy as np, torch
from ms import evaluate, blur
def combos(tag, part="validation", seeds=(0,)):
    files = {}
    for f in sorted(glob.glob(f"/work/research27/dump_{tag}_*_{part}.npz")):
        files[f] = np.load(f, allow_pickle=True)
    return files
def score(d, groups, rule, sigma):
    z = torch.from_numpy(d["z"][:, groups].astype(np.float32))
    if rule == "sum": t = z.sum(1, keepdim=True)
    elif rule == "max": t = z.max(1, keepdim=True).values
    elif rule == "relusum": t = torch.relu(z).sum(1, keepdim=True)
    elif rule == "smoothmax": t = blur(z, sigma).max(1, keepdim=True).values; return t[:, 0].numpy().astype(np.float64)
    return blur(t, sigma)[:, 0].numpy().astype(np.float64)
if __name__ == "__main__":
    tag = sys.argv[1]
    files = combos(tag)
    G = next(iter(files.values()))["z"].shape[1]
    configs = [(list(range(G)), r, s) for r in ("sum", "max", "relusum", "smoothmax") for s in (1.0, 2.0, 4.0)]
    configs += [([g], "sum", 2.0) for g in range(G)]
    for groups, rule, sigma in configs:
        rs = []
        for f, d in files.items():
            r = evaluate(score(d, groups, rule, sigma), d["y"], d["masks"], d["kinds"]); rs.append(r)
        print(f"{str(groups):14s} {rule:9s} s{sigma}: " + "  ".join(f"{f.split('_')[-3][:5]} {r['auroc']:.3f}/{r['pixel_auroc']:.3f}" for f, r in zip(files, rs)) + f"  | mean {np.mean([r['auroc'] for r in rs]):.3f}/{np.mean([r['pixel_auroc'] for r in rs]):.3f}", flush=True)
