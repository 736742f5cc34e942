"""
DualDiscGAN: how normal and anomalous images are reconstructed
==============================================================

:class:`~skanomaly.DualDiscGAN` trains an autoencoder (the generator) against
two discriminators: one for normal images, one for the few labelled
anomalies. The generator learns to reconstruct normal images faithfully and,
pushed by the ABC loss and the anomaly discriminator, to reconstruct
anomalies *badly*. The anomaly score is the paper's, the mean absolute
reconstruction error: only the generator is needed to score.

Here T-shirts/tops (Fashion-MNIST class 0) are normal and 5% labelled
anomalies from the nine other classes join the training set. To run in well
under a minute, the model trains on 1000 T-shirts for 3 epochs; the benchmark
(``python -m skanomaly.benchmark --protocol imbalanced --detectors
dualdiscgan``) uses all 6000 and the default settings.
Where Fashion-MNIST is not installed, scikit-learn's 8x8 digits stand in
(digit 0 normal).
"""

# %%
# Data: one normal class plus a few labelled anomalies
# ----------------------------------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import roc_auc_score

from skanomaly import DualDiscGAN
from skanomaly.datasets import (
    fashion_mnist_available,
    load_digits_images,
    load_fashion_mnist,
    make_anomaly_split,
)
from skanomaly.plotting import plot_anomaly_maps

data = load_fashion_mnist() if fashion_mnist_available() else load_digits_images()
X_train, y_train, X_test, y_test = make_anomaly_split(
    *data, normal_class=0, anomaly_ratio=0.05, random_state=0)

n_normal = 1000
normal_idx = np.flatnonzero(y_train == 1)[:n_normal]
anomaly_idx = np.flatnonzero(y_train == -1)[: max(2, int(0.05 * len(normal_idx)))]
train = np.concatenate([normal_idx, anomaly_idx])
X_train, y_train = X_train[train], y_train[train]
print(f"train: {len(normal_idx)} normal, {len(anomaly_idx)} labelled anomalies; "
      f"test: {len(y_test)} images, {(y_test == -1).mean():.0%} anomalies")

# %%
# Fit, score
# ----------
# ``y`` marks the labelled anomalies with -1. Every training batch is half
# normal, half anomalous, however rare the anomalies are.
detector = DualDiscGAN(max_epochs=3, n_threads=1, random_state=0)
detector.fit(X_train, y_train)

scores = detector.score_samples(X_test)  # minus the mean L1 reconstruction error
print(f"AUROC: {roc_auc_score(y_test, scores):.3f}")

# %%
# Images, reconstructions and anomaly maps
# ----------------------------------------
# :func:`~skanomaly.plotting.plot_anomaly_maps` draws each image above its
# reconstruction and its anomaly map, the absolute reconstruction error of
# each pixel (the terms the score averages). The first four columns are
# normal test images, the last four anomalous ones; the reconstruction error
# (minus the score) is in each title.
rng = np.random.RandomState(0)
n_show = 4
shown = np.concatenate([
    rng.choice(np.flatnonzero(y_test == 1), n_show, replace=False),
    rng.choice(np.flatnonzero(y_test == -1), n_show, replace=False),
])
fig = plot_anomaly_maps(detector, X_test[shown], n_images=len(shown))
for ax, i in zip(fig.axes, shown):  # the first row: the images
    kind = "normal" if y_test[i] == 1 else "anomaly"
    ax.set_title(f"{kind}\nerr {-scores[i]:.2f}", fontsize=8)
plt.show()
