"""Datasets for anomaly detection: Fashion-MNIST and anomaly-detection splits."""

import gzip
import os
from pathlib import Path

import numpy as np
from sklearn.utils import check_random_state

__all__ = [
    "DEBIAN_FASHION_MNIST",
    "FASHION_MNIST_CLASSES",
    "fashion_mnist_available",
    "load_digits_images",
    "load_fashion_mnist",
    "make_anomaly_split",
]

#: where Debian's ``dataset-fashion-mnist`` package puts the files
DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")

FASHION_MNIST_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)

_FILES = {
    "X_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "X_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}


def _read_idx(path):
    """Read an IDX file (optionally gzipped) into a numpy array."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise ValueError(f"{path} is not an IDX file of unsigned bytes.")
    ndim = data[3]
    shape = tuple(
        int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)
    )
    array = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if array.size != int(np.prod(shape)):
        raise ValueError(f"{path} is truncated: expected shape {shape}.")
    return array.reshape(shape).copy()


def _find(directory, name):
    """Path of ``name`` or ``name.gz`` in ``directory`` (or its FashionMNIST/raw)."""
    directory = Path(directory)
    for folder in (directory, directory / "FashionMNIST" / "raw"):
        for candidate in (folder / name, folder / (name + ".gz")):
            if candidate.is_file():
                return candidate
    return None


def _candidate_dirs(data_home):
    if data_home is not None:
        yield Path(data_home)
    if os.environ.get("SKANOMALY_DATA"):
        yield Path(os.environ["SKANOMALY_DATA"])
    yield DEBIAN_FASHION_MNIST


def _locate(data_home):
    for directory in _candidate_dirs(data_home):
        paths = {key: _find(directory, name) for key, name in _FILES.items()}
        if all(paths.values()):
            return paths
    return None


def fashion_mnist_available(data_home=None):
    """Whether the four Fashion-MNIST files can be found without download.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder to look in first.

    Returns
    -------
    available : bool
    """
    return _locate(data_home) is not None


def load_fashion_mnist(*, data_home=None, download=False):
    """Load Fashion-MNIST as uint8 images.

    The four IDX files (plain or gzipped) are looked for, in order, in
    ``data_home``, in ``$SKANOMALY_DATA``, in Debian's
    ``/usr/share/datasets/fashion-mnist`` (``apt-get install
    dataset-fashion-mnist``), and, only when ``download=True``, downloaded
    by torchvision into ``data_home`` (or ``~/.skanomaly_data``).

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder holding the files (or torchvision's ``FashionMNIST/raw``).
    download : bool, default=False
        Download with torchvision when the files are not found.

    Returns
    -------
    X_train : ndarray of shape (60000, 28, 28), dtype uint8
    y_train : ndarray of shape (60000,), dtype int64
        Class labels 0-9 (see ``FASHION_MNIST_CLASSES``).
    X_test : ndarray of shape (10000, 28, 28), dtype uint8
    y_test : ndarray of shape (10000,), dtype int64

    Raises
    ------
    FileNotFoundError
        When the files are not found and ``download`` is False.
    """
    paths = _locate(data_home)
    if paths is None and download:
        from torchvision.datasets import FashionMNIST

        root = Path(data_home) if data_home is not None else Path.home() / ".skanomaly_data"
        for train in (True, False):
            FashionMNIST(root, train=train, download=True)
        paths = _locate(root)
    if paths is None:
        searched = ", ".join(str(d) for d in _candidate_dirs(data_home))
        raise FileNotFoundError(
            f"Fashion-MNIST was not found (searched: {searched}). Either install "
            "it with `apt-get install dataset-fashion-mnist` (Debian), or pass "
            "download=True to fetch it with torchvision (or point data_home / "
            "$SKANOMALY_DATA at a folder holding the four IDX files)."
        )
    data = {key: _read_idx(path) for key, path in paths.items()}
    return (
        data["X_train"], data["y_train"].astype(np.int64),
        data["X_test"], data["y_test"].astype(np.int64),
    )


def load_digits_images():
    """scikit-learn's 8x8 digits as images, with a train/test split.

    Bundled with scikit-learn, so it needs no download: a stand-in for
    Fashion-MNIST in quick runs and tests.

    Returns
    -------
    X_train : ndarray of shape (1257, 8, 8), dtype float32
        Pixel values scaled to [0, 1].
    y_train : ndarray of shape (1257,), dtype int64
    X_test : ndarray of shape (540, 8, 8), dtype float32
    y_test : ndarray of shape (540,), dtype int64
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    X = (digits.images / 16.0).astype(np.float32)
    return tuple(
        train_test_split(X, digits.target.astype(np.int64), test_size=0.3,
                         random_state=0, stratify=digits.target)[i]
        for i in (0, 2, 1, 3)
    )


def make_anomaly_split(
    X_train, y_train, X_test, y_test, *, normal_class=0, anomaly_ratio=0.0,
    contamination=0.0, random_state=None, known_classes=None, labelled_share=None,
):
    """Turn a labelled dataset into an anomaly-detection split.

    Training data: every training sample of the normal class(es), plus
    labelled anomalies (label -1) from the other classes (from
    ``known_classes`` only, when given), plus unlabelled anomalies (label 1,
    hidden among the normals) making up ``contamination`` of the unlabelled
    part of the training set. Test data: the whole test set, the normal
    class(es) labelled 1 and every other class -1.

    Parameters
    ----------
    X_train, y_train, X_test, y_test : array-like
        A labelled dataset, e.g. from :func:`load_fashion_mnist`.
    normal_class : int or sequence of int, default=0
        The class(es) taken as normal.
    anomaly_ratio : float, default=0.0
        Labelled anomalies added to the training set, as a share of the
        number of normal training samples (0.05: 300 for 6000 normals).
    contamination : float, default=0.0
        Share of the final unlabelled part of the training set that is
        anomalous, labelled 1 as if normal (the contaminated protocol).
    random_state : int, RandomState instance or None, default=None
        Draws the anomalies.
    known_classes : int or sequence of int, default=None
        The anomaly classes the labelled anomalies may come from; the other
        anomaly classes appear only in the test set (and, with
        ``contamination``, among the unlabelled training samples). None: every
        class that is not normal.
    labelled_share : float in [0, 1), default=None
        The labelled anomalies as a share of the whole returned training set,
        as Ruff et al. (Deep SAD, 2020) state it: ``n_labelled / (n_unlabelled
        + n_labelled)``, so 0.05 with 6000 normals gives 316 labelled
        anomalies. An alternative to ``anomaly_ratio``, which must then be 0.

    Returns
    -------
    X_train, y_train, X_test, y_test : ndarray
        y in {1, -1}: 1 normal, -1 anomaly. ``y_train`` marks only the
        labelled anomalies -1.

    Examples
    --------
    Deep SAD's scenario (i): labelled anomalies from one class, 5% of the
    training set.

    >>> from skanomaly.datasets import load_digits_images, make_anomaly_split
    >>> X_train, y_train, X_test, y_test = make_anomaly_split(
    ...     *load_digits_images(), normal_class=0, known_classes=[3],
    ...     labelled_share=0.05, random_state=0)
    >>> round(float((y_train == -1).mean()), 2)
    0.05
    """
    if not 0 <= anomaly_ratio:
        raise ValueError(f"anomaly_ratio must be >= 0; got {anomaly_ratio}.")
    if not 0 <= contamination < 1:
        raise ValueError(f"contamination must be in [0, 1); got {contamination}.")
    if labelled_share is not None:
        if not 0 <= labelled_share < 1:
            raise ValueError(f"labelled_share must be in [0, 1); got {labelled_share}.")
        if anomaly_ratio:
            raise ValueError("Give anomaly_ratio or labelled_share, not both.")
    rng = check_random_state(random_state)
    X_train, X_test = np.asarray(X_train), np.asarray(X_test)
    y_train, y_test = np.asarray(y_train), np.asarray(y_test)
    normal_classes = np.atleast_1d(normal_class)
    is_normal = np.isin(y_train, normal_classes)
    if not is_normal.any():
        raise ValueError(f"No training sample of normal class {normal_class}.")
    normal_idx = np.flatnonzero(is_normal)
    anomaly_idx = rng.permutation(np.flatnonzero(~is_normal))
    labelled_pool = anomaly_idx
    if known_classes is not None:
        known = np.atleast_1d(known_classes)
        if np.isin(known, normal_classes).any():
            raise ValueError(
                f"known_classes {known.tolist()} overlaps the normal class(es) "
                f"{normal_classes.tolist()}."
            )
        labelled_pool = anomaly_idx[np.isin(y_train[anomaly_idx], known)]
    n_hidden = round(contamination * len(normal_idx) / (1 - contamination))
    if labelled_share is not None:
        n_unlabelled = len(normal_idx) + n_hidden
        n_labelled = round(labelled_share * n_unlabelled / (1 - labelled_share))
    else:
        n_labelled = round(anomaly_ratio * len(normal_idx))
    if n_labelled > len(labelled_pool):
        raise ValueError(
            f"Asked for {n_labelled} labelled anomalies; only {len(labelled_pool)} exist"
            + ("" if known_classes is None else f" in known_classes {known.tolist()}")
            + "."
        )
    labelled = labelled_pool[:n_labelled]
    # the order of the permutation is kept: without known_classes, the hidden
    # anomalies are the ones right after the labelled ones, as before
    remaining = anomaly_idx[~np.isin(anomaly_idx, labelled)]
    if n_labelled + n_hidden > len(anomaly_idx):
        raise ValueError(
            f"Asked for {n_labelled + n_hidden} anomalies; only {len(anomaly_idx)} exist."
        )
    hidden = remaining[:n_hidden]
    idx = rng.permutation(np.concatenate([normal_idx, hidden, labelled]))
    y_out = np.where(np.isin(idx, labelled), -1, 1)
    y_test_out = np.where(np.isin(y_test, normal_classes), 1, -1)
    return X_train[idx], y_out, X_test, y_test_out
