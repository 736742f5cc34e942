"""Fuzz the shared input handling: every call works or raises a clear error.

Whatever the shape, dtype and values, ``fit`` / ``score_samples`` /
``predict`` either work (finite float64 scores) or raise ``ValueError`` /
``TypeError`` with a message; nothing crashes, hangs or returns NaN.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from skanomaly import AutoEncoder

TINY = dict(max_epochs=1, latent_dim=2, n_filters=2, batch_size=8, random_state=0)
DTYPES = st.sampled_from(
    [np.uint8, np.int64, np.float32, np.float64, np.bool_, np.complex64, np.str_]
)


def _arrays():
    shapes = hnp.array_shapes(min_dims=1, max_dims=5, min_side=0, max_side=5)
    return DTYPES.flatmap(lambda dt: hnp.arrays(dt, shapes))


def _call(fn, *args):
    try:
        out = fn(*args)
    except (ValueError, TypeError) as exc:
        assert str(exc), "errors must carry a message"
        return None
    return out


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(X=_arrays())
def test_fit_and_score_any_input(X):
    det = _call(AutoEncoder(**TINY).fit, X)
    if det is None:
        return
    scores = _call(det.score_samples, X)
    if scores is not None:
        assert scores.dtype == np.float64 and np.isfinite(scores).all()
        assert set(np.unique(det.predict(X))) <= {-1, 1}


_FITTED = []


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(X=_arrays())
def test_score_any_input_after_fit(X):
    if not _FITTED:  # one fit shared by the examples
        _FITTED.append(AutoEncoder(**TINY).fit(np.random.RandomState(0).rand(10, 1, 3, 3)))
    scores = _call(_FITTED[0].score_samples, X)
    if scores is not None:
        assert scores.shape == (X.shape[0],) and np.isfinite(scores).all()


@pytest.mark.parametrize("y", [[1, -1, 0, 1], [np.nan, 1, 1, 1], ["1", "-1", "1", "1"]])
def test_bad_labels_fuzz(y):
    with pytest.raises(ValueError, match="1 \\(normal\\)"):
        AutoEncoder(**TINY).fit(np.random.rand(4, 4), y)
