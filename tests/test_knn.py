"""KNNDetector: distances to the nearest normal training samples."""

import numpy as np
import pytest
import torch
from sklearn.decomposition import PCA
from sklearn.frozen import FrozenEstimator

from skanomaly import AutoEncoder, KNNDetector
from skanomaly._knn import knn_distance, row_digests
from skanomaly.nn import sqrt_blur


def test_knn_distance_leaves_a_bank_image_out_of_its_own_neighbours():
    bank = torch.tensor([[0.0], [1.0], [3.0]])
    queries = torch.tensor([[0.0], [0.0], [10.0]])
    own = torch.tensor([True, False, False])
    np.testing.assert_allclose(knn_distance(bank, queries, k=1, exclude_self=own),
                               [1.0, 0.0, 7.0])
    np.testing.assert_allclose(knn_distance(bank, queries, k=2), [0.5, 0.5, 8.0])
    _, indices = knn_distance(bank, queries, k=1, exclude_self=own, return_indices=True)
    assert indices[:, 0].tolist() == [1, 0, 2]
    # a bank of one image has nothing else: it is its own neighbour
    one = knn_distance(bank[:1], queries[:1], k=5, exclude_self=own[:1])
    np.testing.assert_allclose(one, [0.0])


def test_row_digests_tell_equal_rows_apart_from_others(rng):
    x = torch.from_numpy(rng.rand(4, 1, 3, 3).astype(np.float32))
    x[3] = x[1]
    d = row_digests(x)
    assert d.dtype == torch.int64 and d.shape == (4,)
    assert d[1] == d[3] and len(set(d[:3].tolist())) == 3


def test_score_is_the_mean_distance_to_the_k_nearest_preprocessed_images(rng):
    X = rng.rand(30, 1, 16, 16).astype(np.float32)
    queries = rng.rand(5, 1, 16, 16).astype(np.float32)
    det = KNNDetector(n_neighbors=3).fit(X)
    bank = sqrt_blur(torch.from_numpy(X)).flatten(1).numpy()
    q = sqrt_blur(torch.from_numpy(queries)).flatten(1).numpy()
    d = np.sqrt(((q[:, None] - bank[None]) ** 2).sum(-1))
    expected = -np.sort(d, axis=1)[:, :3].mean(1)
    np.testing.assert_allclose(det.score_samples(queries), expected, rtol=1e-5)
    raw = KNNDetector(n_neighbors=3, preprocessing=None).fit(X)
    d = np.sqrt(((queries.reshape(5, -1)[:, None] - X.reshape(30, -1)[None]) ** 2).sum(-1))
    np.testing.assert_allclose(raw.score_samples(queries), -np.sort(d, axis=1)[:, :3].mean(1),
                               rtol=1e-5)


@pytest.fixture(scope="module")
def blob_images():
    """Normal images: noise around one pattern, so that kNN has a meaningful spread."""
    rng = np.random.RandomState(0)
    pattern = rng.rand(1, 1, 8, 8).astype(np.float32)
    return np.clip(pattern + 0.3 * rng.randn(400, 1, 8, 8).astype(np.float32), 0, 1)


def test_training_images_score_as_new_images_do(blob_images):
    """No training image is its own neighbour: the offset holds on new data too."""
    X_train, X_new = blob_images[:200], blob_images[200:]
    det = KNNDetector(contamination=0.1).fit(X_train)
    train = det.score_samples(X_train)
    # scored alone or in a batch of others, a training image scores the same
    np.testing.assert_allclose(det.score_samples(X_train[5:6]), train[5:6], rtol=1e-5)
    assert (det.predict(X_train) == -1).sum() == 20  # exactly the contamination share
    # new normal images are flagged at about that share as well; had the training
    # images been their own neighbours, far more would be
    assert 0.03 < (det.predict(X_new) == -1).mean() < 0.2


def test_labelled_anomalies_stay_out_of_the_bank(blob_images):
    X = blob_images[:60].copy()
    X[:5] = 1.0 - X[:5]
    y = np.where(np.arange(60) < 5, -1, 1)
    det = KNNDetector().fit(X, y)
    assert det.bank_.shape == (55, 64)
    assert det.score_samples(X[:5]).max() < det.score_samples(X[5:]).min()


def test_flat_vectors_and_a_scikit_learn_transformer(rng):
    X = rng.randn(50, 6)
    det = KNNDetector(preprocessing=None).fit(X)
    assert det.bank_.shape == (50, 6)
    pca = KNNDetector(feature_extractor=PCA(n_components=2)).fit(X)
    assert pca.bank_.shape == (50, 2)
    assert pca.feature_extractor_.n_components_ == 2
    queries = rng.randn(4, 6)
    expected = pca.feature_extractor_.transform(queries)
    d = np.sqrt(((expected[:, None] - pca.bank_[None]) ** 2).sum(-1))
    np.testing.assert_allclose(pca.score_samples(queries), -np.sort(d, 1)[:, :5].mean(1),
                               rtol=1e-4)


def test_encoder_of_a_detector_fitted_before(blob_images):
    """A fitted detector's codes, through FrozenEstimator: not fitted again."""
    ae = AutoEncoder(max_epochs=1, latent_dim=3, n_filters=2, random_state=0).fit(
        blob_images[:100])
    det = KNNDetector(feature_extractor=FrozenEstimator(ae)).fit(blob_images[:100])
    np.testing.assert_allclose(det.bank_, ae.embed(blob_images[:100]), rtol=1e-5)
    # an unfitted one is cloned and fitted on the normal images
    fresh = KNNDetector(feature_extractor=AutoEncoder(max_epochs=1, latent_dim=3, n_filters=2,
                                                      random_state=0)).fit(blob_images[:100])
    assert fresh.feature_extractor_ is not None and fresh.bank_.shape == (100, 3)
    assert not hasattr(det, "anomaly_map")  # no pixels to map


def test_anomaly_map_is_where_the_image_departs_from_its_neighbours(blob_images):
    X = np.repeat(blob_images[:1], 40, axis=0)  # the same image 40 times
    det = KNNDetector(preprocessing=None).fit(X)
    query = X[:1].copy()
    query[0, 0, 2, 5] += 0.5
    maps = det.anomaly_map(query)
    assert maps.shape == (1, 8, 8)
    assert np.unravel_index(maps[0].argmax(), (8, 8)) == (2, 5)
    np.testing.assert_allclose(maps[0, 2, 5], 0.25, rtol=1e-5)
    assert maps[0].sum() == pytest.approx(0.25, rel=1e-5)
