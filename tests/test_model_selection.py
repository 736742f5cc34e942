"""skanomaly.model_selection: validation carved from the training set."""

import numpy as np
import pytest
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score

from skanomaly import AutoEncoder
from skanomaly.model_selection import make_validation_scorer, train_validation_split

TINY = {"max_epochs": 1, "latent_dim": 2, "n_filters": 2, "batch_size": 16, "n_threads": 1,
        "random_state": 0}


def squares(n=40, seed=0):
    """A bright square on a dark, slightly noisy background."""
    rng = np.random.RandomState(seed)
    X = rng.rand(n, 1, 12, 12).astype(np.float32) * 0.1
    X[:, :, 4:8, 4:8] += 0.8
    return X


# -- train_validation_split --------------------------------------------------------
@pytest.mark.parametrize("validation_size, n_val", [(0.2, 10), (0.5, 25), (15, 15)])
def test_split_stratifies_the_labelled_anomalies(validation_size, n_val):
    ids = np.arange(50)
    X = np.c_[ids, ids]  # each row says which sample it is
    y = np.where(ids % 5 == 0, -1, 1)  # 10 labelled anomalies
    X_tr, X_val, y_tr, y_val = train_validation_split(X, y, validation_size=validation_size,
                                                      random_state=0)
    assert len(X_val) == n_val and len(X_tr) == 50 - n_val
    # every sample in exactly one part, with its own label
    np.testing.assert_array_equal(np.sort(np.r_[X_tr[:, 0], X_val[:, 0]]), ids)
    np.testing.assert_array_equal(y_tr, y[X_tr[:, 0]])
    np.testing.assert_array_equal(y_val, y[X_val[:, 0]])
    # anomalies in both parts, in proportion
    assert (y_tr == -1).any() and (y_val == -1).any()
    assert (y_val == -1).sum() == round(10 * n_val / 50)


def test_split_keeps_images_whole_and_draws_by_seed():
    X = squares(20)
    y = np.where(np.arange(20) < 4, -1, 1)
    X_tr, X_val, _, _ = train_validation_split(X, y, random_state=0)
    assert X_tr.shape[1:] == X_val.shape[1:] == (1, 12, 12)
    again = train_validation_split(X, y, random_state=0)
    other = train_validation_split(X, y, random_state=1)
    np.testing.assert_array_equal(again[1], X_val)
    assert not np.array_equal(other[1], X_val)


def test_split_without_labels_is_all_normal():
    X = np.arange(40).reshape(20, 2)
    X_tr, X_val, y_tr, y_val = train_validation_split(X, random_state=0)
    assert len(X_tr) + len(X_val) == 20
    assert (y_tr == 1).all() and (y_val == 1).all()


def test_split_refuses_a_single_anomaly_and_other_labels():
    X = np.zeros((20, 2))
    y = np.ones(20, dtype=int)
    y[3] = -1
    with pytest.raises(ValueError, match="single labelled anomaly"):
        train_validation_split(X, y)
    with pytest.raises(ValueError, match=r"1 \(normal\) and -1"):
        train_validation_split(X, np.where(y == 1, 1, 0))


# -- make_validation_scorer --------------------------------------------------------
def test_scorer_is_the_auroc_of_normal_against_reference_anomalies():
    rng = np.random.RandomState(0)
    X_fit, X_val = rng.normal(size=(60, 4)), rng.normal(size=(20, 4))
    reference = rng.normal(loc=1.0, size=(10, 4))
    y_val = np.where(np.arange(20) < 3, -1, 1)  # the fold's own labelled anomalies
    forest = IsolationForest(random_state=0).fit(X_fit)
    scorer = make_validation_scorer(reference)
    expected = roc_auc_score(
        np.r_[np.ones(17), -np.ones(13)],
        forest.score_samples(np.r_[X_val[3:], X_val[:3], reference]))
    assert scorer(forest, X_val, y_val) == pytest.approx(expected)
    # without y, every sample of the fold is normal
    expected = roc_auc_score(np.r_[np.ones(20), -np.ones(10)],
                             forest.score_samples(np.r_[X_val, reference]))
    assert scorer(forest, X_val) == pytest.approx(expected)


def test_grid_search_with_y_none_on_synthetic_defects():
    """One-class images: every setting is scored on the same seeded defects."""
    X = squares()
    scorer = make_validation_scorer(random_state=0)
    search = GridSearchCV(AutoEncoder(**TINY), {"lr": [1e-3, 1e-2]}, scoring=scorer,
                          cv=KFold(2)).fit(X)  # y=None
    scores = search.cv_results_["mean_test_score"]
    assert np.isfinite(scores).all() and ((0 <= scores) & (scores <= 1)).all()
    # the same defects for every candidate: scoring twice gives the same value
    detector = search.best_estimator_
    assert scorer(detector, X[:20]) == scorer(detector, X[:20])


def test_grid_search_with_a_reference_anomaly_set():
    X = squares()
    inverted = 1 - squares(10, seed=1)  # a dark square on a bright background
    scorer = make_validation_scorer(inverted)
    search = GridSearchCV(AutoEncoder(**TINY), {"latent_dim": [2, 4]}, scoring=scorer,
                          cv=KFold(2)).fit(X)
    # far from the normal squares: even a one-epoch autoencoder tells them apart
    assert search.best_score_ > 0.9
    assert cross_val_score(AutoEncoder(**TINY), X, scoring=scorer, cv=KFold(2)).min() > 0.9
