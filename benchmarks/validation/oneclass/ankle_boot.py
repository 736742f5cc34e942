"""Validation only: against which anomaly class do the reconstruction detectors lose to IsolationForest on ankle boots?

Ankle boot (class 9) normal, the benchmark's validation carve (1000 ankle
boots and 1000 images of each other class from the training split; the test
set is never read), seeds 0 and 1: the AUROC of the normal images against
each anomaly class, for AutoEncoder's and AnoGAN's defaults and raw-pixel
IsolationForest. One torch thread.

    python benchmarks/validation/oneclass/ankle_boot.py > benchmarks/validation/oneclass/ankle_boot.jsonl
"""
import json, numpy as np, torch
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score
from skanomaly import AutoEncoder, AnoGAN, CNNOneClassSVM
from skanomaly.benchmark._runner import SplitSettings, make_split
from skanomaly.datasets import load_fashion_mnist
torch.set_num_threads(1)
data = load_fashion_mnist()
for seed in (0, 1):
    split = make_split(data, 9, seed, SplitSettings(evaluate="validation", validation_size=1000))
    flat = lambda a: a.reshape(len(a), -1)
    scores = {"iforest-raw": IsolationForest(random_state=seed).fit(flat(split.X_train)).score_samples(flat(split.X_eval))}
    for name, cls in (("autoencoder", AutoEncoder), ("anogan", AnoGAN)):
        scores[name] = cls(random_state=seed).fit(split.X_train).score_samples(split.X_eval)
    normal = split.eval_classes == 9
    for name, s in scores.items():
        per = {int(c): round(roc_auc_score(np.r_[np.ones(normal.sum()), np.zeros((split.eval_classes == c).sum())], np.r_[s[normal], s[split.eval_classes == c]]), 4) for c in range(9)}
        print(json.dumps({"seed": seed, "detector": name, "all": round(roc_auc_score(normal, s), 4), "per_class": per}), flush=True)
