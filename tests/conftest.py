import numpy as np
import pytest
import torch

from skanomaly.datasets import fashion_mnist_available, load_digits_images

# one torch thread: the tests' tiny nets gain nothing from more, and on a shared
# 2-core machine a second thread waiting for a busy core makes a batch ~100x slower
torch.set_num_threads(1)

# tests/data holds data and the script that wrote it with an old version: never
# import it (--doctest-modules imports every module it collects)
collect_ignore_glob = ["data/*"]


@pytest.fixture(autouse=True)
def _seed_global_rngs():
    """Seed numpy's and torch's global generators before every test.

    Estimators left at ``random_state=None`` draw from these; seeding them per
    test makes each test's outcome independent of which tests ran before it.
    """
    np.random.seed(0)
    torch.manual_seed(0)


@pytest.fixture
def rng():
    return np.random.RandomState(0)


@pytest.fixture(scope="session")
def digits_split():
    """Digits 0 normal, the other digits anomalous (8x8 images, no download)."""
    from skanomaly.datasets import make_anomaly_split

    return make_anomaly_split(*load_digits_images(), normal_class=0, anomaly_ratio=0.1,
                              random_state=0)


@pytest.fixture
def images(rng):
    """Small blob images: normal = centred bright square, anomaly = noise."""
    n = 40
    X = rng.rand(n, 1, 12, 12).astype(np.float32) * 0.1
    X[:, :, 4:8, 4:8] += 0.8
    y = np.ones(n, dtype=int)
    y[:6] = -1
    X[:6] = rng.rand(6, 1, 12, 12)
    return X, y


requires_fashion = pytest.mark.skipif(
    not fashion_mnist_available(),
    reason="Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)",
)
