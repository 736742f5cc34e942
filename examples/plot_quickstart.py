"""
Quick start: an autoencoder on Fashion-MNIST
============================================

Train :class:`~skanomaly.AutoEncoder` on images of one Fashion-MNIST class
(T-shirts/tops) and detect the other nine classes as anomalies by their
reconstruction error. The detector follows scikit-learn's outlier
conventions: ``score_samples`` is lower for more abnormal images, and
``roc_auc_score(y_test, scores)`` with labels 1 (normal) and -1 (anomaly) is
the AUROC.

To run in seconds, this example trains a small network on 500 images for
5 epochs; the
benchmark (``python -m skanomaly.benchmark``) uses all 6000 and more epochs.
Where Fashion-MNIST is not installed, scikit-learn's 8x8 digits stand in.
"""

# %%
# Data: one normal class, the nine others as anomalies
# ----------------------------------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import roc_auc_score

from skanomaly import AutoEncoder
from skanomaly.datasets import (
    fashion_mnist_available,
    load_digits_images,
    load_fashion_mnist,
    make_anomaly_split,
)

data = load_fashion_mnist() if fashion_mnist_available() else load_digits_images()
X_train, y_train, X_test, y_test = make_anomaly_split(*data, normal_class=0, random_state=0)

rng = np.random.RandomState(0)
X_train, y_train = X_train[:500], y_train[:500]  # the split is already shuffled
test = rng.choice(len(X_test), 1000, replace=False)
X_test, y_test = X_test[test], y_test[test]
print(f"train: {X_train.shape} (all normal), test: {X_test.shape}, "
      f"{(y_test == -1).mean():.0%} anomalies")

# %%
# Fit and score
# -------------
# ``fit`` takes the images as they are (uint8 is scaled to [0, 1]);
# ``y=None`` would mean the same here, every training image being normal.
# a small network, small batches and a few epochs: seconds on a CPU
detector = AutoEncoder(n_filters=16, latent_dim=16, batch_size=32, max_epochs=5,
                       random_state=0)
detector.fit(X_train, y_train)

scores = detector.score_samples(X_test)  # minus the reconstruction error
print(f"test AUROC: {roc_auc_score(y_test, scores):.3f}")

# %%
# ``predict`` thresholds ``decision_function = score_samples - offset_``;
# with ``contamination='auto'``, ``offset_`` is the lower Tukey fence of the
# training scores.
predicted = detector.predict(X_test)
print(f"flagged as anomalies: {(predicted == -1).mean():.0%} of the test set")

fig, ax = plt.subplots(figsize=(6, 3.5), layout="constrained")
bins = np.linspace(scores.min(), scores.max(), 40)
ax.hist(scores[y_test == 1], bins=bins, alpha=0.6, density=True, label="normal")
ax.hist(scores[y_test == -1], bins=bins, alpha=0.6, density=True, label="anomaly")
ax.axvline(detector.offset_, color="k", linestyle="--", label="offset_")
ax.set(xlabel="score_samples (lower is more abnormal)", ylabel="density")
ax.legend()
plt.show()

# %%
# Reconstructions
# ---------------
# Normal images (top) are reconstructed better than anomalies (bottom).
normal, anomaly = X_test[y_test == 1][:6], X_test[y_test == -1][:6]
images = np.concatenate([normal, anomaly])
reconstructions = detector.reconstruct(images)

fig, axes = plt.subplots(4, 6, figsize=(6, 4.4), layout="constrained")
for j in range(6):
    for i, (row, title) in enumerate([(normal, "normal"), (reconstructions[:6], "rec."),
                                      (anomaly, "anomaly"), (reconstructions[6:], "rec.")]):
        axes[i, j].imshow(np.squeeze(row[j]), cmap="gray")
        axes[i, j].set_axis_off()
        if j == 0:
            axes[i, j].set_title(title, fontsize="small", loc="left")
plt.show()
