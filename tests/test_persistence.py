"""save/load (weights only), joblib round trips and CUDA end to end, every detector."""

import warnings

import joblib
import numpy as np
import pytest
import torch
from _helpers import TinyBackbone
from sklearn.ensemble import IsolationForest
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import OneClassSVM
from torch import nn

from skanomaly import (
    AnoGAN,
    AutoEncoder,
    CNNFeatures,
    CNNOneClassSVM,
    DualDiscGAN,
    TrimmedDetector,
    load,
    save,
)

FAST = {"max_epochs": 1, "n_filters": 4, "batch_size": 16, "random_state": 0}
DETECTORS = {
    "autoencoder": lambda **kw: AutoEncoder(latent_dim=2, **FAST, **kw),
    "dual-gan": lambda **kw: DualDiscGAN(**FAST, **kw),
    "anogan-encoder": lambda **kw: AnoGAN(latent_dim=4, encoder_epochs=1, **FAST, **kw),
    "anogan-search": lambda **kw: AnoGAN(latent_dim=4, score_mode="latent_search",
                                         search_steps=3, **FAST, **kw),
    "cnn-rotation": lambda **kw: CNNOneClassSVM(**FAST, **kw),
    "cnn-combined": lambda **kw: CNNOneClassSVM(score_mode="combined", **FAST, **kw),
    "trimmed-autoencoder": lambda **kw: TrimmedDetector(
        AutoEncoder(latent_dim=2, **FAST, **kw), n_rounds=2),
}
requires_cuda = pytest.mark.skipif(not torch.cuda.is_available(),
                                   reason="needs a CUDA GPU")


def _fit(estimator, X, y):
    labelled = isinstance(estimator, AutoEncoder | DualDiscGAN)
    return estimator.fit(X, y) if labelled else estimator.fit(X)


@pytest.mark.parametrize("name", sorted(DETECTORS))
def test_save_load_gives_identical_scores(name, images, tmp_path):
    X, y = images
    detector = _fit(DETECTORS[name](), X, y)
    save(detector, tmp_path / "model.pt")
    loaded = load(tmp_path / "model.pt")
    assert type(loaded) is type(detector)
    assert loaded.get_params(deep=False).keys() == detector.get_params(deep=False).keys()
    np.testing.assert_array_equal(loaded.score_samples(X), detector.score_samples(X))
    np.testing.assert_array_equal(loaded.predict(X), detector.predict(X))
    assert loaded.offset_ == detector.offset_
    # the file is plain data: torch's weights-only unpickler reads it
    torch.load(tmp_path / "model.pt", weights_only=True)


@pytest.mark.parametrize("name", sorted(DETECTORS))
def test_joblib_round_trip_gives_identical_scores(name, images, tmp_path):
    X, y = images
    detector = _fit(DETECTORS[name](), X, y)
    joblib.dump(detector, tmp_path / "model.joblib")
    loaded = joblib.load(tmp_path / "model.joblib")
    np.testing.assert_array_equal(loaded.score_samples(X), detector.score_samples(X))


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


# --------------------------------------------------------------------------
# CUDA: fit, score and persist on a GPU; load on the CPU
# --------------------------------------------------------------------------
@requires_cuda
@pytest.mark.parametrize("name", sorted(DETECTORS))
def test_cuda_end_to_end(name, images, tmp_path, monkeypatch):
    X, y = images
    detector = _fit(DETECTORS[name](device="cuda"), X, y)
    inner = getattr(detector, "estimator_", detector)
    modules = [m for m in vars(inner.net_ or inner).values() if isinstance(m, nn.Module)]
    modules += [getattr(inner, "extractor_", None)] if hasattr(inner, "extractor_") else []
    assert modules and all(p.is_cuda for m in modules for p in m.parameters())
    scores = detector.score_samples(X)
    assert scores.dtype == np.float64 and np.isfinite(scores).all()

    save(detector, tmp_path / "gpu.pt")
    joblib.dump(detector, tmp_path / "gpu.joblib")
    np.testing.assert_allclose(load(tmp_path / "gpu.pt").score_samples(X), scores,
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(joblib.load(tmp_path / "gpu.joblib").score_samples(X),
                               scores, rtol=1e-5, atol=1e-6)
    # a machine without a GPU: both files load onto the CPU
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    on_cpu = load(tmp_path / "gpu.pt")
    assert getattr(on_cpu, "estimator", on_cpu).device == "cpu"
    # CPU and GPU kernels differ (TF32 convolutions): equal up to that precision
    np.testing.assert_allclose(on_cpu.score_samples(X), scores, rtol=1e-2, atol=1e-2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # skorch: "device 'cuda' is not available"
        pickled = joblib.load(tmp_path / "gpu.joblib")
    inner = getattr(pickled, "estimator_", pickled)
    assert inner.device_ == "cpu"
    np.testing.assert_allclose(pickled.score_samples(X), scores, rtol=1e-2, atol=1e-2)
