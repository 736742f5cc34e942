"""End-to-end scoring throughput of the final recipes (3000 images, scores combined), 1 thread.
Training is shortened (scoring cost does not depend on it). usage: python timing.py"""
import sys, importlib
from harness import *

def load(mod, argv):
    sys.argv = [mod + ".py"] + argv
    return importlib.import_module(mod)

Xtr, Xv, yv = split(0, 0); Xt_np = Xtr[:4500]
res = {}
# pixel kNN on sqrt+blur
Bt = sqrt_blur(Xt_np); nnb = NearestNeighbors(n_neighbors=5).fit(Bt)
t = time.time(); d, _ = nnb.kneighbors(sqrt_blur(Xv)); res["rawsb_knn5"] = len(Xv) / (time.time() - t)
# IsolationForest raw
from sklearn.ensemble import IsolationForest
ifo = IsolationForest(n_estimators=100, random_state=0).fit(Xt_np.reshape(4500, -1))
t = time.time(); ifo.score_samples(Xv.reshape(len(Xv), -1)); res["raw_if100"] = len(Xv) / (time.time() - t)
# AE
ae = load("ae", ["--latent", "32", "--width", "16", "--epochs", "0.05", "--prep", "sqrtblur"])
pre = lambda X: F.avg_pool2d(torch.from_numpy(X)[:, None].sqrt(), 3, 1, 1)
net = ae.fit(pre(Xt_np), 0); _, Zt = ae.infer(net, pre(Xt_np)); nnz = NearestNeighbors(n_neighbors=5).fit(Zt)
t = time.time(); S, Zv = ae.infer(net, pre(Xv)); s = S["blur5"]; nnz.kneighbors(Zv); res["AE_blur5+lat_knn5"] = len(Xv) / (time.time() - t)
# SSL
ss = load("ssl2", ["--tf", "rot4", "--width", "16", "--epochs", "0.05"])
XT = torch.from_numpy(Xt_np)[:, None]; XV = torch.from_numpy(Xv)[:, None]
net = ss.fit_net(XT, ss.T, 0)
cat2 = lambda P: np.concatenate([l2n(p) for p in P], 1)
nnf = NearestNeighbors(n_neighbors=5).fit(cat2(ss.embed_spatial(net, XT)))
t = time.time(); nnf.kneighbors(cat2(ss.embed_spatial(net, XV))); nnb.kneighbors(sqrt_blur(Xv)); res["SSL_sp_cat+rawsb"] = len(Xv) / (time.time() - t)
t = time.time(); ss.infer(net, XV, ss.T); nnf.kneighbors(cat2(ss.embed_spatial(net, XV))); nnb.kneighbors(sqrt_blur(Xv)); res["SSL_ll+sp_cat+rawsb"] = len(Xv) / (time.time() - t)
t = time.time(); ss.infer(net, XV, ss.T); nnb.kneighbors(sqrt_blur(Xv)); res["SSL_ll+rawsb"] = len(Xv) / (time.time() - t)
# GAN
gm = load("gan", ["--width", "16", "--epochs", "0.05", "--enc_epochs", "0.05", "--prep", "sqrtblur"])
gen, dis, enc = gm.fit(pre(Xt_np), 0); Ot = gm.infer(gen, dis, enc, pre(Xt_np)); nng = NearestNeighbors(n_neighbors=5).fit(Ot["z"])
t = time.time(); Ov = gm.infer(gen, dis, enc, pre(Xv)); nng.kneighbors(Ov["z"]); res["GAN_izi_blur5+z_knn5"] = len(Xv) / (time.time() - t)
log("timing.jsonl", recipe="scoring_img_per_s_1thread", cls=0, seed=0, auroc=None, ips={k: round(v) for k, v in res.items()})
