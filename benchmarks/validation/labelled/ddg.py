"""Re-implementation of skanomaly's DualDiscGAN training step (Kim et al. 2020), with variants.
Mirrors DualDiscNet.train_step: one D step then one G step per mixed batch (half anomalies)."""
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from common import imgs, eval_sets, batched, balanced_batches
from gan_modules_copy import PatchDiscriminator, init_dcgan_weights, patch_l1


class UNetG(nn.Module):
    """UNetGenerator of skanomaly (28->14->7->3), with per-scale skip choice.
    skips = (skip at 7x7, skip at 14x14); (True, True) is the original."""
    def __init__(self, nf=16, skips=(True, True)):
        super().__init__()
        self.skips = skips
        w = [nf, 2 * nf, 4 * nf]
        self.down = nn.ModuleList([
            nn.Sequential(nn.Conv2d(1, w[0], 4, 2, 1, bias=False), nn.LeakyReLU(0.2, True)),
            nn.Sequential(nn.Conv2d(w[0], w[1], 4, 2, 1, bias=False), nn.BatchNorm2d(w[1]), nn.LeakyReLU(0.2, True)),
            nn.Sequential(nn.Conv2d(w[1], w[2], 4, 2, 1, bias=False), nn.BatchNorm2d(w[2]), nn.LeakyReLU(0.2, True))])
        i1 = w[1] * (2 if skips[0] else 1)
        i2 = w[0] * (2 if skips[1] else 1)
        self.up = nn.ModuleList([
            nn.Sequential(nn.ConvTranspose2d(w[2], w[1], 4, 2, 1, output_padding=1, bias=False), nn.BatchNorm2d(w[1]), nn.ReLU(True)),
            nn.Sequential(nn.ConvTranspose2d(i1, w[0], 4, 2, 1, bias=False), nn.BatchNorm2d(w[0]), nn.ReLU(True)),
            nn.Sequential(nn.ConvTranspose2d(i2, 1, 4, 2, 1, bias=True), nn.Tanh())])
        init_dcgan_weights(self)

    def encode(self, x):
        f = []
        for b in self.down:
            x = b(x); f.append(x)
        return f

    def decode(self, f):
        x = self.up[0](f[2])
        if self.skips[0]: x = torch.cat([x, f[1]], 1)
        x = self.up[1](x)
        if self.skips[1]: x = torch.cat([x, f[0]], 1)
        return self.up[2](x)

    def forward(self, x):
        return self.decode(self.encode(x))


def abc_loss(err):
    return -torch.log(-torch.expm1(-err.clamp_min(1e-6)))


def dualgan(sp, seed, nf=16, skips=(True, True), epochs=5, bs=64, lr=1e-3, rec_w=1.5, lat_w=0.5,
            patch_w=1.5, advn_w=0.5, abc_w=0.5, adva_w=1.0, dn_w=1.0, da_w=0.5, abc_mode="abc",
            margin=5.0, lat_push_w=0.0, unsup=False):
    """returns dict of score vectors over eval_sets(sp): rec (original score), lat, dn, patch"""
    torch.manual_seed(seed); rng = np.random.RandomState(seed)
    Xn, Xa = imgs(sp["fit_n"]) * 2 - 1, imgs(sp["lab_a"]) * 2 - 1
    if unsup: Xa = Xa[:0]
    G, Dn, Da = UNetG(nf, tuple(skips)), PatchDiscriminator((1, 28, 28), nf), PatchDiscriminator((1, 28, 28), nf)
    og = torch.optim.Adam(G.parameters(), lr, betas=(0.5, 0.999))
    od = torch.optim.Adam([*Dn.parameters(), *Da.parameters()], lr, betas=(0.5, 0.999))
    bce = lambda o, t: F.binary_cross_entropy_with_logits(o, torch.full_like(o, float(t)))
    G.train(); Dn.train(); Da.train()
    for i_n, i_a in balanced_batches(len(Xn), len(Xa), bs, epochs, rng, 0.5):
        xn, xa = Xn[i_n], Xa[i_a]; x = torch.cat([xn, xa]); n = len(xn); has_a = len(xa) > 0
        feats = G.encode(x); xh = G.decode(feats); xhn, xha = xh[:n], xh[n:]
        d_n = 0.5 * (bce(Dn(xn), 1) + bce(Dn(xhn.detach()), 0))
        d_a = 0.5 * (bce(Da(xa), 1) + bce(Da(xha.detach()), 0)) if has_a else torch.zeros(())
        od.zero_grad(); (dn_w * d_n + da_w * d_a).backward(); od.step()
        rec = (xn - xhn).abs().mean()
        lat_h = G.encode(xh)[-1]
        lat = (feats[-1][:n] - lat_h[:n]).abs().mean()
        patch = patch_l1(xn, xhn).mean()
        adv_n = bce(Dn(xhn), 1)
        loss = rec_w * rec + lat_w * lat + patch_w * patch + advn_w * adv_n
        if has_a:
            ea = (xa - xha).abs().flatten(1).mean(1)
            if abc_mode == "abc":
                push = abc_loss(ea).mean()
            else:  # bounded hinge relative to the normal error
                push = torch.relu(margin * rec.detach() - ea).mean()
            loss = loss + abc_w * push + adva_w * bce(Da(xha), 0)
            if lat_push_w:
                la = (feats[-1][n:] - lat_h[n:]).abs().flatten(1).mean(1)
                ln = (feats[-1][:n] - lat_h[:n]).abs().flatten(1).mean(1).mean().detach()
                loss = loss + lat_push_w * torch.relu(margin * ln - la).mean()
        og.zero_grad(); loss.backward(); og.step()
    G.eval(); Dn.eval()
    Xe = imgs(eval_sets(sp)) * 2 - 1
    def sc(x):
        f = G.encode(x); xh = G.decode(f)
        return torch.stack([(x - xh).abs().flatten(1).mean(1),
                            (f[-1] - G.encode(xh)[-1]).abs().flatten(1).mean(1),
                            -Dn(x).flatten(1).mean(1),
                            patch_l1(x, xh)], 1)
    s = batched(sc, Xe)
    # one-class term from the model itself: kNN (k=5) distance of the deepest encoder features
    # to those of the training normals
    from sklearn.neighbors import NearestNeighbors
    enc = lambda x: G.encode(x)[-1].flatten(1)
    Fn, Fe = batched(enc, Xn), batched(enc, Xe)
    d, _ = NearestNeighbors(n_neighbors=5).fit(Fn).kneighbors(Fe)
    return {"rec": s[:, 0], "lat": s[:, 1], "dn": s[:, 2], "patch": s[:, 3], "knnlat": d.mean(1)}
