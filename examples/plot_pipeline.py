"""
Detectors in a Pipeline: 2-D input and ``image_shape``
======================================================

scikit-learn's transformers take 2-D arrays, one row per sample. A detector
at the end of a :class:`~sklearn.pipeline.Pipeline` therefore receives flat
rows; ``image_shape=(channels, height, width)`` tells it to fold each row
back into an image, so that it builds convolutional networks. Without it, a
row is a feature vector and the detector builds fully connected networks
instead.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from skanomaly import AutoEncoder
from skanomaly.datasets import (
    fashion_mnist_available,
    load_digits_images,
    load_fashion_mnist,
    make_anomaly_split,
)
from skanomaly.plotting import plot_roc

data = load_fashion_mnist() if fashion_mnist_available() else load_digits_images()
X_train, y_train, X_test, y_test = make_anomaly_split(*data, normal_class=1, random_state=0)
X_train, y_train = X_train[:500], y_train[:500]
test = np.random.RandomState(0).choice(len(X_test), 1000, replace=False)
X_test, y_test = X_test[test], y_test[test]
image_shape = (1, *X_train.shape[1:])  # (1, 28, 28) for Fashion-MNIST

# flat rows, as a table or a feature store would hand them over
X_train_flat = X_train.reshape(len(X_train), -1)
X_test_flat = X_test.reshape(len(X_test), -1)
print("pipeline input:", X_train_flat.shape)

# %%
# Folding rows back into images
# -----------------------------
# The scaler works on the 2-D rows; the autoencoder folds them into images.
conv = make_pipeline(
    MinMaxScaler(),
    AutoEncoder(image_shape=image_shape, n_filters=16, batch_size=32, max_epochs=3,
                random_state=0),
)
conv.fit(X_train_flat, y_train)
print("detector's sample shape:", conv[-1].image_shape_)
print(type(conv[-1].net_.module_).__name__)

# %%
# The same pipeline without ``image_shape`` treats each row as a vector:
dense = make_pipeline(MinMaxScaler(),
                      AutoEncoder(batch_size=32, max_epochs=3, random_state=0))
dense.fit(X_train_flat, y_train)
print("detector's sample shape:", dense[-1].image_shape_)
print(type(dense[-1].net_.module_).__name__)

# %%
# Both pipelines have the detector's methods (``score_samples``,
# ``decision_function``, ``predict``), applied after the scaler, so
# :func:`~skanomaly.plotting.plot_roc` takes them as they are, with the flat
# test rows.
pipelines = {"convolutional (image_shape)": conv, "fully connected": dense}
for name, pipe in pipelines.items():
    print(f"{name}: test AUROC {roc_auc_score(y_test, pipe.score_samples(X_test_flat)):.3f}")
fig = plot_roc(pipelines, X_test_flat, y_test)
fig.axes[0].set_title("anomalies are the positive class")
plt.show()
