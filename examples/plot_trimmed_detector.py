"""
Training on contaminated data with TrimmedDetector
===================================================

Anomaly detectors are meant to be trained on normal data, but a training
set collected in practice often hides some anomalies, unlabelled. A detector
fitted on such a set learns them as normal. When the share of anomalies is
known (here 10%), :class:`~skanomaly.TrimmedDetector` fits the
detector, drops that share of training samples it finds most anomalous,
and fits again on the rest, a few rounds.

This example uses scikit-learn's 8x8 digits (bundled, no download): one
digit is normal, 10% of the training set are other digits. It works the
same with any detector that has ``score_samples``: scikit-learn's, as here,
or this package's deep detectors on images (``python -m skanomaly.benchmark
--protocol contaminated`` runs them on Fashion-MNIST, e.g. ``anogan+trimmed``).
"""

# %%
# A contaminated training set
# ---------------------------
# :func:`~skanomaly.datasets.make_anomaly_split` hides anomalies among the
# normal training samples (labelled 1, as if normal); the test set is the
# whole digits test split, the normal digit labelled 1, the others -1.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import LocalOutlierFactor

from skanomaly import TrimmedDetector
from skanomaly.datasets import load_digits_images, make_anomaly_split
from skanomaly.plotting import plot_roc

data = load_digits_images()
X_train, y_train, X_test, y_test = make_anomaly_split(
    *data, normal_class=7, contamination=0.1, random_state=0
)
# the same split on row numbers tells which training images are anomalies
rows, _, _, _ = make_anomaly_split(
    np.arange(len(data[1])), *data[1:], normal_class=7, contamination=0.1, random_state=0
)
is_anomaly = data[1][rows] != 7
print(f"{len(X_train)} training images, {is_anomaly.sum()} of them not a 7")


def flat(X):
    return X.reshape(len(X), -1)


# %%
# Plain fit against trimmed fit
# -----------------------------
# A local outlier factor, in novelty mode so that it scores new samples,
# fitted on the contaminated set as it is, then inside ``TrimmedDetector``.
lof = LocalOutlierFactor(n_neighbors=10, novelty=True)
plain = lof.fit(flat(X_train))
auc_plain = roc_auc_score(y_test, plain.score_samples(flat(X_test)))

trimmed = TrimmedDetector(lof, contamination=0.1, n_rounds=3, random_state=0)
trimmed.fit(flat(X_train))
auc_trimmed = roc_auc_score(y_test, trimmed.score_samples(flat(X_test)))

clean = LocalOutlierFactor(n_neighbors=10, novelty=True).fit(flat(X_train[~is_anomaly]))
auc_clean = roc_auc_score(y_test, clean.score_samples(flat(X_test)))

dropped = ~trimmed.support_mask_
print(f"AUROC trained on clean data: {auc_clean:.3f}")
print(f"AUROC trained on contaminated data: {auc_plain:.3f}")
print(f"AUROC with TrimmedDetector: {auc_trimmed:.3f} ({trimmed.n_rounds_} rounds)")
print(f"dropped {dropped.sum()} images, {is_anomaly[dropped].sum()} of them anomalies")

# %%
# The three ROC curves on the test set, drawn by
# :func:`~skanomaly.plotting.plot_roc` from the fitted detectors (the clean
# and the trimmed fits' curves run along the top, one over the other):
fig = plot_roc({"clean training set": clean, "10% contaminated": plain,
                "10% contaminated, trimmed": trimmed}, flat(X_test), y_test)
fig.axes[0].set_title("normal digit 7")

# %%
# Every digit in turn
# -------------------
# The same comparison with each digit as the normal class.
aucs = []
for digit in range(10):
    Xc, _, Xt, yt = make_anomaly_split(*data, normal_class=digit, random_state=0)
    Xd, _, _, _ = make_anomaly_split(*data, normal_class=digit, contamination=0.1,
                                     random_state=0)
    row = []
    for X_fit, model in (
        (Xc, lof),
        (Xd, lof),
        (Xd, TrimmedDetector(lof, contamination=0.1, random_state=0)),
    ):
        row.append(roc_auc_score(yt, model.fit(flat(X_fit)).score_samples(flat(Xt))))
    aucs.append(row)
aucs = np.array(aucs)

fig, ax = plt.subplots(figsize=(8, 3.5))
width = 0.27
for i, label in enumerate(["clean training set", "10% contaminated",
                           "10% contaminated, trimmed"]):
    ax.bar(np.arange(10) + (i - 1) * width, aucs[:, i], width, label=label)
ax.set(xticks=range(10), xlabel="normal digit", ylabel="test AUROC",
       ylim=(max(0.5, aucs.min() - 0.05), 1.0))
ax.legend(loc="lower left", fontsize=8)
fig.tight_layout()
print("mean AUROC (clean, contaminated, trimmed):", np.round(aucs.mean(0), 3))

# %%
# What was dropped
# ----------------
# The training images ``TrimmedDetector`` dropped (``support_mask_`` is
# False), for the 7s; the true anomalies are framed in red.
fig, axes = plt.subplots(2, 8, figsize=(8, 2.4))
for ax, i in zip(axes.ravel(), np.flatnonzero(dropped)):
    ax.imshow(X_train[i], cmap="gray_r")
    ax.set(xticks=[], yticks=[])
    colour = "red" if is_anomaly[i] else "lightgrey"
    for spine in ax.spines.values():
        spine.set(color=colour, linewidth=2)
for ax in axes.ravel()[dropped.sum():]:
    ax.axis("off")
fig.suptitle("dropped training images (red: not a 7)")
plt.show()
