"""AnoGAN: estimator checks, the three scores, parameters, inputs, persistence."""

import copy

import joblib
import numpy as np
import pytest
import torch
from _checks import expected_failed_checks, with_label_free_twins
from sklearn.base import clone
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import parametrize_with_checks

from skanomaly._anogan import AnoGAN
from skanomaly.nn import AnoGANDiscriminator
from skanomaly.exceptions import TrainingDivergedError

FAST = dict(max_epochs=1, encoder_epochs=1, latent_dim=2, n_filters=2, batch_size=32,
            search_steps=2, n_threads=1, random_state=0)
SMALL = dict(latent_dim=4, n_filters=4, batch_size=16, n_threads=1, random_state=0)
MODES = ["encoder", "latent_search", "discriminator"]

ROUNDOFF_REASON = (
    "float32 round-off: the fully connected nets give results differing by "
    "~2e-7 relative when a sample is scored alone or in a batch (BLAS takes "
    "other paths), just above the check's rtol=1e-7"
)


def _expected_failed(estimator):
    failed = expected_failed_checks(estimator)
    failed.setdefault("check_methods_subset_invariance", ROUNDOFF_REASON)
    return failed


@pytest.fixture(autouse=True)
def one_thread():
    n_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n_threads)


# --------------------------------------------------------------------------
# scikit-learn's estimator checks
# --------------------------------------------------------------------------
@parametrize_with_checks(
    with_label_free_twins([AnoGAN(**FAST)]), expected_failed_checks=_expected_failed
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


# --------------------------------------------------------------------------
# the three scores
# --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def blobs():
    """Normal: a bright square on a dark background; anomalies: noise."""
    rng = np.random.RandomState(0)
    X = rng.rand(96, 1, 12, 12).astype(np.float32) * 0.1
    X[:, :, 4:8, 4:8] += 0.8
    X_anomaly = rng.rand(16, 1, 12, 12).astype(np.float32)
    return X[:80], np.r_[X[80:], X_anomaly], np.r_[np.ones(16), -np.ones(16)]


@pytest.fixture(scope="module")
def fitted(blobs):
    """One encoder-mode fit, scored every way (the GAN is the same)."""
    X, _, _ = blobs
    return AnoGAN(max_epochs=20, encoder_epochs=20, lr=5e-3, search_steps=10, **SMALL).fit(X)


@pytest.mark.parametrize("mode", MODES)
def test_each_score_separates_noise_from_normal(fitted, blobs, mode):
    _, X_test, y_test = blobs
    # the GAN is the same for all three; score_mode is read when scoring
    detector = copy.deepcopy(fitted).set_params(score_mode=mode)
    scores = detector.score_samples(X_test)
    assert scores.dtype == np.float64 and scores.shape == (32,)
    assert np.isfinite(scores).all()
    assert roc_auc_score(y_test, scores) > 0.8


@pytest.mark.parametrize("mode", MODES)
def test_each_score_fits_and_predicts(blobs, mode):
    X, X_test, _ = blobs
    detector = AnoGAN(score_mode=mode, max_epochs=1, encoder_epochs=1, search_steps=2,
                      contamination=0.1, **SMALL).fit(X)
    assert detector.encoder_fitted_ == (mode == "encoder")
    labels = detector.predict(X)
    assert set(np.unique(labels)) <= {-1, 1}
    assert (labels == -1).sum() == 8  # contamination=0.1 of 80
    np.testing.assert_allclose(
        detector.decision_function(X_test), detector.score_samples(X_test) - detector.offset_
    )


def test_encoder_score_is_izif_residual(fitted, blobs):
    _, X_test, _ = blobs
    net = fitted.net_
    x = torch.as_tensor(X_test)
    for module in (net.generator_, net.discriminator_, net.encoder_):
        module.eval()
    with torch.no_grad():
        x_hat = net.generator_(net.encoder_(x))
        image = (x_hat - x).pow(2).flatten(1).mean(1)
        features = (net.discriminator_.features(x_hat)
                    - net.discriminator_.features(x)).pow(2).mean(1)
    expected = -(image + fitted.kappa * features).numpy()
    np.testing.assert_allclose(fitted.score_samples(X_test), expected, rtol=1e-5)


def test_encoder_training_leaves_the_gan_unchanged(blobs):
    X, _, _ = blobs
    gan_only = AnoGAN(score_mode="discriminator", max_epochs=2, **SMALL).fit(X)
    with_encoder = AnoGAN(score_mode="encoder", max_epochs=2, encoder_epochs=2, **SMALL).fit(X)
    for name in ("generator_", "discriminator_"):
        a = getattr(gan_only.net_, name).state_dict()
        b = getattr(with_encoder.net_, name).state_dict()
        for key in a:
            torch.testing.assert_close(a[key], b[key])
        # parameters are trainable again after the encoder phase
        assert all(p.requires_grad for p in getattr(with_encoder.net_, name).parameters())
    # the encoder phase ran: its own epochs are in the history, with its loss
    history = with_encoder.net_.history
    assert len(history) == 4
    assert "e_loss" in history[-1, "batches", 0] and "d_loss" in history[0, "batches", 0]


def test_encoder_score_needs_encoder_fit(fitted, blobs):
    X, _, _ = blobs
    detector = AnoGAN(score_mode="discriminator", max_epochs=1, **SMALL).fit(X)
    detector.set_params(score_mode="encoder")
    with pytest.raises(ValueError, match="score_mode='encoder' needs the encoder"):
        detector.score_samples(X)


# --------------------------------------------------------------------------
# latent search
# --------------------------------------------------------------------------
def test_latent_search_is_batched(fitted, blobs):
    _, X_test, _ = blobs
    detector = copy.deepcopy(fitted).set_params(
        score_mode="latent_search", search_steps=3, batch_size=64)
    sizes = []
    hook = detector.net_.generator_.register_forward_hook(
        lambda module, args, out: sizes.append(len(args[0])))
    try:
        detector.score_samples(X_test)
    finally:
        hook.remove()
    # one call for the 64 starting points, 3 search steps and the final loss,
    # each on the whole batch of 32 images, never one image at a time
    assert sizes == [64] + [32] * 4


def test_latent_search_lowers_the_loss_and_is_per_sample(fitted, blobs):
    _, X_test, _ = blobs
    fitted = copy.deepcopy(fitted)
    z0, loss0 = fitted.set_params(search_steps=0).latent_search(X_test)
    z, loss = fitted.set_params(search_steps=10).latent_search(X_test)
    assert z.shape == (32, fitted.latent_dim) and loss.shape == (32,)
    assert loss.mean() < loss0.mean()
    assert not np.allclose(z, z0)
    # each image follows its own trajectory: alone or in a batch, same result
    _, loss_alone = fitted.latent_search(X_test[3:4])
    np.testing.assert_allclose(loss_alone, loss[3:4], rtol=1e-4)
    # the generator reproduces the image from the latent vector found
    assert fitted.generate(z).shape == X_test.shape
    assert fitted.generate(5).shape == (5, 1, 12, 12)


# --------------------------------------------------------------------------
# parameters, grid search, pipeline, persistence
# --------------------------------------------------------------------------
def test_net_params_routed_to_the_modules_and_optimizers(blobs):
    X, _, _ = blobs
    detector = AnoGAN(max_epochs=1, encoder_epochs=1, **SMALL)
    detector.set_params(generator__n_filters=6, discriminator__n_filters=3,
                        optimizer_d__lr=1e-3)
    assert detector.get_params()["optimizer_d__lr"] == 1e-3
    detector.fit(X)
    net = detector.net_
    assert net.optimizer_d_.param_groups[0]["lr"] == 1e-3
    assert net.optimizer_g_.param_groups[0]["lr"] == detector.lr
    assert net.optimizer_g_.param_groups[0]["betas"] == (0.5, 0.999)
    assert net.discriminator_.body[0].out_channels == 3
    assert net.generator_.net.features[-2].in_channels == 6  # last transposed conv
    assert net.encoder_.net.features[0].out_channels == 4


def test_grid_search_with_roc_auc(digits_split):
    X_train, y_train, _, _ = digits_split
    X, y = X_train.reshape(len(X_train), -1), y_train  # 136 samples, 12 anomalies
    search = GridSearchCV(
        AnoGAN(image_shape=(8, 8), **FAST),
        {"kappa": [0.0, 1.0], "discriminator__n_filters": [2, 3]},
        scoring="roc_auc", cv=2,
    ).fit(X, y)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert search.best_estimator_.image_shape_ == (1, 8, 8)


def test_pipeline_and_flat_input(digits_split):
    X_train, _, _, _ = digits_split
    X = X_train.reshape(len(X_train), -1)
    pipe = make_pipeline(MinMaxScaler(), AnoGAN(image_shape=(1, 8, 8), **FAST)).fit(X)
    assert pipe.score_samples(X).shape == (len(X),)
    # without image_shape, flat vectors get fully connected nets
    flat = AnoGAN(**FAST).fit(X)
    assert flat.image_shape_ == (64,)
    assert isinstance(flat.net_.discriminator_.body[0], torch.nn.Linear)
    assert flat.generate(2).shape == (2, 64)


def test_colour_non_square_images(rng):
    X = rng.rand(20, 3, 10, 14).astype(np.float32)
    detector = AnoGAN(**FAST).fit(X)
    assert detector.generate(2).shape == (2, 3, 10, 14)
    assert detector.score_samples(X).shape == (20,)


def test_clone(blobs):
    detector = AnoGAN(score_mode="latent_search", search_lambda=0.3, **FAST)
    detector.set_params(optimizer_d__lr=1e-3)
    copy = clone(detector)
    assert copy.get_params()["search_lambda"] == 0.3
    assert copy.get_params()["optimizer_d__lr"] == 1e-3
    assert not hasattr(copy, "net_")


@pytest.mark.parametrize("mode", MODES)
def test_joblib_round_trip_gives_identical_scores(blobs, tmp_path, mode):
    X, X_test, _ = blobs
    detector = AnoGAN(score_mode=mode, **FAST).fit(X)
    joblib.dump(detector, tmp_path / "anogan.joblib")
    loaded = joblib.load(tmp_path / "anogan.joblib")
    np.testing.assert_array_equal(loaded.score_samples(X_test), detector.score_samples(X_test))


def test_reproducible_with_random_state(blobs):
    X, X_test, _ = blobs
    a = AnoGAN(**FAST).fit(X).score_samples(X_test)
    b = AnoGAN(**FAST).fit(X).score_samples(X_test)
    np.testing.assert_array_equal(a, b)


# --------------------------------------------------------------------------
# bad input and divergence
# --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "params",
    [dict(score_mode="pixels"), dict(search_lambda=1.5), dict(encoder_epochs=0),
     dict(search_lr=0.0), dict(kappa=-1.0)],
)
def test_bad_params(blobs, params):
    X, _, _ = blobs
    with pytest.raises(InvalidParameterError):
        AnoGAN(**{**FAST, **params}).fit(X)


def test_bad_input(blobs):
    X, _, _ = blobs
    bad = X.copy()
    bad[0, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        AnoGAN(**FAST).fit(bad)
    with pytest.raises(ValueError, match="1 \\(normal\\) and -1"):
        AnoGAN(**FAST).fit(X, np.arange(len(X)) % 2)
    detector = AnoGAN(**FAST).fit(X)
    with pytest.raises(ValueError, match="shape"):
        detector.score_samples(X[:, :, :8, :8])
    with pytest.raises(ValueError, match="Z must have shape"):
        detector.generate(np.zeros((3, 5)))


class NaNDiscriminator(AnoGANDiscriminator):
    def forward(self, x):
        return super().forward(x) * float("nan")


def test_divergence_names_epoch_and_term(blobs):
    X, _, _ = blobs
    detector = AnoGAN(net_params={"discriminator": NaNDiscriminator}, **FAST)
    with pytest.raises(TrainingDivergedError, match="epoch 1.*'discriminator'"):
        detector.fit(X)
