"""Parameters renamed in 0.2 still work for one release, with one FutureWarning at fit."""

import warnings

import numpy as np
import pytest
from sklearn.base import clone
from skorch.callbacks import Callback

from skanomaly import AutoEncoder, CNNOneClassSVM, DualDiscGAN

TINY = {"max_epochs": 1, "n_filters": 2, "batch_size": 16, "n_threads": 1, "random_state": 0}


def _fit_warnings(estimator, X, y=None):
    """The warnings of a fit, and those of scoring after it."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        estimator.fit(X, y)
    with warnings.catch_warnings(record=True) as later:
        warnings.simplefilter("always")
        estimator.score_samples(X)
    return [w for w in caught if w.category is FutureWarning], \
        [w for w in later if w.category is FutureWarning]


class _AnomaliesPerBatch(Callback):
    def initialize(self):
        self.counts_ = []
        return self

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        if training:
            self.counts_.append(int((batch[1] < 0).sum()))


@pytest.mark.parametrize("cls, extra", [(AutoEncoder, {"latent_dim": 2}), (DualDiscGAN, {})])
def test_anomaly_batch_ratio(cls, extra, images):
    X, y = images  # 6 anomalies among 40
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no work, no warning in __init__
        old = cls(anomaly_batch_ratio=0.25, callbacks=[_AnomaliesPerBatch()], **extra, **TINY)
    assert old.get_params()["anomaly_batch_ratio"] == 0.25  # clone keeps it
    assert clone(old).anomaly_batch_ratio == 0.25
    at_fit, after = _fit_warnings(old, X, y)
    assert len(at_fit) == 1 and not after
    message = str(at_fit[0].message)
    assert "'anomaly_batch_ratio' was renamed 'anomaly_batch_share'" in message
    assert "anomaly_batch_share=0.25" in message
    # the value is used: a quarter of every batch of 16 is anomalies
    assert set(old.callbacks[0].counts_) == {4}
    new = cls(anomaly_batch_share=0.25, callbacks=[_AnomaliesPerBatch()], **extra, **TINY)
    at_fit, _ = _fit_warnings(new, X, y)
    assert not at_fit
    np.testing.assert_array_equal(old.score_samples(X), new.score_samples(X))


def test_dual_gan_mode(images):
    X, y = images  # 6 anomalies among 40
    old = DualDiscGAN(mode="unsupervised", **TINY)
    at_fit, after = _fit_warnings(old, X, y)
    assert len(at_fit) == 1 and not after
    assert "'mode' was renamed 'supervision'" in str(at_fit[0].message)
    assert not old.supervised_  # the old name's value is used
    new = DualDiscGAN(supervision="unsupervised", **TINY).fit(X, y)
    np.testing.assert_array_equal(old.score_samples(X), new.score_samples(X))


def test_cnn_ocsvm_anomaly_score(images):
    X, _ = images
    old = CNNOneClassSVM(anomaly_score="ocsvm", **TINY)
    at_fit, after = _fit_warnings(old, X)
    assert len(at_fit) == 1 and not after
    assert "'anomaly_score' was renamed 'score_mode'" in str(at_fit[0].message)
    assert old.ocsvm_ is not None  # the old name's value is used
    new = CNNOneClassSVM(score_mode="ocsvm", **TINY).fit(X)
    np.testing.assert_array_equal(old.score_samples(X), new.score_samples(X))
