"""Input validation of the estimators, as plain functions.

Like :func:`sklearn.utils.validation.validate_data`, which they call, these
functions take the estimator so that ``n_features_in_`` is set on ``fit`` and
checked afterwards; everything else they return rather than set.
"""

import math

import numpy as np
from scipy import sparse
from sklearn.utils.validation import column_or_1d, validate_data
from torch.utils.data import Dataset as TorchDataset

from ..exceptions import TrainingDivergedError
from ._dataset import DatasetImages, item_to_array

__all__ = ["check_finite_scores", "check_labels", "fold_shape", "validate_images"]

_FLOAT32_MAX = float(np.finfo(np.float32).max)


def check_labels(y, n_samples):
    """Validate outlier labels: 1 for normal, -1 for anomalous samples.

    Parameters
    ----------
    y : array-like of shape (n_samples,) or None
        Labels; None means every sample is normal.
    n_samples : int
        Number of samples in X.

    Returns
    -------
    y : ndarray of shape (n_samples,), dtype int64

    Raises
    ------
    ValueError
        If y holds any other value, or its length is not ``n_samples``.
    """
    if y is None:
        return np.ones(n_samples, dtype=np.int64)
    if sparse.issparse(y):
        raise ValueError("y must be a dense 1-D array of labels in {1, -1}.")
    y = column_or_1d(np.asarray(y), warn=True)
    if y.shape[0] != n_samples:
        raise ValueError(
            f"X and y have inconsistent numbers of samples: {n_samples} and {y.shape[0]}."
        )
    try:
        values = np.unique(y)
        bad = values[~np.isin(values, (1, -1))]
    except TypeError:
        bad = np.asarray(sorted(set(map(str, y)) - {"1", "-1"}), dtype=object)
    if len(bad) or y.dtype.kind not in "iufb":
        raise ValueError(
            "y must contain only 1 (normal) and -1 (anomaly) labels; got "
            f"{bad[:5].tolist() if len(bad) else y.dtype} instead."
        )
    return y.astype(np.int64)


def check_finite_scores(scores, estimator):
    """Raise :class:`~skanomaly.TrainingDivergedError` unless every score is finite."""
    if not np.isfinite(scores).all():
        raise TrainingDivergedError(
            f"{type(estimator).__name__} produced non-finite scores: the model "
            "diverged or the input is far outside the training range."
        )
    return scores


def fold_shape(n_features, image_shape, *, flat="vector"):
    """The sample shape of flat input of ``n_features`` values.

    Parameters
    ----------
    n_features : int
        Values per sample.
    image_shape : tuple of int or None
        ``(C, H, W)`` or ``(H, W)`` to fold the values into.
    flat : {'vector', 'row'}, default='vector'
        Shape when ``image_shape`` is None: a vector ``(d,)``, or a one-row
        image ``(1, 1, d)`` (for estimators that need images).

    Returns
    -------
    shape : tuple of int
    """
    if image_shape is None:
        return (n_features,) if flat == "vector" else (1, 1, n_features)
    shape = tuple(int(s) for s in image_shape)
    if len(shape) == 2:
        shape = (1, *shape)
    if len(shape) != 3 or math.prod(shape) != n_features:
        raise ValueError(
            f"image_shape={tuple(image_shape)} cannot fold samples of {n_features} "
            "features: it must be (channels, height, width) or (height, width) "
            "with as many values as there are features."
        )
    return shape


def _check_sample_shape(estimator, sample_shape):
    sample_shape = tuple(int(s) for s in sample_shape)
    if sample_shape != tuple(estimator.image_shape_):
        raise ValueError(
            f"X has samples of shape {sample_shape}, but {type(estimator).__name__} "
            f"was fitted on samples of shape {tuple(estimator.image_shape_)}."
        )


def validate_images(estimator, X, *, reset, flat="vector"):
    """Validate X and return it as ``(n, *sample_shape)``, uint8 or float.

    Images are ``(n, C, H, W)`` or ``(n, H, W)``; flat ``(n, d)`` input is
    folded with the estimator's ``image_shape`` (or, after ``fit``, its
    ``image_shape_`` when that is an image shape). uint8 arrays stay uint8 so
    that a large image set is not copied into floats (the networks scale
    them batch by batch). A map-style torch ``Dataset`` becomes a
    :class:`DatasetImages` view that loads its items batch by batch.

    Parameters
    ----------
    estimator : estimator
        Has ``image_shape``; after ``fit``, ``image_shape_``.
    X : array-like or torch Dataset
        The samples.
    reset : bool
        True in ``fit`` (sets ``n_features_in_``, needs 2 samples), False
        afterwards (checks the sample shape against ``image_shape_``).
    flat : {'vector', 'row'}, default='vector'
        How flat input is taken without ``image_shape`` (see :func:`fold_shape`).

    Returns
    -------
    X : ndarray of shape (n_samples, *sample_shape), or DatasetImages

    Raises
    ------
    ValueError
        For NaN or infinite values, values beyond the float32 range, a wrong
        number of dimensions, too few samples, non-numeric data, or a sample
        shape unlike the one seen in ``fit``.
    """
    if isinstance(X, TorchDataset):
        return _validate_dataset(estimator, X, reset=reset)
    if sparse.issparse(X) or not hasattr(X, "__len__") and not hasattr(X, "shape"):
        validate_data(estimator, X, reset=reset)  # raises the standard error
    sample_shape = None
    if hasattr(X, "dtype") and getattr(X, "ndim", 2) > 2:
        X = np.asarray(X)
        if X.ndim not in (3, 4):
            raise ValueError(
                "X must be 2-D (n_samples, n_features), 3-D (n_samples, height, "
                f"width) or 4-D (n_samples, channels, height, width); got a "
                f"{X.ndim}-D array of shape {X.shape}."
            )
        sample_shape = X.shape[1:] if X.ndim == 4 else (1, *X.shape[1:])
        if not reset:
            _check_sample_shape(estimator, sample_shape)
        X = X.reshape(X.shape[0], math.prod(X.shape[1:]))
    # lists, DataFrames, 1-D and 2-D arrays, and the flattened images
    dtype = "numeric"
    if getattr(X, "dtype", None) is not None and X.dtype not in (
        np.uint8, np.float32, np.float64
    ):
        dtype = np.float32
    X = validate_data(
        estimator, X, reset=reset, dtype=dtype, ensure_min_samples=2 if reset else 1,
        ensure_all_finite=True,
    )
    if X.dtype.kind == "b":
        X = X.astype(np.float32)
    if X.dtype == np.float64 and X.size and np.abs(X).max() > _FLOAT32_MAX:
        raise ValueError(
            "X has values beyond the float32 range (|x| > 3.4e38), which would "
            "become inf in the float32 networks; rescale X."
        )
    if sample_shape is None:
        image_shape = estimator.image_shape
        if image_shape is None and not reset and len(estimator.image_shape_) == 3:
            image_shape = estimator.image_shape_
        sample_shape = fold_shape(X.shape[1], image_shape, flat=flat)
        if not reset:
            _check_sample_shape(estimator, sample_shape)
    return X.reshape(X.shape[0], *(int(s) for s in sample_shape))


def _validate_dataset(estimator, dataset, *, reset):
    """A torch ``Dataset`` as X: checks its length and first item, no loading."""
    if not hasattr(dataset, "__len__") or not hasattr(dataset, "__getitem__"):
        raise TypeError(
            f"X is a {type(dataset).__name__} without a length: only map-style "
            "torch Datasets (with __len__ and __getitem__) are supported."
        )
    n_samples = len(dataset)
    if n_samples < (2 if reset else 1):
        raise ValueError(
            f"X is a dataset of {n_samples} item(s); {type(estimator).__name__} "
            f"needs at least {2 if reset else 1}."
        )
    sample_shape = item_to_array(dataset[0]).shape
    if reset:
        estimator.n_features_in_ = math.prod(sample_shape)
    else:
        _check_sample_shape(estimator, sample_shape)
    return DatasetImages(dataset, sample_shape)
