"""Tables from results.jsonl and offline score combinations from scores/*.npz.
usage: python analyze.py [classes] [seeds]   e.g. python analyze.py 0,2,4,6,8 0
combos: COMBOS env var 'oc+sup' pairs, e.g. COMBOS='ae1c+clf,dsad+clf'"""
import sys, os, json, glob, collections
import numpy as np
sys.path.insert(0, "/work/research/labelled")
from common import aurocs, ROOT

classes = [int(c) for c in (sys.argv[1] if len(sys.argv) > 1 else "0,2,4,6,8").split(",")]
seeds = [int(s) for s in (sys.argv[2] if len(sys.argv) > 2 else "0").split(",")]
rows = [json.loads(l) for l in open(f"{ROOT}/results.jsonl")]
last = {}
for r in rows:
    last[(r["method"], r["c"], r["seed"], r["K"])] = r


def table(get, methods, Ks):
    for K in Ks:
        print(f"\n== K={K}  (cells: all/seen/unseen ; per-class: unseen for K=3, else all)")
        for m in methods:
            rs = [get(m, c, s, K) for s in seeds for c in classes]
            if any(r is None for r in rs): continue
            def mean(k):
                v = [r[k] for r in rs if r.get(k) is not None]
                return (np.mean(v), np.std([np.mean([r[k] for r in rs if r["seed"] == s and r.get(k) is not None]) for s in seeds])) if v else (np.nan, 0)
            a, se, un = mean("all"), mean("seen"), mean("unseen")
            pc = " ".join(f"{np.mean([get(m, c, s, K)['unseen' if K == 3 else 'all'] for s in seeds]):.3f}" for c in classes)
            fs = np.mean([r.get("fit_s", 0) for r in rs])
            print(f"{m:34s} all {a[0]:.4f}±{a[1]:.3f} seen {se[0]:.4f} unseen {un[0]:.4f}±{un[1]:.3f} | {pc} | {fs:5.0f}s")


def load(m, c, s, K):
    f = f"{ROOT}/scores/{m}__c{c}_s{s}_K{K}.npz"
    if not os.path.exists(f): return None
    d = np.load(f)
    return d


def z(d, robust=False):
    sc, nc = d["scores"], int(d["nc"])
    cal = sc[:nc]
    if robust:
        med = np.median(cal); iqr = np.subtract(*np.percentile(cal, [75, 25])) or 1
        return (sc - med) / iqr
    return (sc - cal.mean()) / (cal.std() + 1e-12)


def combo(spec, c, s, K, how):
    parts = spec.split("+")
    ds = []
    for p in parts:
        w = 1.0
        if "*" in p: w, p = float(p.split("*")[0]), p.split("*")[1]
        kk = 0 if p.endswith("@0") else K
        d = load(p.replace("@0", ""), c, s, kk)
        if d is None: return None
        ds.append((w, d))
    zs = [w * z(d, how.endswith("r")) for w, d in ds]
    if how.startswith("sumc"): sc = np.sum(zs[:-1], 0) + np.maximum(zs[-1], 0)
    elif how.startswith("sum"): sc = np.sum(zs, 0)
    elif how.startswith("max"): sc = np.max(zs, 0)
    d0 = ds[0][1]; nc, nv = int(d0["nc"]), len(d0["scores"]) - int(d0["nc"]) - len(d0["cls"])
    from common import split as _split
    known = _split(c, s, K)["known"] if K else []
    r = aurocs(sc[nc:nc + nv], sc[nc + nv:], d0["cls"], known)
    r["fit_s"] = sum(float(d["fit_s"]) for _, d in ds); r["seed"] = s
    return r


if __name__ == "__main__":
    methods = list(dict.fromkeys(r["method"] for r in rows))
    table(lambda m, c, s, K: last.get((m, c, s, K)), methods, [0, 1, 3, 9])
    cm = [x for x in os.environ.get("COMBOS", "").split(",") if x]
    hows = os.environ.get("HOWS", "sum,max").split(",")
    if cm:
        specs = [f"{x}|{h}" for x in cm for h in hows]
        print("\n#### combos (z-scores on 500 held-out training normals; '@0' = one-class fit)")
        table(lambda m, c, s, K: combo(m.split("|")[0], c, s, K, m.split("|")[1]), specs, [1, 3, 9])
