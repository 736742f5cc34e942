"""Benchmark TrimmedDetector on contaminated Fashion-MNIST, seed by seed.

Protocol, for each seed: the normal class's 6000 training images plus
unlabelled anomalies drawn from the other nine classes so that they make up
``--contamination`` (default 5%) of the training set; the full official test
set. Fits the detector on the clean normal images (the reference), on the
contaminated set (the loss), and ``TrimmedDetector`` around it for each
``--variants`` entry ``CV:SHARE:ROUNDS`` (``none`` for in-sample scoring),
and prints one JSON line per fit: test AUROC, the share of the planted
anomalies that the trimming dropped, and the share of the AUROC lost to
contamination that trimming recovers, ``(trimmed - contaminated) / (clean -
contaminated)``. The last lines give the means over seeds.

Run ``python examples/bench_trimming.py --seeds 0 1 2 3 --device cuda`` on a
GPU; on a CPU an AnoGAN fit takes 1-2 minutes. A script, not a test.
"""

import argparse
import json
import time
import warnings

import numpy as np
import torch
from sklearn.base import clone
from sklearn.metrics import roc_auc_score

from skanomaly import AnoGAN, AutoEncoder, TrimmedDetector
from skanomaly.datasets import load_fashion_mnist

DETECTORS = {"anogan": AnoGAN, "autoencoder": AutoEncoder}


def contaminated_split(data, normal_class, contamination, seed):
    """Training images with planted anomalies, their truth, and the test set."""
    X_train, y_train, X_test, y_test = data
    rng = np.random.RandomState(seed)
    normal = X_train[y_train == normal_class]
    n_anomalies = round(contamination * len(normal) / (1 - contamination))
    picked = rng.choice(np.flatnonzero(y_train != normal_class), n_anomalies,
                        replace=False)
    X = np.concatenate([normal, X_train[picked]])
    is_anomaly = np.r_[np.zeros(len(normal), bool), np.ones(n_anomalies, bool)]
    return normal, X, is_anomaly, X_test, np.where(y_test == normal_class, 1, -1)


def parse_variant(text):
    cv, share, rounds = text.split(":")
    return (None if cv == "none" else int(cv)), float(share), int(rounds)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--detector", choices=sorted(DETECTORS), default="anogan")
    parser.add_argument("--normal-class", type=int, default=0)
    parser.add_argument("--contamination", type=float, default=0.05)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--variants", nargs="+", default=["none:0.05:1", "2:0.05:1", "2:0.1:1"],
                        help="CV:SHARE:ROUNDS of each TrimmedDetector (cv 'none': in-sample)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--out", default=None, help="append JSON lines here")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    warnings.simplefilter("ignore")  # DualDiscGAN-style label warnings, skorch notes
    data = load_fashion_mnist()
    summary = {}

    def report(row):
        print(json.dumps(row), flush=True)
        summary.setdefault(row["fit"], []).append(row)
        if args.out:
            with open(args.out, "a") as f:
                f.write(json.dumps(row) + "\n")

    for seed in args.seeds:
        clean_X, X, is_anomaly, X_test, y_test = contaminated_split(
            data, args.normal_class, args.contamination, seed)
        base = DETECTORS[args.detector](device=args.device, random_state=seed)

        def auroc(model, X_test=X_test, y_test=y_test):
            return round(float(roc_auc_score(y_test == -1, -model.score_samples(X_test))), 4)

        start = time.perf_counter()
        clean = auroc(clone(base).fit(clean_X))
        report({"seed": seed, "fit": "clean", "auroc": clean,
                "fit_s": round(time.perf_counter() - start, 1)})
        start = time.perf_counter()
        plain = clone(base).fit(X)
        lost = auroc(plain)
        train_auroc = roc_auc_score(is_anomaly, -plain.score_samples(X))
        report({"seed": seed, "fit": "contaminated", "auroc": lost,
                "train_auroc_of_anomalies": round(float(train_auroc), 4),
                "fit_s": round(time.perf_counter() - start, 1)})
        for variant in args.variants:
            cv, share, rounds = parse_variant(variant)
            start = time.perf_counter()
            trimmed = TrimmedDetector(clone(base), contamination=args.contamination,
                                      cv=cv, trim_share=share, n_rounds=rounds,
                                      random_state=seed).fit(X)
            value = auroc(trimmed)
            report({
                "seed": seed, "fit": f"trimmed {variant}", "auroc": value,
                "anomalies_dropped": round(float((~trimmed.support_mask_[is_anomaly]).mean()), 3),
                "recovered": round((value - lost) / (clean - lost), 2) if clean != lost else None,
                "fit_s": round(time.perf_counter() - start, 1),
            })
    means = {fit: float(np.mean([r["auroc"] for r in rows])) for fit, rows in summary.items()}
    for fit, value in means.items():
        line = f"mean over {len(summary[fit])} seed(s): {fit:<20} AUROC {value:.4f}"
        if fit.startswith("trimmed") and means["clean"] != means["contaminated"]:
            share = (value - means["contaminated"]) / (means["clean"] - means["contaminated"])
            line += f"  recovered {share:.2f} of the loss"
        print(line)
    return means


if __name__ == "__main__":
    main()
