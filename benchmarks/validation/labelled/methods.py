"""Detector components. Each fn(sp, seed, **hp) -> scores over eval_sets(sp) (higher = more anomalous)."""
import os, time
import numpy as np
import torch
import torch.nn.functional as F
from common import imgs, eval_sets, batched, balanced_batches, ROOT
from nets import LeNetAE, SmallCNN
import modules_copy as M


def _seed(s):
    torch.manual_seed(s); np.random.seed(s)
    return np.random.RandomState(s)


# ---------------------------------------------------------------- shallow
def logreg(sp, seed, C=1.0):
    from sklearn.linear_model import LogisticRegression
    Xn = imgs(sp["fit_n"]).flatten(1).numpy(); Xa = imgs(sp["lab_a"]).flatten(1).numpy()
    X = np.r_[Xn, Xa]; y = np.r_[np.zeros(len(Xn)), np.ones(len(Xa))]
    m = LogisticRegression(C=C, class_weight="balanced", max_iter=2000).fit(X, y)
    return m.decision_function(imgs(eval_sets(sp)).flatten(1).numpy())


def knn(sp, seed, k=5):
    from sklearn.neighbors import NearestNeighbors
    Xn = imgs(sp["fit_n"]).flatten(1).numpy()
    nn_ = NearestNeighbors(n_neighbors=k).fit(Xn)
    d, _ = nn_.kneighbors(imgs(eval_sets(sp)).flatten(1).numpy())
    return d.mean(1)


# ---------------------------------------------------------------- CNN classifier
def clf(sp, seed, epochs=10, w=16, lr=1e-3, bs=128, wd=0.0, ratio=0.5):
    rng = _seed(seed)
    Xn, Xa = imgs(sp["fit_n"]), imgs(sp["lab_a"])
    net = SmallCNN(1, w); opt = torch.optim.Adam(net.parameters(), lr, weight_decay=wd)
    net.train()
    for i_n, i_a in balanced_batches(len(Xn), len(Xa), bs, epochs, rng, ratio):
        x = torch.cat([Xn[i_n], Xa[i_a]]); t = torch.r_[torch.zeros(len(i_n)), torch.ones(len(i_a))] if False else \
            torch.cat([torch.zeros(len(i_n)), torch.ones(len(i_a))])
        loss = F.binary_cross_entropy_with_logits(net(x).squeeze(1), t)
        opt.zero_grad(); loss.backward(); opt.step()
    net.eval()
    return batched(lambda x: net(x).squeeze(1), imgs(eval_sets(sp)))


# ---------------------------------------------------------------- one-class AE (skanomaly config)
def ae(sp, seed, epochs=15, latent=8, nf=32, lr=1e-3, bs=128, hinge=0.0, margin=5.0, ratio=0.5):
    rng = _seed(seed)
    Xn, Xa = imgs(sp["fit_n"]), imgs(sp["lab_a"])
    use_a = hinge > 0 and len(Xa)
    net = M.ConvAutoEncoder((1, 28, 28), latent, nf, "sigmoid")
    opt = torch.optim.Adam(net.parameters(), lr); net.train()
    for i_n, i_a in balanced_batches(len(Xn), len(Xa) if use_a else 0, bs, epochs, rng, ratio):
        x = torch.cat([Xn[i_n], Xa[i_a]]) if use_a else Xn[i_n]
        err = (net(x) - x).pow(2).flatten(1).mean(1)
        ln = err[:len(i_n)].mean(); loss = ln
        if use_a:
            loss = loss + hinge * torch.relu(margin * ln.detach() - err[len(i_n):]).mean()
        opt.zero_grad(); loss.backward(); opt.step()
    net.eval()
    return batched(lambda x: (net(x) - x).pow(2).flatten(1).mean(1), imgs(eval_sets(sp)))


# ---------------------------------------------------------------- Deep SAD
def gcn_l1(x):
    x = x - x.mean(dim=(1, 2, 3), keepdim=True)
    return x / x.abs().mean(dim=(1, 2, 3), keepdim=True).clamp_min(1e-8)


def _prep(sp, gcn):
    Xn, Xa, Xe = imgs(sp["fit_n"]), imgs(sp["lab_a"]), imgs(eval_sets(sp))
    if gcn:
        Xn, Xa, Xe = gcn_l1(Xn), gcn_l1(Xa), gcn_l1(Xe)
        lo, hi = Xn.min(), Xn.max()
        Xn, Xa, Xe = [(x - lo) / (hi - lo) for x in (Xn, Xa, Xe)]
    return Xn, Xa, Xe


def pretrained_ae(sp, seed, c, epochs=10, lr=1e-3, gcn=False, rep=64, wd=5e-7):
    """LeNet AE pretrained on the fit normals only (label-free, cached per (c, seed))."""
    f = f"{ROOT}/cache/lenetae_c{c}_s{seed}_e{epochs}_lr{lr}_g{int(gcn)}_r{rep}.pt"
    net = LeNetAE(rep)
    if os.path.exists(f):
        net.load_state_dict(torch.load(f)); return net, 0.0
    t0 = time.time(); rng = _seed(seed)
    Xn, _, _ = _prep(sp, gcn)
    opt = torch.optim.Adam(net.parameters(), lr, weight_decay=wd); net.train()
    for i_n, _ in balanced_batches(len(Xn), 0, 128, epochs, rng):
        x = Xn[i_n]; loss = (net(x) - x).pow(2).flatten(1).sum(1).mean()
        opt.zero_grad(); loss.backward(); opt.step()
    os.makedirs(f"{ROOT}/cache", exist_ok=True); torch.save(net.state_dict(), f)
    return net, time.time() - t0


def deep_sad(sp, seed, c, eta=1.0, epochs=25, lr=1e-4, pre_epochs=10, pre_lr=1e-3, pretrain=True,
             gcn=False, balanced=False, bs=128, wd=5e-7, rep=64, ae_score=0.0):
    """Deep SAD (Ruff et al. 2020). With no labelled anomalies it is Deep SVDD (one-class).
    balanced=False: batches are random mixtures of normals and labelled anomalies (faithful)."""
    rng = _seed(seed)
    Xn, Xa, Xe = _prep(sp, gcn)
    if pretrain:
        aenet, pre_s = pretrained_ae(sp, seed, c, pre_epochs, pre_lr, gcn, rep)
        enc = aenet.enc
    else:
        from nets import LeNetEnc
        enc, pre_s = LeNetEnc(rep), 0.0
    t0 = time.time()
    enc.eval()
    with torch.no_grad():
        cen = enc(Xn).mean(0)
        eps = 0.1
        cen[(cen.abs() < eps) & (cen < 0)] = -eps; cen[(cen.abs() < eps) & (cen >= 0)] = eps
    opt = torch.optim.Adam(enc.parameters(), lr, weight_decay=wd)
    enc.train()
    if balanced or len(Xa) == 0:
        it = balanced_batches(len(Xn), len(Xa), bs, epochs, rng)
        batches = ((Xn[a], Xa[b]) for a, b in it)
    else:
        X = torch.cat([Xn, Xa]); lab = torch.cat([torch.zeros(len(Xn)), torch.ones(len(Xa))]).bool()
        def gen():
            for _ in range(epochs):
                p = torch.from_numpy(rng.permutation(len(X)))
                for i in range(0, len(X), bs):
                    j = p[i:i + bs]; yield X[j][~lab[j]], X[j][lab[j]]
        batches = gen()
    for xn, xa in batches:
        x = torch.cat([xn, xa])
        d = (enc(x) - cen).pow(2).sum(1)
        dn, da = d[:len(xn)], d[len(xn):]
        loss = torch.cat([dn, eta / (da + 1e-6)]).mean()
        opt.zero_grad(); loss.backward(); opt.step()
    enc.eval()
    s = batched(lambda x: (enc(x) - cen).pow(2).sum(1), Xe)
    return s, pre_s + time.time() - t0


# ---------------------------------------------------------------- rotation prediction (+ outlier exposure)
def _rot4(x):
    return torch.cat([torch.rot90(x, k, (2, 3)) for k in range(4)])


def rotation(sp, seed, epochs=10, w=16, lr=1e-3, bs=64, oe=0.0, ratio=0.5):
    """GEOM-style 4-rotation classifier on normals. oe>0: labelled anomalies' rotated copies are
    pushed to the uniform distribution (Hendrycks et al. 2019), weight oe, balanced batches.
    score = mean CE of the true rotation over the 4 rotated copies."""
    rng = _seed(seed)
    Xn, Xa = imgs(sp["fit_n"]), imgs(sp["lab_a"])
    use_a = oe > 0 and len(Xa)
    net = SmallCNN(4, w); opt = torch.optim.Adam(net.parameters(), lr); net.train()
    for i_n, i_a in balanced_batches(len(Xn), len(Xa) if use_a else 0, bs, epochs, rng, ratio):
        xn = _rot4(Xn[i_n]); tn = torch.arange(4).repeat_interleave(len(i_n))
        if use_a:
            xa = _rot4(Xa[i_a]); out = net(torch.cat([xn, xa]))
            on, oa = out[:len(xn)], out[len(xn):]
            loss = F.cross_entropy(on, tn) + oe * (-F.log_softmax(oa, 1).mean(1)).mean()
        else:
            loss = F.cross_entropy(net(xn), tn)
        opt.zero_grad(); loss.backward(); opt.step()
    net.eval()
    def score(x):
        n = len(x); out = F.log_softmax(net(_rot4(x)), 1)
        t = torch.arange(4).repeat_interleave(n)
        return -out[torch.arange(4 * n), t].view(4, n).mean(0)
    return batched(score, imgs(eval_sets(sp)), 250)
