"""The figures a user of anomaly detectors looks at (matplotlib, imported lazily).

* :func:`plot_roc`: ROC curves of fitted detectors on a labelled test set;
* :func:`plot_score_histogram`: the score histograms of normal and anomalous
  images, with the detector's threshold (``offset_``);
* :func:`plot_anomaly_maps`: a grid of images with their reconstructions (for
  the detectors that reconstruct) and their anomaly maps.

Each function draws into new axes (or the ``ax``/``fig`` given) and returns
the matplotlib ``Figure``. Labels follow the package's convention: ``y`` is 1
for normal and -1 for anomalous samples.
"""

import numpy as np

from ._docstrings import fill_doc

__all__ = ["plot_anomaly_maps", "plot_roc", "plot_score_histogram"]


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "skanomaly.plotting needs matplotlib: pip install matplotlib"
        ) from exc
    return plt


def _axes(ax, **figure_kwargs):
    if ax is not None:
        return ax.figure, ax
    fig, ax = _pyplot().subplots(**figure_kwargs)
    return fig, ax


def _name(detector):
    return type(detector).__name__


@fill_doc
def plot_roc(detectors, X, y, *, ax=None):
    """ROC curves of fitted detectors: anomalies caught against normal images flagged.

    Parameters
    ----------
    detectors : estimator, list of estimators, or dict of name to estimator
        Fitted detectors with ``score_samples`` (lower is more abnormal); a
        dict may also map names to precomputed scores (arrays).
    X : array-like
        Test images, in the layout the detectors were fitted on.
    y : array-like of shape (n_samples,)
        1 normal, -1 anomaly.
    {ax_returns_figure}
    """
    from sklearn.metrics import roc_auc_score, roc_curve

    y = np.asarray(y)
    if not isinstance(detectors, dict):
        if not isinstance(detectors, (list, tuple)):
            detectors = [detectors]
        detectors = {_name(d): d for d in detectors}
    fig, ax = _axes(ax, figsize=(5, 4.5), layout="constrained")
    for name, detector in detectors.items():
        scores = (np.asarray(detector) if isinstance(detector, np.ndarray)
                  else detector.score_samples(X))
        fpr, tpr, _ = roc_curve(y == -1, -scores)
        ax.plot(fpr, tpr, label=f"{name} ({roc_auc_score(y, scores):.3f})")
    ax.plot([0, 1], [0, 1], color="0.7", linestyle=":", linewidth=1)
    ax.set(xlabel="normal images flagged (false positive rate)",
           ylabel="anomalies caught (true positive rate)", xlim=(0, 1), ylim=(0, 1.01))
    ax.legend(loc="lower right", fontsize="small", title="AUROC")
    return fig


@fill_doc
def plot_score_histogram(detector, X, y, *, bins=50, ax=None):
    """Histograms of the scores of normal and anomalous images, and the threshold.

    The threshold is the detector's ``offset_``: ``predict`` flags the
    images left of it (``decision_function < 0``).

    Parameters
    ----------
    detector : estimator
        A fitted detector with ``score_samples`` and ``offset_``.
    X : array-like
        Images, in the layout the detector was fitted on.
    y : array-like of shape (n_samples,)
        1 normal, -1 anomaly.
    bins : int, default=50
        Number of bins.
    {ax_returns_figure}
    """
    y = np.asarray(y)
    scores = detector.score_samples(X)
    fig, ax = _axes(ax, figsize=(6, 3.5), layout="constrained")
    edges = np.histogram_bin_edges(scores, bins=bins)
    for label, name, color in ((1, "normal", "tab:blue"), (-1, "anomaly", "tab:red")):
        part = scores[y == label]
        if len(part):
            ax.hist(part, bins=edges, alpha=0.55, color=color, density=True,
                    label=f"{name} ({len(part)})")
    offset = getattr(detector, "offset_", None)
    if offset is not None:
        flagged = (scores < offset)
        ax.axvline(offset, color="k", linestyle="--", linewidth=1,
                   label=f"offset_: flags {flagged[y == 1].mean():.0%} of normal, "
                         f"{flagged[y == -1].mean() if (y == -1).any() else 0:.0%} "
                         "of anomalies")
    ax.set(xlabel="score_samples (lower is more abnormal)", ylabel="density",
           title=_name(detector))
    ax.legend(fontsize="small")
    return fig


def _as_image(image):
    """One image as a 2-D (grey) or (H, W, 3) array in [0, 1] for imshow."""
    image = np.asarray(image, dtype=np.float32)
    if image.ndim == 3:
        image = image[0] if image.shape[0] == 1 else np.moveaxis(image[:3], 0, -1)
    return np.clip(image, 0, 1)


def plot_anomaly_maps(detector, X, *, masks=None, n_images=8, fig=None):
    """A grid: images, their reconstructions (if any), anomaly maps (and true masks).

    Parameters
    ----------
    detector : estimator
        A fitted detector with ``anomaly_map`` (see the user guide for which
        detectors localise); its ``reconstruct`` is shown when it has one.
    X : array-like of shape (n_samples, C, H, W) or (n_samples, H, W)
        Images; the first ``n_images`` are drawn.
    masks : array-like of shape (n_samples, H, W), default=None
        True defect masks, drawn as a last row when given.
    n_images : int, default=8
        Number of images (columns).
    fig : matplotlib Figure, default=None
        Figure to draw into; None makes a new one.

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    if not hasattr(detector, "anomaly_map"):
        raise TypeError(f"{_name(detector)} has no anomaly_map: it does not localise.")
    X = np.asarray(X)[:n_images]
    shown = X.astype(np.float32) / (255.0 if X.dtype == np.uint8 else 1.0)
    if shown.ndim == 3:
        shown = shown[:, None]
    rows = [("image", shown, "gray")]
    if hasattr(detector, "reconstruct"):
        rows.append(("reconstruction", detector.reconstruct(X), "gray"))
    maps = detector.anomaly_map(X)
    rows.append(("anomaly map", maps, "inferno"))
    if masks is not None:
        rows.append(("true defect", np.asarray(masks)[:n_images], "gray"))
    n = len(X)
    if fig is None:
        fig = _pyplot().figure(figsize=(1.2 * n + 1.2, 1.25 * len(rows) + 0.4),
                               layout="constrained")
    axes = fig.subplots(len(rows), n, squeeze=False)
    vmax = float(np.percentile(maps, 99.5)) or 1.0
    for i, (name, images, cmap) in enumerate(rows):
        for j in range(n):
            ax = axes[i, j]
            if name == "anomaly map":
                ax.imshow(images[j], cmap=cmap, vmin=0, vmax=vmax)
            else:
                ax.imshow(_as_image(images[j]), cmap=cmap, vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if j == 0:
                ax.set_ylabel(name, fontsize="small")
    fig.suptitle(_name(detector))
    return fig
