"""Shared pieces for running scikit-learn's estimator checks on our detectors.

The checks call ``fit(X, y)`` with classification targets such as {0, 1, 2};
our detectors reject any label outside {1, -1} by design (1 normal, -1
anomaly), so those checks are expected to fail on the real estimators with
that reason. So that everything else those checks verify (pickling, dtypes,
sample-order invariance, n_features_in_, ...) stays covered, every check is
also run on a test-only subclass that ignores ``y`` (:func:`ignoring_y`).

Use::

    @parametrize_with_checks(with_label_free_twins([MyDetector(**fast)]),
                             expected_failed_checks=expected_failed_checks)
    def test_sklearn_compatible(estimator, check):
        check(estimator)
"""

import sys

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


def ignoring_y(estimator):
    """The estimator, as an instance of a test-only subclass whose fit drops y."""
    cls = type(estimator)
    name = cls.__name__ + "IgnoringY"

    def fit(self, X, y=None):
        return cls.fit(self, X)

    sub = type(name, (cls,), {"fit": fit, "__module__": __name__, "__qualname__": name})
    setattr(sys.modules[__name__], name, sub)  # picklable by name
    return sub(**estimator.get_params(deep=False))


def with_label_free_twins(estimators):
    """The estimators followed by their y-ignoring twins."""
    return list(estimators) + [ignoring_y(e) for e in estimators]


def expected_failed_checks(estimator, extra=None):
    """Label checks fail on the real detectors; none on the twins."""
    if type(estimator).__name__.endswith("IgnoringY"):
        return dict(extra or {})
    return {**{name: LABEL_REASON for name in LABEL_CHECKS}, **(extra or {})}
