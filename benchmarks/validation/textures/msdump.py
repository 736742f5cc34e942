"""Dump per-group standardised distance maps (full res, unsmoothed) on validation crops."""
import sys; sys.path.insert(0, "/work/research27")
from ms import *
kw = json.loads(sys.argv[2]); tag = sys.argv[1]
textures = kw.pop("textures", TEXTURES); seeds = kw.pop("seeds", [0]); part = kw.pop("part", "validation")
for seed in seeds:
    for name in textures:
        Xtr, Xev, y, masks, kinds = split(name, seed, part)
        t = time.time(); det = MultiScaleKNN(seed=seed, **kw).fit(Xtr); tf = time.time() - t
        t = time.time(); zs = []
        for i in range(0, len(Xev), 25):
            x = torch.from_numpy(Xev[i:i + 25])
            zs.append(torch.cat([(F.interpolate(m, size=x.shape[2:], mode="bilinear", align_corners=False) - det.mu_[g]) / det.sd_[g] for g, m in enumerate(det.raw_maps(x))], 1))
        ts = time.time() - t
        np.savez_compressed(f"/work/research27/dump_{tag}_{name}_s{seed}_{part}.npz", z=torch.cat(zs).numpy().astype(np.float16), y=y, masks=masks, kinds=kinds)
        print(name, seed, f"fit {tf:.0f}s score {len(Xev)/ts:.2f} c/s", flush=True)
