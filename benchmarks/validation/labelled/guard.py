"""Validation study: DeepSAD's clipped classifier component, and its epochs.

One DeepSAD fit per (normal class, seed, K) on the validation carve of
Fashion-MNIST's training split (the test set is never read); the fitted
components are combined several ways on the same fit:

* ``distance+knn``: the score before this study (distance and pixel kNN z-scores);
* ``distance+knn+clf_clipped``: plus the balanced logistic regression's z-score
  clipped at 0 from below (the new default);
* ``distance+knn+clf``: the same, unclipped;
* ``clf``: the classifier alone.

``--epochs old`` fits with the epochs before this study (pretrain 10,
'auto' 25 epochs / 1175 batches), ``new`` with the defaults (pretrain 8,
'auto' 22 / 1034).

Usage::

    python benchmarks/validation/labelled/guard.py --epochs new --known 1,3 \
        --classes 0,1,2,3,4,5,6,7,8,9 --seeds 0 --out guard/new.jsonl
"""

import argparse
import json
import time

import numpy as np
import torch

from skanomaly import DeepSAD
from skanomaly.benchmark._runner import SplitSettings, evaluate_scores, make_split
from skanomaly.datasets import load_fashion_mnist

COMBOS = {
    "distance+knn": (["distance", "knn:pixels"], False),
    "distance+knn+clf_clipped": (["distance", "knn:pixels", "classifier"], True),
    "distance+knn+clf": (["distance", "knn:pixels", "classifier"], False),
    "clf": (["classifier"], False),
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", choices=["old", "new"], default="new")
    parser.add_argument("--known", default="1,3")
    parser.add_argument("--classes", default="0,1,2,3,4,5,6,7,8,9")
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--out", required=True)
    parser.add_argument("--scores", default=None,
                        help="folder for each run's component z-scores (npz), for other combinations")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.epochs == "old":
        DeepSAD._auto_epochs = (25, 1175)
    data = load_fashion_mnist()
    for k in [int(v) for v in args.known.split(",")]:
        # K=1: Deep SAD's scenario (i), 5% of the training set; K>1: 5% of the normal count
        settings = SplitSettings(protocol="imbalanced", known_classes=k, evaluate="validation",
                                 validation_size=1000,
                                 labelled_share=0.05 if k == 1 else None, anomaly_ratio=0.05)
        for seed in [int(v) for v in args.seeds.split(",")]:
            for c in [int(v) for v in args.classes.split(",")]:
                split = make_split(data, c, seed, settings)
                # the study's classifier (the default became an RBF SVM after it:
                # svm_combos.py adds that one to the saved z-scores)
                det = DeepSAD(random_state=seed, n_threads=1, classifier="logistic",
                              pretrain_epochs=10 if args.epochs == "old" else 8)
                start = time.perf_counter()
                det.fit(split.X_train, split.y_train)
                fit_s = time.perf_counter() - start
                X = det._validate_input(split.X_eval, reset=False)
                raw = det._map_batches(det._component_matrix(), X).astype(np.float64)
                names = det._score_components()
                z = {n: (raw[:, i] - det.score_calibration_[n][0]) / det.score_calibration_[n][1]
                     for i, n in enumerate(names)}
                if args.scores:
                    np.savez_compressed(
                        f"{args.scores}/{args.epochs}_K{k}_c{c}_s{seed}.npz",
                        names=np.array(names), z=np.stack([z[n] for n in names], 1),
                        y_eval=split.y_eval, eval_classes=split.eval_classes,
                        known=np.array(split.known))
                for combo, (parts, clipped) in COMBOS.items():
                    score = sum(np.maximum(z[p], 0) if clipped and p == "classifier" else z[p]
                                for p in parts)
                    record = {"epochs": args.epochs, "K": k, "normal_class": c, "seed": seed,
                              "combo": combo, "fit_seconds": fit_s, "n_epochs": det.n_epochs_,
                              "known": split.known, **evaluate_scores(split, -score)}
                    with open(args.out, "a") as f:
                        f.write(json.dumps(record) + "\n")
                print(k, seed, c, f"{fit_s:.0f}s", flush=True)


if __name__ == "__main__":
    main()
