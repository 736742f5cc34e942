"""Self-supervised transformation prediction + feature scores.
usage: python ssl_rot.py --classes 0,2,4,6 --seeds 0 --tf rot4 --width 16 --epochs 10 --tag NAME"""
from harness import *
from nets import VGGS
import torch.nn.functional as F
from sklearn.neighbors import NearestNeighbors
from sklearn.ensemble import IsolationForest

p = base_parser()
p.add_argument("--min_steps", type=int, default=0)
p.add_argument("--prep", default="none")  # none | sqrt : net input
p.add_argument("--save", type=int, default=1)
p.add_argument("--tf", default="rot4"); p.add_argument("--width", type=int, default=16)
p.add_argument("--stages", type=int, default=3)
p.add_argument("--epochs", type=float, default=10); p.add_argument("--bs", type=int, default=64)
p.add_argument("--lr", type=float, default=1e-3); p.add_argument("--opt", default="adam")
p.add_argument("--wd", type=float, default=0.0)
p.add_argument("--aug", default="none")  # none | hflip | shift
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
    n = len(Xt); steps_per = int(np.ceil(n / a.bs)); total = max(int(a.epochs * steps_per), a.min_steps)
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
def embed_spatial(net, X, bs=500):
    outs = [net.embed_spatial(X[i:i + bs].contiguous(memory_format=torch.channels_last)) for i in range(0, len(X), bs)]
    return [torch.cat([o[j] for o in outs]).numpy() for j in range(len(outs[0]))]

@torch.no_grad()
def embed_id(net, X, bs=500):
    return torch.cat([net.embed(X[i:i + bs].contiguous(memory_format=torch.channels_last)) for i in range(0, len(X), bs)]).numpy()

@torch.no_grad()
def embed_multi(net, X, bs=500):
    outs = [net.embed_multi(X[i:i + bs].contiguous(memory_format=torch.channels_last)) for i in range(0, len(X), bs)]
    return [torch.cat([o[j] for o in outs]).numpy() for j in range(len(outs[0]))]


def maha(bank, q, shrink=0.1):
    mu = bank.mean(0); C = np.cov(bank - mu, rowvar=False)
    C = (1 - shrink) * C + shrink * np.trace(C) / len(C) * np.eye(len(C))
    P = np.linalg.inv(C); d = q - mu
    return -np.einsum("ij,jk,ik->i", d, P, d)

T = tf_list(a.tf)
RECIPE = f"{a.tag}|tf={a.tf},w={a.width},st={a.stages},ep={a.epochs},bs={a.bs},lr={a.lr},opt={a.opt},wd={a.wd},aug={a.aug},prep={a.prep},minsteps={a.min_steps}"
COMBOS = (["knn5_sp_s2g4", "rawsb_knn5"], ["knn5_sp_s3g2", "rawsb_knn5"], ["knn5_sp_cat", "rawsb_knn5"], ["knn5_sp_cat", "knn5_cos_id", "rawsb_knn5"], ["ll_all", "knn5_sp_cat", "rawsb_knn5"], ["knn5_cos_id", "rawsb_knn5"], ["ll_all", "knn5_cos_id", "rawsb_knn5"], ["knn5_cos_rot4cat", "rawsb_knn5"], ["knn5_multi", "rawsb_knn5"],
          ["ll_all", "rawsb_knn5"], ["knn5_cos_id", "rawsb_knn5", "raw_if"], ["knn5_multi", "knn5_cos_rot4cat", "rawsb_knn5"], ["ll_all", "knn5_multi", "rawsb_knn5"],
          ["ll_all", "knn5_cos_id"], ["knn5_cos_id", "raw_knn5"], ["ll_all", "knn5_cos_id", "raw_knn5"], ["ll_all", "raw_knn5"],
          ["knn5_cos_rot4cat", "raw_knn5"], ["knn5_multi", "raw_knn5"], ["knn5_cos_id", "raw_knn5", "raw_if"],
          ["ll_all", "knn5_cos_id", "raw_knn5", "raw_if"], ["ll_rot4", "knn5_cos_id", "raw_knn5"], ["knn5_multi", "knn5_cos_rot4cat", "raw_knn5"])

def method(Xt_np, Xh_np, Xv, seed):
    Xt, Xh, XV = (torch.from_numpy(x)[:, None] for x in (Xt_np, Xh_np, Xv))
    if a.prep == "sqrt": Xt, Xh, XV = Xt.sqrt(), Xh.sqrt(), XV.sqrt()
    t0 = time.time(); net = fit_net(Xt, T, seed); t_train = time.time() - t0
    t0 = time.time(); Ft, Lt = infer(net, Xt, T); t_bank = time.time() - t0
    Fh, Lh = infer(net, Xh, T)
    t0 = time.time(); Fv, Lv = infer(net, XV, T); t_allview = time.time() - t0
    t0 = time.time(); embed_id(net, XV); t_id = time.time() - t0
    n4 = [i for i, t in enumerate(T) if t[1:] == (0, 0, 0)]
    S = {"ll_all": (Lh.sum(0), Lv.sum(0))}
    if len(T) > 4: S["ll_rot4"] = (Lh[n4].sum(0), Lv[n4].sum(0))
    F0t, F0h, F0v = Ft[0], Fh[0], Fv[0]
    for k in (1, 5):
        S[f"knn{k}_cos_id"] = (knn(l2n(F0t), l2n(F0h), k), knn(l2n(F0t), l2n(F0v), k))
    S["maha_id"] = (maha(F0t, F0h), maha(F0t, F0v))
    cat = lambda Fx: l2n(np.concatenate([l2n(Fx[i]) for i in n4], 1))
    S["knn5_cos_rot4cat"] = (knn(cat(Ft), cat(Fh), 5), knn(cat(Ft), cat(Fv), 5))
    At, Ah, Av = (x.reshape(len(x), -1) for x in (Xt_np, Xh_np, Xv))
    ifo = IsolationForest(n_estimators=100, random_state=seed).fit(At)
    S["raw_if"] = (ifo.score_samples(Ah), ifo.score_samples(Av))
    Mt, Mh, Mv = (np.concatenate([l2n(f) for f in embed_multi(net, X)], 1) for X in (Xt, Xh, XV))
    S["knn5_multi"] = (knn(Mt, Mh, 5), knn(Mt, Mv, 5))
    Pt, Ph, Pv = (embed_spatial(net, X) for X in (Xt, Xh, XV))
    for j, nm in enumerate(("sp_s2g4", "sp_s3g2")):
        S["knn5_" + nm] = (knn(l2n(Pt[j]), l2n(Ph[j]), 5), knn(l2n(Pt[j]), l2n(Pv[j]), 5))
    cat2 = lambda P: np.concatenate([l2n(p) for p in P], 1)
    S["knn5_sp_cat"] = (knn(cat2(Pt), cat2(Ph), 5), knn(cat2(Pt), cat2(Pv), 5))
    if a.save:
        os.makedirs(os.path.join(HERE, "models"), exist_ok=True)
        torch.save(net.state_dict(), os.path.join(HERE, "models", f"{a.tag}_c{CUR[0]}_s{seed}.pt"))
    return S, dict(seconds=round(t_train + t_bank, 1), train_s=round(t_train, 1), ips_allview=round(len(Xv) / t_allview),
                   ips_id=round(len(Xv) / t_id), final_ll_train=float(Lt.mean()))

if __name__ == "__main__":
    a.out = a.out or "ssl.jsonl"
    run(a, method, RECIPE, COMBOS)
