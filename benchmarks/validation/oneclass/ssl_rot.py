"""Self-supervised transformation prediction + feature scores.
usage: python ssl_rot.py --classes 0,2,4,6 --seeds 0 --tf rot4 --width 16 --epochs 10 --tag NAME"""
import argparse
from common import *
from nets import VGGS
import torch.nn.functional as F
from sklearn.neighbors import NearestNeighbors
from sklearn.ensemble import IsolationForest

p = argparse.ArgumentParser()
p.add_argument("--classes", default="0,2,4,6"); p.add_argument("--seeds", default="0")
p.add_argument("--tf", default="rot4"); p.add_argument("--width", type=int, default=16)
p.add_argument("--stages", type=int, default=3)
p.add_argument("--epochs", type=float, default=10); p.add_argument("--bs", type=int, default=64)
p.add_argument("--lr", type=float, default=1e-3); p.add_argument("--opt", default="adam")
p.add_argument("--wd", type=float, default=0.0)
p.add_argument("--aug", default="none")  # none | hflip | shift
p.add_argument("--holdout", type=float, default=0.1)
p.add_argument("--tag", default="")
p.add_argument("--out", default="ssl.jsonl")
a = p.parse_args()

def tf_list(name):
    rots = [0, 1, 2, 3]
    if name == "rot4": return [(r, 0, 0, 0) for r in rots]
    if name == "rot4flip": return [(r, f, 0, 0) for r in rots for f in (0, 1)]
    if name == "rot4shift5": return [(r, 0, dx, dy) for r in rots for dx, dy in [(0,0),(7,0),(-7,0),(0,7),(0,-7)]]
    if name == "rot4shift3": return [(r, 0, dx, 0) for r in rots for dx in (0, 7, -7)]
    if name == "geom36": return [(r, 0, dx, dy) for r in rots for dx in (0, 7, -7) for dy in (0, 7, -7)]
    if name == "rot4flipv": return [(r, f, 0, 0) for r in rots for f in (0, 2)]
    raise ValueError(name)

def apply(x, t):
    r, f, dx, dy = t
    if f == 1: x = x.flip(3)
    if f == 2: x = x.flip(2)
    if dx or dy:
        x = F.pad(x, (7, 7, 7, 7), mode="reflect")
        x = x[:, :, 7 + dy:7 + dy + 28, 7 + dx:7 + dx + 28]
    if r: x = torch.rot90(x, r, (2, 3))
    return x

def all_tf(x, T):
    return torch.cat([apply(x, t) for t in T]).contiguous(memory_format=torch.channels_last)

def augment(x, g):
    if a.aug in ("hflip", "hflip_shift"):
        m = torch.rand(len(x), generator=g) < 0.5
        x = torch.where(m[:, None, None, None], x.flip(3), x)
    if a.aug in ("shift", "hflip_shift"):
        dx, dy = torch.randint(-2, 3, (2,), generator=g).tolist()
        x = torch.roll(x, (dy, dx), (2, 3))
    return x

def fit_net(Xt, T, seed):
    torch.manual_seed(seed); g = torch.Generator().manual_seed(seed)
    net = VGGS(len(T), a.width, a.stages).to(memory_format=torch.channels_last)
    n = len(Xt); steps_per = int(np.ceil(n / a.bs)); total = int(a.epochs * steps_per)
    if a.opt == "adam":
        opt = torch.optim.Adam(net.parameters(), lr=a.lr, weight_decay=a.wd)
    else:
        opt = torch.optim.SGD(net.parameters(), lr=a.lr, momentum=0.9, weight_decay=a.wd, nesterov=True)
    sch = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=a.lr, total_steps=total, pct_start=0.15)
    K = len(T); labels = torch.arange(K).repeat_interleave(a.bs)
    net.train(); step = 0
    while step < total:
        perm = torch.randperm(n, generator=g)
        for i in range(0, n, a.bs):
            if step >= total: break
            xb = augment(Xt[perm[i:i + a.bs]], g)
            yb = labels[:K * len(xb)] if len(xb) == a.bs else torch.arange(K).repeat_interleave(len(xb))
            loss = F.cross_entropy(net(all_tf(xb, T)), yb)
            opt.zero_grad(set_to_none=True); loss.backward(); opt.step(); sch.step(); step += 1
    net.eval()
    return net

@torch.no_grad()
def infer(net, X, T, bs=500):
    """returns identity-view GAP features (n,d), per-view features (K,n,d) and log p(correct) (K,n)"""
    feats, lls = [], []
    for i in range(0, len(X), bs):
        xb = X[i:i + bs]; m = len(xb)
        h = net.embed(all_tf(xb, T)); lp = F.log_softmax(net.head(h), 1)
        K = len(T)
        lls.append(torch.stack([lp[k * m:(k + 1) * m, k] for k in range(K)]))
        feats.append(h.view(K, m, -1))
    return torch.cat(feats, 1).numpy(), torch.cat(lls, 1).numpy()

@torch.no_grad()
def embed_id(net, X, bs=500):
    return torch.cat([net.embed(X[i:i + bs].contiguous(memory_format=torch.channels_last)) for i in range(0, len(X), bs)]).numpy()

@torch.no_grad()
def embed_multi(net, X, bs=500):
    outs = [net.embed_multi(X[i:i + bs].contiguous(memory_format=torch.channels_last)) for i in range(0, len(X), bs)]
    return [torch.cat([o[j] for o in outs]).numpy() for j in range(len(outs[0]))]

def l2n(z): return z / (np.linalg.norm(z, axis=1, keepdims=True) + 1e-8)

def knn(bank, q, k):
    d, _ = NearestNeighbors(n_neighbors=k).fit(bank).kneighbors(q)
    return -d.mean(1)

def maha(bank, q, shrink=0.1):
    mu = bank.mean(0); C = np.cov(bank - mu, rowvar=False)
    C = (1 - shrink) * C + shrink * np.trace(C) / len(C) * np.eye(len(C))
    P = np.linalg.inv(C); d = q - mu
    return -np.einsum("ij,jk,ik->i", d, P, d)

T = tf_list(a.tf)
for seed in [int(s) for s in a.seeds.split(",")]:
    for c in [int(s) for s in a.classes.split(",")]:
        Xtr, Xv, yv = split(c, seed)
        rng = np.random.RandomState(seed)
        perm = rng.permutation(len(Xtr)); nh = int(a.holdout * len(Xtr))
        Xh_np, Xt_np = Xtr[perm[:nh]], Xtr[perm[nh:]]
        Xt = torch.from_numpy(Xt_np)[:, None]; Xh = torch.from_numpy(Xh_np)[:, None]; XV = torch.from_numpy(Xv)[:, None]
        t0 = time.time()
        net = fit_net(Xt, T, seed)
        t_train = time.time() - t0
        t0 = time.time(); Ft, Lt = infer(net, Xt, T); t_bank = time.time() - t0
        Fh, Lh = infer(net, Xh, T)
        t0 = time.time(); Fv, Lv = infer(net, XV, T); t_allview = time.time() - t0
        t0 = time.time(); embed_id(net, XV); t_id = time.time() - t0
        n4 = [i for i, t in enumerate(T) if t[1:] == (0, 0, 0)]
        S = {}  # name -> (holdout score, val score)
        S["ll_all"] = (Lh.sum(0), Lv.sum(0))
        if len(T) > 4: S["ll_rot4"] = (Lh[n4].sum(0), Lv[n4].sum(0))
        F0t, F0h, F0v = Ft[0], Fh[0], Fv[0]
        for k in (1, 5):
            S[f"knn{k}_cos_id"] = (knn(l2n(F0t), l2n(F0h), k), knn(l2n(F0t), l2n(F0v), k))
        S["knn5_euc_id"] = (knn(F0t, F0h, 5), knn(F0t, F0v, 5))
        S["maha_id"] = (maha(F0t, F0h), maha(F0t, F0v))
        # concat of rotation views (4 rotations) features
        cat = lambda Fx: l2n(np.concatenate([l2n(Fx[i]) for i in n4], 1))
        S["knn5_cos_rot4cat"] = (knn(cat(Ft), cat(Fh), 5), knn(cat(Ft), cat(Fv), 5))
        At, Ah, Av = Xt_np.reshape(len(Xt_np), -1), Xh_np.reshape(nh, -1), Xv.reshape(len(Xv), -1)
        S["raw_knn5"] = (knn(At, Ah, 5), knn(At, Av, 5))
        ifo = IsolationForest(n_estimators=100, random_state=seed).fit(At)
        S["raw_if"] = (ifo.score_samples(Ah), ifo.score_samples(Av))
        Mt, Mh, Mv = (np.concatenate([l2n(f) for f in embed_multi(net, X)], 1) for X in (Xt, Xh, XV))
        S["knn5_multi"] = (knn(Mt, Mh, 5), knn(Mt, Mv, 5))
        def z(name):
            h, v = S[name]; mu, sd = np.mean(h), np.std(h) + 1e-12
            return (v - mu) / sd
        combos = {"ll+knn5cos": ["ll_all", "knn5_cos_id"], "ll+knn5cos+raw": ["ll_all", "knn5_cos_id", "raw_knn5"],
                  "knn5cos+raw": ["knn5_cos_id", "raw_knn5"], "ll+raw": ["ll_all", "raw_knn5"],
                  "ll+maha": ["ll_all", "maha_id"], "ll+rot4cat": ["ll_all", "knn5_cos_rot4cat"],
                  "knn5cos+raw+if": ["knn5_cos_id", "raw_knn5", "raw_if"], "ll+knn5cos+raw+if": ["ll_all", "knn5_cos_id", "raw_knn5", "raw_if"],
                  "multi+raw": ["knn5_multi", "raw_knn5"], "multi+raw+if": ["knn5_multi", "raw_knn5", "raw_if"],
                  "rot4cat+raw": ["knn5_cos_rot4cat", "raw_knn5"]}
        res = {k: round(auroc(yv, v[1]), 4) for k, v in S.items()}
        for k, names in combos.items():
            res["Z:" + k] = round(auroc(yv, sum(z(n) for n in names)), 4)
        log(a.out, recipe=f"{a.tag}|tf={a.tf},w={a.width},st={a.stages},ep={a.epochs},bs={a.bs},lr={a.lr},opt={a.opt},wd={a.wd},aug={a.aug}",
            cls=c, seed=seed, auroc=res, seconds=round(t_train + t_bank, 1), train_s=round(t_train, 1),
            ips_allview=round(len(Xv) / t_allview), ips_id=round(len(Xv) / t_id),
            final_ll_train=float(Lt.mean()))
