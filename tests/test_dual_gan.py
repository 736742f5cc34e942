"""Tests of DualDiscGAN (autoencoder generator, normal and anomaly discriminators)."""

import warnings

import joblib
import numpy as np
import pytest
import torch
from _checks import expected_failed_checks, with_label_free_twins
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler
from sklearn.utils.estimator_checks import parametrize_with_checks
from skorch.callbacks import Callback

import skanomaly._dual_gan as dual_gan_module
from skanomaly._dual_gan import DualDiscGAN
from skanomaly.nn import abc_loss
from skanomaly.nn import MLPGenerator, UNetGenerator, patch_l1
from skanomaly.exceptions import TrainingDivergedError

FAST = dict(max_epochs=1, n_filters=2, batch_size=32, n_threads=1, random_state=0)
# the common checks need a model trained enough to flag some blobs as outliers
CHECKS = dict(max_epochs=5, n_filters=4, batch_size=32, n_threads=1, random_state=0)
TINY = dict(max_epochs=2, n_filters=4, batch_size=16, n_threads=1, random_state=0)


SUBSET_REASON = (
    "float32 forward passes of the generator differ by one unit in the last place "
    "between batch sizes (BLAS kernels), above the check's 1e-7 tolerance."
)


def _expected_failures(estimator):
    return expected_failed_checks(
        estimator, {"check_methods_subset_invariance": SUBSET_REASON})


@parametrize_with_checks(
    with_label_free_twins([DualDiscGAN(**CHECKS)]),
    expected_failed_checks=_expected_failures,
)
@pytest.mark.filterwarnings("ignore:DualDiscGAN got no labelled anomaly")
def test_sklearn_compatible(estimator, check):
    check(estimator)


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


def test_flat_input_gets_fully_connected_nets(rng):
    X = rng.randn(40, 7)
    y = np.where(np.arange(40) < 5, -1, 1)
    model = DualDiscGAN(**FAST).fit(X, y)
    assert isinstance(model.net_.generator_, MLPGenerator)
    assert model.score_samples(X).dtype == np.float64


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


# -- scikit-learn integration ------------------------------------------------
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


def test_grid_search_over_weight_and_routed_param(images):
    X, y = images
    search = GridSearchCV(
        DualDiscGAN(**FAST),
        {"abc_weight": [0.5, 2.0], "optimizer_d__lr": [1e-3, 1e-4]},
        scoring="roc_auc", cv=StratifiedKFold(2, shuffle=True, random_state=0),
    ).fit(X, y)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    best = search.best_estimator_
    assert best.net_.optimizer_d_.param_groups[0]["lr"] == search.best_params_[
        "optimizer_d__lr"]
    assert best.net_.abc_weight == search.best_params_["abc_weight"]


def test_pipeline_with_flat_images(images):
    X, y = images
    pipe = make_pipeline(MinMaxScaler(), DualDiscGAN(image_shape=(1, 12, 12), **FAST))
    pipe.fit(X.reshape(len(X), -1), y)
    assert isinstance(pipe[-1].net_.generator_, UNetGenerator)
    assert pipe.score_samples(X.reshape(len(X), -1)).shape == (len(X),)
    assert set(np.unique(pipe.predict(X.reshape(len(X), -1)))) <= {-1, 1}


def test_clone_keeps_routed_params(images):
    model = DualDiscGAN(**FAST).set_params(optimizer_d__lr=0.5)
    model.fit(*images)
    copy = clone(model)
    assert not hasattr(copy, "net_")
    assert copy.get_params()["optimizer_d__lr"] == 0.5
    assert copy.net_params == {"optimizer_d__lr": 0.5}


def test_joblib_round_trip_gives_identical_scores(images, tmp_path):
    X, y = images
    model = DualDiscGAN(**TINY).fit(X, y)
    joblib.dump(model, tmp_path / "model.joblib")
    loaded = joblib.load(tmp_path / "model.joblib")
    np.testing.assert_array_equal(loaded.score_samples(X), model.score_samples(X))


def test_same_random_state_same_scores(images):
    X, y = images
    a = DualDiscGAN(**TINY).fit(X, y).score_samples(X)
    b = DualDiscGAN(**TINY).fit(X, y).score_samples(X)
    c = DualDiscGAN(**{**TINY, "random_state": 1}).fit(X, y).score_samples(X)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_bad_input(images):
    X, y = images
    with pytest.raises(ValueError, match="only 1 \\(normal\\) and -1"):
        DualDiscGAN(**FAST).fit(X, np.where(y == 1, 1, 0))
    with pytest.raises(ValueError, match="supervision"):
        DualDiscGAN(supervision="semi", **FAST).fit(X, y)
    with pytest.raises(ValueError, match="abc_weight"):
        DualDiscGAN(abc_weight=-1.0, **FAST).fit(X, y)
    X_nan = X.copy()
    X_nan[0, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        DualDiscGAN(**FAST).fit(X_nan, y)
    model = DualDiscGAN(**FAST).fit(X, y)
    with pytest.raises(ValueError, match="shape"):
        model.score_samples(X[:, :, :10, :10])
    with pytest.raises(ValueError, match="5-D"):
        model.score_samples(X[:, None])
