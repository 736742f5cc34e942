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


def test_score_weights_preset_is_its_weights():
    X, y = shifted_squares()
    params = {**TINY, "score_mode": "combined", "max_epochs": 1, "cnn_epochs": 1}
    preset = DeepSAD(score_weights="all-kinds", **params).fit(X, y)
    explicit = DeepSAD(score_weights={"classifier": 2.0, "cnn": 4.0}, **params).fit(X, y)
    assert preset._score_components() == ["distance", "knn:pixels", "classifier", "cnn"]
    np.testing.assert_allclose(preset.score_samples(X), explicit.score_samples(X))
    default = DeepSAD(**params).fit(X, y)
    assert "cnn" not in default._score_components()
    with pytest.raises(ValueError, match="score_weights"):
        DeepSAD(score_weights="everything", **params).fit(X, y)


def test_save_and_load_keep_the_classifier(tmp_path):
    import skanomaly

    X, y = shifted_squares()
    detector = DeepSAD(**{**TINY, "score_mode": "combined", "max_epochs": 1}).fit(X, y)
    skanomaly.save(detector, tmp_path / "deep_sad.skan")
    loaded = skanomaly.load(tmp_path / "deep_sad.skan")
    np.testing.assert_array_equal(loaded.classifier_.dual_coef_, detector.classifier_.dual_coef_)
    np.testing.assert_allclose(loaded.score_samples(X), detector.score_samples(X))


def test_cnn_component_learns_normal_against_labelled_anomalies():
    # the same fit with and without the CNN classifier: same nets, banks and held-out images
    X, y = shifted_squares(n=96, n_anomalies=16)
    X_new, y_new = shifted_squares(n=64, n_anomalies=16, seed=1)
    params = {**TINY, "score_mode": "combined", "max_epochs": 1, "classifier": None,
              "cnn_epochs": 4}
    with_cnn = DeepSAD(score_weights={"cnn": 2.0}, **params).fit(X, y)
    without = DeepSAD(**params).fit(X, y)
    assert with_cnn._score_components() == ["distance", "knn:pixels", "cnn"]
    assert without._score_components() == ["distance", "knn:pixels"]
    assert not hasattr(without.net_, "classifier_module_")
    # the logit of "normal" separates new images of the two kinds (a flipped
    # target or loss sign reverses it)
    logit = -with_cnn._map_batches(lambda x: with_cnn._direct_scores(x)["cnn"], X_new)
    assert logit[y_new == 1].min() > logit[y_new == -1].max()
    change = with_cnn.score_samples(X_new) - without.score_samples(X_new)
    # clipped at 0: the classifier can only make an image more abnormal ...
    assert (change <= 1e-9).all()
    # ... and it does so for the kind of the labelled anomalies
    assert change[y_new == -1].mean() < -1.0
    assert change[y_new == -1].mean() < 5 * change[y_new == 1].mean()
    # its epochs count, in the phase that trains the classifier alone
    assert with_cnn.n_epochs_ == without.n_epochs_ + 4


def test_cnn_component_needs_labelled_anomalies_and_a_weight():
    X, y = shifted_squares()
    params = {**TINY, "score_mode": "combined", "max_epochs": 1, "cnn_epochs": 1,
              "score_weights": {"cnn": 1.0}}
    detector = DeepSAD(**params).fit(X[y == 1])
    assert "cnn" not in detector._score_components()
    assert not hasattr(detector.net_, "classifier_module_")
    assert "cnn" in detector.fit(X, y)._score_components()
    detector.set_params(score_mode="distance")
    assert not hasattr(detector.fit(X, y).net_, "classifier_module_")


def test_cnn_classifier_learning_rate_follows_a_cosine_and_shifts_scale_with_the_image():
    X, y = shifted_squares(n=64, n_anomalies=16)
    seen = []

    class Record(Callback):
        def on_batch_begin(self, net, batch=None, training=False, **kwargs):
            if training and net.phase == "classifier":
                seen.append(net.optimizer_c_.param_groups[0]["lr"])

    detector = DeepSAD(**{**TINY, "score_mode": "combined", "max_epochs": 1, "cnn_epochs": 20,
                          "score_weights": {"cnn": 1.0}, "callbacks": [Record()]}).fit(X, y)
    net = detector.net_
    assert net.max_shift == 1  # 12 pixels / 14, rounded
    # the learning rate falls from the optimizer's to near 0 over the phase
    # (recorded before each step sets it: the first is the initial one)
    assert seen[0] == pytest.approx(1e-3)
    assert np.all(np.diff(seen[1:]) <= 0) and seen[-1] < 0.1 * seen[1]


def test_random_shift():
    from skanomaly.nn import random_shift

    x = torch.arange(2 * 3 * 9 * 9, dtype=torch.float32).reshape(2, 3, 9, 9)
    torch.manual_seed(0)
    shifted = random_shift(x, 2)
    assert shifted.shape == x.shape
    padded = torch.nn.functional.pad(x, (2, 2, 2, 2), mode="replicate")
    for i in range(2):
        # each image is a 9x9 window of its edge-padded self, the same for every channel
        windows = [(dy, dx) for dy in range(5) for dx in range(5)
                   if torch.equal(padded[i, :, dy:dy + 9, dx:dx + 9], shifted[i])]
        assert len(windows) == 1
    # over many draws, every shift of -2..2 along each axis occurs
    dot = torch.zeros(1, 1, 9, 9)
    dot[0, 0, 4, 4] = 1.0
    draws = {tuple(torch.nonzero(random_shift(dot, 2)[0, 0])[0].tolist()) for _ in range(300)}
    assert draws == {(4 + dy, 4 + dx) for dy in range(-2, 3) for dx in range(-2, 3)}
    assert random_shift(x, 0) is x
    flat = torch.rand(4, 7)
    assert random_shift(flat, 2) is flat


def test_save_and_load_keep_the_cnn_classifier(tmp_path):
    import skanomaly

    X, y = shifted_squares()
    detector = DeepSAD(**{**TINY, "score_mode": "combined", "max_epochs": 1, "cnn_epochs": 1,
                          "score_weights": {"cnn": 1.0}}).fit(X, y)
    skanomaly.save(detector, tmp_path / "deep_sad.skan")
    loaded = skanomaly.load(tmp_path / "deep_sad.skan")
    assert "cnn" in loaded._score_components()
    np.testing.assert_allclose(loaded.score_samples(X), detector.score_samples(X))


def test_anomaly_batch_share_after_pretraining():
    # the balanced loader is set on a net initialised by the pretraining
    X, y = shifted_squares()
    detector = DeepSAD(**{**TINY, "max_epochs": 1, "anomaly_batch_share": 0.5}).fit(X, y)
    assert detector.n_epochs_ == 3
