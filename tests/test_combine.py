"""CombinedDetector and the recipes: sums of standardised scores, made explicit."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.ensemble import IsolationForest

from skanomaly import (
    AutoEncoder,
    ClassifierDetector,
    CombinedDetector,
    KNNDetector,
    load,
    make_recipe,
    save,
)
from skanomaly._combine import RECIPES


def shifted_squares(n=120, n_anomalies=16, seed=0):
    """Normal: a bright square, noisy; labelled anomalies: the same square, moved."""
    rng = np.random.RandomState(seed)
    X = rng.rand(n, 1, 12, 12).astype(np.float32) * 0.3
    X[n_anomalies:, :, 4:8, 4:8] += 0.6
    X[:n_anomalies, :, 5:9, 3:7] += 0.6
    y = np.where(np.arange(n) < n_anomalies, -1, 1)
    return X, y


def test_members_are_standardised_on_normal_samples_held_out_of_their_fit():
    X, y = shifted_squares()
    det = CombinedDetector([("a", KNNDetector()), ("b", KNNDetector(n_neighbors=1))],
                           random_state=0).fit(X, y)
    held = det.held_out_
    normal = np.flatnonzero(y == 1)
    assert held.sum() == round(0.1 * len(normal)) and (y[held] == 1).all()
    # held out of every member's fit: their banks lack exactly those images
    for _, member in det.detectors_:
        assert len(member.bank_) == len(normal) - held.sum()
        bank = {row.tobytes() for row in member.bank_}
        assert not any(member._features(X[held])[i].tobytes() in bank
                       for i in range(held.sum()))
    # each member's z-score has mean 0 and std 1 on them
    for name, z in det.score_components(X[held]).items():
        assert abs(z.mean()) < 1e-9 and abs(z.std() - 1) < 1e-9, name
    # the score is minus the weighted sum of the z-scores
    a = -det.named_detectors_["a"].score_samples(X)
    mean, std = det.calibration_["a"]
    components = det.score_components(X)
    np.testing.assert_allclose(components["a"], (a - mean) / std)
    np.testing.assert_allclose(det.score_samples(X), -(components["a"] + components["b"]))


def test_weights_and_one_sided_members():
    X, y = shifted_squares()
    members = [("knn", KNNDetector()), ("svm", ClassifierDetector())]
    det = CombinedDetector(members, weights={"svm": 0.5}, random_state=0).fit(X, y)
    z = det.score_components(X)
    # the classifier needs labelled anomalies: one-sided by default, clipped at 0
    assert z["svm"].min() >= 0 and (z["svm"] == 0).any()
    np.testing.assert_allclose(det.score_samples(X), -(z["knn"] + 0.5 * z["svm"]))
    # the labelled kind scores lower with the classifier than without
    knn_only = CombinedDetector(members[:1], random_state=0).fit(X, y)
    assert det.score_samples(X[y == -1]).mean() < knn_only.score_samples(X[y == -1]).mean()
    # two-sided when asked
    both = CombinedDetector(members, one_sided=[], random_state=0).fit(X, y)
    assert both.score_components(X)["svm"].min() < 0


def test_members_that_need_labels_are_skipped_without_them():
    X, y = shifted_squares()
    det = CombinedDetector([("knn", KNNDetector()), ("svm", ClassifierDetector())],
                           random_state=0).fit(X[y == 1])
    assert det.skipped_ == ["svm"] and list(det.named_detectors_) == ["knn"]
    with pytest.raises(ValueError, match="needs labelled anomalies|Every member"):
        CombinedDetector([("svm", ClassifierDetector())]).fit(X[y == 1])


def test_bad_members_and_weights_raise():
    X, _y = shifted_squares()
    with pytest.raises(ValueError, match="not members"):
        CombinedDetector([("knn", KNNDetector())], weights={"other": 1.0}).fit(X)
    with pytest.raises(ValueError, match="finite number"):
        CombinedDetector([("knn", KNNDetector())], weights={"knn": -1.0}).fit(X)
    with pytest.raises(ValueError, match="empty"):
        CombinedDetector([]).fit(X)
    with pytest.raises(ValueError, match="not an outlier detector"):
        CombinedDetector([("pca", object())]).fit(X)


def test_member_parameters_route_and_scikit_learn_detectors_join():
    X, _y = shifted_squares()
    det = CombinedDetector([("knn", KNNDetector()), ("forest", IsolationForest(random_state=0))])
    det.set_params(knn__n_neighbors=2, forest__n_estimators=10)
    assert det.get_params()["knn__n_neighbors"] == 2
    fitted = clone(det).fit(X.reshape(len(X), -1))
    assert fitted.named_detectors_["forest"].n_estimators == 10
    assert fitted.predict(X.reshape(len(X), -1)).dtype.kind == "i"


def test_save_and_load(tmp_path):
    X, y = shifted_squares()
    det = CombinedDetector([("knn", KNNDetector()), ("svm", ClassifierDetector()),
                            ("ae", AutoEncoder(max_epochs=1, latent_dim=2, n_filters=2,
                                               random_state=0))],
                           weights={"ae": 0.5}, random_state=0).fit(X, y)
    save(det, tmp_path / "combined.skan")
    loaded = load(tmp_path / "combined.skan")
    np.testing.assert_allclose(loaded.score_samples(X), det.score_samples(X), rtol=1e-5)


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_recipes_are_combined_detectors_of_their_documented_members(name):
    det = make_recipe(name, random_state=0)
    assert isinstance(det, CombinedDetector)
    names = [n for n, _ in det.detectors]
    expected = {"one-class": ["cnn", "pixels"], "few-kinds": ["deep-sad", "pixels", "svm"],
                "all-kinds": ["deep-sad", "pixels", "svm", "cnn"]}[name]
    assert names == expected
    if name != "one-class":
        assert det.weights["deep-sad"] == 0.25 and det.weights["pixels"] == 1.0
    with pytest.raises(ValueError, match="Unknown recipe"):
        make_recipe("nope")


def test_few_kinds_recipe_fits_and_ranks():
    from sklearn.datasets import load_digits
    from sklearn.metrics import roc_auc_score

    d = load_digits()
    X = (d.images[:, None] / 16).astype(np.float32)
    rows = np.r_[np.flatnonzero(d.target == 0), np.flatnonzero(d.target == 1)[:10]]
    y = np.where(d.target[rows] == 0, 1, -1)
    det = make_recipe("few-kinds", random_state=0).set_params(
        **{"deep-sad__max_epochs": 1, "deep-sad__pretrain_epochs": 1,
           "deep-sad__n_filters": 4})
    det.fit(X[rows], y)
    assert roc_auc_score(d.target == 0, det.score_samples(X)) > 0.95
