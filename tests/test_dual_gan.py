"""DualDiscGAN: size-adaptive nets, every loss term's effect, labelled anomalies.

The contract it shares with every estimator (checks, persistence, grid
search, pipelines, bad input) is in test_common.py.
"""

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from skorch.callbacks import Callback

import skanomaly._dual_gan as dual_gan_module
from skanomaly._dual_gan import DualDiscGAN
from skanomaly.exceptions import TrainingDivergedError
from skanomaly.nn import MLPGenerator, UNetGenerator, abc_loss, patch_l1

FAST = {"max_epochs": 1, "n_filters": 2, "batch_size": 32, "n_threads": 1, "random_state": 0}
TINY = {"max_epochs": 2, "n_filters": 4, "batch_size": 16, "n_threads": 1, "random_state": 0}


# -- size-adaptive networks ------------------------------------------------
@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 13, 17), (1, 8, 8), (3, 3, 3)])
@pytest.mark.parametrize("skip", [True, False])
def test_fit_any_image_size(shape, skip, rng):
    X = rng.rand(24, *shape).astype(np.float32)
    y = np.where(np.arange(24) < 6, -1, 1)
    model = DualDiscGAN(skip_connections=skip, **FAST).fit(X, y)
    assert isinstance(model.net_.generator_, UNetGenerator)
    assert model.reconstruct(X[:5]).shape == (5, *shape)
    assert np.isfinite(model.score_samples(X)).all()


def test_horizontal_flip_changes_training_only(images):
    X, y = images
    plain = DualDiscGAN(**TINY).fit(X, y)
    flipped = DualDiscGAN(horizontal_flip=True, **TINY).fit(X, y)
    assert flipped.net_.horizontal_flip
    assert not np.allclose(plain.score_samples(X), flipped.score_samples(X))
    # flat vectors have no left and right: the option leaves them alone
    Xf = X.reshape(len(X), -1)
    a = DualDiscGAN(**TINY).fit(Xf, y).score_samples(Xf)
    b = DualDiscGAN(horizontal_flip=True, **TINY).fit(Xf, y).score_samples(Xf)
    np.testing.assert_array_equal(a, b)


def test_flat_input_gets_fully_connected_nets_unless_image_shape(rng):
    X = rng.randn(40, 7)
    y = np.where(np.arange(40) < 5, -1, 1)
    model = DualDiscGAN(**FAST).fit(X, y)
    assert isinstance(model.net_.generator_, MLPGenerator)
    X = rng.rand(40, 36)
    model = DualDiscGAN(image_shape=(1, 6, 6), **FAST).fit(X, y)
    assert isinstance(model.net_.generator_, UNetGenerator)


def test_score_is_minus_mean_l1_on_the_tanh_scale(images):
    X, y = images
    model = DualDiscGAN(**TINY).fit(X, y)
    x = 2 * X - 1  # images in [0, 1] are modelled on [-1, 1]
    x_hat = 2 * model.reconstruct(X) - 1
    expected = -np.abs(x - x_hat).reshape(len(X), -1).mean(1)
    np.testing.assert_allclose(model.score_samples(X), expected, rtol=1e-4, atol=1e-6)
    assert model._modules_for_inference() == [model.net_.generator_]


# -- labelled anomalies ------------------------------------------------------
class _Snapshot(Callback):
    """Keeps the anomaly discriminator's weights as they were before training."""

    def on_train_begin(self, net, **kwargs):
        self.before = {k: v.clone() for k, v in
                       net.discriminator_anomaly_.state_dict().items()}


def _changed(model, snapshot):
    after = model.net_.discriminator_anomaly_.state_dict()
    return any(not torch.equal(snapshot.before[k], after[k]) for k in after)


def test_anomaly_discriminator_trains_only_with_anomalies(images):
    X, y = images
    snapshot = _Snapshot()
    model = DualDiscGAN(callbacks=[snapshot], **TINY).fit(X, y)
    assert model.supervised_
    assert _changed(model, snapshot)
    grads = [p.grad for p in model.net_.discriminator_anomaly_.parameters()]
    assert all(g is not None for g in grads)
    assert sum(g.abs().sum().item() for g in grads) > 0
    assert "abc" in model.net_.history[-1]["batches"][0]

    snapshot = _Snapshot()
    with pytest.warns(UserWarning, match="no labelled anomaly"):
        model = DualDiscGAN(callbacks=[snapshot], **TINY).fit(X, np.ones(len(X)))
    assert not model.supervised_
    assert not _changed(model, snapshot)
    assert all(p.grad is None for p in model.net_.discriminator_anomaly_.parameters())
    assert "abc" not in model.net_.history[-1]["batches"][0]


def test_batches_are_class_balanced(images):
    X, y = images  # 6 anomalies among 40 samples

    class Counts(Callback):
        def on_batch_begin(self, net, batch=None, training=False, **kwargs):
            self.counts.append(int((batch[1] < 0).sum()))

    counts = Counts()
    counts.counts = []
    DualDiscGAN(callbacks=[counts], anomaly_batch_share=0.5, **TINY).fit(X, y)
    assert counts.counts and all(c == 8 for c in counts.counts)  # half of 16


def test_no_anomaly_warning(images):
    X, _ = images
    with pytest.warns(UserWarning, match="no labelled anomaly"):
        DualDiscGAN(**FAST).fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = DualDiscGAN(supervision="unsupervised", **FAST).fit(X)
    assert not model.supervised_


def test_unsupervised_mode_ignores_labelled_anomalies(images):
    X, y = images
    model = DualDiscGAN(supervision="unsupervised", **FAST).fit(X, y)
    assert not model.supervised_
    n_seen = sum(b["train_batch_size"] for b in model.net_.history[-1]["batches"])
    assert n_seen == (y == 1).sum()


@pytest.mark.parametrize("n_anomalies", [0, 1])
def test_forced_supervised_needs_two_anomalies(images, n_anomalies):
    X, _ = images
    y = np.ones(len(X), dtype=int)
    y[:n_anomalies] = -1
    with pytest.raises(ValueError, match="at least 2 labelled anomalies"):
        DualDiscGAN(supervision="supervised", **FAST).fit(X, y)
    if n_anomalies:  # 'auto' uses a single anomaly without complaint
        assert DualDiscGAN(**FAST).fit(X, y).supervised_


# -- every loss term moves the nets its own way ------------------------------------
WEIGHTS = ("reconstruction_weight", "latent_weight", "patch_weight",
           "adversarial_normal_weight", "abc_weight", "adversarial_anomaly_weight",
           "discriminator_normal_weight", "discriminator_anomaly_weight")


def _measure(net, batch):
    """What the loss terms act on, for a batch (normal part n, anomalous part a).

    Computed with the modules in training mode, as in the training step
    (BatchNorm normalises with the batch's own statistics), and written
    here, apart from the package's loss functions.
    """
    Xi, yi = batch
    x = net.normalize(Xi.to(net.device))
    a = yi.to(net.device) < 0
    n = ~a
    G, D_N, D_A = net.generator_, net.discriminator_normal_, net.discriminator_anomaly_
    for module in (G, D_N, D_A):
        module.train()
    with torch.no_grad():
        features = G.encode(x)
        x_hat = G.decode(features)
        error = (x - x_hat).abs().flatten(1).mean(1)
        return {
            "normal_error": error[n].mean().item(),
            "latent_distance": (features[-1][n] - G.encode(x_hat[n])[-1]).abs().mean().item(),
            "anomaly_error": error[a].mean().item(),
            # -log(1 - exp(-e)), the ABC loss
            "anomaly_abc": (-torch.log(-torch.expm1(-error[a]))).mean().item(),
            # logits: D_N says real on normal images, fake on their reconstructions
            "D_N(x_n) - D_N(G(x_n))": (D_N(x[n]).mean() - D_N(x_hat[n]).mean()).item(),
            "D_N(G(x_n))": D_N(x_hat[n]).mean().item(),
            "D_A(x_a) - D_A(G(x_a))": (D_A(x[a]).mean() - D_A(x_hat[a]).mean()).item(),
            "D_A(G(x_a))": D_A(x_hat[a]).mean().item(),
            "BCE of D_A": (F.softplus(-D_A(x[a])).mean()
                           + F.softplus(D_A(x_hat[a])).mean()).item(),
        }


class _FirstStep(Callback):
    """The measures on the first training batch, before and after its step."""

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        if training and not hasattr(self, "before_"):
            self.batch_ = batch
            self.before_ = _measure(net, batch)

    def on_batch_end(self, net, training=False, **kwargs):
        if training and not hasattr(self, "after_"):
            self.after_ = _measure(net, self.batch_)


def _first_step_changes(images, **weights):
    """Change of every measure in the first step, with only the given loss terms on."""
    X, y = images
    probe = _FirstStep()
    # no weight decay: with every term off, nothing at all may move the weights
    no_decay = {"optimizer_g__weight_decay": 0.0, "optimizer_d__weight_decay": 0.0}
    DualDiscGAN(**{**TINY, "lr": 1e-3, "max_epochs": 1, "callbacks": [probe],
                   "net_params": no_decay, **dict.fromkeys(WEIGHTS, 0.0), **weights}).fit(X, y)
    return {key: probe.after_[key] - probe.before_[key] for key in probe.before_}


# the term, and the change one step on it alone must make (sign)
TERM_EFFECTS = {
    # generator, normal samples: reconstructed better, fooling D_N
    "reconstruction_weight": {"normal_error": -1},
    "latent_weight": {"latent_distance": -1},
    "patch_weight": {"normal_error": -1},
    "adversarial_normal_weight": {"D_N(G(x_n))": +1},
    # generator, labelled anomalies: reconstructed worse, their
    # reconstructions made to look fake to D_A
    "abc_weight": {"anomaly_error": +1, "anomaly_abc": -1},
    "adversarial_anomaly_weight": {"D_A(G(x_a))": -1},
    # discriminators: real images told from reconstructions
    "discriminator_normal_weight": {"D_N(x_n) - D_N(G(x_n))": +1},
    "discriminator_anomaly_weight": {"D_A(x_a) - D_A(G(x_a))": +1, "BCE of D_A": -1},
}


@pytest.mark.parametrize("term", WEIGHTS)
def test_each_loss_term_moves_the_nets_its_way(term, images):
    changes = _first_step_changes(images, **{term: 1.0})
    for key, sign in TERM_EFFECTS[term].items():
        assert np.sign(changes[key]) == sign, (key, changes[key])


def test_every_term_weighted_zero_changes_nothing(images):
    """The weights gate the terms: all at 0, a training step moves nothing."""
    changes = _first_step_changes(images)
    assert all(change == 0 for change in changes.values()), changes


def test_each_discriminator_learns_from_its_own_loss_only(images):
    changes = _first_step_changes(images, discriminator_anomaly_weight=1.0)
    assert changes["D_N(x_n) - D_N(G(x_n))"] == 0
    changes = _first_step_changes(images, discriminator_normal_weight=1.0)
    assert changes["D_A(x_a) - D_A(G(x_a))"] == 0


# -- losses and divergence -----------------------------------------------------
def test_patch_loss_has_a_gradient():
    x = torch.rand(3, 1, 12, 12)
    x_hat = torch.rand(3, 1, 12, 12, requires_grad=True)
    loss = patch_l1(x, x_hat, top_k=2)
    assert loss.shape == (3,)
    loss.sum().backward()
    assert x_hat.grad is not None and x_hat.grad.abs().sum() > 0
    # only the worst patches count: their mean is at least the global mean
    assert (loss >= (x - x_hat).abs().flatten(1).mean(1) - 1e-6).all()


def test_abc_loss_is_finite_and_decreasing():
    error = torch.tensor([0.0, 0.1, 1.0, 2.0])
    loss = abc_loss(error)
    assert torch.isfinite(loss).all()
    assert (loss[1:] < loss[:-1]).all()
    np.testing.assert_allclose(loss[2].item(), -np.log(1 - np.exp(-1.0)), rtol=1e-6)


@pytest.mark.parametrize("name, term", [("abc_loss", "abc"), ("patch_l1", "patch")])
def test_nan_loss_stops_training_naming_the_term(images, monkeypatch, name, term):
    X, y = images
    monkeypatch.setattr(dual_gan_module, name,
                        lambda *args, **kwargs: torch.tensor(float("nan")))
    with pytest.raises(TrainingDivergedError, match=f"epoch 1: the loss term '{term}'"):
        DualDiscGAN(**FAST).fit(X, y)


def test_absurd_learning_rate_diverges(images):
    X, y = images
    with pytest.raises(TrainingDivergedError, match="Training diverged at epoch"):
        DualDiscGAN(**{**TINY, "max_epochs": 20, "lr": 1e30}).fit(X, y)


# -- parameters reach the net ------------------------------------------------
def test_routed_parameters_reach_the_net(images):
    X, y = images
    model = DualDiscGAN(**FAST).set_params(
        optimizer_d__lr=0.123, optimizer_g__lr=0.01, discriminator__n_filters=3,
        generator__n_filters=5,
    )
    assert model.get_params()["optimizer_d__lr"] == 0.123
    model.fit(X, y)
    net = model.net_
    assert net.optimizer_d_.param_groups[0]["lr"] == 0.123
    assert net.optimizer_g_.param_groups[0]["lr"] == 0.01
    assert net.optimizer_g_.param_groups[0]["betas"] == (0.5, 0.999)
    assert net.discriminator_normal_.features[0].out_channels == 3
    assert net.discriminator_anomaly_.features[0].out_channels == 3
    assert net.generator_.down[0][0].out_channels == 5
