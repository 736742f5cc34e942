"""
Comparing detectors: ROC curves
===============================

Every detector of skanomaly has the same interface as scikit-learn's outlier
detectors, so they can be compared in one loop, together with the pixel
kNN (:class:`~skanomaly.KNNDetector`, the baseline of every table),
:class:`~sklearn.ensemble.IsolationForest` and
:class:`~sklearn.svm.OneClassSVM` on raw pixels. The training set holds 5 %
labelled anomalies (label -1): the detectors that learn from them use them,
the others fit on the normal images only.

Each detector trains for 2 epochs on 500 images, so this compares the
interfaces more than the methods (a GAN in particular is far from trained
after two epochs): ``python -m skanomaly.benchmark`` runs the real
comparison.
"""

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.svm import OneClassSVM

import skanomaly
from skanomaly.datasets import (
    fashion_mnist_available,
    load_digits_images,
    load_fashion_mnist,
    make_anomaly_split,
)
from skanomaly.plotting import plot_roc

data = load_fashion_mnist() if fashion_mnist_available() else load_digits_images()
X_train, y_train, X_test, y_test = make_anomaly_split(
    *data, normal_class=0, anomaly_ratio=0.05, random_state=0)
X_train, y_train = X_train[:500], y_train[:500]
test = np.random.RandomState(0).choice(len(X_test), 1000, replace=False)
X_test, y_test = X_test[test], y_test[test]

# %%
# The detectors
# -------------
# skanomaly's detectors are looked up by name, so this example runs with
# whichever this installation provides.


def flatten(X):
    """Images as flat rows scaled to [0, 1], for scikit-learn's detectors."""
    return X.reshape(len(X), -1) / (255.0 if X.dtype == np.uint8 else 1.0)


detectors = {}
# small networks and few epochs, for a CPU (not every detector has every one)
quick = {"max_epochs": 2, "encoder_epochs": 2, "n_filters": 16, "batch_size": 32,
         "random_state": 0}
for name in ["KNNDetector", "AutoEncoder", "DualDiscGAN", "AnoGAN", "CNNOneClassSVM",
             "DeepSAD"]:
    cls = getattr(skanomaly, name, None)
    if cls is None:
        print(f"{name} is not available in this version of skanomaly")
        continue
    detector = cls()
    detector.set_params(**{k: v for k, v in quick.items() if k in detector.get_params()})
    detectors[name] = detector
peers = {
    "IsolationForest (pixels)": make_pipeline(
        FunctionTransformer(flatten), IsolationForest(random_state=0)),
    "OneClassSVM (pixels)": make_pipeline(
        FunctionTransformer(flatten), OneClassSVM(gamma="scale", nu=0.1)),
}

# %%
# Fit, score, plot
# ----------------
# scikit-learn's detectors do not take labels: they get the normal images.
# ``score_samples`` is lower for more abnormal images for all of them, so
# minus the score ranks anomalies first.
# :func:`~skanomaly.plotting.plot_roc` draws one ROC curve per detector, the
# anomalies as the positive class; it takes fitted detectors, or, as here,
# their test scores already computed.
scores = {}
for name, detector in {**detectors, **peers}.items():
    start = time.perf_counter()
    if name in detectors:
        detector.fit(X_train, y_train)  # labels: 1 normal, -1 anomaly
    else:
        detector.fit(X_train[y_train == 1])
    seconds = time.perf_counter() - start
    scores[name] = detector.score_samples(X_test)
    print(f"{name:26s} AUROC {roc_auc_score(y_test, scores[name]):.3f}  fit {seconds:.1f} s")

fig = plot_roc(scores, X_test, y_test)
fig.axes[0].set_title("ROC curves (anomalies positive)")
plt.show()
