"""Whole images scored by a detector fitted on tiles (crops) of them.

A detector fitted on small crops (e.g. 64x64 crops of a texture photograph,
:func:`~skanomaly.datasets.make_texture_split`) scores images of that size
only. :func:`tiled_anomaly_map` slides a window of the crops' size over a
larger image, overlapping by default by half a tile, asks the detector for
the anomaly map of every tile (in batches) and averages the maps where
tiles overlap, as anomalib's tiler does; :func:`tiled_score_samples` gives
an image the score of its most abnormal tile.
"""

from numbers import Integral

import numpy as np

__all__ = ["tile_starts", "tiled_anomaly_map", "tiled_score_samples"]


def tile_starts(length, tile, stride):
    """Where the tiles along one axis start: every ``stride``, the last one flush with the end.

    Parameters
    ----------
    length : int
        The image's side.
    tile : int
        The tile's side, at most ``length``.
    stride : int
        Step between tiles.

    Returns
    -------
    starts : ndarray of int
        ``0, stride, 2 * stride, ...``, and ``length - tile`` when the steps
        miss it, so that the tiles cover the whole side.

    Examples
    --------
    >>> from skanomaly.tiling import tile_starts
    >>> tile_starts(10, 4, 4).tolist()
    [0, 4, 6]
    """
    starts = np.arange(0, length - tile + 1, stride)
    if starts[-1] != length - tile:
        starts = np.append(starts, length - tile)
    return starts


def _pair(value, name):
    pair = (value, value) if isinstance(value, Integral) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, Integral) and not isinstance(v, bool)
                                 and v >= 1 for v in pair):
        raise ValueError(f"{name} must be a positive int or a pair of them; got {value!r}.")
    return int(pair[0]), int(pair[1])


def _tiles(images, tile_size, stride, batch_size):
    """Validated input, and a generator of ``(image indices, corners, tiles)`` batches."""
    images = np.asarray(images)
    if images.ndim not in (3, 4):
        raise ValueError(f"images must be (n, H, W) or (n, C, H, W); got shape {images.shape}.")
    th, tw = _pair(tile_size, "tile_size")
    sy, sx = (max(th // 2, 1), max(tw // 2, 1)) if stride is None else _pair(stride, "stride")
    if not isinstance(batch_size, Integral) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int; got {batch_size!r}.")
    height, width = images.shape[-2:]
    if height < th or width < tw:
        raise ValueError(f"The images ({height}x{width}) are smaller than the tiles "
                         f"({th}x{tw}).")
    ys, xs = tile_starts(height, th, sy), tile_starts(width, tw, sx)
    grid = np.array([(i, y, x) for i in range(len(images)) for y in ys for x in xs],
                    dtype=np.int64).reshape(-1, 3)

    def batches():
        for start in range(0, len(grid), batch_size):
            chunk = grid[start:start + batch_size]
            tiles = np.stack([images[i, ..., y:y + th, x:x + tw] for i, y, x in chunk])
            yield chunk, tiles

    return images, (th, tw), (ys, xs), batches


def tiled_anomaly_map(detector, images, *, tile_size, stride=None, batch_size=256):
    """Anomaly maps of whole images from the maps of their overlapping tiles.

    Tiles of ``tile_size`` start every ``stride`` pixels along each axis,
    the last one flush with the image's border, so that every pixel is
    covered. ``detector.anomaly_map`` maps each tile; a pixel's value is the
    mean of the maps of the tiles that cover it.

    Parameters
    ----------
    detector : fitted estimator with ``anomaly_map``
        Fitted on images of ``tile_size`` (e.g. crops); its ``anomaly_map``
        takes tiles in the layout of ``images`` and returns ``(n_tiles,
        tile_h, tile_w)``, higher more abnormal.
    images : array-like of shape (n_images, C, H, W) or (n_images, H, W)
        At least one tile large; passed to the detector in its dtype.
    tile_size : int or (int, int)
        The tiles' side (or height and width): the training crops' size.
    stride : int or (int, int), default=None
        Step between tiles; None is half the tile (tiles overlap by half).
    batch_size : int, default=256
        Tiles per call of ``anomaly_map``.

    Returns
    -------
    maps : ndarray of shape (n_images, H, W), dtype float64

    Raises
    ------
    ValueError
        For images smaller than a tile, or a bad size.
    TypeError
        If the detector has no ``anomaly_map``.

    See Also
    --------
    tiled_score_samples : The score of each image's most abnormal tile.

    Examples
    --------
    A stand-in detector whose map is the tile itself: the stitched map is
    the image.

    >>> import numpy as np
    >>> from skanomaly.tiling import tiled_anomaly_map
    >>> class Identity:
    ...     def anomaly_map(self, tiles):
    ...         return tiles.astype(float)
    >>> images = np.random.RandomState(0).rand(2, 20, 30)
    >>> maps = tiled_anomaly_map(Identity(), images, tile_size=8)
    >>> maps.shape, bool(np.allclose(maps, images))
    ((2, 20, 30), True)
    """
    if not hasattr(detector, "anomaly_map"):
        raise TypeError(f"{type(detector).__name__} has no anomaly_map: it cannot localise.")
    images, (th, tw), (ys, xs), batches = _tiles(images, tile_size, stride, batch_size)
    total = np.zeros((len(images), *images.shape[-2:]))
    count = np.zeros(images.shape[-2:])  # tiles covering each pixel
    for y in ys:
        for x in xs:
            count[y:y + th, x:x + tw] += 1
    for chunk, tiles in batches():
        maps = np.asarray(detector.anomaly_map(tiles), dtype=np.float64)
        if maps.size != len(chunk) * th * tw:
            raise ValueError(f"{type(detector).__name__}.anomaly_map returned shape "
                             f"{maps.shape} for {len(chunk)} tiles of {th}x{tw}.")
        for (i, y, x), tile_map in zip(chunk, maps.reshape(-1, th, tw)):
            total[i, y:y + th, x:x + tw] += tile_map
    return total / count


def tiled_score_samples(detector, images, *, tile_size, stride=None, batch_size=256):
    """Each image's score: that of its most abnormal tile.

    The tiles are those of :func:`tiled_anomaly_map`; an image's score is
    the minimum over its tiles of ``detector.score_samples`` (lower is more
    abnormal), so that one defective tile makes the image abnormal however
    large the image is: a mean would dilute a small defect.

    Parameters
    ----------
    detector : fitted estimator with ``score_samples``
        Fitted on images of ``tile_size``.
    images : array-like of shape (n_images, C, H, W) or (n_images, H, W)
        At least one tile large.
    tile_size : int or (int, int)
        The tiles' side (or height and width).
    stride : int or (int, int), default=None
        Step between tiles; None is half the tile.
    batch_size : int, default=256
        Tiles per call of ``score_samples``.

    Returns
    -------
    scores : ndarray of shape (n_images,), dtype float64
        Lower is more abnormal.

    Raises
    ------
    ValueError
        For images smaller than a tile, or a bad size.

    Examples
    --------
    >>> import numpy as np
    >>> from skanomaly.tiling import tiled_score_samples
    >>> class Brightest:
    ...     def score_samples(self, tiles):
    ...         return -tiles.reshape(len(tiles), -1).max(axis=1)
    >>> images = np.zeros((2, 16, 16))
    >>> images[1, 15, 15] = 1.0  # in the corner: the last tile covers it
    >>> tiled_score_samples(Brightest(), images, tile_size=6, stride=4).tolist()
    [-0.0, -1.0]
    """
    images, _, _, batches = _tiles(images, tile_size, stride, batch_size)
    scores = np.full(len(images), np.inf)
    for chunk, tiles in batches():
        tile_scores = np.asarray(detector.score_samples(tiles), dtype=np.float64).ravel()
        np.minimum.at(scores, chunk[:, 0], tile_scores)
    return scores
