"""Benchmark: AutoEncoder on Fashion-MNIST (one-class protocol) and the wrapper's cost.

Not part of the sphinx gallery (its name does not start with ``plot_``).

* ``--classes 0`` (or ``all``): trains on the normal training images of each
  class, scores the full official test set, prints AUROC, fit seconds and
  scoring images/s per class, and the mean AUROC.
* ``--overhead``: training time per epoch of ``AutoEncoder.fit`` (skorch inside
  the estimator) against a plain torch loop over the same module, data, batch
  size and optimizer, measured in one run, alternating the two.

Example::

    python examples/bench_autoencoder.py --classes all
    python examples/bench_autoencoder.py --overhead --epochs 3 --repeats 3
"""

import argparse
import statistics
import time

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

from skanomaly import AutoEncoder
from skanomaly._autoencoder import reconstruction_error
from skanomaly._modules import make_autoencoder
from skanomaly.datasets import load_fashion_mnist, make_anomaly_split


def one_class(data, classes, params):
    rows = []
    for c in classes:
        X_train, y_train, X_test, y_test = make_anomaly_split(*data, normal_class=c,
                                                              random_state=0)
        det = AutoEncoder(random_state=0, **params)
        t0 = time.perf_counter()
        det.fit(X_train, y_train)
        fit_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        scores = det.score_samples(X_test)
        ips = len(X_test) / (time.perf_counter() - t0)
        auc = roc_auc_score(y_test, scores)
        rows.append((c, auc, fit_s, ips))
        print(f"| {c} | {auc:.4f} | {fit_s:.1f} | {ips:.0f} |", flush=True)
    print(f"| mean | {np.mean([r[1] for r in rows]):.4f} | "
          f"{np.mean([r[2] for r in rows]):.1f} | {np.mean([r[3] for r in rows]):.0f} |")


def plain_torch_epochs(X, params, epochs, seed):
    torch.manual_seed(seed)
    module = make_autoencoder(X.shape[1:], latent_dim=params["latent_dim"],
                              n_filters=params["n_filters"], out_activation="sigmoid")
    opt = torch.optim.Adam(module.parameters(), lr=params["lr"])
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.from_numpy(X)),
        batch_size=params["batch_size"], shuffle=True,
    )
    durations = []
    for _ in range(epochs):
        module.train()
        t0 = time.perf_counter()
        for (xb,) in loader:
            opt.zero_grad()
            loss = reconstruction_error(module(xb), xb).mean()
            loss.backward()
            opt.step()
        durations.append(time.perf_counter() - t0)
    return durations


def overhead(data, params, epochs, repeats):
    X_train, y_train, _, _ = make_anomaly_split(*data, normal_class=0, random_state=0)
    X = (X_train[:, None] / np.float32(255)).astype(np.float32)
    ours, plain = [], []
    for r in range(repeats):
        det = AutoEncoder(random_state=r, **{**params, "max_epochs": epochs}).fit(X_train)
        ours += list(det.net_.history[:, "dur"])
        plain += plain_torch_epochs(X, params, epochs, r)
    a, b = statistics.median(ours), statistics.median(plain)
    print(f"median epoch: AutoEncoder {a:.3f} s, plain torch {b:.3f} s, "
          f"overhead {100 * (a / b - 1):+.1f}% ({len(ours)} epochs each, "
          f"{len(X)} images, torch threads {torch.get_num_threads()})")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classes", default="0")
    parser.add_argument("--overhead", action="store_true")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    data = load_fashion_mnist()
    defaults = AutoEncoder().get_params()
    params = {k: defaults[k] for k in ("latent_dim", "n_filters", "lr", "batch_size")}
    if args.overhead:
        overhead(data, params, args.epochs, args.repeats)
        return
    classes = range(10) if args.classes == "all" else [int(c) for c in args.classes.split(",")]
    print(f"AutoEncoder defaults: {AutoEncoder()!r} ({defaults['max_epochs']} epochs)")
    print("| class | AUROC | fit s | score img/s |\n|---|---|---|---|")
    one_class(data, classes, {})


if __name__ == "__main__":
    main()
