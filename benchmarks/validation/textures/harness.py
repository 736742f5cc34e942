"""Research harness: handcrafted / random feature patch-kNN on texture validation crops."""
import time, sys, json
import numpy as np, torch, torch.nn.functional as F
from sklearn.metrics import roc_auc_score
from skanomaly.datasets import load_texture, make_texture_split, TEXTURES
from skanomaly import metrics

torch.set_num_threads(1)
PH = {n: load_texture(n)[None] for n in TEXTURES}


def split(name, seed, part="validation", crop=64):
    others = np.stack([PH[o] for o in TEXTURES if o != name])
    val = part == "validation"
    s = make_texture_split(PH[name], crop_size=crop, n_train=300, n_validation=100 if val else 0,
                           n_test=0 if val else 200, defect_share=0.5, source=others,
                           random_state=seed)
    return (s.X_train / 255.).astype(np.float32), (s[f"X_{part}"] / 255.).astype(np.float32), \
        s[f"y_{part}"], s[f"masks_{part}"], s[f"kinds_{part}"]


def gauss1d(sigma, device="cpu"):
    r = max(1, int(np.ceil(3 * sigma)))
    t = torch.arange(-r, r + 1, dtype=torch.float32)
    k = torch.exp(-0.5 * (t / sigma) ** 2)
    return k / k.sum()


def blur(x, sigma):
    if sigma <= 0:
        return x
    k = gauss1d(sigma)
    r = len(k) // 2
    c = x.shape[1]
    pad_mode = "reflect" if min(x.shape[2:]) > r else "replicate"
    x = F.pad(x, (r, r, 0, 0), mode=pad_mode)
    x = F.conv2d(x, k.view(1, 1, 1, -1).repeat(c, 1, 1, 1), groups=c)
    x = F.pad(x, (0, 0, r, r), mode=pad_mode)
    return F.conv2d(x, k.view(1, 1, -1, 1).repeat(c, 1, 1, 1), groups=c)


def deriv(x):
    kx = torch.tensor([[-0.5, 0, 0.5]]).view(1, 1, 1, 3)
    gx = F.conv2d(F.pad(x, (1, 1, 0, 0), mode="reflect"), kx)
    gy = F.conv2d(F.pad(x, (0, 0, 1, 1), mode="reflect"), kx.transpose(2, 3))
    return gx, gy


def bank_features(x, scales=(1, 2, 4), pre=0.7, log=True):
    """Handcrafted: local mean, local std, structure tensor, LoG energy at several scales."""
    feats = []
    xs = blur(x, pre)
    gx, gy = deriv(xs)
    lap = blur(x, 1.0)
    lap = F.conv2d(F.pad(lap, (1, 1, 1, 1), mode="reflect"),
                   torch.tensor([[0., 1, 0], [1, -4, 1], [0, 1, 0]]).view(1, 1, 3, 3))
    for s in scales:
        m = blur(x, s)
        v = torch.sqrt(torch.relu(blur(x * x, s) - m * m) + 1e-6)
        jxx, jyy, jxy = blur(gx * gx, s), blur(gy * gy, s), blur(gx * gy, s)
        f = [m, v, jxx, jyy, jxy]
        if log:
            f.append(blur(lap.abs(), s))
        feats += f
    return torch.cat(feats, 1)


class RandomConv:
    def __init__(self, widths=(16, 32, 64), seed=0):
        g = torch.Generator().manual_seed(seed)
        self.ws = []
        cin = 1
        for w in widths:
            W = torch.randn(w, cin, 3, 3, generator=g)
            W = W - W.mean(dim=(2, 3), keepdim=True) * (cin == 1)
            W = W / W.flatten(1).norm(dim=1).view(-1, 1, 1, 1)
            self.ws.append(W)
            cin = w

    def __call__(self, x):
        outs = []
        h = x
        for i, W in enumerate(self.ws):
            h = F.conv2d(F.pad(h, (1, 1, 1, 1), mode="reflect"), W)
            h = torch.abs(h)
            outs.append(F.interpolate(blur(h, 1.0), size=x.shape[2:], mode="bilinear",
                                      align_corners=False))
            if i < len(self.ws) - 1:
                h = F.avg_pool2d(h, 2)
        return torch.cat(outs, 1)


def feats_in_batches(fn, X, bs=50):
    return torch.cat([fn(torch.from_numpy(X[i:i + bs])) for i in range(0, len(X), bs)])


def run(fn, name, seed=0, part="validation", n_bank=30000, stride=2, k=1, sigma=2.0,
        crop=64, border=0, proj=None, verbose=True):
    t0 = time.time()
    Xtr, Xev, y, masks, kinds = split(name, seed, part, crop)
    Ftr = feats_in_batches(fn, Xtr)
    if border:
        Ftr = Ftr[:, :, border:-border, border:-border]
    mu = Ftr.mean(dim=(0, 2, 3), keepdim=True)
    sd = Ftr.std(dim=(0, 2, 3), keepdim=True) + 1e-6
    Ftr = ((Ftr - mu) / sd)[:, :, ::stride, ::stride]
    V = Ftr.permute(0, 2, 3, 1).reshape(-1, Ftr.shape[1])
    g = torch.Generator().manual_seed(seed)
    idx = torch.randperm(len(V), generator=g)[:n_bank]
    B = V[idx].contiguous()
    t_fit = time.time() - t0
    t1 = time.time()
    maps = []
    Bn = (B * B).sum(1)
    for i in range(0, len(Xev), 20):
        f = (feats_in_batches(fn, Xev[i:i + 20]) - mu) / sd
        f = f[:, :, ::stride, ::stride]
        n, d, h, w = f.shape
        Q = f.permute(0, 2, 3, 1).reshape(-1, d)
        D = []
        for j in range(0, len(Q), 4096):
            q = Q[j:j + 4096]
            d2 = (q * q).sum(1, keepdim=True) + Bn[None] - 2 * q @ B.T
            D.append((d2.min(1).values if k == 1 else d2.topk(k, dim=1, largest=False).values.mean(1)).clamp_min(0).sqrt())
        m = torch.cat(D).view(n, 1, h, w)
        m = F.interpolate(m, size=Xev.shape[2:], mode="bilinear", align_corners=False)
        maps.append(blur(m, sigma)[:, 0])
    maps = torch.cat(maps).numpy().astype(np.float64)
    t_score = time.time() - t1
    score = maps.max(axis=(1, 2))
    out = {"texture": name, "seed": seed, "auroc": roc_auc_score(y == -1, score),
           "pixel_auroc": metrics.pixel_auroc(masks, maps),
           "aupro": metrics.aupro(masks, maps),
           "per_kind": {kk: round(roc_auc_score(y[(kinds == kk) | (y == 1)] == -1,
                                                score[(kinds == kk) | (y == 1)]), 3)
                        for kk in sorted(set(kinds) - {"good"})},
           "pix_kind": {kk: round(metrics.pixel_auroc(masks[(kinds == kk) | (y == 1)],
                                                      maps[(kinds == kk) | (y == 1)]), 3)
                        for kk in sorted(set(kinds) - {"good"})},
           "fit_s": round(t_fit, 1), "crops_per_s": round(len(Xev) / t_score, 1),
           "dim": int(B.shape[1])}
    if verbose:
        print(f"  {name:6s} s{seed} img {out['auroc']:.3f} pix {out['pixel_auroc']:.3f} "
              f"aupro {out['aupro']:.3f} {out['per_kind']} {out['pix_kind']} fit {t_fit:.1f}s "
              f"{out['crops_per_s']} c/s d={out['dim']}", flush=True)
    return out


def all3(fn, label, seeds=(0,), **kw):
    res = [run(fn, n, s, **kw) for s in seeds for n in TEXTURES]
    a = np.mean([r["auroc"] for r in res]); p = np.mean([r["pixel_auroc"] for r in res])
    print(f"== {label}: mean img {a:.3f} pix {p:.3f} min img {min(r['auroc'] for r in res):.3f}"
          f" min pix {min(r['pixel_auroc'] for r in res):.3f}", flush=True)
    with open("/work/research27/results.jsonl", "a") as fh:
        fh.write(json.dumps({"label": label, "kw": {k: str(v) for k, v in kw.items()},
                             "results": res}) + "\n")
    return res


def bank2(x, scales=(1, 2, 4), pre=0.7, compress="sqrt", mean_scales=None, extra_raw=False):
    """Filter bank v2: energies compressed (sqrt), orientation as a double-angle vector."""
    feats = []
    xs = blur(x, pre)
    gx, gy = deriv(xs)
    lap = F.conv2d(F.pad(blur(x, 1.0), (1, 1, 1, 1), mode="reflect"),
                   torch.tensor([[0., 1, 0], [1, -4, 1], [0, 1, 0]]).view(1, 1, 3, 3))
    c = (lambda t: torch.sqrt(t + 1e-8)) if compress == "sqrt" else (lambda t: torch.log(t + 1e-4))
    if extra_raw:
        feats.append(xs)
    for s in scales:
        m = blur(x, s)
        v = torch.sqrt(torch.relu(blur(x * x, s) - m * m) + 1e-8)
        jxx, jyy, jxy = blur(gx * gx, s), blur(gy * gy, s), blur(gx * gy, s)
        energy = jxx + jyy
        # double-angle orientation vector weighted by coherence, scaled like a gradient
        ox, oy = (jxx - jyy) / (energy + 1e-6), 2 * jxy / (energy + 1e-6)
        feats += [m, v, c(energy), ox, oy, c(blur(lap * lap, s))]
    return torch.cat(feats, 1)
