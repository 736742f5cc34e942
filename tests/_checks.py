"""Shared pieces for running scikit-learn's estimator checks on our detectors.

The checks call ``fit(X, y)`` with classification targets such as {0, 1, 2};
our detectors reject any label outside {1, -1} by design (1 normal, -1
anomaly), so those checks are expected to fail on the real detectors with
that reason. So that everything else those checks verify (pickling, dtypes,
sample-order invariance, n_features_in_, ...) stays covered, every check is
also run on a test-only subclass that ignores ``y`` (:func:`ignoring_y`).
Transformers (:class:`~skanomaly.CNNFeatures`) ignore ``y`` already and get
no twin. The supervised detectors (:class:`~skanomaly.ClassifierDetector`,
:class:`~skanomaly.CNNClassifier`), which cannot be fitted without labelled
anomalies, get a twin that labels its training samples itself
(:func:`labelling`): the ones whose values sum highest are its anomalies.

Use::

    estimators, expected = checks_parameters({"name": MyDetector(**fast)},
                                              extra={"name": {"check_x": "reason"}})

    @parametrize_with_checks(estimators, expected_failed_checks=expected)
    def test_sklearn_compatible(estimator, check):
        check(estimator)
"""

import sys

from sklearn.base import is_outlier_detector

LABEL_REASON = (
    "passes classification labels such as {0, 1, 2} as y; skanomaly detectors "
    "accept only 1 (normal) and -1 (anomaly) and raise ValueError otherwise. "
    "The same check passes on the y-ignoring twin of this estimator."
)
LABEL_CHECKS = [
    "check_classifier_data_not_an_array",
    "check_dict_unchanged",
    "check_dont_overwrite_parameters",
    "check_dtype_object",
    "check_estimators_dtypes",
    "check_estimators_fit_returns_self",
    "check_estimators_nan_inf",
    "check_estimators_overwrite_params",
    "check_estimators_pickle",
    "check_estimators_pickle(readonly_memmap=True)",
    "check_f_contiguous_array_estimator",
    "check_fit2d_1feature",
    "check_fit2d_predict1d",
    "check_fit_check_is_fitted",
    "check_fit_idempotent",
    "check_fit_score_takes_y",
    "check_methods_sample_order_invariance",
    "check_methods_subset_invariance",
    "check_n_features_in",
    "check_n_features_in_after_fitting",
    "check_pipeline_consistency",
    "check_positive_only_tag_during_fit",
    "check_readonly_memmap_input",
]
#: the checks a detector that needs labelled anomalies fails: all that fit it
NEEDS_LABELS_REASON = (
    "fits without labelled anomalies (y == -1), which a classifier of labelled "
    "anomalies cannot learn from and refuses with a ValueError. The same check "
    "passes on the twin of this estimator that labels its training samples."
)
NEEDS_LABELS_CHECKS = [*LABEL_CHECKS, "check_outliers_fit_predict", "check_outliers_train",
                       "check_outliers_train(readonly_memmap=False)"]
TWIN_SUFFIX = "IgnoringY"
_TWINS = {}


def ignoring_y(estimator):
    """The estimator, as an instance of a test-only subclass whose fit drops y.

    One subclass per class, registered in this module under its name, so that
    every configuration of a class pickles with the same twin class.
    """
    cls = type(estimator)
    if cls not in _TWINS:
        name = cls.__name__ + TWIN_SUFFIX

        def fit(self, X, y=None):
            return cls.fit(self, X)

        sub = type(name, (cls,), {"fit": fit, "__module__": __name__, "__qualname__": name})
        setattr(sys.modules[__name__], name, sub)  # picklable by name
        _TWINS[cls] = sub
    return _TWINS[cls](**estimator.get_params(deep=False))


def labelling(estimator):
    """The estimator, as an instance of a test-only subclass that labels its samples.

    ``fit(X, y)`` drops ``y`` and fits with 1 / -1 labels of its own, a
    function of X: -1 for the fifth of the samples whose values sum highest
    (at least one, and never all), so that a classifier of labelled
    anomalies meets the checks' unlabelled data.
    """
    import numpy as np

    cls = type(estimator)
    key = (cls, "labelling")
    if key not in _TWINS:
        name = cls.__name__ + "Labelling"

        def fit(self, X, y=None):
            try:
                values = np.asarray(X, dtype=object)
                total = np.array([np.sum(np.asarray(row, dtype=np.float64)) for row in values])
            except (TypeError, ValueError):  # data the real fit rejects: let it say why
                return cls.fit(self, X)
            n = len(total)
            n_anomalies = min(max(1, n // 5), n - 1)
            labels = np.ones(n, dtype=int)
            labels[np.argsort(-total, kind="stable")[:n_anomalies]] = -1
            return cls.fit(self, X, labels)

        sub = type(name, (cls,), {"fit": fit, "__module__": __name__, "__qualname__": name})
        setattr(sys.modules[__name__], name, sub)
        _TWINS[key] = sub
    return _TWINS[key](**estimator.get_params(deep=False))


def checks_parameters(estimators, extra=None):
    """Instances to check and the ``expected_failed_checks`` callable.

    Parameters
    ----------
    estimators : dict of str to estimator
        The estimators by name. Outlier detectors are followed by their
        y-ignoring twins.
    extra : dict of str to dict, default=None
        By name, checks expected to fail for another reason than the labels
        (on the estimator and on its twin), with that reason.

    Returns
    -------
    instances : list of estimators
    expected_failed_checks : callable
        The failures expected of one of ``instances``: the label checks on
        the real detectors, plus the ``extra`` failures of its name.
    """
    extra = extra or {}
    instances, failures = [], {}
    for name, estimator in estimators.items():
        own = dict(extra.get(name, {}))
        _NAMES[id(estimator)] = name
        if is_outlier_detector(estimator):
            failures[id(estimator)] = {**{c: LABEL_REASON for c in LABEL_CHECKS}, **own}
            if getattr(estimator, "_requires_anomalies", False):
                # fitted without labelled anomalies, it raises: every check that
                # fits runs on the twin that labels its samples
                failures[id(estimator)] = {c: NEEDS_LABELS_REASON for c in NEEDS_LABELS_CHECKS}
                twin = labelling(estimator)
            else:
                twin = ignoring_y(estimator)
            _NAMES[id(twin)] = name
            failures[id(twin)] = own
            instances += [estimator, twin]
        else:
            failures[id(estimator)] = own
            instances.append(estimator)
    return instances, lambda estimator: failures[id(estimator)]


_NAMES = {}


def name_of(estimator):
    """The name under which :func:`checks_parameters` got this instance (or its twin)."""
    return _NAMES[id(estimator)]
