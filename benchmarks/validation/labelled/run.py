"""python run.py METHOD CLASSES SEEDS KS [key=val ...]; appends to results.jsonl, saves scores/*.npz"""
import sys, time, json
sys.path.insert(0, "/work/research/labelled")
from common import *
import methods as MM

def parse(v):
    try: return json.loads(v)
    except Exception: return v

name, fn = sys.argv[1], None
classes = [int(c) for c in sys.argv[2].split(",")]
seeds = [int(s) for s in sys.argv[3].split(",")]
Ks = [int(k) for k in sys.argv[4].split(",")]
kw = dict(a.split("=", 1) for a in sys.argv[5:])
base = kw.pop("fn"); kw = {k: parse(v) for k, v in kw.items()}
for seed in seeds:
    for c in classes:
        for K in Ks:
            if have(name, c, seed, K) or have(name + "-rec", c, seed, K): continue
            sp = split(c, seed, K)
            t0 = time.time()
            if base == "dualgan":
                import ddg; f = ddg.dualgan
            else:
                f = getattr(MM, base)
            out = f(sp, seed, c, **kw) if base in ("deep_sad",) else f(sp, seed, **kw)
            if isinstance(out, tuple): s, fit_s = out
            else: s, fit_s = out, time.time() - t0
            if isinstance(s, dict):
                for key, v in s.items():
                    save_scores(f"{name}-{key}", c, seed, K, v, sp, fit_s, extra={"hp": kw, "fn": base})
            else:
                save_scores(name, c, seed, K, s, sp, fit_s, extra={"hp": kw, "fn": base})
