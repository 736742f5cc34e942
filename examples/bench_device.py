"""Benchmark fitting and scoring on a device (CPU or GPU), detector by detector.

Protocol: Fashion-MNIST, ``--normal-class`` normal, labelled anomalies from
the other nine classes at 5% of the normal count (the imbalanced protocol of
the benchmark), the full official test set. For each detector in
``--detectors`` and each device in ``--devices``, fits the estimator with its
default parameters and prints one JSON line: fit seconds, scoring
throughput (test images per second) and AUROC.

Run ``python examples/bench_device.py --devices cpu cuda`` on a machine with
a GPU to get the speed-up of each detector; ``--threads`` sets torch's CPU
threads (default: torch's own choice). A script, not a test.
"""

import argparse
import json
import time

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

from skanomaly import AnoGAN, AutoEncoder, CNNOneClassSVM, DualDiscGAN
from skanomaly.datasets import load_fashion_mnist, make_anomaly_split

DETECTORS = {
    "autoencoder": AutoEncoder,
    "dual-gan": DualDiscGAN,
    "anogan": AnoGAN,
    "cnn-ocsvm": CNNOneClassSVM,
}


def run(name, device, data, args):
    X_train, y_train, X_test, y_test = make_anomaly_split(
        *data, normal_class=args.normal_class, anomaly_ratio=0.05, random_state=0)
    model = DETECTORS[name](device=device, random_state=0)
    if args.max_epochs:
        model.set_params(max_epochs=args.max_epochs)
    if device.startswith("cuda"):  # CUDA context and kernels, outside the timing
        torch.zeros(1, device=device).sum().item()
    start = time.perf_counter()
    model.fit(X_train, y_train)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    fit_s = time.perf_counter() - start
    model.score_samples(X_test[:256])  # warm-up
    start = time.perf_counter()
    scores = model.score_samples(X_test)
    score_s = time.perf_counter() - start
    return {
        "detector": name,
        "device": device,
        "device_name": (torch.cuda.get_device_name(device) if device.startswith("cuda")
                        else f"cpu, {torch.get_num_threads()} torch threads"),
        "normal_class": args.normal_class,
        "max_epochs": model.max_epochs,
        "fit_s": round(fit_s, 2),
        "score_img_per_s": round(len(X_test) / score_s),
        "auroc": round(float(roc_auc_score(y_test == -1, -scores)), 4),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--detectors", nargs="+", default=["autoencoder", "dual-gan"],
                        choices=sorted(DETECTORS))
    parser.add_argument("--devices", nargs="+", default=["cpu"])
    parser.add_argument("--normal-class", type=int, default=0)
    parser.add_argument("--max-epochs", type=int, default=None,
                        help="default: each estimator's default")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--out", default=None, help="append JSON lines here")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    data = load_fashion_mnist()
    rows = []
    for name in args.detectors:
        for device in args.devices:
            row = run(name, device, data, args)
            rows.append(row)
            print(json.dumps(row), flush=True)
            if args.out:
                with open(args.out, "a") as f:
                    f.write(json.dumps(row) + "\n")
    by_key = {(r["detector"], r["device"]): r for r in rows}
    for name in args.detectors:
        base = by_key.get((name, "cpu"))
        for device in args.devices:
            if base and device != "cpu":
                r = by_key[(name, device)]
                print(f"{name}: fit {base['fit_s'] / r['fit_s']:.1f}x faster, "
                      f"scoring {r['score_img_per_s'] / base['score_img_per_s']:.1f}x "
                      f"faster on {device} than on the CPU")
    return np.array([r["auroc"] for r in rows])


if __name__ == "__main__":
    main()
