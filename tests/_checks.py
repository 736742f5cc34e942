"""Shared pieces for running scikit-learn's estimator checks on our detectors.

The checks call ``fit(X, y)`` with classification targets such as {0, 1, 2};
our detectors reject any label outside {1, -1} by design (1 normal, -1
anomaly), so those checks are expected to fail on the real detectors with
that reason. So that everything else those checks verify (pickling, dtypes,
sample-order invariance, n_features_in_, ...) stays covered, every check is
also run on a test-only subclass that ignores ``y`` (:func:`ignoring_y`).
Transformers (:class:`~skanomaly.CNNFeatures`) ignore ``y`` already and get
no twin.

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
