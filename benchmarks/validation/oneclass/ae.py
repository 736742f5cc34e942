"""Conv autoencoder family. usage: python ae.py --classes 0,2,4,6 --latent 32 --width 32 --epochs 15 --tag a1"""
from harness import *
import torch.nn as nn, torch.nn.functional as F
from sklearn.neighbors import NearestNeighbors
from sklearn.ensemble import IsolationForest

p = base_parser()
p.add_argument("--min_steps", type=int, default=0)
p.add_argument("--prep", default="none")
p.add_argument("--latent", type=int, default=32); p.add_argument("--width", type=int, default=32)
p.add_argument("--epochs", type=float, default=15); p.add_argument("--bs", type=int, default=64)
p.add_argument("--lr", type=float, default=1e-3); p.add_argument("--wd", type=float, default=0.0)
p.add_argument("--loss", default="mse"); p.add_argument("--noise", type=float, default=0.0)
a = p.parse_args()
RECIPE = f"{a.tag}|d={a.latent},w={a.width},ep={a.epochs},bs={a.bs},lr={a.lr},wd={a.wd},loss={a.loss},noise={a.noise},prep={a.prep},minsteps={a.min_steps}"
COMBOS = (["blur5", "lat_knn5", "lat_if"], ["blur3", "lat_knn5", "lat_if"], ["blur5", "lat_if"], ["blur5", "lat_knn1"], ["blur5", "lat_knn5"], ["blur7", "lat_knn5"], ["blur3", "blur5", "lat_knn5"], ["blur5abs", "lat_knn5"], ["mse", "lat_knn5", "rawsb_knn5"], ["mse", "lat_knn5"], ["blur3", "lat_knn5"], ["l1", "lat_knn5"], ["mse", "raw_if"], ["mse", "lat_knn5", "raw_if"], ["mse", "raw_knn5"])

class AE(nn.Module):
    def __init__(self, d, w):
        super().__init__()
        self.enc = nn.Sequential(
            nn.Conv2d(1, w, 4, 2, 1), nn.LeakyReLU(0.2, True),                                # 14
            nn.Conv2d(w, 2 * w, 4, 2, 1), nn.BatchNorm2d(2 * w), nn.LeakyReLU(0.2, True),       # 7
            nn.Conv2d(2 * w, 4 * w, 3, 2, 1), nn.BatchNorm2d(4 * w), nn.LeakyReLU(0.2, True),   # 4
            nn.Flatten(), nn.Linear(16 * 4 * w, d))
        self.dec_fc = nn.Linear(d, 16 * 4 * w); self.w = w
        self.dec = nn.Sequential(
            nn.BatchNorm2d(4 * w), nn.ReLU(True),
            nn.ConvTranspose2d(4 * w, 2 * w, 3, 2, 1), nn.BatchNorm2d(2 * w), nn.ReLU(True),   # 7
            nn.ConvTranspose2d(2 * w, w, 4, 2, 1), nn.BatchNorm2d(w), nn.ReLU(True),           # 14
            nn.ConvTranspose2d(w, 1, 4, 2, 1), nn.Sigmoid())                                   # 28
    def forward(self, x):
        z = self.enc(x)
        return self.dec(self.dec_fc(z).view(-1, 4 * self.w, 4, 4)), z

def fit(Xt, seed):
    torch.manual_seed(seed); g = torch.Generator().manual_seed(seed)
    net = AE(a.latent, a.width)
    opt = torch.optim.Adam(net.parameters(), lr=a.lr, weight_decay=a.wd)
    n = len(Xt); total = max(int(a.epochs * np.ceil(n / a.bs)), a.min_steps)
    sch = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=a.lr, total_steps=total, pct_start=0.15)
    step = 0; net.train()
    while step < total:
        perm = torch.randperm(n, generator=g)
        for i in range(0, n, a.bs):
            if step >= total: break
            xb = Xt[perm[i:i + a.bs]]
            xin = (xb + a.noise * torch.randn(xb.shape, generator=g)).clamp(0, 1) if a.noise else xb
            r, _ = net(xin)
            loss = F.mse_loss(r, xb) if a.loss == "mse" else F.l1_loss(r, xb) if a.loss == "l1" else F.binary_cross_entropy(r, xb)
            opt.zero_grad(set_to_none=True); loss.backward(); opt.step(); sch.step(); step += 1
    net.eval(); return net

@torch.no_grad()
def infer(net, X, bs=500):
    R, Z = [], []
    for i in range(0, len(X), bs):
        r, z = net(X[i:i + bs]); R.append(r); Z.append(z)
    R = torch.cat(R); Z = torch.cat(Z).numpy()
    res = R - X
    out = {"mse": -(res ** 2).flatten(1).sum(1).numpy(),
           "l1": -res.abs().flatten(1).sum(1).numpy(),
           "blur3": -(F.avg_pool2d(res, 3, 1, 1) ** 2).flatten(1).sum(1).numpy(),
           "blur5abs": -(F.avg_pool2d(res.abs(), 5, 1, 2) ** 2).flatten(1).sum(1).numpy(),
           "blur5": -(F.avg_pool2d(res, 5, 1, 2) ** 2).flatten(1).sum(1).numpy(),
           "blur7": -(F.avg_pool2d(res, 7, 1, 3) ** 2).flatten(1).sum(1).numpy(),
           "max_blur3": -(F.avg_pool2d(res.abs(), 3, 1, 1)).flatten(1).max(1).values.numpy()}
    return out, Z


def method(Xt_np, Xh_np, Xv, seed):
    Xt, Xh, XV = (torch.from_numpy(x)[:, None] for x in (Xt_np, Xh_np, Xv))
    if a.prep == "sqrt": Xt, Xh, XV = Xt.sqrt(), Xh.sqrt(), XV.sqrt()
    if a.prep == "sqrtblur": Xt, Xh, XV = (F.avg_pool2d(x.sqrt(), 3, 1, 1) for x in (Xt, Xh, XV))
    t0 = time.time(); net = fit(Xt, seed); t_train = time.time() - t0
    t0 = time.time(); St, Zt = infer(net, Xt); t_bank = time.time() - t0
    Sh, Zh = infer(net, Xh)
    t0 = time.time(); Sv, Zv = infer(net, XV); t_inf = time.time() - t0
    S = {k: (Sh[k], Sv[k]) for k in Sv}
    S["lat_knn5"] = (knn(Zt, Zh, 5), knn(Zt, Zv, 5))
    S["lat_knn1"] = (knn(Zt, Zh, 1), knn(Zt, Zv, 1))
    lif = IsolationForest(n_estimators=100, random_state=seed).fit(Zt)
    S["lat_if"] = (lif.score_samples(Zh), lif.score_samples(Zv))
    At, Ah, Av = (x.reshape(len(x), -1) for x in (Xt_np, Xh_np, Xv))
    ifo = IsolationForest(n_estimators=100, random_state=seed).fit(At)
    S["raw_if"] = (ifo.score_samples(Ah), ifo.score_samples(Av))
    return S, dict(seconds=round(t_train + t_bank, 1), train_s=round(t_train, 1), ips=round(len(Xv) / t_inf))

if __name__ == "__main__":
    a.out = a.out or "ae.jsonl"
    run(a, method, RECIPE, COMBOS)
