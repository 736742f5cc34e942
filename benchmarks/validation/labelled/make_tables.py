"""Markdown tables for REPORT.md. usage: python make_tables.py K classes seeds spec1 spec2 ...
spec: a method name (results.jsonl) or a combo 'a@0+b+c|sumc' (z-scores on 500 held-out training normals)."""
import sys, numpy as np
sys.argv, args = sys.argv[:1], sys.argv[1:]
import analyze as A

K = int(args[0]); classes = [int(c) for c in args[1].split(",")]; seeds = [int(s) for s in args[2].split(",")]
specs = args[3:]
col = "unseen" if K == 3 else "all"
print(f"\nK={K}, classes {args[1]}, seeds {args[2]}; per-class column = {col}")
print("| detector | all | seen | unseen | " + " | ".join(str(c) for c in classes) + " | fit s |")
print("|---|---|---|---|" + "---|" * len(classes) + "---|")
for sp in specs:
    def get(c, s):
        if "|" in sp:
            return A.combo(sp.split("|")[0], c, s, K, sp.split("|")[1])
        r = A.last.get((sp, c, s, K))
        return r
    rs = {(c, s): get(c, s) for c in classes for s in seeds}
    if any(v is None for v in rs.values()):
        miss = [k for k, v in rs.items() if v is None]
        name = sp.replace("|", " ; ")
        print(f"| {name} | missing {len(miss)} runs |"); continue
    def ms(k):
        per_seed = [np.mean([rs[c, s][k] for c in classes if rs[c, s].get(k) is not None]) for s in seeds]
        if any(np.isnan(per_seed)): return "-"
        return f"{np.mean(per_seed):.4f}" + (f" ± {np.std(per_seed):.4f}" if len(seeds) > 1 else "")
    pcs = " | ".join(f"{np.mean([rs[c, s][col] for s in seeds]):.3f}" for c in classes)
    fs = np.mean([rs[c, s].get("fit_s", 0) for c in classes for s in seeds])
    name = sp.replace("|", " ; ")
    print(f"| {name} | {ms('all')} | {ms('seen')} | {ms('unseen')} | {pcs} | {fs:.0f} |")
