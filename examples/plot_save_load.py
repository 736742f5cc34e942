"""
Saving and loading a fitted detector
====================================

Two ways to keep a fitted detector:

* :func:`skanomaly.save` / :func:`skanomaly.load`: weights and settings
  only, read with ``torch.load(weights_only=True)``, so that opening a file
  from elsewhere cannot run code. The way to share models.
* :func:`joblib.dump` / :func:`joblib.load`: the whole estimator pickled,
  its skorch net and torch modules included. Load such files only from
  sources you trust (unpickling runs code), with the same versions of
  skanomaly, torch and scikit-learn.

Both give back a detector that scores exactly as before.
"""

# %%
import tempfile
from pathlib import Path

import joblib
import matplotlib.pyplot as plt
import numpy as np
from sklearn.base import clone

from skanomaly import AutoEncoder, load, save
from skanomaly.datasets import (
    fashion_mnist_available,
    load_digits_images,
    load_fashion_mnist,
    make_anomaly_split,
)
from skanomaly.plotting import plot_anomaly_maps

data = load_fashion_mnist() if fashion_mnist_available() else load_digits_images()
X_train, y_train, X_test, y_test = make_anomaly_split(*data, normal_class=8, random_state=0)
X_train, X_test, y_test = X_train[:500], X_test[:500], y_test[:500]

detector = AutoEncoder(n_filters=16, batch_size=32, max_epochs=2, random_state=0)
detector.fit(X_train)
scores = detector.score_samples(X_test)

# %%
# Weights and settings only
# -------------------------
with tempfile.TemporaryDirectory() as folder:
    path = Path(folder) / "autoencoder.pt"
    save(detector, path)
    print(f"saved {path.name}: {path.stat().st_size / 1024:.0f} KiB")
    safe = load(path)  # device="cpu" would force the CPU for a GPU model
print("same scores:", np.array_equal(scores, safe.score_samples(X_test)))

# %%
# Round trip through a pickle
# ---------------------------
with tempfile.TemporaryDirectory() as folder:
    path = Path(folder) / "autoencoder.joblib"
    joblib.dump(detector, path)
    print(f"saved {path.name}: {path.stat().st_size / 1024:.0f} KiB")
    loaded = joblib.load(path)

loaded_scores = loaded.score_samples(X_test)
print("same scores:", np.array_equal(scores, loaded_scores))
print("same threshold:", loaded.offset_ == detector.offset_)
print("same predictions:", np.array_equal(loaded.predict(X_test), detector.predict(X_test)))

# %%
# The parameters come back too, so the saved detector can be cloned and
# refitted, e.g. on new data:
print(clone(loaded).get_params()["max_epochs"])

# %%
# The loaded detector reconstructs and localises like the original one:
# :func:`~skanomaly.plotting.plot_anomaly_maps` draws the same test images,
# their reconstructions and their anomaly maps for each, side by side.
images = X_test[:4]
fig = plt.figure(figsize=(10, 4.2), layout="constrained")
for subfig, (title, model) in zip(fig.subfigures(1, 2, wspace=0.05),
                                  [("fitted", detector), ("loaded", loaded)]):
    plot_anomaly_maps(model, images, fig=subfig)
    subfig.suptitle(title)
plt.show()
