"""skanomaly.plotting: every function draws a figure without error."""

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from skanomaly import AnoGAN, AutoEncoder, TrimmedDetector
from skanomaly.datasets import make_defects
from skanomaly.plotting import (
    plot_anomaly_maps,
    plot_roc,
    plot_score_histogram,
)

TINY = {"max_epochs": 1, "n_filters": 2, "latent_dim": 2, "batch_size": 16, "n_threads": 1,
        "random_state": 0}


@pytest.fixture(scope="module")
def problem():
    rng = np.random.RandomState(0)
    X = rng.rand(30, 1, 8, 8).astype(np.float32) * 0.1
    X[:, :, 2:6, 2:6] += 0.8
    X_test = np.r_[X[20:], rng.rand(6, 1, 8, 8).astype(np.float32)]
    y_test = np.r_[np.ones(10, int), -np.ones(6, int)]
    return X[:20], X_test, y_test


@pytest.fixture(scope="module")
def detector(problem):
    return AutoEncoder(**TINY).fit(problem[0])


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_plot_roc(problem, detector):
    _, X_test, y_test = problem
    fig = plot_roc(detector, X_test, y_test)
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    assert len(ax.lines) == 2  # the curve and the diagonal
    assert "AutoEncoder" in ax.get_legend().get_texts()[0].get_text()
    # several detectors, by name, one of them as precomputed scores
    fig = plot_roc({"ae": detector, "scores": detector.score_samples(X_test)}, X_test, y_test)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels[0].startswith("ae") and labels[1].startswith("scores")
    # into given axes
    fig, ax = plt.subplots()
    assert plot_roc([detector], X_test, y_test, ax=ax) is fig


def test_plot_score_histogram(problem, detector):
    _, X_test, y_test = problem
    fig = plot_score_histogram(detector, X_test, y_test, bins=10)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert any("offset_" in t.get_text() for t in ax.get_legend().get_texts())
    # normal images only: no anomaly histogram, still a figure
    assert isinstance(plot_score_histogram(detector, X_test[:10], y_test[:10]), Figure)


def test_plot_anomaly_maps(problem, detector):
    _, X_test, _ = problem
    defects, masks, _ = make_defects(X_test[:4], random_state=0)
    # images, reconstructions, maps and the true masks
    fig = plot_anomaly_maps(detector, defects, masks=masks, n_images=3)
    assert isinstance(fig, Figure) and len(fig.axes) == 4 * 3
    # a detector without reconstructions: images and maps; uint8 and 3-D input too
    anogan = AnoGAN(encoder_epochs=1, **TINY).fit(problem[0])
    images = (X_test[:, 0] * 255).astype(np.uint8)
    assert len(plot_anomaly_maps(anogan, images, n_images=2).axes) == 2 * 2


def test_plot_anomaly_maps_needs_a_detector_that_localises(problem):
    trimmed = TrimmedDetector(AutoEncoder(**TINY), n_rounds=1).fit(problem[0])
    with pytest.raises(TypeError, match="has no anomaly_map"):
        plot_anomaly_maps(trimmed, problem[1])
