"""
DualDiscGAN: how normal and anomalous images are reconstructed
==============================================================

:class:`~skanomaly.DualDiscGAN` trains an autoencoder (the generator) against
two discriminators: one for normal images, one for the few labelled
anomalies. The generator learns to reconstruct normal images faithfully and,
pushed by the ABC loss and the anomaly discriminator, to reconstruct
anomalies *badly*; the anomaly score is the mean absolute reconstruction
error, and only the generator is needed to compute it.

Here T-shirts/tops (Fashion-MNIST class 0) are normal and 5% labelled
anomalies from the nine other classes join the training set. To run in well
under a minute, the model trains on 1000 T-shirts for 3 epochs; the benchmark
(``examples/bench_dual_gan.py``) uses all 6000 and the default settings.
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
# Images and their reconstructions
# --------------------------------
# Top two rows: normal test images and their reconstructions; bottom two:
# anomalous ones. The reconstruction error (the anomaly score) is in each
# title.
rng = np.random.RandomState(0)
n_show = 8
shown = {
    "normal": rng.choice(np.flatnonzero(y_test == 1), n_show, replace=False),
    "anomaly": rng.choice(np.flatnonzero(y_test == -1), n_show, replace=False),
}
fig, axes = plt.subplots(4, n_show, figsize=(1.4 * n_show, 6.4))
for row, (name, idx) in enumerate(shown.items()):
    reconstructions = detector.reconstruct(X_test[idx])
    images = X_test[idx] / 255.0
    for col in range(n_show):
        for k, (image, label) in enumerate(
            [(images[col], name), (reconstructions[col, 0], "reconstruction")]
        ):
            ax = axes[2 * row + k, col]
            ax.imshow(np.squeeze(image), cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if col == 0:
                ax.set_ylabel(label, fontsize=9)
        axes[2 * row, col].set_title(f"err {-scores[idx[col]]:.2f}", fontsize=8)
fig.suptitle("DualDiscGAN: normal (top) and anomalous (bottom) test images, "
             "each above its reconstruction", fontsize=10)
fig.tight_layout()
fig.savefig("dual_gan_reconstructions.png", dpi=100)
plt.show()
