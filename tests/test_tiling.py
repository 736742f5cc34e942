"""skanomaly.tiling: whole images from a detector fitted on tiles."""

import numpy as np
import pytest

from skanomaly.tiling import tile_starts, tiled_anomaly_map, tiled_score_samples


class Fake:
    """Maps a tile to a known function of its pixels; records the calls."""

    def __init__(self):
        self.calls = []

    def anomaly_map(self, tiles):
        self.calls.append(tiles.shape)
        tiles = np.asarray(tiles, dtype=float)
        grey = tiles if tiles.ndim == 3 else tiles.mean(axis=1)
        # depends on the whole tile: stitching must average the overlaps
        return grey + grey.mean(axis=(1, 2), keepdims=True)

    def score_samples(self, tiles):
        tiles = np.asarray(tiles, dtype=float)
        return -tiles.reshape(len(tiles), -1).max(axis=1)


def reference_map(images, tile, stride):
    """The definition, tile by tile: the mean of the maps of the tiles covering a pixel."""
    images = np.asarray(images, dtype=float)
    n, height, width = len(images), *images.shape[-2:]
    total, count = np.zeros((n, height, width)), np.zeros((n, height, width))
    for y in tile_starts(height, tile, stride):
        for x in tile_starts(width, tile, stride):
            tiles = images[..., y:y + tile, x:x + tile]
            total[:, y:y + tile, x:x + tile] += Fake().anomaly_map(tiles)
            count[:, y:y + tile, x:x + tile] += 1
    assert (count > 0).all()
    return total / count


@pytest.mark.parametrize("shape", [(2, 20, 30), (2, 3, 17, 23), (1, 8, 8)])
@pytest.mark.parametrize("stride", [None, 3, 8])
@pytest.mark.parametrize("batch_size", [1, 5, 1000])
def test_the_stitching_is_exact(shape, stride, batch_size):
    images = np.random.RandomState(0).rand(*shape)
    maps = tiled_anomaly_map(Fake(), images, tile_size=8, stride=stride, batch_size=batch_size)
    expected = reference_map(images, 8, 4 if stride is None else stride)
    assert maps.shape == (shape[0], *shape[-2:]) and maps.dtype == np.float64
    np.testing.assert_allclose(maps, expected, rtol=0, atol=1e-12)


def test_a_map_of_the_pixels_gives_back_the_image():
    class Identity:
        def anomaly_map(self, tiles):
            return tiles[:, 0].astype(float)

    images = np.random.RandomState(0).randint(0, 256, (3, 1, 33, 41), dtype=np.uint8)
    np.testing.assert_array_equal(
        tiled_anomaly_map(Identity(), images, tile_size=(8, 16)), images[:, 0])


def test_tiles_cover_the_edges_and_keep_the_layout_and_dtype():
    images = np.zeros((2, 1, 21, 21), dtype=np.uint8)
    fake = Fake()
    tiled_anomaly_map(fake, images, tile_size=8, batch_size=7)
    starts = tile_starts(21, 8, 4)
    assert starts.tolist() == [0, 4, 8, 12, 13]  # the last flush with the border
    n_tiles = 2 * len(starts) ** 2
    assert sum(s[0] for s in fake.calls) == n_tiles
    assert max(s[0] for s in fake.calls) == 7 and all(s[1:] == (1, 8, 8) for s in fake.calls)
    assert tile_starts(8, 8, 4).tolist() == [0]


def test_score_is_the_most_abnormal_tile():
    rng = np.random.RandomState(0)
    images = rng.rand(4, 19, 19) * 0.5
    images[1, 18, 0] = 1.0  # a corner
    images[2, 9, 9] = 0.9
    scores = tiled_score_samples(Fake(), images, tile_size=6, stride=5, batch_size=3)
    assert scores.dtype == np.float64
    np.testing.assert_allclose(scores, -images.reshape(4, -1).max(axis=1))


@pytest.mark.parametrize("kwargs, match", [
    ({"tile_size": 40}, "smaller than the tiles"),
    ({"tile_size": 0}, "tile_size"),
    ({"tile_size": (4, 4, 4)}, "tile_size"),
    ({"tile_size": 4, "stride": 0}, "stride"),
    ({"tile_size": 4, "batch_size": 0}, "batch_size"),
])
def test_bad_arguments(kwargs, match):
    images = np.zeros((2, 16, 16))
    with pytest.raises(ValueError, match=match):
        tiled_anomaly_map(Fake(), images, **kwargs)
    with pytest.raises(ValueError, match=match):
        tiled_score_samples(Fake(), images, **kwargs)


def test_bad_images_and_detectors():
    with pytest.raises(ValueError, match="images must be"):
        tiled_anomaly_map(Fake(), np.zeros((16, 16)), tile_size=4)
    with pytest.raises(TypeError, match="no anomaly_map"):
        tiled_anomaly_map(object(), np.zeros((1, 16, 16)), tile_size=4)

    class Wrong:
        def anomaly_map(self, tiles):
            return np.zeros((len(tiles), 2, 2))

    with pytest.raises(ValueError, match="returned shape"):
        tiled_anomaly_map(Wrong(), np.zeros((1, 16, 16)), tile_size=4)


def test_a_fitted_detector_maps_a_photograph():
    """An AutoEncoder fitted on 16x16 crops maps a 40x56 image."""
    from skanomaly import AutoEncoder

    rng = np.random.RandomState(0)
    crops = rng.rand(64, 1, 16, 16).astype(np.float32)
    detector = AutoEncoder(max_epochs=1, random_state=0).fit(crops)
    image = rng.rand(1, 1, 40, 56).astype(np.float32)
    maps = tiled_anomaly_map(detector, image, tile_size=16)
    assert maps.shape == (1, 40, 56) and np.isfinite(maps).all()
    assert tiled_score_samples(detector, image, tile_size=16).shape == (1,)
