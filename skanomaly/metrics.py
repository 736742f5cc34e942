"""How well anomaly maps localise defects: pixel AUROC and AUPRO.

An anomaly map is higher where an image is more abnormal (as
``anomaly_map`` of skanomaly's detectors); a mask is True on a defect's
pixels (as :func:`~skanomaly.datasets.make_texture_defects` and
:func:`~skanomaly.datasets.load_mvtec_ad` give them). The pixel AUROC
counts every defect pixel alike, so large defects weigh most; the AUPRO of
MVTec AD (Bergmann et al. 2021) gives every connected defect region the
same weight, and looks at low false-positive rates only.
"""

import numpy as np
from scipy import ndimage
from sklearn.metrics import roc_auc_score

__all__ = ["aupro", "pixel_auroc", "pro_curve"]

#: 8-connectivity: pixels touching by a corner belong to one region
_EIGHT = np.ones((3, 3), dtype=bool)


def _check_masks_maps(masks, maps):
    """``(masks as bool, maps as float64)``, both ``(n, H, W)``, validated."""
    masks, maps = np.asarray(masks), np.asarray(maps)
    if masks.shape != maps.shape:
        raise ValueError(f"masks and maps must have the same shape; got {masks.shape} and "
                         f"{maps.shape}.")
    if masks.ndim == 2:
        masks, maps = masks[None], maps[None]
    if masks.ndim != 3:
        raise ValueError(f"masks and maps must be (n, H, W) or (H, W); got shape {masks.shape}.")
    if masks.dtype != bool:
        if not np.isin(masks, (0, 1)).all():
            raise ValueError("masks must be boolean (or 0 and 1).")
        masks = masks.astype(bool)
    if not np.issubdtype(maps.dtype, np.number) or np.iscomplexobj(maps):
        raise ValueError(f"maps must be real numbers; got dtype {maps.dtype}.")
    maps = maps.astype(np.float64)
    if not np.isfinite(maps).all():
        raise ValueError("maps hold NaN or infinite values.")
    if not masks.any():
        raise ValueError("masks have no defect pixel: the metric needs at least one.")
    if masks.all():
        raise ValueError("masks have no normal pixel: the metric needs at least one.")
    return masks, maps


def pixel_auroc(masks, maps):
    """Area under the ROC curve of the anomaly maps' pixels against the masks.

    Every pixel of every image is one sample: the defect pixels are the
    positives, all the others (of the normal images too) the negatives.

    Parameters
    ----------
    masks : array-like of shape (n_images, H, W) or (H, W)
        True (or 1) on the defects' pixels.
    maps : array-like of the shape of masks
        Anomaly maps: higher is more abnormal.

    Returns
    -------
    auroc : float

    Raises
    ------
    ValueError
        If the shapes differ, the masks are not boolean, the maps are not
        finite, or the masks have no defect or no normal pixel.

    Examples
    --------
    >>> import numpy as np
    >>> from skanomaly.metrics import pixel_auroc
    >>> masks = np.zeros((1, 4, 4), dtype=bool)
    >>> masks[0, 1:3, 1:3] = True
    >>> pixel_auroc(masks, masks + 0.01 * np.arange(16).reshape(1, 4, 4))
    1.0
    """
    masks, maps = _check_masks_maps(masks, maps)
    return float(roc_auc_score(masks.ravel(), maps.ravel()))


def pro_curve(masks, maps):
    """The per-region overlap (PRO) curve of anomaly maps, over every threshold.

    The defect regions are the connected components (8-connectivity) of
    each image's mask. At a threshold, the pixels whose map is at least the
    threshold are flagged; the PRO is the mean over all regions (of all
    images) of the share of the region's pixels flagged, the false-positive
    rate the share of the normal pixels (outside every mask, of every
    image) flagged. One point per distinct value of the maps, computed
    exactly by sorting the pixels once.

    Parameters
    ----------
    masks : array-like of shape (n_images, H, W) or (H, W)
        True (or 1) on the defects' pixels.
    maps : array-like of the shape of masks
        Anomaly maps: higher is more abnormal.

    Returns
    -------
    fpr : ndarray of shape (n_thresholds + 1,)
        False-positive rates, increasing from 0 to 1.
    pro : ndarray of shape (n_thresholds + 1,)
        Per-region overlaps, increasing from 0 to 1.
    thresholds : ndarray of shape (n_thresholds + 1,)
        Decreasing; the first is ``inf`` (nothing flagged).

    Raises
    ------
    ValueError
        As :func:`pixel_auroc`.

    Examples
    --------
    >>> import numpy as np
    >>> from skanomaly.metrics import pro_curve
    >>> masks = np.array([[True, False, False, True, True]])
    >>> fpr, pro, _ = pro_curve(masks, np.array([[0.9, 0.1, 0.5, 0.8, 0.2]]))
    >>> fpr.tolist(), pro.tolist()
    ([0.0, 0.0, 0.0, 0.5, 0.5, 1.0], [0.0, 0.5, 0.75, 0.75, 1.0, 1.0])
    """
    masks, maps = _check_masks_maps(masks, maps)
    labels = np.zeros(masks.shape, dtype=np.int64)
    n_regions = 0
    for i, mask in enumerate(masks):
        labels[i], found = ndimage.label(mask, structure=_EIGHT)
        labels[i][mask] += n_regions  # numbered across the images
        n_regions += found
    sizes = np.bincount(labels.ravel(), minlength=n_regions + 1)
    # a flagged defect pixel adds 1 / (its region's size * the number of regions) to the PRO
    weight = np.zeros(n_regions + 1)
    weight[1:] = 1.0 / (sizes[1:] * n_regions)
    values = maps.ravel()
    order = np.argsort(-values, kind="stable")
    values = values[order]
    normal = ~masks.ravel()[order]
    fpr = np.cumsum(normal) / normal.sum()
    pro = np.cumsum(weight[labels.ravel()[order]])
    pro /= pro[-1]  # 1 up to rounding: exactly 1 once every defect pixel is flagged
    last = np.append(values[1:] != values[:-1], True)  # the last pixel of each value
    return (np.concatenate([[0.0], fpr[last]]),
            np.concatenate([[0.0], pro[last]]),
            np.concatenate([[np.inf], values[last]]))


def aupro(masks, maps, *, max_fpr=0.3):
    """Area under the PRO curve up to a false-positive rate, normalised (MVTec AD's AUPRO).

    The integral of the PRO over the false-positive rate from 0 to
    ``max_fpr`` (the trapezoidal rule over the exact curve of
    :func:`pro_curve`, its point at ``max_fpr`` interpolated), divided by
    ``max_fpr``: 1 for maps that flag every defect pixel before any normal
    one, ``max_fpr / 2`` for a constant map. Each connected defect region
    counts alike whatever its size, as in Bergmann et al. (2021).

    Parameters
    ----------
    masks : array-like of shape (n_images, H, W) or (H, W)
        True (or 1) on the defects' pixels.
    maps : array-like of the shape of masks
        Anomaly maps: higher is more abnormal.
    max_fpr : float in (0, 1], default=0.3
        The false-positive rate the integral stops at (0.3 in MVTec AD's
        evaluation).

    Returns
    -------
    aupro : float
        In [0, 1].

    Raises
    ------
    ValueError
        As :func:`pixel_auroc`, or for ``max_fpr`` outside (0, 1].

    References
    ----------
    .. [1] P. Bergmann, K. Batzner, M. Fauser, D. Sattlegger and C. Steger,
       "The MVTec Anomaly Detection Dataset: A Comprehensive Real-World
       Dataset for Unsupervised Anomaly Detection", International Journal of
       Computer Vision 129, 1038-1059, 2021.

    Examples
    --------
    >>> import numpy as np
    >>> from skanomaly.metrics import aupro
    >>> masks = np.zeros((2, 8, 8), dtype=bool)
    >>> masks[0, 2:4, 2:4] = True
    >>> aupro(masks, masks.astype(float))
    1.0
    >>> round(aupro(masks, np.zeros((2, 8, 8))), 6)
    0.15
    """
    if not 0 < max_fpr <= 1:
        raise ValueError(f"max_fpr must be in (0, 1]; got {max_fpr}.")
    fpr, pro, _ = pro_curve(masks, maps)
    end = np.searchsorted(fpr, max_fpr, side="right")  # the first point beyond max_fpr
    x, y = fpr[:end], pro[:end]
    if end < len(fpr):
        share = (max_fpr - fpr[end - 1]) / (fpr[end] - fpr[end - 1])
        x = np.append(x, max_fpr)
        y = np.append(y, pro[end - 1] + share * (pro[end] - pro[end - 1]))
    area = np.sum(np.diff(x) * (y[1:] + y[:-1]) / 2)  # the trapezoidal rule
    return float(np.clip(area / max_fpr, 0.0, 1.0))
