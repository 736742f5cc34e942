"""Real textures with synthetic surface defects (re-exported by :mod:`skanomaly.datasets`).

scikit-image bundles photographs of three textures (``skimage.data.brick``,
``grass`` and ``gravel``: 512x512 grey, no download). :func:`make_texture_split`
cuts a photograph into disjoint regions, draws normal crops from one and
evaluation crops from the others, and gives a share of the evaluation crops
one small defect of :func:`make_texture_defects`: a disc of another texture,
a scratch, a stain or a smudge, with a mask of its pixels.
"""

import numpy as np
from scipy import ndimage
from sklearn.utils import Bunch, check_random_state

__all__ = [
    "TEXTURES",
    "TEXTURE_DEFECT_KINDS",
    "load_texture",
    "make_texture_defects",
    "make_texture_split",
    "texture_regions",
]

#: the texture photographs bundled with scikit-image (:func:`load_texture`)
TEXTURES = ("brick", "grass", "gravel")

#: the kinds of defects of :func:`make_texture_defects`
TEXTURE_DEFECT_KINDS = ("disc", "scratch", "stain", "smudge")

#: a pixel whose value changed by more than this (on the [0, 1] scale) is
#: visibly changed, as in :func:`~skanomaly.datasets.make_defects`
_CHANGE = 0.05
#: a defect is drawn again unless at least this share of its core changed visibly
_VISIBLE_SHARE = 0.5
#: ... and unless its core changed on average by at least this share of the
#: image's contrast (its standard deviation): visible against the texture
_VISIBLE_CONTRAST = 0.75
#: the smallest contrast a defect is scaled to (of a flat image)
_MIN_CONTRAST = 0.02
#: a stain darkens (lightens) a pixel by at most this share of its way to black (white)
_MAX_DEPTH = 0.9
_MAX_DRAWS = 20
_EIGHT = np.ones((3, 3), dtype=bool)


def load_texture(name):
    """One of scikit-image's texture photographs, as a grey uint8 image.

    The photographs come with scikit-image (no download): install it with
    ``pip install 'skanomaly[textures]'``.

    Parameters
    ----------
    name : {'brick', 'grass', 'gravel'}
        The texture (see :data:`TEXTURES`).

    Returns
    -------
    image : ndarray of shape (512, 512), dtype uint8

    Raises
    ------
    ValueError
        For an unknown name.
    ImportError
        When scikit-image is not installed.
    """
    if name not in TEXTURES:
        raise ValueError(f"Unknown texture {name!r}; use one of {TEXTURES}.")
    try:
        from skimage import data
    except ImportError as exc:
        raise ImportError(
            "load_texture needs scikit-image, which bundles the texture photographs: "
            "pip install 'skanomaly[textures]'."
        ) from exc
    image = np.asarray(getattr(data, name)())
    if image.ndim == 3:  # a colour photograph in some future release: its luminance
        image = np.rint(image[..., :3] @ np.array([0.2125, 0.7154, 0.0721])).astype(np.uint8)
    return np.ascontiguousarray(image, dtype=np.uint8)


# --------------------------------------------------------------------------
# defects
# --------------------------------------------------------------------------
def _as_unit_images(X, what):
    """``(images as float64 (n, C, H, W) in [0, 1], scale)``; uint8 is divided by 255."""
    X = np.asarray(X)
    if X.ndim not in (3, 4):
        raise ValueError(f"{what} must be images (n, H, W) or (n, C, H, W); got shape {X.shape}.")
    if X.dtype != np.uint8 and not np.issubdtype(X.dtype, np.floating):
        raise ValueError(f"{what} must be uint8 or float in [0, 1]; got dtype {X.dtype}.")
    scale = 255.0 if X.dtype == np.uint8 else 1.0
    images = X if X.ndim == 4 else X[:, None]
    return images.astype(np.float64) / scale, scale


def make_texture_defects(X, *, kinds=TEXTURE_DEFECT_KINDS, size=(0.1, 0.3), source=None,
                         min_pixels=4, random_state=None):
    """Texture images with one small surface defect each, and a mask of it.

    Each image gets one defect, its kind drawn from ``kinds``, its extent
    ``size`` of the image's shorter side, at a random place inside the image:

    ``'disc'``
        A soft-edged ellipse of another texture: a crop of one of the
        ``source`` images or, without ``source``, of another image of ``X``,
        turned by any angle and zoomed in or out 1.6 to 2.5 times (another
        grain), its mean moved 0.75 to 1.25 of the image's contrast up or
        down and its own contrast set to 0.5 to 1.5 times the image's.
    ``'scratch'``
        A thin curved line (a quadratic Bezier curve 1.5 to 3 pixels wide,
        anti-aliased, fading at its ends), twice as long as the defect's
        extent, brighter or darker by 2 to 3 times the image's contrast.
    ``'stain'``
        A smooth irregular region with soft edges, darker (or, one time in
        four, lighter) by 1.5 to 2.5 times the image's contrast on average:
        each pixel a fixed share of its way to black (white), at most 0.9.
    ``'smudge'``
        A smooth irregular region with soft edges where the texture is
        wiped out: blended with its Gaussian blur of sigma 4 to 8 pixels.

    The image's contrast is the standard deviation of its values (at least
    0.02), so that a defect stands out as much on a busy texture (grass) as
    on a calm one (brick). The mask marks the defect as one connected
    region: its core (the shape up to the middle of its soft edge; of a
    scratch, the pixels at most half its width from its curve, short of its
    faded ends), and the pixels of its soft edge that it changed visibly (by
    more than 0.05 on the [0, 1] scale, as
    :func:`~skanomaly.datasets.make_defects`) and that touch the core. A
    defect is drawn again (up to 20 times; the last draw is kept) unless at
    least half of its core's pixels, and at least ``min_pixels``, changed
    visibly, and its core changed on average by at least 0.75 of the image's
    contrast (a smudge on a flat part of the image is not seen).

    Parameters
    ----------
    X : array-like of shape (n_samples, C, H, W) or (n_samples, H, W)
        Images, uint8 or float in [0, 1], any size and channel count.
    kinds : sequence of {'disc', 'scratch', 'stain', 'smudge'}, \
default=TEXTURE_DEFECT_KINDS
        The kinds of defects to draw from.
    size : (float, float), default=(0.1, 0.3)
        Range of the defect's extent (a region's diameter, half a scratch's
        length), as a share of the shorter image side.
    source : array-like of shape (n_source, C, H', W') or (n_source, H', W'), \
default=None
        Images of other textures that the discs are cut from (uint8 or float
        in [0, 1], any size, C channels or one); None cuts them from the other
        images of ``X``, turned and rescaled.
    min_pixels : int, default=4
        Fewest pixels a defect's mask must have.
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

    See Also
    --------
    make_texture_split : Normal and defective crops of a texture photograph.
    skanomaly.datasets.make_defects : Defects for object images (Fashion-MNIST).

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.ndimage import gaussian_filter
    >>> from skanomaly.datasets import make_texture_defects
    >>> noise = np.random.RandomState(0).rand(4, 32, 32)
    >>> X = np.clip(0.5 + 4 * gaussian_filter(noise - 0.5, (0, 1, 1)), 0, 1)
    >>> X_defect, masks, kinds = make_texture_defects(X, random_state=0)
    >>> X_defect.shape, masks.shape, bool(masks.any(axis=(1, 2)).all())
    ((4, 32, 32), (4, 32, 32), True)
    """
    X = np.asarray(X)
    data, scale = _as_unit_images(X, "X")
    kinds = tuple(kinds)
    unknown = sorted(set(kinds) - set(TEXTURE_DEFECT_KINDS))
    if unknown or not kinds:
        raise ValueError(f"Unknown defect kinds {unknown}; use some of {TEXTURE_DEFECT_KINDS}.")
    lo, hi = size
    if not 0 < lo <= hi <= 1:
        raise ValueError(f"size must be (low, high) with 0 < low <= high <= 1; got {size}.")
    if len(data) == 0:
        raise ValueError("X holds no image.")
    n, channels, height, width = data.shape
    if source is not None:
        source, _ = _as_unit_images(source, "source")
        if len(source) == 0:
            raise ValueError("source holds no image.")
        if source.shape[1] not in (1, channels):
            raise ValueError(f"source has {source.shape[1]} channels; X has {channels}.")
    rng = check_random_state(random_state)
    out = data.copy()
    masks = np.zeros((n, height, width), dtype=bool)
    drawn = np.empty(n, dtype=object)
    for i in range(n):
        for _ in range(_MAX_DRAWS):
            kind = kinds[rng.randint(len(kinds))]
            extent = rng.uniform(lo, hi) * min(height, width)
            image, alpha, core = _TEXTURE_DEFECTS[kind](data, i, extent, source, rng)
            change = np.abs(image - data[i]).max(axis=0)
            changed = change > _CHANGE
            if (changed[core].sum() >= min_pixels and changed[core].mean() >= _VISIBLE_SHARE
                    and change[core].mean() >= _VISIBLE_CONTRAST * _contrast(data[i])):
                break
        # the core, and the pixels of the soft edge it changed visibly that touch it
        masks[i] = ndimage.binary_propagation(core, structure=_EIGHT,
                                              mask=core | (changed & (alpha > 0)))
        out[i], drawn[i] = image, kind
    out = out * scale
    if X.dtype == np.uint8:
        out = np.clip(np.rint(out), 0, 255)
    out = out.astype(X.dtype)
    return (out if X.ndim == 4 else out[:, 0]), masks, drawn


def _soft_region(height, width, extent, wobble, softness, rng):
    """Opacity in [0, 1] of an irregular soft-edged ellipse, and its core (opacity >= 1/2).

    The ellipse's diameter along its longer axis is ``extent``, the other
    axis 0.6 to 1 times as long, turned by a random angle, its centre
    inside the image. Its boundary's radius is modulated by the harmonics 2
    to 4 of the angle, of amplitudes up to ``wobble``; the opacity falls
    from 1 to 0 (a smoothstep) over the outer ``softness`` of the radius
    (at least 1.5 pixels).
    """
    rx = max(extent / 2, 1.0)
    ry = max(rx * rng.uniform(0.6, 1.0), 1.0)
    angle = rng.uniform(0, np.pi)
    harmonics = [(k, rng.uniform(0, wobble) / k * 2, rng.uniform(0, 2 * np.pi))
                 for k in (2, 3, 4)]
    reach = rx * (1 + sum(a for _, a, _ in harmonics))  # the farthest the boundary goes
    cy = rng.uniform(min(reach, height / 2), max(height - reach, height / 2))
    cx = rng.uniform(min(reach, width / 2), max(width - reach, width / 2))
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float64)
    u = (xx - cx) * np.cos(angle) + (yy - cy) * np.sin(angle)
    v = -(xx - cx) * np.sin(angle) + (yy - cy) * np.cos(angle)
    radius = np.hypot(u / rx, v / ry)
    theta = np.arctan2(v / ry, u / rx)
    boundary = 1 + sum(a * np.cos(k * theta + phase) for k, a, phase in harmonics)
    distance = radius / boundary  # 1 on the boundary
    edge = max(softness, 1.5 / ry)
    t = np.clip((1 - distance) / edge, 0, 1)
    alpha = t * t * (3 - 2 * t)
    return alpha, alpha >= 0.5


def _box(region):
    """The bounding box ``(y0, y1, x0, x1)`` of a boolean image's True pixels."""
    rows, cols = np.flatnonzero(region.any(axis=1)), np.flatnonzero(region.any(axis=0))
    return rows[0], rows[-1] + 1, cols[0], cols[-1] + 1


def _contrast(image):
    """The texture's contrast: the standard deviation of an image's values (at least 0.02)."""
    return max(float(image.std()), _MIN_CONTRAST)


def _disc_defect(data, i, extent, source, rng):
    channels, height, width = data.shape[1:]
    alpha, region = _soft_region(height, width, extent, wobble=0.0, softness=0.2, rng=rng)
    y0, y1, x0, x1 = _box(alpha > 0)
    bh, bw = y1 - y0, x1 - x0
    if source is not None:  # a crop of another texture
        picture, mode = source[rng.randint(len(source))], "grid-wrap"
    else:  # another image of X (the image itself if it is alone)
        n = len(data)
        picture = data[(i + 1 + rng.randint(n - 1)) % n] if n > 1 else data[i]
        mode = "mirror"
    # turned by any angle and zoomed in or out 1.6 to 2.5 times: another grain
    zoom = rng.uniform(1.6, 2.5) ** (1 if rng.rand() < 0.5 else -1)
    angle = rng.uniform(0, 2 * np.pi)
    cy, cx = rng.uniform(0, picture.shape[1]), rng.uniform(0, picture.shape[2])
    yy, xx = np.mgrid[0:bh, 0:bw].astype(np.float64)
    yy, xx = yy - bh / 2, xx - bw / 2
    sy = cy + (np.cos(angle) * yy - np.sin(angle) * xx) / zoom
    sx = cx + (np.sin(angle) * yy + np.cos(angle) * xx) / zoom
    patch = np.stack([ndimage.map_coordinates(plane, [sy, sx], order=1, mode=mode)
                      for plane in picture])
    patch = np.broadcast_to(patch, (channels, bh, bw))
    # its statistics moved off the host's: its mean 0.75 to 1.25 of the host's
    # contrast brighter or darker, its contrast 0.5 to 1.5 times the host's
    host = _contrast(data[i])
    shift = rng.uniform(0.75, 1.25) * host * (1 if rng.rand() < 0.5 else -1)
    spread = patch.std()
    gain = rng.uniform(0.5, 1.5) * host / spread if spread > 1e-6 else 0.0
    patch = np.clip(data[i].mean() + shift + (patch - patch.mean()) * gain, 0, 1)
    image = data[i].copy()
    a = alpha[y0:y1, x0:x1]
    image[:, y0:y1, x0:x1] = image[:, y0:y1, x0:x1] * (1 - a) + patch * a
    return image, alpha, region


def _scratch_defect(data, i, extent, source, rng):
    _, _, height, width = data.shape
    length = 2 * max(extent, 2.0)
    angle = rng.uniform(0, np.pi)
    direction = np.array([np.sin(angle), np.cos(angle)])
    half = direction * length / 2
    centre = np.array([rng.uniform(abs(half[0]), height - abs(half[0])) if 2 * abs(half[0])
                       < height else height / 2,
                       rng.uniform(abs(half[1]), width - abs(half[1])) if 2 * abs(half[1])
                       < width else width / 2])
    bend = rng.uniform(-0.3, 0.3) * length * np.array([-direction[1], direction[0]])
    t = np.linspace(0, 1, int(4 * length) + 8)[:, None]
    p0, p1, p2 = centre - half, centre + bend, centre + half
    curve = (1 - t) ** 2 * p0 + 2 * (1 - t) * t * p1 + t ** 2 * p2  # (m, 2): y, x
    line_width = rng.uniform(1.5, 3.0)
    reach = line_width / 2 + 1
    y0 = max(int(np.floor(curve[:, 0].min() - reach)), 0)
    y1 = min(int(np.ceil(curve[:, 0].max() + reach)) + 1, height)
    x0 = max(int(np.floor(curve[:, 1].min() - reach)), 0)
    x1 = min(int(np.ceil(curve[:, 1].max() + reach)) + 1, width)
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float64)
    gaps = np.hypot(yy[..., None] - curve[:, 0], xx[..., None] - curve[:, 1])
    nearest = gaps.argmin(axis=-1)
    distance = np.take_along_axis(gaps, nearest[..., None], axis=-1)[..., 0]
    along = t[nearest, 0]
    coverage = np.clip(line_width / 2 + 0.5 - distance, 0, 1)  # a box filter's anti-aliasing
    taper = np.clip(np.minimum(along, 1 - along) * 6, 0, 1)  # fading over each sixth at the ends
    shape = np.zeros((height, width))
    shape[y0:y1, x0:x1] = coverage * taper
    # 2 to 3 times the texture's contrast brighter or darker
    step = rng.uniform(2.0, 3.0) * _contrast(data[i]) * (1 if rng.rand() < 0.5 else -1)
    image = np.clip(data[i] + step * shape, 0, 1)
    return image, shape, shape >= 0.5


def _stain_defect(data, i, extent, source, rng):
    _, _, height, width = data.shape
    alpha, region = _soft_region(height, width, extent, wobble=0.25, softness=0.3, rng=rng)
    # darker (or, one time in four, lighter) by 1.5 to 2.5 times the texture's
    # contrast on average, in proportion to the way to black (white)
    step = rng.uniform(1.5, 2.5) * _contrast(data[i])
    image = data[i]
    if rng.rand() < 0.25:
        depth = min(step / max(1 - image.mean(), 1e-6), _MAX_DEPTH)
        image = image + depth * alpha * (1 - image)  # lighter: bleached
    else:
        depth = min(step / max(image.mean(), 1e-6), _MAX_DEPTH)
        image = image * (1 - depth * alpha)  # darker
    return image, alpha, region


def _smudge_defect(data, i, extent, source, rng):
    _, _, height, width = data.shape
    alpha, region = _soft_region(height, width, extent, wobble=0.2, softness=0.3, rng=rng)
    sigma = rng.uniform(4.0, 8.0)
    blurred = ndimage.gaussian_filter(data[i], (0, sigma, sigma), mode="reflect")
    image = data[i] * (1 - alpha) + blurred * alpha
    return image, alpha, region


_TEXTURE_DEFECTS = {"disc": _disc_defect, "scratch": _scratch_defect,
                    "stain": _stain_defect, "smudge": _smudge_defect}


# --------------------------------------------------------------------------
# a split of a photograph
# --------------------------------------------------------------------------
def texture_regions(height, width):
    """The disjoint regions of a photograph that :func:`make_texture_split` crops.

    Parameters
    ----------
    height, width : int
        The photograph's size.

    Returns
    -------
    regions : dict of str to (int, int, int, int)
        ``(y0, y1, x0, x1)`` of each region: 'train' the left half (the
        labelled defective crops come from it too), 'validation' the top
        quarter of the right half, 'test' the rest of the right half.
    """
    half, quarter = width // 2, height // 4
    return {"train": (0, height, 0, half), "validation": (0, quarter, half, width),
            "test": (quarter, height, half, width)}


def _crops(image, region, crop_size, n, rng):
    """``n`` crops at random places inside ``region``, and their top-left corners."""
    y0, y1, x0, x1 = region
    corners = np.column_stack([rng.randint(y0, y1 - crop_size + 1, n),
                               rng.randint(x0, x1 - crop_size + 1, n)]).astype(np.int64)
    crops = np.stack([image[:, y:y + crop_size, x:x + crop_size] for y, x in corners]) if n \
        else np.empty((0, image.shape[0], crop_size, crop_size), dtype=image.dtype)
    return crops, corners.reshape(n, 2)


def make_texture_split(image, *, crop_size=64, n_train=300, n_validation=100, n_test=200,
                       defect_share=0.5, kinds=TEXTURE_DEFECT_KINDS, size=(0.1, 0.3),
                       source=None, n_labelled=0, labelled_kinds=None, random_state=None):
    """Normal and defective crops of a texture photograph, from disjoint regions.

    The photograph is cut into regions (:func:`texture_regions`): normal
    training crops come from its left half, validation crops from the top
    quarter of its right half and test crops from the rest of the right
    half; no crop straddles two regions. Crops are square, at random places
    inside their region (they may overlap within a region). A share
    ``defect_share`` of the validation and of the test crops, drawn at
    random, gets one defect of :func:`make_texture_defects`. With
    ``n_labelled``, defective crops from the training region (labelled
    anomalies for a semi-supervised detector) come with them, their defects
    of ``labelled_kinds``.

    Each part (training, validation, test, labelled) is drawn with its own
    generator seeded from ``random_state``, so that one part does not
    change with the size of another: ``n_test=0`` gives the same
    validation crops as ``n_test=200``, and the test crops are never made.

    Parameters
    ----------
    image : array-like of shape (H, W) or (C, H, W)
        The photograph (uint8, or float in [0, 1]), e.g. from
        :func:`load_texture`.
    crop_size : int, default=64
        Side of the square crops.
    n_train, n_validation, n_test : int, default=300, 100, 200
        Crops of each part.
    defect_share : float in [0, 1], default=0.5
        Share of the validation and of the test crops given a defect.
    kinds : sequence of str, default=TEXTURE_DEFECT_KINDS
        The kinds of the validation and test defects.
    size : (float, float), default=(0.1, 0.3)
        Range of the defects' extent as a share of ``crop_size``.
    source : array-like of images, default=None
        Other textures that the 'disc' defects are cut from, e.g. the other
        photographs; None cuts them from other crops, turned and rescaled
        (see :func:`make_texture_defects`).
    n_labelled : int, default=0
        Defective crops from the training region.
    labelled_kinds : sequence of str, default=None
        The kinds of their defects; None is ``kinds``.
    random_state : int, RandomState instance or None, default=None
        Draws the crops' places and the defects.

    Returns
    -------
    split : :class:`~sklearn.utils.Bunch`
        ``X_train`` (n_train, C, crop_size, crop_size), the normal crops;
        ``X_validation``, ``y_validation`` (1 normal, -1 defective),
        ``masks_validation`` (n, crop_size, crop_size) bool,
        ``kinds_validation`` (the defect's kind, 'good' for normal crops), and
        the same for the test crops (``X_test``, ...) and, with
        ``n_labelled``, the labelled defective crops (``X_labelled``,
        ``masks_labelled``, ``kinds_labelled``); ``corners_<part>``, the
        top-left ``(row, column)`` of each crop in the photograph; and
        ``regions``, those of :func:`texture_regions`. Crops keep the
        photograph's dtype and a channel axis.

    Raises
    ------
    ValueError
        When a part's region is smaller than ``crop_size``, or for a bad
        argument.

    See Also
    --------
    load_texture : The photographs bundled with scikit-image.

    Examples
    --------
    >>> import numpy as np
    >>> from skanomaly.datasets import make_texture_split
    >>> photograph = np.random.RandomState(0).randint(0, 256, (128, 128), dtype=np.uint8)
    >>> split = make_texture_split(photograph, crop_size=16, n_train=20, n_validation=10,
    ...                            n_test=10, random_state=0)
    >>> split.X_train.shape, split.X_test.shape, int((split.y_test == -1).sum())
    ((20, 1, 16, 16), (10, 1, 16, 16), 5)
    """
    image = np.asarray(image)
    if image.ndim == 2:
        image = image[None]
    if image.ndim != 3:
        raise ValueError(f"image must be (H, W) or (C, H, W); got shape {image.shape}.")
    if image.dtype != np.uint8 and not np.issubdtype(image.dtype, np.floating):
        raise ValueError(f"image must be uint8 or float in [0, 1]; got dtype {image.dtype}.")
    if isinstance(crop_size, bool) or not isinstance(crop_size, (int, np.integer)) \
            or crop_size < 2:
        raise ValueError(f"crop_size must be an int >= 2; got {crop_size!r}.")
    counts = {"train": n_train, "validation": n_validation, "test": n_test,
              "labelled": n_labelled}
    for part, n in counts.items():
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"n_{part} must be an int >= 0; got {n!r}.")
    if not 0 <= defect_share <= 1:
        raise ValueError(f"defect_share must be in [0, 1]; got {defect_share}.")
    labelled_kinds = kinds if labelled_kinds is None else labelled_kinds
    for name, value in (("kinds", kinds), ("labelled_kinds", labelled_kinds)):
        unknown = sorted(set(value) - set(TEXTURE_DEFECT_KINDS))
        if unknown or not len(value):
            raise ValueError(f"Unknown defect kinds {unknown} in {name}; use some of "
                             f"{TEXTURE_DEFECT_KINDS}.")
    regions = texture_regions(*image.shape[1:])
    for part, n in counts.items():
        y0, y1, x0, x1 = regions["train" if part == "labelled" else part]
        if n and (y1 - y0 < crop_size or x1 - x0 < crop_size):
            raise ValueError(
                f"crop_size {crop_size} is larger than the {part} region of the "
                f"{image.shape[1]}x{image.shape[2]} photograph ({y1 - y0}x{x1 - x0} pixels); "
                "use a smaller crop_size or a larger photograph."
            )
    rng = check_random_state(random_state)
    seeds = dict(zip(counts, rng.randint(np.iinfo(np.int32).max, size=len(counts))))

    def defects(X, part_kinds, seed):
        return make_texture_defects(X, kinds=part_kinds, size=size, source=source,
                                    random_state=seed)

    split = Bunch(regions=regions)
    part_rng = np.random.RandomState(seeds["train"])
    split.X_train, split.corners_train = _crops(image, regions["train"], crop_size, n_train,
                                                part_rng)
    for part in ("validation", "test"):
        part_rng = np.random.RandomState(seeds[part])
        n = counts[part]
        X, corners = _crops(image, regions[part], crop_size, n, part_rng)
        defective = np.zeros(n, dtype=bool)
        defective[part_rng.permutation(n)[:round(defect_share * n)]] = True
        masks = np.zeros((n, crop_size, crop_size), dtype=bool)
        kinds_out = np.full(n, "good", dtype=object)
        if defective.any():
            X[defective], masks[defective], kinds_out[defective] = defects(
                X[defective], kinds, part_rng)
        split[f"X_{part}"], split[f"y_{part}"] = X, np.where(defective, -1, 1)
        split[f"masks_{part}"], split[f"kinds_{part}"] = masks, kinds_out
        split[f"corners_{part}"] = corners
    part_rng = np.random.RandomState(seeds["labelled"])
    X, split.corners_labelled = _crops(image, regions["train"], crop_size, n_labelled,
                                       part_rng)
    if n_labelled:
        split.X_labelled, split.masks_labelled, split.kinds_labelled = defects(
            X, labelled_kinds, part_rng)
    else:
        split.X_labelled = X
        split.masks_labelled = np.zeros((0, crop_size, crop_size), dtype=bool)
        split.kinds_labelled = np.empty(0, dtype=object)
    return split
