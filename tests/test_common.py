"""scikit-learn's estimator checks on the AutoEncoder (see _checks.py)."""

from _checks import expected_failed_checks, with_label_free_twins
from sklearn.utils.estimator_checks import parametrize_with_checks

from skanomaly import AutoEncoder

FAST = dict(max_epochs=1, latent_dim=2, n_filters=2, batch_size=32, random_state=0)


@parametrize_with_checks(
    with_label_free_twins([AutoEncoder(**FAST)]),
    expected_failed_checks=expected_failed_checks,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
