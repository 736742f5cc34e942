"""skanomaly.datasets' textures: load_texture, make_texture_defects, make_texture_split."""

import sys

import numpy as np
import pytest
from scipy import ndimage

from skanomaly.datasets import (
    TEXTURE_DEFECT_KINDS,
    TEXTURES,
    load_texture,
    make_texture_defects,
    make_texture_split,
    texture_regions,
)

#: on the [0, 1] scale, a pixel of the mask changed by more than this
CHANGE = 0.05
EIGHT = np.ones((3, 3), dtype=bool)


def texture(shape=(8, 1, 32, 32), dtype=np.float64, seed=0):
    """Smoothed noise of mid grey: a stand-in for a texture photograph's crops."""
    noise = np.random.RandomState(seed).rand(*shape) - 0.5
    sigma = [0] * (len(shape) - 2) + [1, 1]
    X = np.clip(0.5 + 4 * ndimage.gaussian_filter(noise, sigma), 0, 1)
    if dtype == np.uint8:
        return np.rint(X * 255).astype(np.uint8)
    return X.astype(dtype)


def _change(X, X_defect):
    """Largest change of each pixel over the channels, on the [0, 1] scale."""
    scale = 255.0 if X.dtype == np.uint8 else 1.0
    diff = np.abs(X_defect.astype(np.float64) - X.astype(np.float64)) / scale
    return diff.max(axis=1) if diff.ndim == 4 else diff


def _extent(mask):
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return max(rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1)


# --------------------------------------------------------------------------
# make_texture_defects
# --------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.uint8, np.float32, np.float64])
@pytest.mark.parametrize("shape", [(8, 1, 32, 32), (8, 3, 24, 40), (8, 32, 32)])
def test_shapes_dtype_and_masks(shape, dtype):
    X = texture(shape, dtype)
    before = X.copy()
    X_defect, masks, kinds = make_texture_defects(X, random_state=0)
    assert X_defect.shape == X.shape and X_defect.dtype == X.dtype
    assert masks.shape == (len(X), *shape[-2:]) and masks.dtype == bool
    assert kinds.shape == (len(X),) and set(kinds) <= set(TEXTURE_DEFECT_KINDS)
    np.testing.assert_array_equal(X, before)  # the input is left alone
    assert (masks.sum(axis=(1, 2)) >= 4).all()
    change = _change(X, X_defect)
    rounding = 0.5 / 255 if dtype == np.uint8 else 1e-9
    for i in range(len(X)):
        # one region: most of it visibly changed
        assert ndimage.label(masks[i], EIGHT)[1] == 1
        assert (change[i][masks[i]] > CHANGE).mean() >= 0.5
        # outside it, nothing changed visibly, and nothing at all far from it
        assert (change[i][~masks[i]] <= CHANGE + rounding).all()
        near = ndimage.binary_dilation(masks[i], EIGHT, iterations=5)
        assert (change[i][~near] == 0).all()


@pytest.mark.parametrize("kind", TEXTURE_DEFECT_KINDS)
def test_each_kind_is_small_and_visible(kind):
    X = texture((12, 1, 64, 64))
    size = (0.1, 0.3)
    X_defect, masks, kinds = make_texture_defects(X, kinds=(kind,), size=size, random_state=0)
    assert (kinds == kind).all()
    largest = size[1] * 64
    for i in range(len(X)):
        mask = masks[i]
        assert mask.sum() >= 4 and ndimage.label(mask, EIGHT)[1] == 1
        if kind == "scratch":  # a thin line, twice as long as the extent
            assert _extent(mask) <= 2 * largest + 4
            assert mask.sum() <= (2 * largest * 1.5 + 2) * 4  # length x (width 3 + 1)
        else:  # a region at most the extent across (its boundary wobbles a little)
            assert _extent(mask) <= 1.6 * largest
            assert mask.sum() >= 0.25 * _extent(mask) ** 2 * 0.6  # a filled region
        assert mask.mean() < 0.15  # small
        # visible against the texture: its core changed on average by 0.75 of the
        # contrast (its soft edge less)
        assert np.abs(X_defect[i, 0] - X[i, 0])[mask].mean() >= 0.5 * X[i].std()


def test_scratch_is_one_colour_brighter_or_darker():
    X = texture((20, 1, 48, 48))
    X_defect, masks, _ = make_texture_defects(X, kinds=("scratch",), random_state=0)
    signs = set()
    for i in range(len(X)):
        diff = (X_defect[i, 0] - X[i, 0])[masks[i]]
        assert (diff >= 0).all() or (diff <= 0).all()  # 0 where black gets darker
        signs.add(bool((diff >= 0).all()))
    assert signs == {True, False}  # both occur


def test_stain_darkens_or_lightens_by_a_multiple_of_the_contrast():
    X = 0.5 + 0.25 * (texture((20, 1, 48, 48)) - 0.5)  # no pixel near black or white
    X_defect, masks, _ = make_texture_defects(X, kinds=("stain",), random_state=0)
    lighter = 0
    for i in range(len(X)):
        before, after = X[i, 0][masks[i]], X_defect[i, 0][masks[i]]
        std, mean = X[i].std(), X[i].mean()
        if (after <= before).all():  # darker: a share of the way to black
            depth, way = (1 - after / before).max(), mean
        else:  # lighter: a share of the way to white
            depth, way = ((after - before) / (1 - before)).max(), 1 - mean
            lighter += 1
        # at its core, by 1.5 to 2.5 times the texture's standard deviation on average
        assert 1.5 * std / way - 1e-9 <= depth <= 2.5 * std / way + 1e-9
    assert 0 < lighter < len(X) / 2


def test_smudge_wipes_out_the_texture_detail():
    X = texture((12, 1, 64, 64))
    X_defect, masks, _ = make_texture_defects(X, kinds=("smudge",), random_state=0)
    for i in range(len(X)):
        assert X_defect[i, 0][masks[i]].std() < 0.8 * X[i, 0][masks[i]].std()


def test_disc_from_a_source_texture_broadcasts_its_channel():
    X = np.zeros((6, 3, 32, 32))  # dark, three channels
    X[:] = texture((6, 1, 32, 32)) * 0.3
    source = np.full((2, 20, 20), 255, dtype=np.uint8)  # a white texture, smaller, one channel
    X_defect, masks, _ = make_texture_defects(X, kinds=("disc",), size=(0.4, 0.5),
                                              source=source, random_state=0)
    for i in range(len(X)):
        core = ndimage.binary_erosion(masks[i], EIGHT, iterations=2)
        assert core.any()
        inside = X_defect[i][:, core]
        # the flat source stays flat, the same in every channel, at the host's
        # mean moved by 0.75 to 1.25 of its standard deviation
        np.testing.assert_allclose(inside, inside[0, 0])
        shift = abs(inside[0, 0] - X[i].mean()) / X[i].std()
        assert 0.75 - 1e-9 <= shift <= 1.25 + 1e-9


@pytest.mark.parametrize("source", [None, "other"])
def test_disc_has_other_statistics_than_its_host(source):
    X = 0.5 + 0.25 * (texture((16, 1, 64, 64)) - 0.5)
    other = None if source is None else texture((2, 1, 64, 64), seed=1)
    X_defect, masks, _ = make_texture_defects(X, kinds=("disc",), size=(0.3, 0.3),
                                              source=other, random_state=0)
    shifts, spreads = [], []
    for i in range(len(X)):
        core = ndimage.binary_erosion(masks[i], EIGHT, iterations=2)
        inside = X_defect[i, 0][core]
        shifts.append(abs(inside.mean() - X[i].mean()) / X[i].std())
        spreads.append(inside.std() / X[i].std())
    # the means 0.75 to 1.25 of the host's contrast away (up to the sampling
    # of a small disc), the contrasts 0.5 to 1.5 times the host's
    assert 0.5 < np.median(shifts) < 1.5 and min(shifts) > 0.3
    assert 0.2 < min(spreads) and max(spreads) < 2.0 and np.ptp(spreads) > 0.3


def test_a_single_image_is_enough():
    _, masks, _ = make_texture_defects(texture((1, 1, 32, 32)), kinds=("disc",),
                                       random_state=0)
    assert masks.any()


def test_seeded_and_reproducible():
    X = texture()
    first = make_texture_defects(X, random_state=0)
    again = make_texture_defects(X, random_state=np.random.RandomState(0))
    other = make_texture_defects(X, random_state=1)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[1], other[1])


@pytest.mark.parametrize("X, kwargs, match", [
    (np.zeros((4, 16)), {}, "images"),
    (np.zeros((0, 8, 8)), {}, "no image"),
    (np.zeros((4, 8, 8), dtype=np.int64), {}, "dtype"),
    (np.zeros((4, 8, 8)), {"kinds": ("crack",)}, "Unknown defect kinds"),
    (np.zeros((4, 8, 8)), {"kinds": ()}, "Unknown defect kinds"),
    (np.zeros((4, 8, 8)), {"size": (0.5, 0.2)}, "size"),
    (np.zeros((4, 3, 8, 8)), {"source": np.zeros((2, 2, 8, 8))}, "channels"),
    (np.zeros((4, 8, 8)), {"source": np.zeros((8, 8))}, "source must be images"),
])
def test_bad_arguments(X, kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_texture_defects(X, **kwargs)


# --------------------------------------------------------------------------
# make_texture_split
# --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def photograph():
    return texture((1, 128, 160), np.uint8)[0]


def _inside(corners, region, crop):
    y0, y1, x0, x1 = region
    return ((corners[:, 0] >= y0) & (corners[:, 0] + crop <= y1)
            & (corners[:, 1] >= x0) & (corners[:, 1] + crop <= x1)).all()


def test_split_parts_come_from_disjoint_regions(photograph):
    split = make_texture_split(photograph, crop_size=16, n_train=30, n_validation=12,
                               n_test=20, n_labelled=5, random_state=0)
    regions = split.regions
    assert regions == texture_regions(128, 160)
    boxes = [np.zeros((128, 160), dtype=bool) for _ in regions]
    for box, (y0, y1, x0, x1) in zip(boxes, regions.values()):
        box[y0:y1, x0:x1] = True
    assert (sum(b.astype(int) for b in boxes) == 1).all()  # a partition of the photograph
    for part, region in [("train", "train"), ("validation", "validation"),
                         ("test", "test"), ("labelled", "train")]:
        assert _inside(split[f"corners_{part}"], regions[region], 16), part
    # normal crops are the photograph's pixels at their corners, with a channel axis
    assert split.X_train.shape == (30, 1, 16, 16) and split.X_train.dtype == np.uint8
    for crops, corners, y in [(split.X_train, split.corners_train, None),
                              (split.X_test, split.corners_test, split.y_test)]:
        for i, (r, c) in enumerate(corners):
            if y is None or y[i] == 1:
                np.testing.assert_array_equal(crops[i, 0], photograph[r:r + 16, c:c + 16])
    for part, n in [("validation", 12), ("test", 20)]:
        y, masks, kinds = split[f"y_{part}"], split[f"masks_{part}"], split[f"kinds_{part}"]
        assert len(split[f"X_{part}"]) == n and (y == -1).sum() == n // 2
        assert masks[y == -1].any(axis=(1, 2)).all() and not masks[y == 1].any()
        assert (kinds[y == 1] == "good").all()
        assert set(kinds[y == -1]) <= set(TEXTURE_DEFECT_KINDS)
    assert split.X_labelled.shape == (5, 1, 16, 16) and split.masks_labelled.any(
        axis=(1, 2)).all()


def test_split_parts_do_not_depend_on_each_other(photograph):
    full = make_texture_split(photograph, crop_size=16, n_train=10, n_validation=8,
                              n_test=8, random_state=3)
    alone = make_texture_split(photograph, crop_size=16, n_train=10, n_validation=8,
                               n_test=0, random_state=3)
    assert alone.X_test.shape == (0, 1, 16, 16)
    for key in ("X_train", "X_validation", "y_validation", "masks_validation"):
        np.testing.assert_array_equal(full[key], alone[key])
    other = make_texture_split(photograph, crop_size=16, n_train=10, n_validation=8,
                               n_test=8, random_state=4)
    assert not np.array_equal(full.corners_train, other.corners_train)


def test_split_keeps_channels_and_labelled_kinds():
    photograph = texture((1, 3, 64, 64))[0].astype(np.float32)
    split = make_texture_split(photograph, crop_size=8, n_train=4, n_validation=4,
                               n_test=4, defect_share=1.0, n_labelled=6,
                               labelled_kinds=("stain",), random_state=0)
    assert split.X_train.shape == (4, 3, 8, 8) and split.X_train.dtype == np.float32
    assert (split.y_test == -1).all()
    assert (split.kinds_labelled == "stain").all()


def test_split_cuts_discs_from_the_source(photograph):
    source = np.full((1, 40, 40), 255, dtype=np.uint8)  # flat: the discs are flat
    split = make_texture_split(photograph, crop_size=32, n_train=1, n_validation=0,
                               n_test=10, defect_share=1.0, kinds=("disc",), size=(0.4, 0.5),
                               source=source, random_state=0)
    for crop, mask in zip(split.X_test, split.masks_test):
        inside = crop[0][ndimage.binary_erosion(mask, EIGHT, iterations=2)].astype(int)
        assert np.ptp(inside) <= 1


@pytest.mark.parametrize("kwargs, match", [
    ({"crop_size": 40}, "larger than the validation region"),
    ({"crop_size": 40, "n_validation": 0, "n_test": 0, "n_train": 1}, None),
    ({"crop_size": 90}, "larger than the train region"),
    ({"crop_size": 1}, "crop_size"),
    ({"n_test": -1}, "n_test"),
    ({"defect_share": 1.5}, "defect_share"),
    ({"kinds": ("crack",)}, "Unknown defect kinds"),
])
def test_split_bad_arguments(photograph, kwargs, match):
    if match is None:  # a region that is too small but not used
        make_texture_split(photograph, **kwargs)
        return
    with pytest.raises(ValueError, match=match):
        make_texture_split(photograph, **kwargs)


def test_split_of_a_bad_image():
    with pytest.raises(ValueError, match="image must be"):
        make_texture_split(np.zeros((1, 2, 64, 64)))


# --------------------------------------------------------------------------
# load_texture
# --------------------------------------------------------------------------
def test_load_texture_names_and_missing_scikit_image(monkeypatch):
    with pytest.raises(ValueError, match="Unknown texture"):
        load_texture("marble")
    monkeypatch.setitem(sys.modules, "skimage", None)  # as if not installed
    with pytest.raises(ImportError, match=r"pip install 'skanomaly\[textures\]'"):
        load_texture("brick")


def test_the_bundled_photographs():
    pytest.importorskip("skimage")
    for name in TEXTURES:
        image = load_texture(name)
        assert image.shape == (512, 512) and image.dtype == np.uint8 and image.std() > 10
    others = np.stack([load_texture(n) for n in TEXTURES if n != "brick"])
    split = make_texture_split(load_texture("brick"), n_train=20, n_validation=10, n_test=10,
                               source=others, random_state=0)
    assert split.X_train.shape == (20, 1, 64, 64)
    assert split.masks_test.sum() < 0.1 * split.masks_test[split.y_test == -1].size
