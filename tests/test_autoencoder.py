"""AutoEncoder: what it learns, the hinge on labelled anomalies, its anomaly map.

The contract it shares with every estimator (checks, persistence, grid
search, pipelines, bad input) is in test_common.py.
"""

import numpy as np
import pytest
import torch
from conftest import requires_fashion
from sklearn.metrics import roc_auc_score

from skanomaly import AutoEncoder, TrainingDivergedError
from skanomaly.datasets import make_defects
from skanomaly.nn import HingedReconstructionLoss

TINY = {"max_epochs": 2, "latent_dim": 4, "n_filters": 4, "batch_size": 16, "n_threads": 1,
        "random_state": 0}


def shifted_squares(n=48, n_anomalies=8, seed=0):
    """Normal: a bright square; labelled anomalies: the same square, moved.

    The anomalies are close to normal, so that an autoencoder left to itself
    reconstructs them almost as well: there is room for the hinge to act.
    """
    rng = np.random.RandomState(seed)
    X = rng.rand(n, 1, 12, 12).astype(np.float32) * 0.1
    X[n_anomalies:, :, 4:8, 4:8] += 0.8
    X[:n_anomalies, :, 5:9, 3:7] += 0.8
    y = np.where(np.arange(n) < n_anomalies, -1, 1)
    return X, y


def test_learns_normal_structure(digits_split):
    X_train, y_train, X_test, y_test = digits_split
    det = AutoEncoder(**{**TINY, "max_epochs": 15}).fit(X_train[y_train == 1])
    assert roc_auc_score(y_test, det.score_samples(X_test)) > 0.8


# -- the hinge on labelled anomalies -------------------------------------------
def _sgd_step(loss_fn, x, x_hat, y, lr=0.1):
    """Per-sample squared errors before and after one gradient step on ``x_hat``."""
    x_hat = x_hat.clone().requires_grad_(True)
    loss_fn(x_hat, x, y).backward()
    before = (x_hat - x).pow(2).flatten(1).mean(1).detach()
    after = (x_hat - lr * x_hat.grad - x).pow(2).flatten(1).mean(1).detach()
    return before, after, x_hat.grad


def test_hinge_gradient_pushes_anomalies_up_to_the_margin():
    torch.manual_seed(0)
    x = torch.rand(8, 1, 4, 4)
    x_hat = x + 0.1 * torch.randn(8, 1, 4, 4)
    x_hat[6] = 1 - x[6]  # an anomaly already beyond the margin
    y = torch.tensor([1, 1, 1, 1, -1, -1, -1, 1])
    loss = HingedReconstructionLoss(anomaly_weight=1.0, anomaly_margin=5.0)
    before, after, grad = _sgd_step(loss, x, x_hat, y)
    below_margin = (y < 0) & (before < 5.0 * before[y > 0].mean())
    assert below_margin.sum() == 2
    assert (after[below_margin] > before[below_margin]).all()  # pushed up
    assert (after[y > 0] < before[y > 0]).all()  # normal: reconstructed better
    assert grad[6].abs().sum() == 0  # beyond the margin: left alone (bounded)
    # weight 0: the anomalies get no gradient at all
    _, _, grad = _sgd_step(HingedReconstructionLoss(anomaly_weight=0.0), x, x_hat, y)
    assert grad[y < 0].abs().sum() == 0 and grad[y > 0].abs().sum() > 0


def test_hinge_raises_the_labelled_anomalies_error():
    """Trained with the hinge, labelled anomalies are reconstructed worse than without."""
    X, y = shifted_squares()
    # the reconstruction error alone, on the raw pixels: what the hinge acts on
    params = {**TINY, "max_epochs": 8, "lr": 1e-2, "preprocessing": None}
    plain = AutoEncoder(anomaly_weight=0.0, **params).fit(X, y)
    hinged = AutoEncoder(anomaly_weight=1.0, **params).fit(X, y)
    anomalies, normal = y == -1, y == 1
    plain_error, hinged_error = -plain.score_samples(X), -hinged.score_samples(X)
    assert hinged_error[anomalies].mean() > 2 * plain_error[anomalies].mean()
    assert (hinged_error[anomalies].mean() / hinged_error[normal].mean()
            > 1.5 * plain_error[anomalies].mean() / plain_error[normal].mean())
    # and they are all flagged, where the plain model flags fewer of them
    assert hinged.predict(X[anomalies]).tolist() == [-1] * anomalies.sum()


def test_labelled_anomalies_help_on_unseen_anomalies(digits_split):
    X_train, y_train, X_test, y_test = digits_split
    params = {**TINY, "max_epochs": 8, "preprocessing": None}
    plain = AutoEncoder(anomaly_weight=0.0, **params).fit(X_train, y_train)
    pushed = AutoEncoder(**params).fit(X_train, y_train)
    assert roc_auc_score(y_test, pushed.score_samples(X_test)) > roc_auc_score(
        y_test, plain.score_samples(X_test))


# -- the anomaly map -------------------------------------------------------------
def test_anomaly_map_is_higher_inside_a_pasted_defect():
    """An autoencoder of one pattern localises a blob pasted onto it."""
    rng = np.random.RandomState(0)
    X = np.zeros((200, 1, 16, 16), dtype=np.float32)
    X[:, :, 4:12, 6:10] = 0.9  # a bar
    X += rng.rand(*X.shape).astype(np.float32) * 0.05
    det = AutoEncoder(latent_dim=4, n_filters=8, max_epochs=10, batch_size=32, lr=1e-2,
                      n_threads=1, random_state=0).fit(X[:160])
    defective, masks, _ = make_defects(X[160:], kinds=("blob",), random_state=0)
    maps = det.anomaly_map(defective)
    inside = np.array([m[mask].mean() for m, mask in zip(maps, masks)])
    outside = np.array([m[~mask].mean() for m, mask in zip(maps, masks)])
    assert (inside > 3 * outside).mean() >= 0.9
    # the defects raise the map where they are, not elsewhere
    clean = det.anomaly_map(X[160:])
    assert (maps - clean)[masks].mean() > 10 * np.abs(maps - clean)[~masks].mean()


# -- divergence --------------------------------------------------------------------
def test_divergence_is_a_clear_error(images):
    X, y = images
    X = X * 1e30  # squared errors overflow float32
    with pytest.raises(TrainingDivergedError, match=r"epoch \d+.*'loss' is (inf|nan)"):
        AutoEncoder(preprocessing=None, **TINY).fit(X, y)


@requires_fashion
def test_fashion_mnist_integration():
    """A few hundred Fashion-MNIST images, one epoch: better than chance on class 0."""
    from skanomaly.datasets import load_fashion_mnist, make_anomaly_split

    X_train, _y_train, X_test, y_test = make_anomaly_split(
        *load_fashion_mnist(), normal_class=0, random_state=0
    )
    det = AutoEncoder(max_epochs=1, random_state=0).fit(X_train[:500])
    auc = roc_auc_score(y_test[:2000], det.score_samples(X_test[:2000]))
    assert auc > 0.6


def test_default_score_is_minus_the_mean_squared_reconstruction_error():
    """The method's score (issue 26): nothing but the reconstruction error."""
    X, y = shifted_squares()
    detector = AutoEncoder(**TINY).fit(X[y == 1])
    # in the network's view of the images (its preprocessing), which it reconstructs
    view = detector.net_.module_.prepare(torch.as_tensor(X)).numpy().astype(np.float64)
    error = ((detector.reconstruct(X).astype(np.float64) - view) ** 2).reshape(len(X), -1).mean(1)
    np.testing.assert_allclose(detector.score_samples(X), -error, rtol=1e-4, atol=1e-7)
