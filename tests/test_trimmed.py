"""TrimmedDetector: trimming contaminated training data.

The contract it shares with every estimator, wrapping an AutoEncoder, is in
test_common.py; here scikit-learn's checks also run with a scikit-learn
detector inside, whose code paths (sparse input, y passed on to an estimator
that ignores it) the AutoEncoder does not take.
"""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import StandardScaler
from sklearn.svm import OneClassSVM
from sklearn.utils.estimator_checks import parametrize_with_checks

from skanomaly._autoencoder import AutoEncoder
from skanomaly._trimmed import TrimmedDetector


def contaminated(rng, n_normal=190, n_outliers=10):
    """Gaussian inliers with outliers planted far away, at known indices."""
    X = rng.randn(n_normal + n_outliers, 2)
    outliers = rng.choice(len(X), n_outliers, replace=False)
    X[outliers] = rng.uniform(5, 8, size=(n_outliers, 2)) * rng.choice([-1, 1], (n_outliers, 2))
    is_outlier = np.zeros(len(X), dtype=bool)
    is_outlier[outliers] = True
    return X, is_outlier


@parametrize_with_checks(
    [TrimmedDetector(IsolationForest(n_estimators=10, random_state=0), n_rounds=2)]
)
def test_sklearn_compatible_wrapping_a_sklearn_detector(estimator, check):
    # TrimmedDetector passes y on to the wrapped estimator; IsolationForest
    # ignores it, so the checks passing {0, 1, 2} labels pass as they are.
    check(estimator)


@pytest.mark.parametrize(
    "estimator", [IsolationForest(random_state=0), OneClassSVM(nu=0.1, gamma=0.1)],
    ids=["iforest", "ocsvm"],
)
def test_planted_outliers_are_trimmed(rng, estimator):
    X, is_outlier = contaminated(rng)
    detector = TrimmedDetector(estimator, contamination=0.05, random_state=0).fit(X)
    assert detector.support_mask_.dtype == bool
    assert detector.support_mask_.sum() == len(X) - 10
    np.testing.assert_array_equal(~detector.support_mask_, is_outlier)
    # the final estimator was fitted on the kept samples only
    assert detector.estimator_ is not estimator
    assert 1 <= detector.n_rounds_ <= 3
    # offset_ puts the contamination share of training samples below it
    assert (detector.predict(X) == -1).sum() == 10
    np.testing.assert_allclose(
        detector.decision_function(X), detector.score_samples(X) - detector.offset_
    )


def test_iterating_finds_outliers_one_fit_misses(rng):
    # OneClassSVM fitted on contaminated data makes the outliers support
    # vectors: its single-fit ranking misses some, the refits find them all
    X, is_outlier = contaminated(rng)
    svm = OneClassSVM(nu=0.1, gamma=0.1)
    scores = svm.fit(X).score_samples(X)
    assert is_outlier[np.argsort(scores)[:10]].sum() < 10
    detector = TrimmedDetector(svm, contamination=0.05, n_rounds=3, cv=None,
                               trim_share=0.05).fit(X)
    np.testing.assert_array_equal(~detector.support_mask_, is_outlier)


@pytest.mark.parametrize("cv", [None, 2, 3])
def test_exact_share_in_and_out_of_fold(rng, cv):
    X, is_outlier = contaminated(rng)
    detector = TrimmedDetector(IsolationForest(random_state=0), contamination=0.05,
                               trim_share=0.05, cv=cv, random_state=0).fit(X)
    np.testing.assert_array_equal(~detector.support_mask_, is_outlier)


def test_out_of_fold_scores_rank_memorised_outliers_better(rng):
    # a kernel density with a tiny bandwidth memorises its training set:
    # scored in-sample, every training point is as dense as any other; out
    # of fold, the isolated outliers stand out
    from sklearn.neighbors import KernelDensity

    # outliers first: ties in the scores keep the lower indices
    X = np.r_[rng.uniform(-6, 6, size=(10, 2)), rng.randn(200, 2) * 0.5]
    is_outlier = np.r_[np.ones(10, bool), np.zeros(200, bool)]
    kde = KernelDensity(bandwidth=0.01)
    in_sample = TrimmedDetector(kde, contamination=0.05, cv=None, n_rounds=1).fit(X)
    out_of_fold = TrimmedDetector(kde, contamination=0.05, n_rounds=1,
                                  random_state=0).fit(X)
    found_in_sample = (~in_sample.support_mask_[is_outlier]).sum()
    found_out_of_fold = (~out_of_fold.support_mask_[is_outlier]).sum()
    assert found_out_of_fold >= 8 and found_out_of_fold > found_in_sample + 3


def test_trimming_helps_on_contaminated_data(rng):
    # 5% of the training set from the anomaly distribution, unlabelled
    X = np.r_[rng.randn(380, 2), rng.randn(20, 2) + [5, 0]]
    X_test = np.r_[rng.randn(200, 2), rng.randn(200, 2) + [5, 0]]
    y_test = np.r_[np.ones(200), -np.ones(200)]
    forest = IsolationForest(random_state=0)
    plain = clone(forest).fit(X)
    trimmed = TrimmedDetector(forest, contamination=0.05, random_state=0).fit(X)
    assert (~trimmed.support_mask_[380:]).sum() >= 15
    auc_plain = roc_auc_score(y_test, plain.score_samples(X_test))
    auc_trimmed = roc_auc_score(y_test, trimmed.score_samples(X_test))
    assert auc_trimmed > auc_plain


def test_early_stop_and_no_trimming(rng):
    X, _ = contaminated(rng)
    detector = TrimmedDetector(IsolationForest(random_state=0), n_rounds=10,
                               random_state=0).fit(X)
    # the kept set converges: rounds stop before n_rounds
    assert detector.n_rounds_ < 10
    # a share too small to drop one sample: no refit, everything kept
    tiny = TrimmedDetector(IsolationForest(random_state=0), contamination=0.001).fit(X)
    assert tiny.n_rounds_ == 0 and tiny.support_mask_.all()


def test_default_estimator_is_isolation_forest(rng):
    X, _ = contaminated(rng)
    detector = TrimmedDetector().fit(X)
    assert isinstance(detector.estimator_, IsolationForest)


def test_deep_detector_on_images(images):
    # nd image arrays go through untouched; the wrapped detector validates them
    X, y = images  # the 6 noise images are the anomalies, here unlabelled
    detector = TrimmedDetector(
        AutoEncoder(max_epochs=10, latent_dim=2, n_filters=4, batch_size=16, lr=1e-2,
                    random_state=0),
        contamination=0.15, n_rounds=1, cv=None, trim_share=0.15,
    ).fit(X)
    assert detector.n_features_in_ == 144
    assert detector.score_samples(X).shape == (len(X),)
    # the dropped samples are the noise images
    np.testing.assert_array_equal(detector.support_mask_, y == 1)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"contamination": 0.7}, "contamination"),
        ({"contamination": 0.0}, "contamination"),
        ({"n_rounds": 0}, "n_rounds"),
        ({"cv": 1}, "cv"),
        ({"trim_share": 0.6}, "trim_share"),
        ({"trim_share": "auto"}, "trim_share"),
        ({"estimator": StandardScaler()}, "estimator"),
    ],
)
def test_bad_params(rng, params, match):
    X, _ = contaminated(rng)
    with pytest.raises(ValueError, match=match):
        TrimmedDetector(**params).fit(X)


def test_wraps_anogan_and_routes_its_net_params(images):
    from skanomaly._anogan import AnoGAN

    X, _y = images
    detector = TrimmedDetector(
        AnoGAN(max_epochs=1, encoder_epochs=1, latent_dim=2, n_filters=2, batch_size=16,
               random_state=0),
        contamination=0.15, n_rounds=1, random_state=0,
    )
    detector.set_params(estimator__optimizer_d__lr=1e-3, estimator__score_mode="discriminator")
    detector.fit(X)
    assert detector.estimator_.net_.optimizer_d_.param_groups[0]["lr"] == 1e-3
    assert detector.estimator_.score_mode == "discriminator"
    assert detector.support_mask_.sum() == len(X) - 6
    assert detector.predict(X).shape == (len(X),)
