"""A map-style torch Dataset as X: streamed in batches, PIL items, folders, errors.

That every estimator fits and scores a Dataset as the array is in test_common.py.
"""

import numpy as np
import pytest
import torch
from torch.utils.data import Dataset, IterableDataset, TensorDataset

from skanomaly import AutoEncoder, DualDiscGAN
from skanomaly._base import DatasetImages

FAST = {"max_epochs": 1, "n_filters": 4, "batch_size": 16, "random_state": 0}


class CountingDataset(Dataset):
    """uint8 images as PIL images with a class target, counting item loads."""

    def __init__(self, images):
        self.images = images
        self.loads = 0

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        from PIL import Image

        self.loads += 1
        return Image.fromarray(self.images[i, 0]), 7


@pytest.fixture
def uint8_images(rng):
    X = (rng.rand(40, 1, 12, 12) * 60).astype(np.uint8)
    X[:, :, 4:8, 4:8] += 150
    y = np.ones(40, dtype=int)
    y[:6] = -1
    X[:6] = (rng.rand(6, 1, 12, 12) * 255).astype(np.uint8)
    return X, y


def test_each_item_is_loaded_once_per_pass(uint8_images):
    X, y = uint8_images
    detector = AutoEncoder(latent_dim=2, **FAST).fit(X, y)
    dataset = CountingDataset(X)
    np.testing.assert_allclose(detector.score_samples(dataset), detector.score_samples(X),
                               rtol=1e-5, atol=1e-6)
    # each item loaded once, batch by batch, and the first once more for its shape
    assert dataset.loads == len(X) + 1


def test_dataset_scoring_loads_batch_by_batch(uint8_images):
    X, y = uint8_images
    detector = AutoEncoder(latent_dim=2, **FAST).fit(X, y)
    dataset = CountingDataset(X)
    seen = []
    original = detector._anomaly_score  # the reconstruction error, batch by batch

    def spy(x):
        seen.append((len(x), dataset.loads))
        return original(x)

    detector._anomaly_score = spy
    detector.score_samples(dataset)
    # the k-th batch runs once (k+1) batches at most have been loaded: no
    # more than one batch of images is in memory at a time
    assert [n for n, _ in seen] == [16, 16, 8]
    assert [loads for _, loads in seen] == [1 + 16, 1 + 32, 1 + 40]


def test_tensor_dataset_and_labels_from_y(uint8_images):
    X, y = uint8_images
    dataset = TensorDataset(torch.from_numpy(X.astype(np.float32) / 255),
                            torch.zeros(len(X)))
    detector = DualDiscGAN(**FAST).fit(dataset, y)
    assert detector.supervised_  # y, not the dataset's targets, gives the labels
    assert detector.predict(dataset).shape == (40,)


def test_image_folder(tmp_path, rng):
    from PIL import Image
    from torchvision.datasets import ImageFolder

    for label in ("normal", "other"):
        (tmp_path / label).mkdir()
        for i in range(6):
            array = (rng.rand(10, 10, 3) * 255).astype(np.uint8)
            Image.fromarray(array).save(tmp_path / label / f"{i}.png")
    folder = ImageFolder(tmp_path)
    detector = AutoEncoder(latent_dim=2, **FAST).fit(folder)
    assert detector.image_shape_ == (3, 10, 10)
    scores = detector.score_samples(folder)
    assert scores.shape == (12,) and scores.dtype == np.float64


class _Items(Dataset):
    def __init__(self, items):
        self.items = items

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        return self.items[i]


def test_bad_datasets_raise_clear_errors(rng):
    good = [torch.rand(1, 8, 8) for _ in range(10)]
    with pytest.raises(ValueError, match="Item 3 of the dataset contains NaN"):
        AutoEncoder(**FAST).fit(_Items(good[:3] + [torch.full((1, 8, 8), np.nan)] + good))
    with pytest.raises(ValueError, match=r"Item 2 of the dataset has shape \(1, 9, 9\)"):
        AutoEncoder(**FAST).fit(_Items(good[:2] + [torch.rand(1, 9, 9)] + good))
    with pytest.raises(ValueError, match="at least 2"):
        AutoEncoder(**FAST).fit(_Items(good[:1]))
    with pytest.raises(ValueError, match=r"shape \(5,\)"):
        AutoEncoder(**FAST).fit(_Items([torch.rand(5)] * 4))

    class Stream(IterableDataset):
        def __iter__(self):
            return iter(good)

    with pytest.raises(TypeError, match="map-style"):
        AutoEncoder(**FAST).fit(Stream())
    detector = AutoEncoder(latent_dim=2, **FAST).fit(_Items(good))
    with pytest.raises(ValueError, match=r"fitted on samples of shape \(1, 8, 8\)"):
        detector.score_samples(_Items([torch.rand(3, 8, 8)] * 2))


def test_dataset_images_view():
    data = _Items([np.full((1, 2, 2), i, dtype=np.float32) for i in range(5)])
    view = DatasetImages(data, (1, 2, 2))
    assert view.shape == (5, 1, 2, 2) and len(view) == 5
    assert view[1:3][:, 0, 0, 0].tolist() == [1, 2]
    sub = view[np.array([True, False, True, False, True])]
    assert sub[0:3][:, 0, 0, 0].tolist() == [0, 2, 4]
    assert sub.min() == 0 and sub.max() == 4 and sub.mean() == pytest.approx(2)
    assert sub.std() == pytest.approx(np.std([0, 2, 4]))
    np.testing.assert_allclose(sub.mean(axis=(0, 2, 3)), [2.0])
