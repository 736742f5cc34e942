"""Fuzz the shared input handling: valid input is scored, anything else is a clear error.

Valid input (numbers, 2 to 4 dimensions, finite and within a range the
float32 networks handle) is accepted by ``fit`` and scored by
``score_samples`` / ``predict`` (finite float64, one value per sample);
anything else raises ``ValueError`` / ``TypeError`` with a message. Nothing
crashes, hangs or returns NaN.
"""

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from skanomaly import AutoEncoder

TINY = {"max_epochs": 1, "latent_dim": 2, "n_filters": 2, "batch_size": 8, "n_threads": 1,
        "random_state": 0}
FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
NUMERIC = [np.uint8, np.int64, np.float32, np.float64, np.bool_]
#: beyond this, squared reconstruction errors may overflow float32 (a ValueError then)
MAX_ABS = 1e6


def is_valid(X, *, min_samples=2, sample_shapes=None):
    """Whether the detectors promise to accept X."""
    if X.dtype.kind not in "biuf" or X.ndim not in (2, 3, 4) or X.shape[0] < min_samples:
        return False
    if math.prod(X.shape[1:]) == 0:
        return False
    if sample_shapes is not None and X.shape[1:] not in sample_shapes:
        return False
    values = X.astype(np.float64)
    return bool(np.isfinite(values).all() and np.abs(values).max() <= MAX_ABS)


def _elements(dtype):
    if np.dtype(dtype).kind == "f":
        return st.floats(-MAX_ABS, MAX_ABS, width=np.dtype(dtype).itemsize * 8)
    if dtype is np.int64:
        return st.integers(-int(MAX_ABS), int(MAX_ABS))
    return None  # uint8 and bool: any value


def valid_arrays(sample_shapes=None, min_samples=2):
    """Numeric arrays of 2 to 4 dimensions (or the given sample shapes), finite, bounded."""
    if sample_shapes is None:
        sides = st.integers(1, 5)
        samples = st.one_of(st.tuples(sides), st.tuples(sides, sides),
                            st.tuples(st.integers(1, 3), sides, sides))
    else:
        samples = st.sampled_from(sample_shapes)
    shapes = st.tuples(st.integers(min_samples, 6), samples).map(lambda t: (t[0], *t[1]))
    return st.sampled_from(NUMERIC).flatmap(
        lambda dtype: hnp.arrays(dtype, shapes, elements=_elements(dtype)))


def any_arrays():
    dtypes = st.sampled_from([*NUMERIC, np.complex64, np.str_])
    shapes = hnp.array_shapes(min_dims=1, max_dims=5, min_side=0, max_side=5)
    return dtypes.flatmap(lambda dtype: hnp.arrays(dtype, shapes))


def check_scores(detector, X):
    scores = detector.score_samples(X)
    assert scores.dtype == np.float64 and scores.shape == (X.shape[0],)
    assert np.isfinite(scores).all()
    labels = detector.predict(X)
    assert labels.shape == (X.shape[0],) and set(np.unique(labels)) <= {-1, 1}


# -- fit ---------------------------------------------------------------------------
@FUZZ
@given(X=valid_arrays())
def test_valid_input_is_fitted_and_scored(X):
    check_scores(AutoEncoder(**TINY).fit(X), X)


@FUZZ
@given(X=any_arrays())
def test_any_input_is_fitted_or_a_clear_error(X):
    try:
        detector = AutoEncoder(**TINY).fit(X)
    except (ValueError, TypeError) as exc:
        assert not is_valid(X), f"valid input of shape {X.shape} refused: {exc}"
        assert str(exc), "errors must carry a message"
        return
    try:
        check_scores(detector, X)
    except ValueError:  # a TrainingDivergedError on values beyond MAX_ABS
        assert not is_valid(X)


# -- score after fit --------------------------------------------------------------
_FITTED = []
#: the sample shapes a detector fitted on (n, 1, 3, 3) images accepts
SAMPLE_SHAPES = [(1, 3, 3), (3, 3), (9,)]


def _fitted():
    if not _FITTED:  # one fit shared by the examples
        X = np.random.RandomState(0).rand(10, 1, 3, 3)
        _FITTED.append(AutoEncoder(**TINY).fit(X))
    return _FITTED[0]


@FUZZ
@given(X=valid_arrays(SAMPLE_SHAPES, min_samples=1))
def test_valid_input_is_scored_after_fit(X):
    check_scores(_fitted(), X)


@FUZZ
@given(X=any_arrays())
def test_any_input_is_scored_or_a_clear_error(X):
    detector = _fitted()
    try:
        scores = detector.score_samples(X)
    except (ValueError, TypeError) as exc:
        assert not is_valid(X, min_samples=1, sample_shapes=SAMPLE_SHAPES), \
            f"valid input of shape {X.shape} refused: {exc}"
        assert str(exc)
        return
    assert scores.shape == (X.shape[0],) and np.isfinite(scores).all()


# -- labels ------------------------------------------------------------------------
@FUZZ
@given(y=st.lists(st.sampled_from([1, -1]), min_size=6, max_size=6).filter(lambda y: 1 in y),
       dtype=st.sampled_from([np.int8, np.int64, np.float32, np.float64]))
def test_valid_labels_are_accepted(y, dtype):
    X = np.random.RandomState(0).rand(6, 4)
    check_scores(AutoEncoder(**TINY).fit(X, np.asarray(y, dtype=dtype)), X)


@pytest.mark.parametrize("y", [[1, -1, 0, 1], [np.nan, 1, 1, 1], ["1", "-1", "1", "1"]])
def test_bad_labels_fuzz(y):
    with pytest.raises(ValueError, match="1 \\(normal\\)"):
        AutoEncoder(**TINY).fit(np.random.rand(4, 4), y)
