"""
Benchmark: CNN features + One-Class SVM on Fashion-MNIST (one-class protocol)
=============================================================================

For each normal class: train on that class's training images only (all
6000, or ``--n-train``), test on the full official test set (10000 images,
the normal class labelled 1, the nine others -1), report AUROC.

One fit of :class:`~skanomaly._cnn_ocsvm.CNNOneClassSVM` per class
(``weights=None``: self-supervised rotation prediction, no download;
``anomaly_score='combined'``) gives its three scores:

* ``ocsvm``: One-Class SVM on the standardised CNN features;
* ``rotation``: the rotation task's log-likelihood;
* ``combined``: their sum, each standardised on the training samples.

``--transformations rotations+flip`` trains on the 8 rotations of the
image and of its mirror image instead of the 4 rotations.

``--pipeline`` also fits ``make_pipeline(CNNFeatures(), StandardScaler(),
OneClassSVM())``, the 'ocsvm' model as a plain pipeline.

The peer is a One-Class SVM on raw pixels (``--peer``; PyOD's OCSVM, i.e.
``OneClassSVM(nu=0.5, gamma='auto')``, measured 0.888 AUROC on class 0).

With ImageNet weights (``--backbone resnet18 --weights imagenet``) the
script needs the file ``resnet18-f37072fd.pth`` in torch's hub cache
(``$TORCH_HOME/hub/checkpoints``) or a network connection, and a GPU to be
quick: the 28 px images are resized to 224 px.

Run (not a test; minutes per class on a CPU)::

    python examples/bench_cnn_ocsvm.py --classes 0 --peer
    python examples/bench_cnn_ocsvm.py --classes 0 1 2 3 4 5 6 7 8 9
"""

import argparse
import json
import time

import numpy as np
import torch
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import OneClassSVM

from skanomaly import CNNFeatures, CNNOneClassSVM
from skanomaly.datasets import load_fashion_mnist, make_anomaly_split


def run_class(data, normal_class, args):
    X_train, y_train, X_test, y_test = make_anomaly_split(
        *data, normal_class=normal_class, random_state=0
    )
    X_train = X_train[y_train == 1][: args.n_train]
    pretrained = args.weights is not None
    detector = CNNOneClassSVM(
        backbone=args.backbone, weights=args.weights, n_filters=args.n_filters,
        transformations=args.transformations, max_epochs=args.epochs,
        batch_size=args.batch_size, lr=args.lr,
        nu=args.nu, gamma=args.gamma,
        anomaly_score="ocsvm" if pretrained else args.anomaly_score,
        random_state=args.seed,
    )
    start = time.perf_counter()
    detector.fit(X_train)
    fit_s = time.perf_counter() - start
    row = {"normal_class": normal_class, "n_train": len(X_train), "fit_s": round(fit_s, 1)}

    if args.anomaly_score == "rotation" and not pretrained:
        # no SVM was fitted: time the rotation score alone
        start = time.perf_counter()
        rotation = detector.score_samples(X_test)
        row["rotation_img_per_s"] = round(len(X_test) / (time.perf_counter() - start))
        row["auroc_rotation"] = round(roc_auc_score(y_test, rotation), 4)
    else:
        # the two parts of the 'combined' score, timed separately
        X_valid = detector._validate_X(X_test, reset=False)
        start = time.perf_counter()
        svm = detector.ocsvm_.score_samples(
            detector.scaler_.transform(detector.embed(X_test)))
        row["ocsvm_img_per_s"] = round(len(X_test) / (time.perf_counter() - start))
        row["auroc_ocsvm"] = round(roc_auc_score(y_test, svm), 4)
        if not pretrained:
            start = time.perf_counter()
            rotation = detector._rotation_score(X_valid)
            row["rotation_img_per_s"] = round(len(X_test) / (time.perf_counter() - start))
            row["auroc_rotation"] = round(roc_auc_score(y_test, rotation), 4)
            mean, std = detector.score_scale_
            combined = ((np.column_stack([svm, rotation]) - mean) / std).sum(axis=1)
            row["auroc_combined"] = round(roc_auc_score(y_test, combined), 4)

    # the same model as a plain scikit-learn pipeline (ocsvm score)
    if args.pipeline:
        pipe = make_pipeline(
            CNNFeatures(backbone=args.backbone, weights=args.weights,
                        n_filters=args.n_filters, max_epochs=args.epochs,
                        transformations=args.transformations,
                        batch_size=args.batch_size, lr=args.lr, random_state=args.seed),
            StandardScaler(), OneClassSVM(nu=args.nu, gamma=args.gamma),
        )
        row["auroc_pipeline"] = round(
            roc_auc_score(y_test, pipe.fit(X_train).score_samples(X_test)), 4
        )
    if args.peer:
        flat = X_train.reshape(len(X_train), -1) / 255.0
        start = time.perf_counter()
        peer = OneClassSVM(nu=0.5, gamma="auto").fit(flat)
        row["peer_fit_s"] = round(time.perf_counter() - start, 1)
        peer_scores = peer.score_samples(X_test.reshape(len(X_test), -1) / 255.0)
        row["auroc_pixel_ocsvm"] = round(roc_auc_score(y_test, peer_scores), 4)
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--classes", type=int, nargs="+", default=[0])
    parser.add_argument("--n-train", type=int, default=None)
    # defaults: the estimator's own
    defaults = CNNOneClassSVM().get_params()
    parser.add_argument("--epochs", type=int, default=defaults["max_epochs"])
    parser.add_argument("--n-filters", type=int, default=defaults["n_filters"])
    parser.add_argument("--batch-size", type=int, default=defaults["batch_size"])
    parser.add_argument("--lr", type=float, default=defaults["lr"])
    parser.add_argument("--nu", type=float, default=0.1)
    parser.add_argument("--gamma", default="scale")
    parser.add_argument("--backbone", default="small")
    parser.add_argument("--transformations", default="rotations",
                        choices=["rotations", "rotations+flip",
                                 "rotations+translations"])
    parser.add_argument("--weights", default=None)
    parser.add_argument("--anomaly-score", default="combined", choices=["combined", "rotation"],
                        help="'combined' fits the SVM too and reports all three scores; "
                             "'rotation' fits and times the rotation score only")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0, help="random_state of the detector")
    parser.add_argument("--peer", action="store_true", help="also OCSVM on pixels")
    parser.add_argument("--pipeline", action="store_true",
                        help="also fit make_pipeline(CNNFeatures(), StandardScaler(), "
                             "OneClassSVM()) (a second training)")
    parser.add_argument("--out", default=None, help="append JSON lines here")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    data = load_fashion_mnist()
    rows = []
    for normal_class in args.classes:
        row = run_class(data, normal_class, args)
        row["settings"] = {
            "epochs": args.epochs, "n_filters": args.n_filters, "batch_size": args.batch_size,
            "backbone": args.backbone, "weights": args.weights, "threads": args.threads,
            "transformations": args.transformations,
        }
        print(json.dumps(row), flush=True)
        if args.out:
            with open(args.out, "a") as f:
                f.write(json.dumps(row) + "\n")
        rows.append(row)
    for key in ("auroc_ocsvm", "auroc_rotation", "auroc_combined", "auroc_pipeline",
                "auroc_pixel_ocsvm"):
        if rows and key in rows[0]:
            print(f"mean {key} over {len(rows)} classes: "
                  f"{np.mean([r[key] for r in rows]):.4f}")


if __name__ == "__main__":
    main()
