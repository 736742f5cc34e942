"""Multi-scale patch kNN: one bank per pyramid level, each level's distances standardised on held-out normal crops."""
import sys, time, json
sys.path.insert(0, "/work/research27")
import numpy as np, torch, torch.nn.functional as F
from harness import split, blur, TEXTURES, metrics, roc_auc_score, bank2
torch.set_num_threads(1)


def level_patches(x, level, patch=5):
    """Patches (n, patch*patch, h, w) of the image blurred and subsampled 2**level times."""
    if level:
        x = blur(x, 0.8 * 2 ** (level - 1) * 1.0)
        x = F.avg_pool2d(x, 2 ** level) if False else x[:, :, ::2 ** level, ::2 ** level]
    p = patch // 2
    xp = F.pad(x, (p, p, p, p), mode="reflect")
    return F.unfold(xp, patch).view(x.shape[0], patch * patch, x.shape[2], x.shape[3])


def nn_dist(Q, B, block=2048, radius=None):
    Bn = (B * B).sum(1)
    out = []
    for j in range(0, len(Q), block):
        q = Q[j:j + block]
        mn = ((q * q).sum(1, keepdim=True) + Bn[None] - 2 * q @ B.T).min(1)
        d = mn.values.clamp_min(0).sqrt()
        if radius is not None:
            d = d / radius[mn.indices]
        out.append(d)
    return torch.cat(out)


def bank_radius(B, k=3, block=2048):
    """Mean distance of each bank row to its k nearest other rows."""
    Bn = (B * B).sum(1)
    out = []
    for j in range(0, len(B), block):
        q = B[j:j + block]
        d2 = ((q * q).sum(1, keepdim=True) + Bn[None] - 2 * q @ B.T).clamp_min(0)
        out.append(d2.topk(k + 1, dim=1, largest=False).values[:, 1:].sqrt().mean(1))
    r = torch.cat(out)
    return r + 0.1 * r.median()


def flat(f):
    return f.permute(0, 2, 3, 1).reshape(-1, f.shape[1])


class MultiScaleKNN:
    def __init__(self, levels=(0, 1, 2), patch=5, n_bank=20000, holdout=0.2, query_stride=(2, 1, 1),
                 center=False, stats=False, seed=0, sigma=2.0, combine="sum", density=False):
        self.__dict__.update(locals()); del self.__dict__["self"]

    def groups(self, x):
        out = []
        for lv, qs in zip(self.levels, self.query_stride):
            f = level_patches(x, lv, self.patch)
            if self.center:
                f = f - f.mean(1, keepdim=True)
            out.append(f)
        if self.stats:
            out.append(bank2(x)[:, :, ::2, ::2])
        return out

    def fit(self, X):
        g = torch.Generator().manual_seed(self.seed)
        X = torch.from_numpy(X)
        perm = torch.randperm(len(X), generator=g)
        nh = int(len(X) * self.holdout)
        Xb, Xh = X[perm[nh:]], X[perm[:nh]]
        Fb = self.groups(Xb)
        self.scale_ = [flat(f).std(0, keepdim=True).mean() + 1e-6 for f in Fb]
        self.banks_ = []
        for f, s in zip(Fb, self.scale_):
            V = flat(f) / s
            idx = torch.randperm(len(V), generator=g)[:self.n_bank]
            self.banks_.append(V[idx].contiguous())
        self.radii_ = [bank_radius(B) if self.density else None for B in self.banks_]
        d = self.raw_maps(Xh)
        self.mu_ = [m.mean() for m in d]; self.sd_ = [m.std() + 1e-6 for m in d]
        return self

    def raw_maps(self, X):
        maps = []
        for gi, f in enumerate(self.groups(X)):
            qs = self.query_stride[gi] if gi < len(self.query_stride) else 1
            f = f[:, :, ::qs, ::qs]
            n, d, h, w = f.shape
            maps.append(nn_dist(flat(f) / self.scale_[gi], self.banks_[gi], radius=self.radii_[gi]).view(n, 1, h, w))
        return maps

    def maps(self, X, bs=25):
        out = []
        for i in range(0, len(X), bs):
            x = torch.from_numpy(X[i:i + bs])
            total = 0
            zs = []
            for gi, m in enumerate(self.raw_maps(x)):
                z = (F.interpolate(m, size=x.shape[2:], mode="bilinear", align_corners=False) - self.mu_[gi]) / self.sd_[gi]
                zs.append(z)
            total = (sum(zs) if self.combine == "sum" else torch.stack(zs).max(0).values
                     if self.combine == "max" else sum(torch.relu(z) for z in zs))
            out.append(blur(total, self.sigma)[:, 0])
        return torch.cat(out).numpy().astype(np.float64)


def evaluate(maps, y, masks, kinds):
    score = maps.max(axis=(1, 2))
    sel = lambda kk: (kinds == kk) | (y == 1)
    return {"auroc": roc_auc_score(y == -1, score), "pixel_auroc": metrics.pixel_auroc(masks, maps),
            "aupro": metrics.aupro(masks, maps),
            "per_kind": {kk: round(roc_auc_score(y[sel(kk)] == -1, score[sel(kk)]), 3) for kk in sorted(set(kinds) - {"good"})},
            "pix_kind": {kk: round(metrics.pixel_auroc(masks[sel(kk)], maps[sel(kk)]), 3) for kk in sorted(set(kinds) - {"good"})}}


if __name__ == "__main__":
    label = sys.argv[1]
    kw = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}
    textures = kw.pop("textures", TEXTURES); seeds = kw.pop("seeds", [0]); part = kw.pop("part", "validation")
    res = []
    for seed in seeds:
        for name in textures:
            Xtr, Xev, y, masks, kinds = split(name, seed, part)
            t = time.time(); det = MultiScaleKNN(seed=seed, **kw).fit(Xtr); tf = time.time() - t
            t = time.time(); maps = det.maps(Xev); ts = time.time() - t
            r = evaluate(maps, y, masks, kinds); r.update(texture=name, seed=seed, fit_s=round(tf, 1), crops_s=round(len(Xev) / ts, 1))
            res.append(r)
            print(f"  {name:6s} s{seed} img {r['auroc']:.3f} pix {r['pixel_auroc']:.3f} aupro {r['aupro']:.3f} {r['per_kind']} {r['pix_kind']} fit {tf:.0f}s {r['crops_s']} c/s", flush=True)
    print(f"== {label}: img {np.mean([r['auroc'] for r in res]):.3f} pix {np.mean([r['pixel_auroc'] for r in res]):.3f}", flush=True)
    with open("/work/research27/results.jsonl", "a") as fh:
        fh.write(json.dumps({"label": label, "kw": kw, "results": res}) + "\n")
