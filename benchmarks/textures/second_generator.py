"""Texture detectors on defects of another generator: make_defects on the texture test crops.

The textures benchmark (``python -m skanomaly.benchmark --dataset textures``)
puts the defects of :func:`skanomaly.datasets.make_texture_defects` (discs,
scratches, stains, smudges) on its test crops. Here the same normal training
and test crops (:func:`skanomaly.datasets.make_texture_split`, same seeds)
get instead one defect of :func:`skanomaly.datasets.make_defects` on half of
the test crops (a CutPaste patch of another test crop, a straight scratch, a
flat blob), 0.1 to 0.3 of the crop's side, drawn with the seed: a check that
a detector's figures do not hang on one generator. One JSON line per
detector, texture and seed, as the benchmark's records (image AUROC, pixel
AUROC, AUPRO, per kind, fit seconds, scoring crops/s).

    python benchmarks/textures/second_generator.py --detectors multiscale-patch-knn,knn \
        --seeds 0,1,2 --out benchmarks/textures/second_generator.jsonl
"""

import argparse
import json
import time

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

from skanomaly import metrics
from skanomaly.benchmark._registry import build_detector
from skanomaly.datasets import TEXTURES, load_texture, make_defects, make_texture_split


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--detectors", default="multiscale-patch-knn,knn")
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--textures", default=",".join(TEXTURES))
    parser.add_argument("--crop-size", type=int, default=64)
    parser.add_argument("--n-threads", type=int, default=1)
    parser.add_argument("--out", default="second_generator.jsonl")
    args = parser.parse_args()
    torch.set_num_threads(args.n_threads)
    photographs = {name: load_texture(name)[None] for name in TEXTURES}
    for seed in [int(s) for s in args.seeds.split(",")]:
        for name in args.textures.split(","):
            split = make_texture_split(photographs[name], crop_size=args.crop_size,
                                       n_train=300, n_validation=0, n_test=200,
                                       defect_share=0.0, random_state=seed)
            rng = np.random.RandomState(seed)
            X, y = split.X_test.copy(), np.ones(200, dtype=int)
            masks = np.zeros((200, args.crop_size, args.crop_size), dtype=bool)
            kinds = np.full(200, "good", dtype=object)
            chosen = rng.permutation(200)[:100]
            X[chosen], masks[chosen], kinds[chosen] = make_defects(
                X[chosen], size=(0.1, 0.3), random_state=rng)
            y[chosen] = -1
            for detector_name in args.detectors.split(","):
                detector = build_detector(detector_name, random_state=seed)
                start = time.perf_counter()
                detector.fit(split.X_train)
                fit_seconds = time.perf_counter() - start
                start = time.perf_counter()
                scores = detector.score_samples(X)
                per_s = len(X) / (time.perf_counter() - start)
                record = {"dataset": "textures", "generator": "make_defects", "texture": name,
                          "detector": detector_name, "seed": seed,
                          "crop_size": args.crop_size, "fit_seconds": fit_seconds,
                          "score_images_per_s": per_s,
                          "auroc": roc_auc_score(y == -1, -scores),
                          "auroc_per_kind": {k: roc_auc_score(y[(kinds == k) | (y == 1)] == -1,
                                                              -scores[(kinds == k) | (y == 1)])
                                             for k in sorted(set(kinds) - {"good"})}}
                if hasattr(detector, "anomaly_map"):
                    maps = detector.anomaly_map(X)
                    record["pixel_auroc"] = metrics.pixel_auroc(masks, maps)
                    record["aupro"] = metrics.aupro(masks, maps)
                    record["pixel_auroc_per_kind"] = {
                        k: metrics.pixel_auroc(masks[(kinds == k) | (y == 1)],
                                               maps[(kinds == k) | (y == 1)])
                        for k in sorted(set(kinds) - {"good"})}
                print(json.dumps({k: record[k] for k in ("texture", "detector", "seed",
                                                         "auroc", "fit_seconds")}
                                 | {"pixel_auroc": record.get("pixel_auroc")}), flush=True)
                with open(args.out, "a") as fh:
                    fh.write(json.dumps(record) + "\n")


if __name__ == "__main__":
    main()
