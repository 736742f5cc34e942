"""ClassifierDetector and CNNClassifier: classifiers of labelled anomalies as detectors."""

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.svm import SVC
from skorch.callbacks import Callback

from skanomaly import ClassifierDetector, CNNClassifier, load, save


def shifted_squares(n=64, n_anomalies=16, seed=0, size=12):
    """Normal: a bright square; labelled anomalies: the same square, moved."""
    rng = np.random.RandomState(seed)
    X = rng.rand(n, 1, size, size).astype(np.float32) * 0.1
    X[n_anomalies:, :, 4:8, 4:8] += 0.8
    X[:n_anomalies, :, 5:9, 3:7] += 0.8
    y = np.where(np.arange(n) < n_anomalies, -1, 1)
    return X, y


@pytest.mark.parametrize("classifier", [None, LogisticRegression(C=0.1)])
def test_classifier_scores_are_its_decision_function_towards_normal(classifier):
    X, y = shifted_squares()
    detector = ClassifierDetector(classifier=classifier).fit(X, y)
    clf = detector.classifier_
    if classifier is None:
        assert isinstance(clf, SVC) and clf.class_weight == "balanced" and clf.gamma == "scale"
    assert list(clf.classes_) == [-1, 1]
    np.testing.assert_allclose(detector.score_samples(X),
                               clf.decision_function(X.reshape(len(X), -1)), rtol=1e-6)
    # class 1 (normal) scores higher: the labelled kind is below every normal image
    scores = detector.score_samples(X)
    assert scores[y == -1].max() < scores[y == 1].min()


def test_classifier_without_decision_function_scores_by_log_odds():
    from sklearn.naive_bayes import GaussianNB

    X, y = shifted_squares()
    detector = ClassifierDetector(classifier=GaussianNB()).fit(X, y)
    p = detector.classifier_.predict_proba(X.reshape(len(X), -1))[:, 1].clip(1e-12, 1 - 1e-12)
    np.testing.assert_allclose(detector.score_samples(X), np.log(p / (1 - p)), rtol=1e-5)


@pytest.mark.parametrize("cls", [ClassifierDetector, CNNClassifier])
def test_classifiers_need_labelled_anomalies(cls):
    X, y = shifted_squares()
    with pytest.raises(ValueError, match="labelled anomalies"):
        cls().fit(X[y == 1])


def test_cnn_classifier_learns_normal_against_labelled_anomalies():
    X, y = shifted_squares(n=96)
    X_new, y_new = shifted_squares(n=64, seed=1)
    detector = CNNClassifier(max_epochs=30, n_threads=1, random_state=0).fit(X, y)
    logit = detector.score_samples(X_new)
    # the logit of "normal" separates new images of the two kinds (a flipped
    # target or loss sign reverses it)
    assert logit[y_new == 1].min() > logit[y_new == -1].max()
    module = detector.net_.module_.eval()
    with torch.no_grad():
        np.testing.assert_allclose(logit, module(torch.as_tensor(X_new)).numpy(), rtol=1e-5)


def test_cnn_classifier_learning_rate_follows_a_cosine_and_shifts_scale_with_the_image():
    X, y = shifted_squares()
    seen = []

    class Record(Callback):
        def on_batch_begin(self, net, batch=None, training=False, **kwargs):
            if training:
                seen.append(net.optimizer_.param_groups[0]["lr"])

    detector = CNNClassifier(max_epochs=10, callbacks=[Record()], random_state=0).fit(X, y)
    assert detector.net_.max_shift == 1  # 12 pixels / 14, rounded
    assert CNNClassifier(max_shift=3).fit(X, y).net_.max_shift == 3
    # the learning rate falls from lr to near 0 over the fit
    assert seen[0] == pytest.approx(1e-3)
    assert np.all(np.diff(seen) <= 1e-12) and seen[-1] < 0.05 * seen[0]
    # batches of 64 with a quarter of labelled anomalies
    first = detector.net_.history[0]["batches"]
    assert len(first) == 1 and first[0]["train_batch_size"] == 64


def test_cnn_classifier_is_seeded():
    X, y = shifted_squares()
    a = CNNClassifier(max_epochs=1, random_state=3).fit(X, y).score_samples(X[:20])
    b = CNNClassifier(max_epochs=1, random_state=3).fit(X, y).score_samples(X[:20])
    c = CNNClassifier(max_epochs=1, random_state=4).fit(X, y).score_samples(X[:20])
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_save_and_load(tmp_path):
    X, y = shifted_squares()
    for detector in (ClassifierDetector().fit(X, y),
                     CNNClassifier(max_epochs=1, random_state=0).fit(X, y)):
        save(detector, tmp_path / "model.skan")
        loaded = load(tmp_path / "model.skan")
        np.testing.assert_allclose(loaded.score_samples(X), detector.score_samples(X),
                                   rtol=1e-6)


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


