"""
Tuning a detector with GridSearchCV
===================================

Detectors are scikit-learn estimators, so
:class:`~sklearn.model_selection.GridSearchCV` tunes them. With
``scoring="roc_auc"``, each candidate is ranked by the AUROC of its
``decision_function`` on the validation folds (label 1, normal, being the
positive class). The validation folds therefore need some labelled
anomalies: here 10 % of the training set is labelled -1, and a stratified
split keeps them in every fold.

Parameters of the torch modules and optimizers are reachable through the
skorch net, e.g. ``optimizer__weight_decay``.

A few hundred images and two epochs per fit keep this example fast; the
numbers it prints are for illustration, not a benchmark.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from skanomaly import AutoEncoder
from skanomaly.datasets import (
    fashion_mnist_available,
    load_digits_images,
    load_fashion_mnist,
    make_anomaly_split,
)
from skanomaly.plotting import plot_score_histogram

data = load_fashion_mnist() if fashion_mnist_available() else load_digits_images()
X_train, y_train, X_test, y_test = make_anomaly_split(
    *data, normal_class=7, anomaly_ratio=0.1, random_state=0)
X_train, y_train = X_train[:400], y_train[:400]
test = np.random.RandomState(0).choice(len(X_test), 1000, replace=False)
X_test, y_test = X_test[test], y_test[test]
print(f"{(y_train == -1).sum()} labelled anomalies among {len(y_train)} training images")

# %%
# The search
# ----------
# The autoencoder uses the labelled anomalies of each training fold too (a
# hinge pushes their reconstruction error up), and is scored on the
# held-out fold.
search = GridSearchCV(
    AutoEncoder(n_filters=16, max_epochs=2, batch_size=32, random_state=0),
    param_grid={
        "latent_dim": [8, 32],
        "anomaly_weight": [0.0, 1.0],
    },
    scoring="roc_auc",
    cv=StratifiedKFold(n_splits=3, shuffle=True, random_state=0),
)
search.fit(X_train, y_train)

print("best parameters:", search.best_params_)
print(f"best validation AUROC: {search.best_score_:.3f}")
# ``score`` uses the same scorer: the test AUROC of the refitted best detector
print(f"test AUROC: {search.score(X_test, y_test):.3f}")

# %%
# The refitted best detector, ``best_estimator_``, on the test set: the
# scores of its normal and anomalous images, and its threshold ``offset_``
# (:func:`~skanomaly.plotting.plot_score_histogram`).
plot_score_histogram(search.best_estimator_, X_test, y_test, bins=40)
plt.show()

# %%
# Validation AUROC of every candidate
# -----------------------------------
results = search.cv_results_
labels = [f"latent_dim={p['latent_dim']}\nanomaly_weight={p['anomaly_weight']}"
          for p in results["params"]]
fig, ax = plt.subplots(figsize=(6.5, 3.5), layout="constrained")
ax.bar(range(len(labels)), results["mean_test_score"], yerr=results["std_test_score"],
       color="tab:blue", alpha=0.8)
ax.set_xticks(range(len(labels)), labels, fontsize="small")
ax.set(ylabel="validation AUROC (3 folds)",
       ylim=(min(results["mean_test_score"]) - 0.1, 1))
plt.show()
