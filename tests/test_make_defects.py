"""skanomaly.datasets.make_defects: synthetic defects and their masks."""

import numpy as np
import pytest

from skanomaly.datasets import DEFECT_KINDS, make_defects

#: on the [0, 1] scale, a pixel of the mask changed by more than this
CHANGE = 0.05


def bars(n=12, shape=(1, 16, 16), dtype=np.float32, seed=0):
    """A bright bar on a dark, slightly noisy background."""
    rng = np.random.RandomState(seed)
    X = rng.rand(n, *shape) * 0.05
    X[..., 4:12, 6:10] = 0.9
    if dtype == np.uint8:
        return np.rint(X * 255).astype(np.uint8)
    return X.astype(dtype)


def _change(X, X_defect):
    """Largest change of each pixel over the channels, on the [0, 1] scale."""
    scale = 255.0 if X.dtype == np.uint8 else 1.0
    diff = np.abs(X_defect.astype(np.float64) - X.astype(np.float64)) / scale
    return diff.max(axis=1) if diff.ndim == 4 else diff


@pytest.mark.parametrize("dtype", [np.uint8, np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1, 16, 16), (3, 12, 20), (16, 16)])
def test_shapes_dtype_and_masks(shape, dtype):
    X = bars(shape=shape, dtype=dtype)
    before = X.copy()
    X_defect, masks, kinds = make_defects(X, random_state=0)
    assert X_defect.shape == X.shape and X_defect.dtype == X.dtype
    assert masks.shape == (len(X), *shape[-2:]) and masks.dtype == bool
    assert kinds.shape == (len(X),) and set(kinds) <= set(DEFECT_KINDS)
    np.testing.assert_array_equal(X, before)  # the input is left alone
    change = _change(X, X_defect)
    # every mask is a defect of at least 4 pixels (min_pixels), each one changed
    assert (masks.sum(axis=(1, 2)) >= 4).all()
    rounding = 0.5 / 255 if dtype == np.uint8 else 1e-6
    assert (change[masks] > CHANGE - rounding).all()
    # outside the mask, nothing changed beyond the threshold
    assert (change[~masks] <= CHANGE + rounding).all()


@pytest.mark.parametrize("kind", DEFECT_KINDS)
def test_each_kind(kind):
    X = bars(n=20)
    X_defect, masks, kinds = make_defects(X, kinds=(kind,), size=(0.2, 0.4), random_state=0)
    assert (kinds == kind).all()
    assert (masks.sum(axis=(1, 2)) >= 4).all()
    assert (_change(X, X_defect)[masks] > CHANGE).all()
    rows, cols = masks.any(axis=2), masks.any(axis=1)
    height = rows.shape[1] - rows[:, ::-1].argmax(1) - rows.argmax(1)
    width = cols.shape[1] - cols[:, ::-1].argmax(1) - cols.argmax(1)
    extent = np.maximum(height, width)
    largest = round(0.4 * 16)  # the largest side asked for, in pixels
    if kind == "patch":  # a rectangle from another image: values that image has
        assert (extent <= largest).all()
        assert all(np.isin(X_defect[i, 0][masks[i]], X[np.arange(len(X)) != i]).all()
                   for i in range(len(X)))
    elif kind == "scratch":  # a line, 1 or 2 pixels wide, of one level: 0 or 1
        assert set(np.unique(X_defect[:, 0][masks])) <= {0.0, 1.0}
        assert (masks.sum(axis=(1, 2)) <= 2 * extent + 2).all()
    else:  # an ellipse of that size, with a soft edge up to half as wide again
        assert (extent <= 1.5 * largest + 1).all()
        assert (masks.sum(axis=(1, 2)) > 2 * extent).all()  # filled, not a line


def test_seeded_and_reproducible():
    X = bars()
    first = make_defects(X, random_state=0)
    again = make_defects(X, random_state=np.random.RandomState(0))
    other = make_defects(X, random_state=1)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[1], other[1])


@pytest.mark.parametrize("X, kwargs, match", [
    (np.zeros((4, 16)), {}, "images"),
    (np.zeros((1, 8, 8)), {}, "at least 2 images"),
    (np.zeros((4, 8, 8)), {"kinds": ("crack",)}, "Unknown defect kinds"),
    (np.zeros((4, 8, 8)), {"kinds": ()}, "Unknown defect kinds"),
    (np.zeros((4, 8, 8)), {"size": (0.5, 0.2)}, "size"),
])
def test_bad_arguments(X, kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_defects(X, **kwargs)
