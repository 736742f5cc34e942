"""skanomaly.save / load: what the files hold, what they refuse, files of older versions.

The round trip of every estimator (identical outputs, on the CPU and from a
GPU) is in test_common.py.
"""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from _helpers import TinyBackbone
from sklearn.ensemble import IsolationForest
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import OneClassSVM

import skanomaly
from skanomaly import (
    AutoEncoder,
    CNNFeatures,
    TrimmedDetector,
    load,
    save,
)

FAST = {"max_epochs": 1, "n_filters": 4, "batch_size": 16, "random_state": 0}
DATA = Path(__file__).parent / "data"


# --------------------------------------------------------------------------
# files written by skanomaly 0.1.0 (tests/data/make_legacy_0_1_0.py)
# --------------------------------------------------------------------------
LEGACY = json.loads((DATA / "legacy_0.1.0_outputs.json").read_text())
LEGACY_CLASSES = {"autoencoder": "AutoEncoder", "dualdiscgan": "DualDiscGAN", "anogan": "AnoGAN",
                  "cnn_rotation": "CNNOneClassSVM", "cnn_combined": "CNNOneClassSVM",
                  "cnn_features": "CNNFeatures", "trimmed_ae": "TrimmedDetector"}


def test_every_legacy_file_is_tested():
    assert set(LEGACY) == set(LEGACY_CLASSES)
    assert {p.name for p in DATA.glob("legacy_0.1.0_*.pt")} == {
        f"legacy_0.1.0_{name}.pt" for name in LEGACY}


@pytest.mark.parametrize("name", sorted(LEGACY))
def test_files_of_0_1_0_load_with_the_same_outputs(name):
    X = np.load(DATA / "legacy_0.1.0_X.npy")
    with pytest.warns(UserWarning, match=r"saved by skanomaly 0\.1\.0; this is"):
        estimator = load(DATA / f"legacy_0.1.0_{name}.pt")
    assert type(estimator).__name__ == LEGACY_CLASSES[name]
    assert isinstance(estimator, getattr(skanomaly, LEGACY_CLASSES[name]))
    out = estimator.transform(X) if name == "cnn_features" else estimator.score_samples(X)
    np.testing.assert_allclose(out, np.asarray(LEGACY[name]), rtol=1e-5, atol=1e-6)
    if hasattr(estimator, "predict"):
        assert set(estimator.predict(X)) <= {-1, 1}


def test_file_with_a_parameter_this_version_removed_is_a_clear_error(images, tmp_path):
    """A 0.2 file of a score with several components: refit, says the error."""
    X, _ = images
    path = tmp_path / "old.pt"
    save(AutoEncoder(**FAST).fit(X), path)
    data = torch.load(path, weights_only=True)
    data["estimator"]["params"]["pixel_weight"] = 1.0
    torch.save(data, path)
    with pytest.raises(ValueError, match=r"\['pixel_weight'\].*Fit the detector again"):
        load(path)


# --------------------------------------------------------------------------
# what the files hold and refuse
# --------------------------------------------------------------------------
def test_save_load_pipeline_of_cnn_features(images, tmp_path):
    X, _ = images
    pipe = make_pipeline(CNNFeatures(**FAST), StandardScaler(), OneClassSVM()).fit(X)
    save(pipe, tmp_path / "pipe.pt")
    loaded = load(tmp_path / "pipe.pt")
    np.testing.assert_array_equal(loaded.score_samples(X), pipe.score_samples(X))


def test_load_does_not_read_the_weights_file_again(images, tmp_path):
    X, _ = images
    backbone = CNNFeatures(n_filters=4, random_state=0)
    weights = tmp_path / "backbone.pt"
    from skanomaly.nn import make_backbone

    torch.save(make_backbone("small", 1, 4, True).state_dict(), weights)
    features = backbone.set_params(weights_path=str(weights)).fit(X)
    save(features, tmp_path / "features.pt")
    weights.unlink()  # the saved model carries the weights itself
    loaded = load(tmp_path / "features.pt")
    np.testing.assert_array_equal(loaded.transform(X), features.transform(X))


def test_unsaved_parameters_warn_and_can_be_passed_to_load(images, tmp_path):
    from skorch.callbacks import EpochTimer

    X, y = images
    detector = AutoEncoder(latent_dim=2, callbacks=[EpochTimer()], **FAST).fit(X, y)
    with pytest.warns(UserWarning, match="callbacks"):
        save(detector, tmp_path / "model.pt")
    with pytest.warns(UserWarning, match="callbacks"):
        loaded = load(tmp_path / "model.pt")
    assert loaded.callbacks is None
    loaded = load(tmp_path / "model.pt", callbacks=[EpochTimer()])
    assert isinstance(loaded.callbacks[0], EpochTimer)
    np.testing.assert_array_equal(loaded.score_samples(X), detector.score_samples(X))


def test_backbone_module_must_be_passed_again(images, tmp_path):
    X, _ = images

    features = CNNFeatures(backbone=TinyBackbone(), weights="keep").fit(X)
    with pytest.warns(UserWarning, match="backbone"):
        save(features, tmp_path / "features.pt")
    with pytest.warns(UserWarning, match="backbone"), pytest.raises(
            ValueError, match="do not fit the rebuilt network"):
        load(tmp_path / "features.pt")
    loaded = load(tmp_path / "features.pt", backbone=TinyBackbone())
    np.testing.assert_allclose(loaded.transform(X), features.transform(X))


def test_save_refuses_what_has_no_weights_only_form(rng, tmp_path):
    X = rng.rand(30, 4)
    detector = TrimmedDetector(IsolationForest(n_estimators=3, random_state=0)).fit(X)
    with pytest.raises(TypeError, match="joblib"):
        save(detector, tmp_path / "forest.pt")


def test_save_needs_a_fitted_estimator(tmp_path):
    with pytest.raises(NotFittedError):
        save(AutoEncoder(), tmp_path / "model.pt")


def test_load_rejects_foreign_files_and_classes(tmp_path):
    torch.save({"weights": torch.zeros(2)}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="not a file written by skanomaly.save"):
        load(tmp_path / "other.pt")
    (tmp_path / "text.pt").write_text("not a model")
    with pytest.raises(ValueError, match="not a file written by skanomaly.save"):
        load(tmp_path / "text.pt")
    from skanomaly._persistence import FORMAT

    forged = {"format": FORMAT, "skanomaly_version": None, "estimator": {
        "__estimator__": "os.system", "params": {}, "unsaved": [], "state": {}}}
    torch.save(forged, tmp_path / "forged.pt")
    with pytest.warns(UserWarning), pytest.raises(ValueError, match="only scikit-learn"):
        load(tmp_path / "forged.pt")
