"""DeepSAD: what each term of its loss does.

The contract it shares with every estimator (checks, persistence, grid
search, pipelines, bad input) is in test_common.py.
"""

import copy

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback

from skanomaly import DeepSAD

TINY = {"rep_dim": 4, "n_filters": 4, "pretrain_epochs": 2, "batch_size": 16, "n_threads": 1,
        "lr": 1e-3, "score_mode": "distance",
        "random_state": 0}


def shifted_squares(n=48, n_anomalies=8, seed=0):
    """Normal: a bright square; labelled anomalies: the same square, moved."""
    rng = np.random.RandomState(seed)
    X = rng.rand(n, 1, 12, 12).astype(np.float32) * 0.1
    X[n_anomalies:, :, 4:8, 4:8] += 0.8
    X[:n_anomalies, :, 5:9, 3:7] += 0.8
    y = np.where(np.arange(n) < n_anomalies, -1, 1)
    return X, y


class _SADPhaseDistances(Callback):
    """Squared distances of X to the centre when the Deep SAD phase starts and ends.

    Measured as the loss sees them, in training mode (BatchNorm with the
    batch's statistics), on a copy of the network so as not to disturb it.
    """

    def __init__(self, X):
        self.X = X

    def _distances(self, net):
        module = copy.deepcopy(net.module_).train()
        with torch.no_grad():
            z = module(torch.as_tensor(self.X))
        return net.criterion_.distance(z).numpy().astype(np.float64)

    def on_train_begin(self, net, **kwargs):
        if net.phase == "sad":
            self.start_ = self._distances(net)

    def on_train_end(self, net, **kwargs):
        if net.phase == "sad":
            self.end_ = self._distances(net)


def test_normal_term_pulls_normal_samples_to_the_centre():
    X, y = shifted_squares()
    probe = _SADPhaseDistances(X[y == 1])
    DeepSAD(eta=0.0, max_epochs=3, callbacks=[probe], **TINY).fit(X, y)
    assert probe.end_.mean() < 0.5 * probe.start_.mean()


def test_eta_term_pushes_labelled_anomalies_away():
    X, y = shifted_squares()
    without = DeepSAD(eta=0.0, max_epochs=3, **TINY).fit(X, y)
    with_eta = DeepSAD(eta=1.0, max_epochs=3, **TINY).fit(X, y)
    anomalies, normal = y == -1, y == 1
    distance_without, distance_with = -without.score_samples(X), -with_eta.score_samples(X)
    assert distance_with[anomalies].mean() > 1.3 * distance_without[anomalies].mean()
    # relative to the normal samples, much further out
    assert (distance_with[anomalies].mean() / distance_with[normal].mean()
            > 2 * distance_without[anomalies].mean() / distance_without[normal].mean())


@pytest.mark.parametrize("classifier", ["svm", "logistic"])
def test_classifier_component_raises_scores_of_the_labelled_kind_only(classifier):
    # the same fit with and without the classifier: same nets, banks and held-out images
    X, y = shifted_squares(n=96, n_anomalies=16)
    X_new, y_new = shifted_squares(n=64, n_anomalies=16, seed=1)
    params = {**TINY, "score_mode": "combined", "max_epochs": 2}
    with_clf = DeepSAD(classifier=classifier, **params).fit(X, y)
    without = DeepSAD(classifier=None, **params).fit(X, y)
    assert with_clf._score_components() == ["distance", "knn:pixels", "classifier"]
    assert without._score_components() == ["distance", "knn:pixels"]
    assert without.classifier_ is None
    np.testing.assert_array_equal(with_clf.classifier_.classes_, [-1, 1])
    change = with_clf.score_samples(X_new) - without.score_samples(X_new)
    # clipped at 0: the classifier can only make an image more abnormal ...
    assert (change <= 1e-9).all()
    # ... and it does so for the kind of the labelled anomalies, not for normal images
    assert change[y_new == -1].mean() < -1.0
    assert change[y_new == -1].mean() < 5 * change[y_new == 1].mean()


@pytest.mark.parametrize(("classifier", "C", "kind", "fitted_C"),
                         [("svm", "auto", "SVC", 1.0), ("logistic", "auto", "LogisticRegression", 0.01),
                          ("svm", 3.0, "SVC", 3.0)])
def test_classifier_scores_are_its_decision_function(classifier, C, kind, fitted_C):
    X, y = shifted_squares()
    params = {**TINY, "score_mode": "combined", "max_epochs": 1}
    detector = DeepSAD(classifier=classifier, classifier_C=C, **params).fit(X, y)
    assert type(detector.classifier_).__name__ == kind
    assert detector.classifier_.C == fitted_C
    X_new, _ = shifted_squares(n=20, n_anomalies=10, seed=2)
    pixels = torch.as_tensor(X_new.reshape(len(X_new), -1), dtype=torch.float64)
    np.testing.assert_allclose(detector._direct_scores(torch.as_tensor(X_new))["classifier"],
                               -detector.classifier_.decision_function(pixels.numpy()),
                               rtol=1e-6, atol=1e-8)


def test_classifier_left_out_without_labelled_anomalies():
    X, y = shifted_squares()
    detector = DeepSAD(**{**TINY, "score_mode": "combined", "max_epochs": 1}).fit(X[y == 1])
    assert detector.classifier_ is None
    assert detector._score_components() == ["distance", "knn:pixels"]
    # a refit with labels adds it, a refit without removes it again
    assert detector.fit(X, y).classifier_ is not None
    assert detector.fit(X[y == 1]).classifier_ is None


def test_score_weights():
    X, y = shifted_squares()
    params = {**TINY, "score_mode": "combined", "max_epochs": 1}
    without = DeepSAD(classifier=None, **params).fit(X, y)
    # a zero weight takes the classifier out of the sum
    zero = DeepSAD(score_weights={"classifier": 0.0}, **params).fit(X, y)
    np.testing.assert_allclose(zero.score_samples(X), without.score_samples(X))
    # the distance alone, standardised: the same ranking as score_mode='distance'
    distance_only = DeepSAD(classifier=None, score_weights={"knn:pixels": 0.0}, **params)
    ranks = distance_only.fit(X, y).score_samples(X).argsort(kind="stable")
    distance_only.set_params(score_mode="distance")
    np.testing.assert_array_equal(ranks, distance_only.score_samples(X).argsort(kind="stable"))
    for bad, match in [({"pixels": 1.0}, "unknown components"),
                       ({"distance": -1.0}, "finite number >= 0")]:
        with pytest.raises(ValueError, match=match):
            DeepSAD(score_weights=bad, **params).fit(X, y)


def test_save_and_load_keep_the_classifier(tmp_path):
    import skanomaly

    X, y = shifted_squares()
    detector = DeepSAD(**{**TINY, "score_mode": "combined", "max_epochs": 1}).fit(X, y)
    skanomaly.save(detector, tmp_path / "deep_sad.skan")
    loaded = skanomaly.load(tmp_path / "deep_sad.skan")
    np.testing.assert_array_equal(loaded.classifier_.dual_coef_, detector.classifier_.dual_coef_)
    np.testing.assert_allclose(loaded.score_samples(X), detector.score_samples(X))
