"""Validation only: where AutoEncoder and AnoGAN lose to IsolationForest on ankle boots.

Ankle boot (class 9) normal, the benchmark's validation carve (1000 ankle
boots and 1000 images of each other class from the training split; the test
set is never read), seeds 0 and 1: the AUROC of the normal images against
each anomaly class, for AutoEncoder's and AnoGAN's defaults and raw-pixel
IsolationForest. One torch thread.

    python benchmarks/validation/oneclass/ankle_boot.py \
        > benchmarks/validation/oneclass/ankle_boot.jsonl
"""

import json

import numpy as np
import torch
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score

from skanomaly import AnoGAN, AutoEncoder
from skanomaly.benchmark._runner import SplitSettings, make_split
from skanomaly.datasets import load_fashion_mnist


def per_class_auroc(scores, classes, normal_class):
    """AUROC of the normal images against each anomaly class's."""
    normal = scores[classes == normal_class]
    result = {}
    for c in np.unique(classes[classes != normal_class]):
        anomalies = scores[classes == c]
        y = np.r_[np.ones(len(normal)), np.zeros(len(anomalies))]
        result[int(c)] = round(roc_auc_score(y, np.r_[normal, anomalies]), 4)
    return result


def main():
    torch.set_num_threads(1)
    data = load_fashion_mnist()
    for seed in (0, 1):
        split = make_split(data, 9, seed, SplitSettings(evaluate="validation",
                                                        validation_size=1000))
        flat_train = split.X_train.reshape(len(split.X_train), -1)
        flat_eval = split.X_eval.reshape(len(split.X_eval), -1)
        forest = IsolationForest(random_state=seed).fit(flat_train)
        scores = {"iforest-raw": forest.score_samples(flat_eval)}
        for name, cls in (("autoencoder", AutoEncoder), ("anogan", AnoGAN)):
            scores[name] = cls(random_state=seed).fit(split.X_train).score_samples(split.X_eval)
        normal = split.eval_classes == 9
        for name, s in scores.items():
            print(json.dumps({"seed": seed, "detector": name,
                              "all": round(roc_auc_score(normal, s), 4),
                              "per_class": per_class_auroc(s, split.eval_classes, 9)}),
                  flush=True)


if __name__ == "__main__":
    main()
