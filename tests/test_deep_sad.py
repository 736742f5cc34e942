"""DeepSAD: what each term of its loss does.

The contract it shares with every estimator (checks, persistence, grid
search, pipelines, bad input) is in test_common.py.
"""

import copy

import numpy as np
import torch
from skorch.callbacks import Callback

from skanomaly import DeepSAD

TINY = {"rep_dim": 4, "n_filters": 4, "pretrain_epochs": 2, "batch_size": 16, "n_threads": 1,
        "lr": 1e-3, "random_state": 0}


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


def test_score_is_the_squared_distance_to_the_centre():
    """Ruff et al.'s score: ``||phi(x) - c||^2``, from the trained network and centre."""
    X, y = shifted_squares()
    detector = DeepSAD(max_epochs=2, **TINY).fit(X, y)
    module = detector.net_.module_.eval()
    with torch.no_grad():
        z = module(torch.as_tensor(X)).numpy().astype(np.float64)
    center = detector.net_.criterion_.center.numpy().astype(np.float64)
    np.testing.assert_allclose(detector.score_samples(X), -((z - center) ** 2).sum(1),
                               rtol=1e-4)
    np.testing.assert_allclose(detector.embed(X), z, rtol=1e-5)
    # the centre: the normal samples' mean representation, kept off 0 by 0.1
    assert (np.abs(center) >= 0.1 - 1e-7).all()


def test_anomaly_batch_share_after_pretraining():
    # the balanced loader is set on a net initialised by the pretraining
    X, y = shifted_squares()
    detector = DeepSAD(**{**TINY, "max_epochs": 1, "anomaly_batch_share": 0.5}).fit(X, y)
    assert detector.n_epochs_ == 3
