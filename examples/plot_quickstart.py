"""
Quick start: an autoencoder on Fashion-MNIST
============================================

Train :class:`~skanomaly.AutoEncoder` on images of one Fashion-MNIST class
(T-shirts/tops) and detect the other nine classes as anomalies. An image's
score is minus how badly the autoencoder reconstructs it (the mean squared
reconstruction error), and beside it stands the baseline every table of the
package shows, :class:`~skanomaly.KNNDetector` (the distance to the nearest
normal training images, in the pixels). The detector follows scikit-learn's outlier
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

from skanomaly import AutoEncoder, KNNDetector
from skanomaly.datasets import (
    fashion_mnist_available,
    load_digits_images,
    load_fashion_mnist,
    make_anomaly_split,
)
from skanomaly.plotting import plot_anomaly_maps, plot_score_histogram

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

scores = detector.score_samples(X_test)  # lower is more abnormal
print(f"test AUROC: {roc_auc_score(y_test, scores):.3f}")

# %%
# The baseline: the mean distance to the 5 nearest normal training images, in
# the pixels (after a square root and a 3x3 blur). No network; on small
# aligned images such as these it is hard to beat.
knn = KNNDetector().fit(X_train, y_train)
print(f"pixel kNN test AUROC: {roc_auc_score(y_test, knn.score_samples(X_test)):.3f}")

# %%
# ``predict`` thresholds ``decision_function = score_samples - offset_``;
# with ``contamination='auto'``, ``offset_`` is the lower Tukey fence of the
# training scores.
predicted = detector.predict(X_test)
print(f"flagged as anomalies: {(predicted == -1).mean():.0%} of the test set")

# %%
# :func:`~skanomaly.plotting.plot_score_histogram` draws the scores of the
# normal and the anomalous test images, and the threshold ``offset_``: the
# images left of it are flagged.
plot_score_histogram(detector, X_test, y_test, bins=40)
plt.show()

# %%
# Reconstructions and anomaly maps
# --------------------------------
# Normal images (the first four columns) are reconstructed better than
# anomalies (the last four). The network sees, and reconstructs, the square
# root of the intensities blurred by a 3x3 box (``preprocessing='sqrt_blur'``),
# so the reconstructions look brighter and softer than the images.
# :func:`~skanomaly.plotting.plot_anomaly_maps` draws each image above its
# reconstruction and its anomaly map, the squared reconstruction error of
# each pixel: where the reconstruction goes wrong.
images = np.concatenate([X_test[y_test == 1][:4], X_test[y_test == -1][:4]])
plot_anomaly_maps(detector, images)
plt.show()
