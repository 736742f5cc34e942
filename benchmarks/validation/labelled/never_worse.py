"""Per (class, seed, K): unseen AUROC of a labelled detector minus that of the same detector fitted
without labels (its K=0 fit), on the same unseen classes. usage: python never_worse.py"""
import sys
sys.argv = sys.argv[:1]
import analyze as A
PAIRS = [("dsad|sum", "dsad@0|sum"), ("ddg-rec|sum", "ddg-rec@0|sum"),
         ("knn5@0+dsad+clf|sumc", "knn5@0+dsad@0|sum"), ("knn5@0+clf|sumc", "knn5@0|sum"),
         ("knn5@0+logreg_C0.01|sumc", "knn5@0|sum")]
for lab, oc in PAIRS:
    for K in (1, 3):
        diffs = []
        for s in (0, 1):
            for c in range(10):
                a = A.combo(lab.split("|")[0], c, s, K, lab.split("|")[1])
                b = A.combo(oc.split("|")[0], c, s, K, oc.split("|")[1])
                if a is None or b is None: continue
                diffs.append((c, s, round(a["unseen"] - b["unseen"], 4)))
        if diffs:
            worst = min(diffs, key=lambda t: t[2])
            print(f"{lab:28s} vs {oc:20s} K={K}: n={len(diffs)} mean diff {sum(d for *_, d in diffs)/len(diffs):+.4f}, "
                  f"worse in {sum(d < 0 for *_, d in diffs)}, worst {worst}")
