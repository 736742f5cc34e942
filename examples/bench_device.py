"""Benchmark fitting and scoring on a device (CPU or GPU), detector by detector.

Protocol: the benchmark's imbalanced split (``skanomaly.benchmark.make_split``):
Fashion-MNIST, ``--normal-class`` normal, labelled anomalies from the other
nine classes at 5% of the normal count, the full official test set. For each
detector in ``--detectors`` (names of the benchmark's registry) and each
device in ``--devices``, fits the detector with its default parameters and
prints one JSON line: fit seconds, scoring throughput (test images per
second) and AUROC.

Run ``python examples/bench_device.py --devices cpu cuda`` on a machine with
a GPU to get the speed-up of each detector; ``--threads`` limits the CPU
threads (default: no limit). A script, not a test; AUROC across detectors is
compared by ``python -m skanomaly.benchmark``.
"""

import argparse
import json
import time

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

from skanomaly.benchmark import (
    DETECTORS,
    SplitSettings,
    build_detector,
    limit_threads,
    make_split,
)
from skanomaly.datasets import load_fashion_mnist

#: the deep detectors of the registry (the peers have no device)
NAMES = [name for name, entry in DETECTORS.items() if entry.kind == "skanomaly"]
#: older names of this script
ALIASES = {"dual-gan": "dualdiscgan"}


def run(name, device, split, args):
    overrides = {name: {"max_epochs": args.max_epochs}} if args.max_epochs else None
    model = build_detector(name, random_state=0, device=device, overrides=overrides)
    if device.startswith("cuda"):  # CUDA context and kernels, outside the timing
        torch.zeros(1, device=device).sum().item()
    with limit_threads(args.threads):
        start = time.perf_counter()
        model.fit(split.X_train, split.y_train)
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        fit_s = time.perf_counter() - start
        model.score_samples(split.X_eval[:256])  # warm-up
        start = time.perf_counter()
        scores = model.score_samples(split.X_eval)
        score_s = time.perf_counter() - start
    return {
        "detector": name,
        "device": device,
        "device_name": (torch.cuda.get_device_name(device) if device.startswith("cuda")
                        else f"cpu, {args.threads or torch.get_num_threads()} threads"),
        "normal_class": args.normal_class,
        "max_epochs": model.max_epochs,
        "fit_s": round(fit_s, 2),
        "score_img_per_s": round(len(scores) / score_s),
        "auroc": round(float(roc_auc_score(split.y_eval, scores)), 4),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--detectors", nargs="+", default=["autoencoder", "dualdiscgan"],
                        choices=NAMES + sorted(ALIASES))
    parser.add_argument("--devices", nargs="+", default=["cpu"])
    parser.add_argument("--normal-class", type=int, default=0)
    parser.add_argument("--max-epochs", type=int, default=None,
                        help="default: each detector's default")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--out", default=None, help="append JSON lines here")
    args = parser.parse_args(argv)
    split = make_split(load_fashion_mnist(), args.normal_class, 0,
                       SplitSettings(protocol="imbalanced", anomaly_ratio=0.05))
    names = [ALIASES.get(name, name) for name in args.detectors]
    rows = []
    for name in names:
        for device in args.devices:
            row = run(name, device, split, args)
            rows.append(row)
            print(json.dumps(row), flush=True)
            if args.out:
                with open(args.out, "a") as f:
                    f.write(json.dumps(row) + "\n")
    by_key = {(r["detector"], r["device"]): r for r in rows}
    for name in names:
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
