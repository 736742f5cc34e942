"""Markdown table of the small-data runs (results/small.jsonl)."""
import json, collections, numpy as np
rows = [json.loads(l) for l in open("results/small.jsonl")]
pick = {"DAE": ["mse", "Z:blur5+lat_knn5"], "DAEm": ["mse", "Z:blur5+lat_knn5"], "DSSL": ["ll_all", "knn5_sp_cat", "Z:knn5_sp_cat+rawsb_knn5"],
        "DSSLm": ["ll_all", "knn5_sp_cat", "Z:knn5_sp_cat+rawsb_knn5"], "DGAN": ["izif", "z_knn5", "Z:izi_blur5+z_knn5"], "DGANm": ["izif", "z_knn5", "Z:izi_blur5+z_knn5"],
        "NAE50": ["mse", "Z:blur5+lat_knn5", "raw_if", "rawsb_knn5"], "NSSL50": ["ll_all", "knn5_sp_cat", "Z:knn5_sp_cat+rawsb_knn5"], "NGAN50": ["izif", "Z:izi_blur5+z_knn5"],
        "NAE200": ["mse", "Z:blur5+lat_knn5", "raw_if", "rawsb_knn5"], "NSSL200": ["ll_all", "knn5_sp_cat", "Z:knn5_sp_cat+rawsb_knn5"], "NGAN200": ["izif", "Z:izi_blur5+z_knn5"]}
D = collections.defaultdict(dict)
for r in rows:
    tag = r["recipe"].split("|")[0]
    if tag in pick:
        for k in pick[tag]: D[(tag, k)][r["cls"]] = r["auroc"][k]
    if tag == "DAE":
        for k in ("raw_if", "raw_ocsvm", "raw_knn5", "rawsb_knn5"): D[("digits pixels", k)][r["cls"]] = r["auroc"][k]
print("| run | score | per class | mean | min | classes < 0.5 |\n|---|---|---|---|---|---|")
for (tag, k), d in D.items():
    v = [d[c] for c in sorted(d)]
    print(f"| {tag} | {k} | " + " ".join(f"{c}:{d[c]:.3f}" for c in sorted(d)) + f" | {np.mean(v):.3f} | {min(v):.3f} | {sum(x < 0.5 for x in v)} |")
