"""AnoGAN: the three scores, the encoder, the latent search, its nets.

The contract it shares with every estimator (checks, persistence, grid
search, pipelines, bad input), in each score mode, is in test_common.py.
"""

import copy

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from skanomaly._anogan import AnoGAN
from skanomaly.exceptions import TrainingDivergedError
from skanomaly.nn import AnoGANDiscriminator

FAST = {"max_epochs": 1, "encoder_epochs": 1, "latent_dim": 2, "n_filters": 2, "batch_size": 32,
        "search_steps": 2, "n_threads": 1, "random_state": 0}
SMALL = {"latent_dim": 4, "n_filters": 4, "batch_size": 16, "n_threads": 1, "random_state": 0}
MODES = ["encoder", "latent_search", "discriminator"]


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
    """One fit with the encoder (default score), scored every way (the GAN is the same).

    Without preprocessing, so that the nets see the raw samples.
    """
    X, _, _ = blobs
    return AnoGAN(max_epochs=20, encoder_epochs=20, lr=5e-3, search_steps=10,
                  preprocessing=None, **SMALL).fit(X)


@pytest.mark.parametrize("mode", MODES)
def test_each_score_separates_noise_from_normal(fitted, blobs, mode):
    _, X_test, y_test = blobs
    # the GAN is the same for all three; score_mode is read when scoring
    detector = copy.deepcopy(fitted).set_params(score_mode=mode)
    scores = detector.score_samples(X_test)
    assert scores.dtype == np.float64 and scores.shape == (32,)
    assert np.isfinite(scores).all()
    assert roc_auc_score(y_test, scores) > 0.8


def test_encoder_is_trained_only_for_the_encoder_score(blobs):
    X, _, _ = blobs
    for mode in MODES:
        detector = AnoGAN(score_mode=mode, **FAST).fit(X)
        assert detector.encoder_fitted_ == (mode == "encoder")
        # the encoder's epochs are counted in n_epochs_
        assert detector.n_epochs_ == 1 + (mode == "encoder")


def test_default_score_is_izif_residual(fitted, blobs):
    """f-AnoGAN's izi_f: the image residual of G(E(x)) plus kappa times the features'."""
    _, X_test, _ = blobs
    detector = copy.deepcopy(fitted)
    assert detector.score_mode == "encoder"
    net = detector.net_
    x = torch.as_tensor(X_test)
    for module in (net.generator_, net.discriminator_, net.encoder_):
        module.eval()
    with torch.no_grad():
        x_hat = net.generator_(net.encoder_(x))
        image = (x_hat - x).pow(2).flatten(1).mean(1)
        features = (net.discriminator_.features(x_hat)
                    - net.discriminator_.features(x)).pow(2).mean(1)
    expected = -(image + detector.kappa * features).numpy()
    np.testing.assert_allclose(detector.score_samples(X_test), expected, rtol=1e-5)


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
# parameters and nets
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


def test_flat_input_gets_fully_connected_nets(digits_split):
    X_train, _, _, _ = digits_split
    X = X_train.reshape(len(X_train), -1)
    flat = AnoGAN(**FAST).fit(X)
    assert flat.image_shape_ == (64,)
    assert isinstance(flat.net_.discriminator_.body[0], torch.nn.Linear)
    assert flat.generate(2).shape == (2, 64)


def test_colour_non_square_images(rng):
    X = rng.rand(20, 3, 10, 14).astype(np.float32)
    detector = AnoGAN(**FAST).fit(X)
    assert detector.generate(2).shape == (2, 3, 10, 14)
    assert detector.score_samples(X).shape == (20,)


# --------------------------------------------------------------------------
# latent vectors and divergence
# --------------------------------------------------------------------------
def test_generate_checks_the_latent_vectors(blobs):
    X, _, _ = blobs
    detector = AnoGAN(**FAST).fit(X)
    with pytest.raises(ValueError, match=r"Z must have shape \(n_samples, 2\); got \(3, 5\)"):
        detector.generate(np.zeros((3, 5)))


class NaNDiscriminator(AnoGANDiscriminator):
    def forward(self, x):
        return super().forward(x) * float("nan")


def test_divergence_names_epoch_and_term(blobs):
    X, _, _ = blobs
    detector = AnoGAN(net_params={"discriminator": NaNDiscriminator}, **FAST)
    with pytest.raises(TrainingDivergedError, match="epoch 1.*'discriminator'"):
        detector.fit(X)
