"""Input handling, labels, seeding, the offset and the training records of the shared base.

Exercised through AutoEncoder, the simplest detector built on the base.
"""

import warnings

import numpy as np
import pytest
import torch
from scipy import sparse
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from skorch.callbacks import Callback, EarlyStopping

from skanomaly import AutoEncoder
from skanomaly._base import BalancedBatchSampler, check_labels

TINY = {"max_epochs": 1, "latent_dim": 2, "n_filters": 2, "batch_size": 16, "n_threads": 1,
        "random_state": 0}


@pytest.mark.parametrize(
    "shape", [(2, 2), (5, 3), (8, 8), (28, 28), (32, 32), (64, 64)]
)
@pytest.mark.parametrize("channels", [1, 3])
def test_any_image_size_and_channels(shape, channels, rng):
    X = rng.rand(6, channels, *shape).astype(np.float32)
    det = AutoEncoder(**TINY).fit(X)
    assert det.image_shape_ == (channels, *shape)
    assert det.n_features_in_ == channels * shape[0] * shape[1]
    scores = det.score_samples(X)
    assert scores.shape == (6,) and scores.dtype == np.float64
    assert np.isfinite(scores).all()
    assert det.reconstruct(X).shape == X.shape


def test_three_dim_input_is_one_channel(rng):
    X = rng.rand(10, 8, 8).astype(np.float32)
    det = AutoEncoder(**TINY).fit(X)
    assert det.image_shape_ == (1, 8, 8)
    np.testing.assert_allclose(det.score_samples(X), det.score_samples(X[:, None]))


def test_flat_input_is_a_feature_vector_unless_image_shape(rng):
    X = rng.rand(10, 64).astype(np.float32)
    assert AutoEncoder(**TINY).fit(X).image_shape_ == (64,)
    det = AutoEncoder(image_shape=(1, 8, 8), **TINY).fit(X)
    assert det.image_shape_ == (1, 8, 8)
    # folded flat input and images give the same scores
    np.testing.assert_allclose(det.score_samples(X), det.score_samples(X.reshape(10, 1, 8, 8)))


def test_image_shape_that_does_not_fold(rng):
    with pytest.raises(ValueError, match="cannot fold samples of 64 features"):
        AutoEncoder(image_shape=(1, 7, 7), **TINY).fit(rng.rand(10, 64))


def test_uint8_is_scaled_float_is_not(rng):
    X8 = rng.randint(0, 256, size=(12, 1, 8, 8)).astype(np.uint8)
    det = AutoEncoder(**TINY).fit(X8)
    np.testing.assert_allclose(
        det.score_samples(X8), det.score_samples(X8.astype(np.float32) / 255), rtol=1e-5
    )
    # a float array with the same values is taken as given, hence scored differently
    assert not np.allclose(det.score_samples(X8), det.score_samples(X8.astype(np.float32)))


@pytest.mark.parametrize(
    "bad, match",
    [
        # finite in float64, but inf once cast to the networks' float32
        (1e39, "beyond the float32 range"),
        (-1e300, "beyond the float32 range"),
    ],
)
def test_out_of_float32_range_rejected(bad, match, rng):
    X = rng.rand(10, 1, 8, 8)
    X[3, 0, 2, 2] = bad
    with pytest.raises(ValueError, match=match):
        AutoEncoder(**TINY).fit(X)
    det = AutoEncoder(**TINY).fit(rng.rand(10, 1, 8, 8))
    with pytest.raises(ValueError, match=match):
        det.score_samples(X)
    with pytest.raises(ValueError, match=match):
        det.score_samples(X.reshape(10, -1))


def test_one_dimensional_input(rng):
    with pytest.raises(ValueError, match="Expected 2D array"):
        AutoEncoder(**TINY).fit(rng.rand(10))


def test_no_sample_and_two_samples(rng):
    with pytest.raises(ValueError, match="0 sample"):
        AutoEncoder(**TINY).fit(np.zeros((0, 1, 8, 8)))
    # two samples are enough, even with a batch size larger than the data
    det = AutoEncoder(**{**TINY, "batch_size": 64}).fit(rng.rand(2, 1, 8, 8))
    assert det.score_samples(rng.rand(1, 1, 8, 8)).shape == (1,)


def test_non_numeric_and_sparse(rng):
    with pytest.raises(ValueError, match="could not convert|dtype"):
        AutoEncoder(**TINY).fit(np.array([["a", "b"], ["c", "d"]]))
    with pytest.raises(TypeError, match="[Ss]parse"):
        AutoEncoder(**TINY).fit(sparse.random(10, 5, format="csr"))


@pytest.mark.parametrize("y", [[0, 1, 1, 1], [2, 1, -1, 1], ["a", "b", "a", "b"]])
def test_labels_outside_plus_minus_one(y, rng):
    with pytest.raises(ValueError, match=r"only 1 \(normal\) and -1 \(anomaly\)"):
        AutoEncoder(**TINY).fit(rng.rand(4, 1, 8, 8), y)


def test_label_length_and_no_normal(rng):
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        AutoEncoder(**TINY).fit(rng.rand(4, 1, 8, 8), [1, 1, -1])
    with pytest.raises(ValueError, match="no normal sample"):
        AutoEncoder(**TINY).fit(rng.rand(4, 1, 8, 8), [-1] * 4)


def test_check_labels():
    np.testing.assert_array_equal(check_labels(None, 3), [1, 1, 1])
    np.testing.assert_array_equal(check_labels([1.0, -1.0], 2), [1, -1])


def test_fit_leaves_the_global_torch_rng_untouched(images):
    X, y = images
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    AutoEncoder(**TINY).fit(X, y)
    after = torch.rand(1)
    assert torch.equal(before, after), "fit must not consume the caller's torch RNG"


def test_offset_from_contamination(images):
    X, y = images
    det = AutoEncoder(**{**TINY, "contamination": 0.25}).fit(X)
    s = det.score_samples(X)
    assert det.offset_ == pytest.approx(np.percentile(s, 25))
    auto = AutoEncoder(**TINY).fit(X, y)
    s = auto.score_samples(X)[y == 1]  # the normal samples'
    q1, q3 = np.percentile(s, [25, 75])
    # 'auto': the lower Tukey fence of the normal scores, raised to their 1st percentile
    assert auto.offset_ == pytest.approx(max(q1 - 1.5 * (q3 - q1), np.percentile(s, 1)))
    assert (auto.predict(X[y == 1]) == -1).mean() >= 0.01


def test_scoring_is_batched(rng):
    """Scores do not depend on the batch size used to compute them."""
    X = rng.rand(50, 1, 8, 8).astype(np.float32)
    det = AutoEncoder(**TINY).fit(X)
    full = det.score_samples(X)
    det.batch_size = 7
    calls = []
    original = det._anomaly_score  # the reconstruction error, batch by batch
    det._anomaly_score = lambda x: calls.append(len(x)) or original(x)
    np.testing.assert_allclose(det.score_samples(X), full, rtol=1e-5)
    assert max(calls) == 7 and len(calls) == 8


def test_balanced_batch_sampler():
    labels = np.array([1] * 100 + [-1] * 3)
    torch.manual_seed(0)
    sampler = BalancedBatchSampler(labels, batch_size=20, anomaly_share=0.25)
    batches = list(sampler)
    assert len(batches) == len(sampler) == 7  # ceil(100 / 15)
    normals = np.concatenate([[i for i in b if labels[i] == 1] for b in batches])
    assert sorted(normals) == list(range(100))  # each normal once per epoch
    for b in batches:
        assert sum(labels[i] == -1 for i in b) == 5  # every batch sees the rare class


def test_set_params_routes_to_skorch_net(rng):
    det = AutoEncoder(**TINY)
    det.set_params(optimizer__weight_decay=0.5, module__n_filters=3)
    assert det.net_params == {"optimizer__weight_decay": 0.5, "module__n_filters": 3}
    assert det.get_params()["optimizer__weight_decay"] == 0.5
    det.fit(rng.rand(10, 1, 8, 8))
    assert det.net_.optimizer_.param_groups[0]["weight_decay"] == 0.5
    assert det.net_.module_.encoder.features[0].out_channels == 3
    # an unknown prefix is the skorch net's to refuse, when the net is built
    det.set_params(bogus__x=1)
    with pytest.raises(ValueError, match="bogus__x"):
        det.fit(rng.rand(10, 1, 8, 8))
    with pytest.raises(ValueError, match="Invalid parameter"):
        det.set_params(bogus=1)


def test_grid_search_over_routed_net_params(images):
    X, y = images
    search = GridSearchCV(
        AutoEncoder(**TINY), {"optimizer__weight_decay": [0.0, 1e-4]},
        scoring="roc_auc", cv=StratifiedKFold(2, shuffle=True, random_state=0),
    ).fit(X, y)
    best = search.best_params_["optimizer__weight_decay"]
    assert search.best_estimator_.net_params == {"optimizer__weight_decay": best}
    assert search.best_estimator_.net_.optimizer_.param_groups[0]["weight_decay"] == best


def test_verbose_prints_epoch_table(rng, capsys):
    AutoEncoder(**{**TINY, "verbose": 1}).fit(rng.rand(10, 1, 8, 8))
    assert "train_loss" in capsys.readouterr().out
    AutoEncoder(**TINY).fit(rng.rand(10, 1, 8, 8))
    assert capsys.readouterr().out == ""


class _Interrupt(Callback):
    def on_epoch_end(self, net, **kwargs):
        raise KeyboardInterrupt


def test_keyboard_interrupt_is_recorded_and_leaves_a_usable_model(rng):
    """skorch stops training on Ctrl-C; the detector says so, and scores."""
    X = rng.rand(20, 1, 8, 8).astype(np.float32)
    det = AutoEncoder(**{**TINY, "max_epochs": 5, "callbacks": [_Interrupt()]})
    with pytest.warns(UserWarning, match=r"interrupted after 1 of 5 epochs.*"
                                         r"fit_status_='interrupted'"):
        det.fit(X)
    assert det.fit_status_ == "interrupted" and det.n_epochs_ == 1
    assert np.isfinite(det.score_samples(X)).all()
    # a new fit starts a new record
    det.set_params(callbacks=None).fit(X)
    assert det.fit_status_ == "completed" and det.n_epochs_ == det.max_epochs


def test_early_stopping_is_recorded(rng):
    X = rng.rand(20, 1, 8, 8).astype(np.float32)
    # a training loss that "does not improve" when it goes down: stops after 2 epochs
    stop = EarlyStopping(monitor="train_loss", lower_is_better=False, patience=1,
                         threshold=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # stopping early is no interruption
        det = AutoEncoder(**{**TINY, "max_epochs": 10, "callbacks": [stop]}).fit(X)
    assert det.fit_status_ == "stopped_early"
    assert 1 <= det.n_epochs_ < 10 and det.n_epochs_ == len(det.net_.history)


def test_interrupted_fit_leaves_the_detector_unfitted(rng, monkeypatch):
    from sklearn.exceptions import NotFittedError

    X = rng.rand(20, 1, 8, 8).astype(np.float32)
    det = AutoEncoder(**TINY).fit(X)

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(det, "_set_offset", interrupt)
    with pytest.raises(KeyboardInterrupt):
        det.fit(X)  # a refit interrupted after training
    with pytest.raises(NotFittedError):
        det.score_samples(X)
