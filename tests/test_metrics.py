"""skanomaly.metrics: pixel AUROC and AUPRO, against brute force and by hand."""

import time

import numpy as np
import pytest
from scipy import ndimage
from sklearn.metrics import roc_auc_score

from skanomaly.metrics import aupro, pixel_auroc, pro_curve


def brute_force_curve(masks, maps):
    """PRO and FPR at every distinct value of the maps, one threshold at a time."""
    regions = []
    for i, mask in enumerate(masks):
        labels, n = ndimage.label(mask, structure=np.ones((3, 3)))
        regions += [(i, labels == k) for k in range(1, n + 1)]
    normal = ~masks
    points = [(0.0, 0.0)]
    for t in np.unique(maps)[::-1]:
        flagged = maps >= t
        fpr = (flagged & normal).sum() / normal.sum()
        pro = np.mean([flagged[i][region].mean() for i, region in regions])
        points.append((fpr, pro))
    return np.array(points).T


def brute_force_aupro(masks, maps, max_fpr):
    """The area of each segment of the curve clipped to [0, max_fpr], summed."""
    fpr, pro = brute_force_curve(masks, maps)
    area = 0.0
    for x0, y0, x1, y1 in zip(fpr[:-1], pro[:-1], fpr[1:], pro[1:]):
        if x0 >= max_fpr:
            break
        if x1 > max_fpr:
            y1 = y0 + (y1 - y0) * (max_fpr - x0) / (x1 - x0)
            x1 = max_fpr
        area += (x1 - x0) * (y0 + y1) / 2
    return area / max_fpr


def random_case(seed, n=3, shape=(12, 12), levels=None):
    rng = np.random.RandomState(seed)
    masks = ndimage.binary_opening(rng.rand(n, *shape) < 0.3, np.ones((1, 2, 2)))
    masks[0, 0, 0] = True  # at least one defect pixel
    maps = rng.rand(n, *shape) + masks * rng.uniform(0, 1)
    if levels is not None:  # ties
        maps = np.round(maps * levels) / levels
    return masks, maps


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("levels", [None, 4])
@pytest.mark.parametrize("max_fpr", [0.05, 0.3, 1.0])
def test_aupro_is_the_brute_force_one(seed, levels, max_fpr):
    masks, maps = random_case(seed, levels=levels)
    assert aupro(masks, maps, max_fpr=max_fpr) == pytest.approx(
        brute_force_aupro(masks, maps, max_fpr), abs=1e-12)


@pytest.mark.parametrize("seed", range(3))
def test_pro_curve_is_the_brute_force_one(seed):
    masks, maps = random_case(seed, levels=10)
    fpr, pro, thresholds = pro_curve(masks, maps)
    expected_fpr, expected_pro = brute_force_curve(masks, maps)
    np.testing.assert_allclose(fpr, expected_fpr, atol=1e-12)
    np.testing.assert_allclose(pro, expected_pro, atol=1e-12)
    assert thresholds[0] == np.inf and (np.diff(thresholds) < 0).all()
    assert fpr[-1] == 1.0 and pro[-1] == pytest.approx(1.0)


def test_hand_computed_values():
    masks = np.zeros((2, 6, 6), dtype=bool)
    masks[0, 1:3, 1:3] = True
    masks[1, 4, 4] = True
    perfect = masks.astype(float)
    assert aupro(masks, perfect) == 1.0 and pixel_auroc(masks, perfect) == 1.0
    assert aupro(masks, -perfect) == 0.0 and pixel_auroc(masks, -perfect) == 0.0
    # a constant map: the diagonal, whose area up to x is x^2 / 2
    for max_fpr in (0.3, 1.0):
        assert aupro(masks, np.zeros((2, 6, 6)), max_fpr=max_fpr) == pytest.approx(max_fpr / 2)
    # the one-pixel region flagged first: PRO 1/2 at FPR 0, then the diagonal to (1, 1):
    # the integral of 1/2 + x/2 from 0 to 0.3, over 0.3
    maps = np.zeros((2, 6, 6))
    maps[1, 4, 4] = 1.0
    assert aupro(masks, maps) == pytest.approx((0.5 * 0.3 + 0.3 ** 2 / 4) / 0.3)


def test_regions_are_8_connected_and_weigh_alike():
    masks = np.zeros((5, 5), dtype=bool)
    masks[0, 0] = masks[1, 1] = masks[1, 2] = True  # one region of 3 (by a corner)
    maps = np.zeros((5, 5))
    maps[0, 0] = 1.0
    fpr, pro, _ = pro_curve(masks, maps)
    assert pro[1] == pytest.approx(1 / 3) and fpr[1] == 0.0  # 4-connected: (1 + 0) / 2
    # two regions, of 1 and of 4 pixels: each weighs half
    masks = np.zeros((1, 6, 6), dtype=bool)
    masks[0, 0, 0] = True
    masks[0, 3:5, 3:5] = True
    maps = np.zeros((1, 6, 6))
    maps[0, 0, 0] = 1.0
    assert pro_curve(masks, maps)[1][1] == pytest.approx(0.5)
    assert pixel_auroc(masks, maps) == pytest.approx(roc_auc_score(masks.ravel(), maps.ravel()))


def test_pixel_auroc_is_sklearns_over_every_pixel():
    masks, maps = random_case(0)
    assert pixel_auroc(masks, maps) == roc_auc_score(masks.ravel(), maps.ravel())
    assert pixel_auroc(masks.astype(int), maps) == pixel_auroc(masks, maps)
    assert pixel_auroc(masks[0], maps[0]) == roc_auc_score(masks[0].ravel(), maps[0].ravel())


def test_fast_on_a_benchmark_split():
    rng = np.random.RandomState(0)
    masks = np.zeros((200, 64, 64), dtype=bool)
    for i in range(100):
        y, x = rng.randint(0, 54, 2)
        masks[i, y:y + 10, x:x + 8] = True
    maps = rng.rand(200, 64, 64).astype(np.float32) + masks
    start = time.perf_counter()
    value = aupro(masks, maps)
    assert time.perf_counter() - start < 3  # about 0.2 s
    assert 0.9 < value <= 1.0


@pytest.mark.parametrize("masks, maps, kwargs, match", [
    (np.zeros((2, 4, 4), bool), np.zeros((2, 4, 5)), {}, "same shape"),
    (np.zeros((4,), bool), np.zeros((4,)), {}, "must be"),
    (np.zeros((2, 4, 4), bool), np.zeros((2, 4, 4)), {}, "no defect pixel"),
    (np.ones((2, 4, 4), bool), np.zeros((2, 4, 4)), {}, "no normal pixel"),
    (np.full((2, 4, 4), 2), np.zeros((2, 4, 4)), {}, "boolean"),
    (np.eye(4, dtype=bool), np.full((4, 4), np.nan), {}, "NaN"),
    (np.eye(4, dtype=bool), np.zeros((4, 4)), {"max_fpr": 0}, "max_fpr"),
    (np.eye(4, dtype=bool), np.zeros((4, 4)), {"max_fpr": 1.5}, "max_fpr"),
])
def test_bad_input(masks, maps, kwargs, match):
    with pytest.raises(ValueError, match=match):
        aupro(masks, maps, **kwargs)
    if not kwargs:
        with pytest.raises(ValueError, match=match):
            pixel_auroc(masks, maps)
