"""DCGAN on normal data + f-AnoGAN encoder (izif). usage: python gan.py --classes 0,2,4,6 --epochs 20 --tag g1"""
from harness import *
import torch.nn as nn, torch.nn.functional as F
from sklearn.neighbors import NearestNeighbors
from sklearn.ensemble import IsolationForest

p = base_parser()
p.add_argument("--min_steps", type=int, default=0)
p.add_argument("--prep", default="none")
p.add_argument("--nz", type=int, default=64); p.add_argument("--width", type=int, default=32)
p.add_argument("--epochs", type=float, default=20); p.add_argument("--enc_epochs", type=float, default=10)
p.add_argument("--bs", type=int, default=64); p.add_argument("--lr", type=float, default=2e-4)
p.add_argument("--kappa", type=float, default=1.0)
a = p.parse_args()
RECIPE = f"{a.tag}|nz={a.nz},w={a.width},ep={a.epochs},enc_ep={a.enc_epochs},bs={a.bs},lr={a.lr},kappa={a.kappa},prep={a.prep},minsteps={a.min_steps}"
COMBOS = (["izi_blur3", "z_knn5"], ["izi_blur5", "z_knn5"], ["izi", "z_knn5"], ["izi_blur5", "z_knn5", "disc"], ["izif_blur3", "z_knn5"], ["izif_blur3", "dfeat_knn5"], ["izif_blur3", "dfeat_knn5", "z_knn5"], ["disc", "dfeat_knn5"], ["izif", "dfeat_knn5"], ["izif", "z_knn5"], ["izif", "disc"], ["dfeat_knn5", "izif", "z_knn5"])

class G(nn.Module):
    def __init__(s, nz, w):
        super().__init__(); s.w = w
        s.fc = nn.Sequential(nn.Linear(nz, 4 * w * 7 * 7), nn.BatchNorm1d(4 * w * 7 * 7), nn.ReLU(True))
        s.net = nn.Sequential(nn.ConvTranspose2d(4 * w, 2 * w, 4, 2, 1), nn.BatchNorm2d(2 * w), nn.ReLU(True),
                              nn.ConvTranspose2d(2 * w, 1, 4, 2, 1), nn.Sigmoid())
    def forward(s, z): return s.net(s.fc(z).view(-1, 4 * s.w, 7, 7))

class D(nn.Module):
    def __init__(s, w, nout=1):
        super().__init__()
        s.f = nn.Sequential(nn.Conv2d(1, w, 4, 2, 1), nn.LeakyReLU(0.2, True),
                            nn.Conv2d(w, 2 * w, 4, 2, 1), nn.BatchNorm2d(2 * w), nn.LeakyReLU(0.2, True),
                            nn.Conv2d(2 * w, 4 * w, 3, 2, 1), nn.BatchNorm2d(4 * w), nn.LeakyReLU(0.2, True), nn.Flatten())
        s.out = nn.Linear(4 * w * 16, nout)
    def feat(s, x): return s.f(x)
    def forward(s, x): return s.out(s.f(x))

def fit(Xt, seed):
    torch.manual_seed(seed); g = torch.Generator().manual_seed(seed)
    gen, dis = G(a.nz, a.width), D(a.width)
    og = torch.optim.Adam(gen.parameters(), lr=a.lr, betas=(0.5, 0.999))
    od = torch.optim.Adam(dis.parameters(), lr=a.lr, betas=(0.5, 0.999))
    n = len(Xt); total = max(int(a.epochs * np.ceil(n / a.bs)), a.min_steps); step = 0
    bce = nn.BCEWithLogitsLoss()
    while step < total:
        perm = torch.randperm(n, generator=g)
        for i in range(0, max(n - a.bs, 0) + 1, a.bs):
            if step >= total: break
            xb = Xt[perm[i:i + a.bs]]; m = len(xb)
            fake = gen(torch.randn(m, a.nz, generator=g))
            ld = bce(dis(xb), torch.full((m, 1), 0.9)) + bce(dis(fake.detach()), torch.zeros(m, 1))
            od.zero_grad(); ld.backward(); od.step()
            lg = bce(dis(fake), torch.ones(m, 1))
            og.zero_grad(); lg.backward(); og.step(); step += 1
    gen.eval(); dis.eval()
    # f-AnoGAN izif encoder
    enc = D(a.width, a.nz); oe = torch.optim.Adam(enc.parameters(), lr=1e-3)
    total = max(int(a.enc_epochs * np.ceil(n / a.bs)), a.min_steps // 2); step = 0
    sch = torch.optim.lr_scheduler.OneCycleLR(oe, max_lr=1e-3, total_steps=total, pct_start=0.15)
    for p_ in list(gen.parameters()) + list(dis.parameters()): p_.requires_grad_(False)
    while step < total:
        perm = torch.randperm(n, generator=g)
        for i in range(0, n, a.bs):
            if step >= total: break
            xb = Xt[perm[i:i + a.bs]]
            r = gen(enc(xb))
            loss = F.mse_loss(r, xb) + a.kappa * F.mse_loss(dis.feat(r), dis.feat(xb))
            oe.zero_grad(); loss.backward(); oe.step(); sch.step(); step += 1
    enc.eval()
    return gen, dis, enc

@torch.no_grad()
def infer(gen, dis, enc, X, bs=500):
    out = {k: [] for k in ("disc", "izi", "izif", "dfeat", "z", "izi_blur3", "izif_blur3", "izi_blur5")}
    for i in range(0, len(X), bs):
        x = X[i:i + bs]; z = enc(x); r = gen(z); fx, fr = dis.feat(x), dis.feat(r)
        izi = ((r - x) ** 2).flatten(1).mean(1); fd = ((fr - fx) ** 2).mean(1)
        out["disc"].append(dis.out(fx)[:, 0]); out["izi"].append(-izi); out["izif"].append(-(izi + a.kappa * fd))
        out["dfeat"].append(fx); out["z"].append(z)
        ib = (F.avg_pool2d(r - x, 3, 1, 1) ** 2).flatten(1).mean(1)
        out["izi_blur5"].append(-(F.avg_pool2d(r - x, 5, 1, 2) ** 2).flatten(1).mean(1))
        out["izi_blur3"].append(-ib); out["izif_blur3"].append(-(ib + a.kappa * fd))
    return {k: torch.cat(v).numpy() for k, v in out.items()}


def method(Xt_np, Xh_np, Xv, seed):
    Xt, Xh, XV = (torch.from_numpy(x)[:, None] for x in (Xt_np, Xh_np, Xv))
    if a.prep == "sqrt": Xt, Xh, XV = Xt.sqrt(), Xh.sqrt(), XV.sqrt()
    if a.prep == "sqrtblur": Xt, Xh, XV = (F.avg_pool2d(x.sqrt(), 3, 1, 1) for x in (Xt, Xh, XV))
    t0 = time.time(); gen, dis, enc = fit(Xt, seed); t_train = time.time() - t0
    t0 = time.time(); Ot = infer(gen, dis, enc, Xt); t_bank = time.time() - t0
    Oh = infer(gen, dis, enc, Xh)
    t0 = time.time(); Ov = infer(gen, dis, enc, XV); t_inf = time.time() - t0
    S = {k: (Oh[k], Ov[k]) for k in ("disc", "izi", "izif", "izi_blur3", "izif_blur3", "izi_blur5")}
    S["dfeat_knn5"] = (knn(l2n(Ot["dfeat"]), l2n(Oh["dfeat"]), 5), knn(l2n(Ot["dfeat"]), l2n(Ov["dfeat"]), 5))
    S["z_knn5"] = (knn(Ot["z"], Oh["z"], 5), knn(Ot["z"], Ov["z"], 5))
    return S, dict(seconds=round(t_train + t_bank, 1), train_s=round(t_train, 1), ips=round(len(Xv) / t_inf))

if __name__ == "__main__":
    a.out = a.out or "gan.jsonl"
    run(a, method, RECIPE, COMBOS)
