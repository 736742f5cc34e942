"""The outlier-detector contract, written once.

Every detector of the package, :class:`~skanomaly.TrimmedDetector` and the
benchmark's adapters of other libraries inherit :class:`OutlierDetectorMixin`:
``offset_`` from ``contamination`` and the training scores,
``decision_function = score_samples - offset_`` and ``predict``.
"""

from numbers import Real

import numpy as np
from sklearn.base import OutlierMixin
from sklearn.utils._param_validation import Interval, StrOptions

from .._docstrings import fill_doc

__all__ = ["CONTAMINATION_CONSTRAINT", "OutlierDetectorMixin", "offset_from_scores"]

#: the ``_parameter_constraints`` entry of ``contamination``
CONTAMINATION_CONSTRAINT = [StrOptions({"auto"}), Interval(Real, 0, 0.5, closed="right")]

#: with ``contamination='auto'``, at least this share of the normal training
#: samples is below ``offset_``
AUTO_MIN_SHARE = 0.01


def offset_from_scores(scores, contamination, normal=None):
    """The threshold on ``score_samples`` that ``contamination`` asks for.

    Parameters
    ----------
    scores : ndarray of shape (n_samples,)
        ``score_samples`` of the training samples.
    contamination : 'auto' or float
        A float: the ``100 * contamination`` percentile of ``scores``, so that
        that share of the training samples is flagged. 'auto': the lower
        Tukey fence (Q1 - 1.5 IQR) of the normal training scores, raised to
        their 1st percentile when it is lower, so that at least 1% of the
        normal training samples and every Tukey outlier among them is
        flagged.
    normal : ndarray of bool of shape (n_samples,), default=None
        The samples labelled normal (used by 'auto'); None is all of them.

    Returns
    -------
    offset : float
    """
    scores = np.asarray(scores, dtype=np.float64)
    if contamination != "auto":
        return float(np.percentile(scores, 100.0 * contamination))
    if normal is not None and np.any(normal):
        scores = scores[normal]
    q1, q3 = np.percentile(scores, [25, 75])
    fence = q1 - 1.5 * (q3 - q1)
    return float(max(fence, np.percentile(scores, 100.0 * AUTO_MIN_SHARE)))


@fill_doc
class OutlierDetectorMixin(OutlierMixin):
    """``decision_function`` and ``predict`` from ``score_samples`` and ``offset_``.

    The class defines ``score_samples`` (float64, lower is more abnormal) and
    a ``contamination`` parameter, and calls :meth:`_set_offset` at the end of
    ``fit`` with the training scores.
    """

    def _set_offset(self, scores, y=None):
        """Set ``offset_`` from the training scores (and labels, 1 normal)."""
        normal = None if y is None else np.asarray(y) == 1
        self.offset_ = offset_from_scores(scores, self.contamination, normal)

    def decision_function(self, X):
        """``score_samples(X) - offset_``: negative for predicted anomalies.

        {X_fitted}

        Returns
        -------
        scores : ndarray of shape (n_samples,), dtype float64
        """
        return self.score_samples(X) - self.offset_

    def predict(self, X):
        """Predict 1 for normal and -1 for anomalous samples.

        {X_fitted}

        Returns
        -------
        labels : ndarray of shape (n_samples,), dtype int
        """
        return np.where(self.decision_function(X) < 0, -1, 1)
