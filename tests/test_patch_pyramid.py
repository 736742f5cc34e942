"""MultiScalePatchKNN: what is specific to it (the shared contract is in test_common.py)."""

import numpy as np
import pytest
from scipy import ndimage

from skanomaly import MultiScalePatchKNN

SMALL = {"n_bank": 3000, "batch_size": 16, "n_threads": 1, "random_state": 0}


def texture(n=40, size=32, seed=0, channels=1):
    """Smoothed noise around mid grey: a stand-in for a texture's crops."""
    noise = np.random.RandomState(seed).rand(n, channels, size, size) - 0.5
    return np.clip(0.5 + 1.5 * ndimage.gaussian_filter(noise, (0, 0, 1, 1)), 0, 1)


@pytest.fixture(scope="module")
def fitted():
    return MultiScalePatchKNN(**SMALL).fit(texture())


def test_a_defect_gets_the_highest_map_values(fitted):
    X = texture(8, seed=1)
    defective = X.copy()
    region = np.zeros((32, 32), dtype=bool)
    region[10:17, 18:25] = True
    defective[:, 0][:, region] = np.clip(defective[:, 0][:, region] + 0.25, 0, 1)  # a stain
    maps = fitted.anomaly_map(defective)
    near = ndimage.binary_dilation(region, iterations=3)
    peaks = [near[np.unravel_index(m.argmax(), m.shape)] for m in maps]
    assert np.mean(peaks) >= 0.6  # the map's maximum is on the defect, in most images
    for m in maps:
        assert m[region].mean() > m[~near].mean() + 1
    # and the images with the defect score as more abnormal than without it
    with_defect, without = fitted.score_samples(defective), fitted.score_samples(X)
    assert (with_defect < without - 0.5).mean() >= 0.6 and with_defect.mean() < without.mean() - 1


def test_map_shape_dtype_and_score_is_minus_its_maximum(fitted):
    X = texture(5, seed=2)
    maps = fitted.anomaly_map(X)
    assert maps.shape == (5, 32, 32) and maps.dtype == np.float64
    scores = fitted.score_samples(X)
    assert scores.dtype == np.float64
    np.testing.assert_allclose(scores, -maps.max(axis=(1, 2)), rtol=1e-5, atol=1e-5)


def test_distances_standardised_on_held_out_normal_images(fitted):
    # a normal image's map hovers around 0 (the groups' z-scores summed), a
    # bank of its own groups, each group of its own width
    assert fitted.group_names_ == ["level0", "level1", "level2", "statistics"]
    assert [b.shape[1] for b in fitted.banks_] == [25, 25, 25, 18]
    assert all(len(b) <= 3000 for b in fitted.banks_)
    assert len(fitted.distance_mean_) == 8  # per group: the distance, the density ratio
    assert (fitted.distance_std_ > 0).all() and (fitted.distance_mean_ > 0).all()
    assert all(len(r) == len(b) and (r > 0).all() for r, b in zip(fitted.radii_, fitted.banks_))
    maps = fitted.anomaly_map(texture(10, seed=3))
    assert abs(np.median(maps)) < 2
    unstandardised = MultiScalePatchKNN(holdout=0, **SMALL).fit(texture())
    np.testing.assert_array_equal(unstandardised.distance_mean_, np.zeros(8))
    np.testing.assert_array_equal(unstandardised.distance_std_, 1)


def test_seeded_and_reproducible():
    X = texture(20)
    first = MultiScalePatchKNN(**SMALL).fit(X)
    again = MultiScalePatchKNN(**SMALL).fit(X)
    other = MultiScalePatchKNN(**{**SMALL, "random_state": 1}).fit(X)
    np.testing.assert_array_equal(first.score_samples(X[:4]), again.score_samples(X[:4]))
    assert not np.array_equal(first.banks_[0].numpy(), other.banks_[0].numpy())


@pytest.mark.parametrize("params", [
    {"levels": (1,), "statistics": False, "patch_size": 3},
    {"levels": (), "statistics": True},
    {"levels": [0, 3], "query_stride": 1, "sigma": 0, "density_ratio": False},
])
def test_other_settings_small_images_and_channels(params):
    X = texture(12, size=12, channels=3)
    detector = MultiScalePatchKNN(**{**SMALL, **params}).fit(X)
    maps = detector.anomaly_map(X[:3])
    assert maps.shape == (3, 12, 12) and np.isfinite(maps).all()
    groups = len(params["levels"]) + params.get("statistics", True)
    assert len(detector.banks_) == groups


@pytest.mark.parametrize("params, match", [
    ({"patch_size": 4}, "patch_size must be odd"),
    ({"levels": (), "statistics": False}, "Nothing to compare"),
    ({"levels": (0, 0)}, "levels must be distinct"),
    ({"levels": (-1,)}, "levels must be distinct"),
])
def test_bad_settings(params, match):
    with pytest.raises(ValueError, match=match):
        MultiScalePatchKNN(**{**SMALL, **params}).fit(texture(6, size=16))
