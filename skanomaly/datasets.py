"""Datasets for anomaly detection: Fashion-MNIST, MVTec AD, textures, and splits.

Also synthetic defects with pixel masks: :func:`make_defects` for object
images (Fashion-MNIST), :func:`make_texture_defects` and
:func:`make_texture_split` for the texture photographs of scikit-image
(:func:`load_texture`).
"""

import gzip
import os
from pathlib import Path

import numpy as np
from sklearn.utils import check_random_state

from ._textures import (
    TEXTURE_DEFECT_KINDS,
    TEXTURES,
    load_texture,
    make_texture_defects,
    make_texture_split,
    texture_regions,
)

__all__ = [
    "DEBIAN_FASHION_MNIST",
    "DEFECT_KINDS",
    "FASHION_MNIST_CLASSES",
    "TEXTURES",
    "TEXTURE_DEFECT_KINDS",
    "fashion_mnist_available",
    "load_digits_images",
    "load_fashion_mnist",
    "load_mvtec_ad",
    "load_texture",
    "make_anomaly_split",
    "make_defects",
    "make_texture_defects",
    "make_texture_split",
    "mvtec_ad_available",
    "texture_regions",
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


def _mvtec_root(data_home, category):
    """The folder of MVTec AD's ``category``, or None."""
    homes = [Path(data_home)] if data_home is not None else []
    if os.environ.get("SKANOMALY_DATA"):
        homes.append(Path(os.environ["SKANOMALY_DATA"]))
    for home in homes:
        for root in (home, home / "mvtec_ad", home / "mvtec_anomaly_detection"):
            if (root / category / "train" / "good").is_dir():
                return root / category
    return None


def mvtec_ad_available(category="bottle", *, data_home=None):
    """Whether MVTec AD's ``category`` is on disk (``data_home`` or ``$SKANOMALY_DATA``).

    Parameters
    ----------
    category : str, default='bottle'
        One of MVTec AD's 15 categories.
    data_home : str or path-like, default=None
        Folder holding the categories (or a ``mvtec_ad`` folder of them).

    Returns
    -------
    available : bool
    """
    return _mvtec_root(data_home, category) is not None


def _read_image(path, size, grey, mask=False):
    from PIL import Image

    with Image.open(path) as image:
        image = image.convert("L" if grey or mask else "RGB")
        if size is not None:
            image = image.resize((size, size), Image.NEAREST if mask else Image.BILINEAR)
        array = np.asarray(image)
    if mask:
        return array > 127
    return array[None] if array.ndim == 2 else array.transpose(2, 0, 1)


def load_mvtec_ad(category, *, data_home=None, image_size=128, grey=False):
    """Load one category of MVTec AD, with the test images' defect masks.

    MVTec AD (Bergmann et al., CVPR 2019) is not downloaded here: put its
    folders (``<category>/train/good``, ``<category>/test/<defect>``,
    ``<category>/ground_truth/<defect>``) under ``data_home`` or
    ``$SKANOMALY_DATA`` (directly, or in a ``mvtec_ad`` folder).

    Parameters
    ----------
    category : str
        E.g. 'bottle', 'carpet', 'screw'.
    data_home : str or path-like, default=None
        Folder holding the categories.
    image_size : int or None, default=128
        Side the images and masks are resized to (None keeps the original
        size, 700 to 1024 pixels).
    grey : bool, default=False
        Load the images as one grey channel.

    Returns
    -------
    X_train : ndarray of shape (n_train, C, H, W), dtype uint8
        The defect-free training images.
    X_test : ndarray of shape (n_test, C, H, W), dtype uint8
    y_test : ndarray of shape (n_test,), dtype int64
        1 for the good test images, -1 for the defective ones.
    masks_test : ndarray of shape (n_test, H, W), dtype bool
        True on the defects (all False for good images).
    defect_types : ndarray of shape (n_test,), dtype object
        'good' or the defect's name.

    Raises
    ------
    FileNotFoundError
        When the category is not found.
    """
    root = _mvtec_root(data_home, category)
    if root is None:
        raise FileNotFoundError(
            f"MVTec AD's category {category!r} was not found under data_home or "
            "$SKANOMALY_DATA: put its folders (<category>/train/good, test, "
            "ground_truth) there."
        )
    train = sorted((root / "train" / "good").glob("*.png"))
    X_train = np.stack([_read_image(p, image_size, grey) for p in train])
    images, labels, masks, kinds = [], [], [], []
    for folder in sorted(p for p in (root / "test").iterdir() if p.is_dir()):
        for path in sorted(folder.glob("*.png")):
            image = _read_image(path, image_size, grey)
            images.append(image)
            kinds.append(folder.name)
            if folder.name == "good":
                labels.append(1)
                masks.append(np.zeros(image.shape[1:], dtype=bool))
            else:
                labels.append(-1)
                mask = root / "ground_truth" / folder.name / f"{path.stem}_mask.png"
                masks.append(_read_image(mask, image_size, True, mask=True)
                             if mask.is_file() else np.ones(image.shape[1:], dtype=bool))
    return (X_train, np.stack(images), np.asarray(labels, dtype=np.int64),
            np.stack(masks), np.asarray(kinds, dtype=object))


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


#: the kinds of synthetic defects of :func:`make_defects`
DEFECT_KINDS = ("patch", "scratch", "blob")


def make_defects(X, *, kinds=DEFECT_KINDS, size=(0.2, 0.4), min_pixels=4,
                 random_state=None):
    """Images with one synthetic defect each, and a mask of where it is.

    A pixel-labelled set that anybody can regenerate, to measure how well an
    anomaly map localises defects (and to validate a detector's settings
    when there is no labelled anomaly at all). Each image gets one defect,
    its kind drawn from ``kinds``:

    ``'patch'``
        A rectangle cut from another image of X, at another place, pasted
        onto the image (as CutPaste, Li et al. 2021).
    ``'scratch'``
        A straight line one or two pixels wide, bright or dark.
    ``'blob'``
        A filled ellipse of one grey level (bright or dark), with soft edges.

    The defect's side is ``size`` (a range, as a share of the image's shorter
    side). The mask marks the pixels of the defect whose value changed by
    more than 0.05 (on the [0, 1] scale): pasting dark background on dark
    background is no defect. A defect that changes fewer than ``min_pixels``
    pixels is drawn again.

    Parameters
    ----------
    X : array-like of shape (n_samples, C, H, W) or (n_samples, H, W)
        Images, uint8 or float in [0, 1]; at least 2 (patches come from
        another image).
    kinds : sequence of {'patch', 'scratch', 'blob'}, default=DEFECT_KINDS
        The kinds of defects to draw from.
    size : (float, float), default=(0.2, 0.4)
        Range of the defect's side, as a share of the shorter image side.
    min_pixels : int, default=4
        Fewest changed pixels a defect must have.
    random_state : int, RandomState instance or None, default=None
        Draws the defects.

    Returns
    -------
    X_defect : ndarray of the shape and dtype of X
        The images with their defects.
    masks : ndarray of shape (n_samples, H, W), dtype bool
        True on the defect's pixels.
    defect_kinds : ndarray of shape (n_samples,), dtype object
        The kind of each image's defect.

    Examples
    --------
    >>> import numpy as np
    >>> from skanomaly.datasets import make_defects
    >>> X = np.zeros((4, 1, 16, 16), dtype=np.float32)
    >>> X[:, :, 4:12, 4:12] = 1.0
    >>> X_defect, masks, kinds = make_defects(X, kinds=("blob",), random_state=0)
    >>> X_defect.shape, masks.shape, bool(masks.any(axis=(1, 2)).all())
    ((4, 1, 16, 16), (4, 16, 16), True)
    """
    X = np.asarray(X)
    if X.ndim not in (3, 4):
        raise ValueError(f"X must be images (n, H, W) or (n, C, H, W); got shape {X.shape}.")
    if X.shape[0] < 2:
        raise ValueError("make_defects needs at least 2 images (patches come from another).")
    unknown = sorted(set(kinds) - set(DEFECT_KINDS))
    if unknown or not len(kinds):
        raise ValueError(f"Unknown defect kinds {unknown}; use some of {DEFECT_KINDS}.")
    lo, hi = size
    if not 0 < lo <= hi <= 1:
        raise ValueError(f"size must be (low, high) with 0 < low <= high <= 1; got {size}.")
    rng = check_random_state(random_state)
    images = X if X.ndim == 4 else X[:, None]
    scale = 255.0 if X.dtype == np.uint8 else 1.0
    data = images.astype(np.float64) / scale
    n, _, height, width = data.shape
    out = data.copy()
    masks = np.zeros((n, height, width), dtype=bool)
    drawn = np.empty(n, dtype=object)
    for i in range(n):
        for _ in range(20):  # draw again when the defect changes too little
            kind = kinds[rng.randint(len(kinds))]
            side = max(2, round(rng.uniform(lo, hi) * min(height, width)))
            defect, region = _DEFECTS[kind](data, i, side, rng)
            changed = region & (np.abs(defect - data[i]).max(axis=0) > 0.05)
            if changed.sum() >= min_pixels:
                break
        out[i], masks[i], drawn[i] = defect, changed, kind
    out = out * scale
    if X.dtype == np.uint8:
        out = np.clip(np.rint(out), 0, 255)
    out = out.astype(X.dtype)
    return (out if X.ndim == 4 else out[:, 0]), masks, drawn


def _corner(rng, side, height, width):
    return rng.randint(0, max(1, height - side + 1)), rng.randint(0, max(1, width - side + 1))


def _patch_defect(data, i, side, rng):
    n, _, height, width = data.shape
    source = (i + 1 + rng.randint(n - 1)) % n  # another image
    sy, sx = _corner(rng, side, height, width)
    ty, tx = _corner(rng, side, height, width)
    image = data[i].copy()
    piece = data[source][:, sy:sy + side, sx:sx + side]
    h, w = piece.shape[1:]
    image[:, ty:ty + h, tx:tx + w] = piece
    region = np.zeros((height, width), dtype=bool)
    region[ty:ty + h, tx:tx + w] = True
    return image, region


def _scratch_defect(data, i, side, rng):
    height, width = data.shape[2:]
    y0, x0 = rng.uniform(0.2, 0.8) * height, rng.uniform(0.2, 0.8) * width
    angle = rng.uniform(0, np.pi)
    length = side * 1.5
    t = np.linspace(-0.5, 0.5, int(4 * length) + 2)[:, None]
    ys, xs = y0 + t * length * np.sin(angle), x0 + t * length * np.cos(angle)
    region = np.zeros((height, width), dtype=bool)
    for dy, dx in ((0, 0), (0.5, 0.5)) if rng.rand() < 0.5 else ((0, 0),):
        yy = np.clip(np.round(ys + dy).astype(int), 0, height - 1)
        xx = np.clip(np.round(xs + dx).astype(int), 0, width - 1)
        region[yy, xx] = True
    image = data[i].copy()
    level = 1.0 if data[i][:, region].mean() < 0.5 else 0.0
    image[:, region] = level
    return image, region


def _blob_defect(data, i, side, rng):
    _, _, height, width = data.shape
    ry, rx = side / 2 * rng.uniform(0.6, 1.0), side / 2 * rng.uniform(0.6, 1.0)
    cy, cx = rng.uniform(ry, height - ry), rng.uniform(rx, width - rx)
    yy, xx = np.mgrid[0:height, 0:width]
    distance = np.sqrt(((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2)
    alpha = np.clip(1.5 - distance, 0.0, 1.0)  # 1 inside, soft edge, 0 outside
    region = alpha > 0
    image = data[i].copy()
    level = rng.uniform(0.7, 1.0) if data[i][:, region].mean() < 0.5 else rng.uniform(0, 0.3)
    image = image * (1 - alpha) + level * alpha
    return image, region


_DEFECTS = {"patch": _patch_defect, "scratch": _scratch_defect, "blob": _blob_defect}
