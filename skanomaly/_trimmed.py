"""Fitting an outlier detector on contaminated data by iterative trimming."""

from numbers import Integral, Real
from typing import ClassVar

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, MetaEstimatorMixin, _fit_context, clone
from sklearn.ensemble import IsolationForest
from sklearn.utils import _safe_indexing, check_random_state, get_tags
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.validation import _num_samples, check_is_fitted
from torch.utils.data import Dataset as TorchDataset
from torch.utils.data import Subset

from ._base import OutlierDetectorMixin, store_params

__all__ = ["TrimmedDetector"]


class TrimmedDetector(MetaEstimatorMixin, OutlierDetectorMixin, BaseEstimator):
    """Fit an outlier detector on training data holding unlabelled anomalies.

    When a known share of the training set is anomalous but unlabelled (the
    contaminated protocol), a detector fitted on all of it learns the
    anomalies as normal. ``TrimmedDetector`` scores the training samples,
    drops the ``trim_share`` of them that score as most anomalous (lowest
    ``score_samples``), and fits a clone of ``estimator`` on the rest; it
    repeats this ``n_rounds`` times, every round scoring the whole training
    set again with fits on the latest kept set (so a sample dropped by
    mistake can come back), and stops early once the kept set no longer
    changes.

    By default the training samples are scored out of fold (``cv=2``): a
    clone fitted on one half of the kept samples scores the other half. A
    detector scoring samples it was fitted on has partly learnt the
    anomalies among them as normal; scored by a fit that never saw them,
    they stand out more.

    Dropping more than the contamination (``trim_share``) removes more of
    the anomalies when the detector ranks them poorly, at the cost of the
    least typical normal samples: it helps AnoGAN on Fashion-MNIST (see
    Notes) and hurts a detector that already ranks them well.

    Works with any outlier detector that has ``score_samples``: this
    package's deep detectors on images, and scikit-learn's
    (:class:`~sklearn.ensemble.IsolationForest`,
    :class:`~sklearn.svm.OneClassSVM`, ...). ``X`` is passed to the wrapped
    estimator as given (images stay images); it validates it.

    Parameters
    ----------
    estimator : estimator object, default=None
        An outlier detector with ``fit`` and ``score_samples`` (lower is more
        abnormal). None means :class:`~sklearn.ensemble.IsolationForest`.
        Its parameters are reachable as ``estimator__*`` (grid search).
    contamination : float, default=0.05
        Share of the training set that is anomalous: sets ``offset_`` (that
        share of training samples is below it) and, unless ``trim_share``
        is given, the share trimmed.
    n_rounds : int, default=3
        Number of trim-and-refit rounds.
    cv : int or None, default=2
        Number of folds for scoring the training samples out of fold: each
        round fits ``cv`` clones, each on the kept samples outside one fold,
        and each scores its fold. None scores the training samples with the
        fit on the kept samples themselves (in-sample). Training sets of
        fewer than ``2 * cv`` samples are scored in-sample.
    trim_share : float, default=None
        Share of the training samples dropped before the final fit; None is
        ``contamination``.
    random_state : int, RandomState instance or None, default=None
        Seeds the assignment of samples to the folds.

    Attributes
    ----------
    estimator_ : estimator object
        The wrapped estimator, fitted on the kept samples of the last round.
    support_mask_ : ndarray of shape (n_samples,), dtype bool
        True for the training samples ``estimator_`` was fitted on; False for
        the trimmed ones (the suspected anomalies).
    n_rounds_ : int
        Trim-and-refit rounds actually run (fewer than ``n_rounds`` when the
        kept set stopped changing).
    offset_ : float
        The ``100 * contamination`` percentile of ``estimator_``'s scores on
        the whole training set; ``decision_function = score_samples - offset_``.
    n_features_in_ : int
        Number of features seen in ``fit`` (from ``estimator_``).

    See Also
    --------
    sklearn.ensemble.IsolationForest : Isolation Forest outlier detector.
    AnoGAN : GAN-based image anomaly detector.

    Notes
    -----
    ``y``, if given, is passed on to the wrapped estimator (restricted to the
    samples it is fitted on) and otherwise ignored: the trimming itself is
    unsupervised. The wrapped estimator validates it, so that a scikit-learn
    detector ignores it and a skanomaly detector accepts only 1 / -1 labels.

    Trimming helps as far as the detector ranks the training anomalies
    below the normal samples; scoring them out of fold makes them stand out
    more, and trimming more than the contamination removes more of them at
    the cost of the least typical normal samples. Measured recoveries on
    Fashion-MNIST are in the documentation's benchmarks page.

    A round costs about one fit of the wrapped estimator (``cv`` fits on
    ``(cv - 1) / cv`` of the data), plus the final fit: ``1 + n_rounds`` fits
    at most. The rounds do not warm-start.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.ensemble import IsolationForest
    >>> from skanomaly import TrimmedDetector
    >>> rng = np.random.RandomState(0)
    >>> X = np.r_[rng.randn(95, 2), rng.uniform(6, 8, size=(5, 2))]
    >>> detector = TrimmedDetector(IsolationForest(random_state=0),
    ...                            contamination=0.05, random_state=0).fit(X)
    >>> bool((~detector.support_mask_[95:]).all())  # the 5 outliers are dropped
    True
    >>> detector.predict(X[-2:])
    array([-1, -1])
    """

    _parameter_constraints: ClassVar[dict] = {
        "estimator": [HasMethods(["fit", "score_samples"]), None],
        "contamination": [Interval(Real, 0, 0.5, closed="right")],
        "n_rounds": [Interval(Integral, 1, None, closed="left")],
        "cv": [Interval(Integral, 2, None, closed="left"), None],
        "trim_share": [Interval(Real, 0, 0.5, closed="right"), None],
        "random_state": ["random_state"],
    }

    def __init__(self, estimator=None, *, contamination=0.05, n_rounds=3, cv=2,
                 trim_share=None, random_state=None):
        store_params(self, locals())

    def _new_estimator(self):
        if self.estimator is None:
            return IsolationForest()
        return clone(self.estimator)

    def _fit_on(self, X, y, index):
        return self._new_estimator().fit(
            _take(X, index), None if y is None else _safe_indexing(y, index)
        )

    def _out_of_fold_scores(self, X, y, mask, folds):
        """Scores of every sample by a fit on the kept samples of the other folds."""
        scores = np.empty(len(mask))
        for fold in np.unique(folds):
            train = np.flatnonzero(mask & (folds != fold))
            test = np.flatnonzero(folds == fold)
            scores[test] = self._fit_on(X, y, train).score_samples(_take(X, test))
        return scores

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None):
        """Score the training samples, trim the most anomalous and refit.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Training samples, in any layout the wrapped estimator accepts
            (feature vectors, images).
        y : array-like of shape (n_samples,), default=None
            Passed to the wrapped estimator's ``fit`` (restricted to the
            samples it is fitted on); not used by the trimming.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        if sparse.issparse(X) and X.format not in ("csr", "csc"):
            X = X.tocsr()  # row-indexable; the wrapped estimator validates it
        elif hasattr(X, "__array__") and not hasattr(X, "shape"):
            X = np.asarray(X)  # array-likes that cannot be indexed
        if y is not None and hasattr(y, "__array__") and not hasattr(y, "shape"):
            y = np.asarray(y)
        n_samples = _num_samples(X)
        share = self.contamination if self.trim_share is None else self.trim_share
        n_drop = int(share * n_samples)
        folds = None
        if self.cv is not None and n_samples >= 2 * self.cv:
            rng = check_random_state(self.random_state)
            folds = rng.permutation(np.arange(n_samples) % self.cv)
        mask = np.ones(n_samples, dtype=bool)
        estimator = fitted_mask = None
        self.n_rounds_ = 0
        for _ in range(self.n_rounds):
            if folds is None:
                estimator, fitted_mask = self._fit_on(X, y, np.flatnonzero(mask)), mask
                scores = np.asarray(estimator.score_samples(X), dtype=np.float64)
            else:
                scores = self._out_of_fold_scores(X, y, mask, folds)
            new_mask = _keep_highest(scores, n_samples - n_drop)
            if np.array_equal(new_mask, mask):
                break
            mask = new_mask
            self.n_rounds_ += 1
        if fitted_mask is None or not np.array_equal(fitted_mask, mask):
            estimator = self._fit_on(X, y, np.flatnonzero(mask))
        self.estimator_ = estimator
        self.support_mask_ = mask
        self._set_offset(np.asarray(estimator.score_samples(X), dtype=np.float64))
        return self

    @property
    def n_features_in_(self):
        """Number of features seen in ``fit``."""
        return self.estimator_.n_features_in_

    @property
    def feature_names_in_(self):
        """Feature names seen in ``fit`` (DataFrame input only)."""
        return self.estimator_.feature_names_in_

    def score_samples(self, X):
        """``score_samples`` of the final estimator: lower is more abnormal.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Samples in the layout seen in ``fit``.

        Returns
        -------
        scores : ndarray of shape (n_samples,), dtype float64
        """
        check_is_fitted(self)
        return np.asarray(self.estimator_.score_samples(X), dtype=np.float64)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = get_tags(self._new_estimator())
        tags.input_tags = inner.input_tags
        tags.non_deterministic = inner.non_deterministic
        return tags


def _take(X, index):
    """The samples ``index`` of X: a ``Subset`` of a torch Dataset, else rows."""
    if isinstance(X, TorchDataset):
        return Subset(X, np.asarray(index).tolist())
    return _safe_indexing(X, index)


def _keep_highest(scores, n_keep):
    """Boolean mask of the ``n_keep`` highest scores (ties: lower index kept)."""
    order = np.argsort(-scores, kind="stable")
    mask = np.zeros(len(scores), dtype=bool)
    mask[order[:n_keep]] = True
    return mask
