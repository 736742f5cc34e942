"""AutoEncoder: learning, labelled anomalies, grid search, pipelines, persistence."""

import pickle

import joblib
import numpy as np
import pytest
from conftest import requires_fashion
from sklearn.base import clone
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from skanomaly import AutoEncoder, TrainingDivergedError

TINY = dict(max_epochs=2, latent_dim=4, n_filters=4, batch_size=16, random_state=0)


def test_learns_normal_structure(digits_split):
    X_train, y_train, X_test, y_test = digits_split
    det = AutoEncoder(**{**TINY, "max_epochs": 15}).fit(X_train[y_train == 1])
    assert roc_auc_score(y_test, det.score_samples(X_test)) > 0.8


def test_labelled_anomalies_raise_their_error(digits_split):
    X_train, y_train, X_test, y_test = digits_split
    params = {**TINY, "max_epochs": 8}
    plain = AutoEncoder(**params).fit(X_train, np.ones_like(y_train))
    pushed = AutoEncoder(**params).fit(X_train, y_train)
    anomalies = X_train[y_train == -1]
    # the hinge pushes the labelled anomalies' reconstruction error up
    assert pushed.score_samples(anomalies).mean() < plain.score_samples(anomalies).mean()
    # and helps on unseen test anomalies of the same kinds
    assert roc_auc_score(y_test, pushed.score_samples(X_test)) > roc_auc_score(
        y_test, plain.score_samples(X_test)
    )


def test_anomaly_weight_zero_ignores_the_hinge(images):
    X, y = images
    a = AutoEncoder(**{**TINY, "anomaly_weight": 0.0}).fit(X, y)
    assert a.net_.criterion_.anomaly_weight == 0.0


def test_grid_search_roc_auc(digits_split):
    X_train, y_train, _, _ = digits_split
    search = GridSearchCV(
        AutoEncoder(**TINY),
        {"latent_dim": [2, 4], "lr": [1e-3, 3e-3]},
        scoring="roc_auc",
        cv=StratifiedKFold(2, shuffle=True, random_state=0),
    )
    search.fit(X_train, y_train)
    assert set(search.best_params_) == {"latent_dim", "lr"}
    assert 0.5 < search.best_score_ <= 1.0
    assert len(search.cv_results_["mean_test_score"]) == 4


def test_grid_search_over_routed_net_params(digits_split):
    X_train, y_train, _, _ = digits_split
    search = GridSearchCV(
        AutoEncoder(**TINY), {"optimizer__weight_decay": [0.0, 1e-4]},
        scoring="roc_auc", cv=2,
    ).fit(X_train, y_train)
    assert search.best_estimator_.net_params == {
        "optimizer__weight_decay": search.best_params_["optimizer__weight_decay"]
    }


def test_pipeline_with_flat_input(digits_split):
    X_train, y_train, X_test, _y_test = digits_split
    flat = X_train.reshape(len(X_train), -1)
    pipe = make_pipeline(
        FunctionTransformer(lambda X: X * 1.0),
        AutoEncoder(image_shape=(1, 8, 8), **TINY),
    )
    pipe.fit(flat, y_train)
    assert pipe[-1].image_shape_ == (1, 8, 8)
    scores = pipe.score_samples(X_test.reshape(len(X_test), -1))
    assert scores.shape == (len(X_test),)
    assert set(pipe.predict(X_test.reshape(len(X_test), -1))) <= {-1, 1}


def test_clone_and_persistence(images, tmp_path):
    X, y = images
    det = AutoEncoder(**TINY)
    fresh = clone(det)
    assert fresh.get_params() == det.get_params() and not hasattr(fresh, "net_")
    det.fit(X, y)
    scores = det.score_samples(X)
    joblib.dump(det, tmp_path / "det.joblib")
    loaded = joblib.load(tmp_path / "det.joblib")
    np.testing.assert_array_equal(loaded.score_samples(X), scores)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(det)).predict(X), det.predict(X))


def test_divergence_is_a_clear_error(images):
    X, y = images
    X = X * 1e30  # squared errors overflow float32
    with pytest.raises(TrainingDivergedError, match=r"epoch \d+.*'loss' is (inf|nan)"):
        AutoEncoder(**TINY).fit(X, y)


def test_unfitted_raises(images):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        AutoEncoder().score_samples(images[0])


def test_invalid_params():
    with pytest.raises(ValueError, match="contamination"):
        AutoEncoder(contamination=0.7).fit(np.random.rand(4, 4))
    with pytest.raises(ValueError, match="max_epochs"):
        AutoEncoder(max_epochs=0).fit(np.random.rand(4, 4))


@requires_fashion
def test_fashion_mnist_integration():
    """A few hundred Fashion-MNIST images, one epoch: better than chance on class 0."""
    from skanomaly.datasets import load_fashion_mnist, make_anomaly_split

    X_train, _y_train, X_test, y_test = make_anomaly_split(
        *load_fashion_mnist(), normal_class=0, random_state=0
    )
    det = AutoEncoder(max_epochs=1, random_state=0).fit(X_train[:500])
    auc = roc_auc_score(y_test[:2000], det.score_samples(X_test[:2000]))
    assert auc > 0.6
