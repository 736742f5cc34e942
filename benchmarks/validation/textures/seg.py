"""DRAEM-like discriminative segmentation trained on simulated anomalies (research prototype)."""
import sys, time, json
sys.path.insert(0, "/work/research27")
import numpy as np, torch, torch.nn as nn, torch.nn.functional as F
from harness import split, blur, TEXTURES, metrics, roc_auc_score
torch.set_num_threads(1)


def value_noise(n, size, scale, g):
    """Smooth noise: a random grid of side size/scale upsampled bicubically, (n,1,size,size)."""
    cells = max(2, int(round(size / scale)))
    grid = torch.randn(n, 1, cells + 1, cells + 1, generator=g)
    return F.interpolate(grid, size=(size, size), mode="bicubic", align_corners=True)


def simulate(x, pool, g, p_anom=0.5):
    """Perlin-style masks filled with augmented normal texture; returns x_aug, mask."""
    n, _, h, w = x.shape
    out, masks = x.clone(), torch.zeros(n, 1, h, w)
    std = x.std(dim=(1, 2, 3), keepdim=True).clamp_min(0.02)
    for i in range(n):
        if torch.rand(1, generator=g) > p_anom:
            continue
        scale = float(2 ** torch.empty(1).uniform_(2, 4.5, generator=g))  # 4..22 px blobs
        noise = value_noise(1, h, scale, g)[0, 0]
        thr = float(torch.empty(1).uniform_(0.6, 1.6, generator=g))
        m = (noise > thr).float()
        # keep it small: one window of random size
        wh = int(torch.randint(8, 33, (1,), generator=g))
        y0, x0 = int(torch.randint(0, h - wh + 1, (1,), generator=g)), int(torch.randint(0, w - wh + 1, (1,), generator=g))
        win = torch.zeros(h, w); win[y0:y0 + wh, x0:x0 + wh] = 1
        m = m * win
        kind = int(torch.randint(0, 5, (1,), generator=g))
        if kind == 4:  # a stroke: a thin straight band of random width, angle, length
            yy, xx = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32), indexing="ij")
            cy, cx = [float(v) for v in torch.rand(2, generator=g) * torch.tensor([h, w])]
            ang = float(torch.rand(1, generator=g)) * np.pi
            half = float(torch.empty(1).uniform_(4, 20, generator=g))
            width = float(torch.empty(1).uniform_(0.7, 2.0, generator=g))
            u = (xx - cx) * np.cos(ang) + (yy - cy) * np.sin(ang)
            v = -(xx - cx) * np.sin(ang) + (yy - cy) * np.cos(ang)
            m = ((v.abs() < width) & (u.abs() < half)).float()
            kind = int(torch.randint(0, 3, (1,), generator=g))  # filled like a region
        if m.sum() < 6:
            continue
        src = pool[int(torch.randint(0, len(pool), (1,), generator=g))][None]
        if kind == 0:  # another normal crop: rotated, zoomed, its statistics changed
            zoom = float(2 ** torch.empty(1).uniform_(-1.3, 1.3, generator=g))
            theta = float(torch.empty(1).uniform_(0, 2 * np.pi, generator=g))
            c, s = np.cos(theta) / zoom, np.sin(theta) / zoom
            A = torch.tensor([[[c, -s, 0.0], [s, c, 0.0]]], dtype=torch.float32)
            grid = F.affine_grid(A, (1, 1, h, w), align_corners=False)
            fill = F.grid_sample(src, grid, padding_mode="reflection", align_corners=False)
            gain = float(torch.empty(1).uniform_(0.3, 2.0, generator=g))
            shift = float(torch.empty(1).uniform_(-2, 2, generator=g)) * std[i]
            fill = (fill - fill.mean()) * gain + x[i].mean() + shift
        elif kind == 1:  # intensity change, multiplicative or additive with a noise profile
            amp = float(torch.empty(1).uniform_(0.5, 3.0, generator=g)) * std[i] * (1 if torch.rand(1, generator=g) < 0.5 else -1)
            fill = x[i:i + 1] + amp
        elif kind == 2:  # texture wiped: blurred or flattened to a constant
            sig = float(torch.empty(1).uniform_(1.5, 6, generator=g))
            fill = blur(x[i:i + 1], sig)
        else:  # a shuffled patch of itself (pixels permuted in 4x4 blocks)
            b = 4
            t = x[i:i + 1].unfold(2, b, b).unfold(3, b, b).reshape(1, 1, h // b, w // b, b * b)
            perm = torch.randperm(b * b, generator=g)
            t = t[..., perm].reshape(1, 1, h // b, w // b, b, b).permute(0, 1, 2, 4, 3, 5).reshape(1, 1, h, w)
            fill = t
        ms = blur(m[None, None], float(torch.empty(1).uniform_(0.5, 1.5, generator=g)))[0]
        beta = float(torch.empty(1).uniform_(0.0, 0.3, generator=g))
        a = ms * (1 - beta)
        out[i] = (x[i] * (1 - a) + fill[0] * a).clamp(0, 1)
        masks[i] = (a > 0.35).float() * (((out[i] - x[i]).abs() > 0.25 * std[i]).float())
    return out, masks


def block(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
                         nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class SegNet(nn.Module):
    def __init__(self, w=16):
        super().__init__()
        self.e1, self.e2, self.e3 = block(1, w), block(w, 2 * w), block(2 * w, 4 * w)
        self.b = block(4 * w, 4 * w)
        self.d3, self.d2, self.d1 = block(8 * w, 2 * w), block(4 * w, w), block(2 * w, w)
        self.out = nn.Conv2d(w, 1, 1)

    def forward(self, x):
        e1 = self.e1(x); e2 = self.e2(F.max_pool2d(e1, 2)); e3 = self.e3(F.max_pool2d(e2, 2))
        b = self.b(F.max_pool2d(e3, 2))
        up = lambda t: F.interpolate(t, scale_factor=2, mode="bilinear", align_corners=False)
        d3 = self.d3(torch.cat([up(b), e3], 1)); d2 = self.d2(torch.cat([up(d3), e2], 1))
        d1 = self.d1(torch.cat([up(d2), e1], 1))
        return self.out(d1)


def focal(logits, target, gamma=2.0):
    p = torch.sigmoid(logits)
    ce = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    pt = p * target + (1 - p) * (1 - target)
    return (ce * (1 - pt) ** gamma).mean()


def train(Xtr, seconds=None, steps_max=1500, w=16, bs=16, sub=32, lr=2e-3, seed=0, loss="focal", p_anom=0.5):
    g = torch.Generator().manual_seed(seed); torch.manual_seed(seed)
    X = torch.from_numpy(Xtr)
    mu, sd = float(X.mean()), float(X.std())
    net = SegNet(w); opt = torch.optim.Adam(net.parameters(), lr=lr)
    t0 = time.time(); steps = 0
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps_max, pct_start=0.1)
    while steps < steps_max and (seconds is None or time.time() - t0 < seconds):
        idx = torch.randint(0, len(X), (bs,), generator=g)
        xb = X[idx]
        if sub < xb.shape[-1]:
            oy, ox = [int(v) for v in torch.randint(0, xb.shape[-1] - sub + 1, (2,), generator=g)]
            xb = xb[..., oy:oy + sub, ox:ox + sub]
        k = int(torch.randint(0, 4, (1,), generator=g))
        xb = torch.rot90(xb, k, (2, 3)) if Xtr.shape[-1] == Xtr.shape[-2] else xb
        xa, m = simulate(xb, X, g, p_anom)
        logits = net((xa - mu) / sd)
        l = focal(logits, m) if loss == "focal" else F.binary_cross_entropy_with_logits(logits, m)
        opt.zero_grad(); l.backward(); opt.step(); sched.step(); steps += 1
    return net, (mu, sd), steps


def evaluate(net, norm, Xev, y, masks, kinds, sigma=2.0):
    net.eval()
    mu, sd = norm
    with torch.no_grad():
        logits = torch.cat([net((torch.from_numpy(Xev[i:i + 50]) - mu) / sd) for i in range(0, len(Xev), 50)])
        maps = blur(torch.sigmoid(logits), sigma)[:, 0].numpy().astype(np.float64) if sigma else torch.sigmoid(logits)[:, 0].numpy().astype(np.float64)
    score = maps.max(axis=(1, 2))
    return {"auroc": roc_auc_score(y == -1, score), "pixel_auroc": metrics.pixel_auroc(masks, maps),
            "aupro": metrics.aupro(masks, maps),
            "per_kind": {kk: round(roc_auc_score(y[(kinds == kk) | (y == 1)] == -1, score[(kinds == kk) | (y == 1)]), 3) for kk in sorted(set(kinds) - {"good"})},
            "pix_kind": {kk: round(metrics.pixel_auroc(masks[(kinds == kk) | (y == 1)], maps[(kinds == kk) | (y == 1)]), 3) for kk in sorted(set(kinds) - {"good"})}}


if __name__ == "__main__":
    label = sys.argv[1]
    kw = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}
    textures = kw.pop("textures", TEXTURES); seeds = kw.pop("seeds", [0])
    res = []
    for seed in seeds:
        for name in textures:
            Xtr, Xev, y, masks, kinds = split(name, seed)
            t = time.time()
            net, norm, steps = train(Xtr, seed=seed, **kw)
            r = evaluate(net, norm, Xev, y, masks, kinds); r.update(texture=name, seed=seed, steps=steps, fit_s=round(time.time() - t))
            res.append(r)
            print(f"  {name:6s} s{seed} img {r['auroc']:.3f} pix {r['pixel_auroc']:.3f} aupro {r['aupro']:.3f} {r['per_kind']} {r['pix_kind']} steps {steps}", flush=True)
    print(f"== {label}: img {np.mean([r['auroc'] for r in res]):.3f} pix {np.mean([r['pixel_auroc'] for r in res]):.3f}", flush=True)
    with open("/work/research27/results.jsonl", "a") as fh:
        fh.write(json.dumps({"label": label, "kw": kw, "results": res}) + "\n")
