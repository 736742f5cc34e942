"""usage: python summarize.py results/file.jsonl [filter-substring] -> per-class table of mean AUROC over seeds"""
import sys, json, collections, numpy as np
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
flt = sys.argv[2] if len(sys.argv) > 2 else ""
D = collections.defaultdict(lambda: collections.defaultdict(list)); secs = collections.defaultdict(list)
for r in rows:
    if flt not in r["recipe"]: continue
    au = r["auroc"] if isinstance(r["auroc"], dict) else {"": r["auroc"]}
    for k, v in au.items():
        D[(r["recipe"], k)][r["cls"]].append(v)
    secs[r["recipe"]].append(r.get("seconds", 0))
for (rec, k), d in D.items():
    cls = sorted(d)
    m = [np.mean(d[c]) for c in cls]
    ns = min(len(d[c]) for c in cls)
    print(f"{rec[:90]:90s} {k:18s} n={ns} " + " ".join(f"{c}:{np.mean(d[c]):.3f}" for c in cls) + f" | mean {np.mean(m):.4f} | {np.mean(secs[rec]):.0f}s")
