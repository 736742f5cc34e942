"""Markdown tables (mean ± std over seeds, per class) from final.jsonl. usage: python make_table.py"""
import json, collections, numpy as np, sys
rows = [json.loads(l) for l in open("results/final.jsonl")]
base = [json.loads(l) for l in open("results/baselines.jsonl")]
SEL = [("FAE", "raw_if", "IsolationForest raw pixels, 100 trees (fit on 4500)"),
       ("FAE", "rawsb_knn5", "kNN (k=5) on sqrt+3x3-blur pixels"),
       ("FSSL", "ll_all", "(c) RotNet log-likelihood, 4 rotations"),
       ("FSSL", "knn5_cos_id", "(c) RotNet GAP features, cosine kNN5"),
       ("FSSL", "knn5_sp_cat", "(c) RotNet spatial features, cosine kNN5"),
       ("FSSL", "Z:ll_all+rawsb_knn5", "(c) z(RotNet ll) + z(pixel-sb kNN5)"),
       ("FSSL", "Z:knn5_sp_cat+rawsb_knn5", "(c) z(spatial-feature kNN5) + z(pixel-sb kNN5)"),
       ("FSSL", "Z:ll_all+knn5_sp_cat+rawsb_knn5", "(c) z(ll) + z(spatial kNN5) + z(pixel-sb kNN5)"),
       ("FAE", "mse", "(a) AE plain MSE (sqrt-blur input)"),
       ("FAE", "blur5", "(a) AE 5x5-blurred residual energy"),
       ("FAE", "lat_knn5", "(a) AE latent kNN5 alone"),
       ("FAE", "Z:blur5+lat_knn5", "(a) z(AE blur5 error) + z(latent kNN5)"),
       ("FAE", "Z:blur5+lat_knn5+lat_if", "(a) z(blur5 err) + z(latent kNN5) + z(latent IF)"),
       ("FGAN", "disc", "(b) discriminator"),
       ("FGAN", "izif", "(b) f-AnoGAN izif"),
       ("FGAN", "izi_blur5", "(b) encoder izi, 5x5-blurred residual"),
       ("FGAN", "z_knn5", "(b) encoder latent kNN5"),
       ("FGAN", "Z:izi_blur5+z_knn5", "(b) z(izi blur5) + z(encoder latent kNN5)"),
       ("FGAN", "Z:izi_blur3+z_knn5", "(b) z(izi blur3) + z(encoder latent kNN5)"),
       ("FGAN", "Z:izi+z_knn5", "(b) z(izi) + z(encoder latent kNN5)")]
D = collections.defaultdict(lambda: collections.defaultdict(list)); T = collections.defaultdict(list); I = collections.defaultdict(list)
for r in rows:
    tag = r["recipe"].split("|")[0]
    for k, v in r["auroc"].items():
        D[(tag, k)][r["cls"]].append(v)
    T[tag].append(r["seconds"]); I[tag].append(r.get("ips", r.get("ips_id")))
ifref = D[("FAE", "raw_if")]
print("| detector / score | " + " | ".join(str(c) for c in range(10)) + " | mean ± std(seed means) | classes > IF | seeds | fit s (mean, max) |")
print("|---" * 15 + "|")
for tag, k, name in SEL:
    d = D.get((tag, k))
    if not d: continue
    ns = min(len(d[c]) for c in range(10)) if len(d) == 10 else 0
    if len(d) < 10: continue
    cells = [f"{np.mean(d[c]):.3f}" for c in range(10)]
    seedmeans = [np.mean([d[c][s] for c in range(10)]) for s in range(ns)]
    beats = sum(np.mean(d[c]) > np.mean(ifref[c]) for c in range(10))
    print(f"| {name} | " + " | ".join(cells) + f" | {np.mean(seedmeans):.4f} ± {np.std(seedmeans):.4f} | {beats}/10 | {ns} | {np.mean(T[tag]):.0f}, {np.max(T[tag]):.0f} |")

print("\nPer-class mean ± std over the 2 seeds (recommended scores):\n")
print("| score | " + " | ".join(str(c) for c in range(10)) + " |")
print("|---" * 11 + "|")
for tag, k, name in [("FAE", "raw_if", "IsolationForest raw"), ("FAE", "rawsb_knn5", "pixel-sb kNN5"), ("FSSL", "knn5_sp_cat", "(c) spatial-feature kNN5"),
                     ("FSSL", "Z:knn5_sp_cat+rawsb_knn5", "(c) spatial kNN5 + pixel-sb kNN5"), ("FAE", "Z:blur5+lat_knn5", "(a) AE blur5 + latent kNN5"),
                     ("FGAN", "Z:izi_blur5+z_knn5", "(b) GAN izi blur5 + encoder kNN5")]:
    d = D[(tag, k)]
    print(f"| {name} | " + " | ".join(f"{np.mean(d[c]):.3f}±{np.std(d[c]):.3f}" for c in range(10)) + " |")
