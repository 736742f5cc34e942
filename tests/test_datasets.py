import gzip

import numpy as np
import pytest
from conftest import requires_fashion

from skanomaly import datasets
from skanomaly.datasets import (
    load_digits_images,
    load_fashion_mnist,
    make_anomaly_split,
)


def _write_idx(path, array, compress):
    header = bytes([0, 0, 8, array.ndim]) + b"".join(
        int(s).to_bytes(4, "big") for s in array.shape
    )
    data = header + array.astype(np.uint8).tobytes()
    if compress:
        with gzip.open(str(path) + ".gz", "wb") as f:
            f.write(data)
    else:
        path.write_bytes(data)


def _fake_fashion(folder, compress, rng):
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {
        "train-images-idx3-ubyte": rng.randint(0, 256, (20, 28, 28)),
        "train-labels-idx1-ubyte": np.arange(20) % 10,
        "t10k-images-idx3-ubyte": rng.randint(0, 256, (10, 28, 28)),
        "t10k-labels-idx1-ubyte": np.arange(10) % 10,
    }
    for name, array in arrays.items():
        _write_idx(folder / name, array, compress)
    return arrays


@pytest.mark.parametrize("compress", [False, True])
def test_load_from_data_home(tmp_path, compress, rng):
    arrays = _fake_fashion(tmp_path, compress, rng)
    X_train, _y_train, _X_test, y_test = load_fashion_mnist(data_home=tmp_path)
    assert X_train.dtype == np.uint8 and X_train.shape == (20, 28, 28)
    np.testing.assert_array_equal(X_train, arrays["train-images-idx3-ubyte"])
    np.testing.assert_array_equal(y_test, arrays["t10k-labels-idx1-ubyte"])


def test_env_var_and_order(tmp_path, monkeypatch, rng):
    _fake_fashion(tmp_path / "env", False, rng)
    monkeypatch.setenv("SKANOMALY_DATA", str(tmp_path / "env"))
    monkeypatch.setattr(datasets, "DEBIAN_FASHION_MNIST", tmp_path / "nowhere")
    assert load_fashion_mnist()[0].shape == (20, 28, 28)
    # data_home comes first
    _fake_fashion(tmp_path / "home", False, np.random.RandomState(1))
    a = load_fashion_mnist(data_home=tmp_path / "home")[0]
    b = load_fashion_mnist()[0]
    assert not np.array_equal(a, b)


def test_missing_data_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.delenv("SKANOMALY_DATA", raising=False)
    monkeypatch.setattr(datasets, "DEBIAN_FASHION_MNIST", tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="apt-get install dataset-fashion-mnist.*download=True"):
        load_fashion_mnist(data_home=tmp_path)


def test_make_anomaly_split():
    X_train, y_train, X_test, y_test = load_digits_images()
    n_normal = (y_train == 3).sum()
    Xtr, ytr, Xte, yte = make_anomaly_split(
        X_train, y_train, X_test, y_test, normal_class=3, anomaly_ratio=0.1,
        contamination=0.05, random_state=0,
    )
    assert set(np.unique(ytr)) == {1, -1} and set(np.unique(yte)) == {1, -1}
    assert (ytr == -1).sum() == round(0.1 * n_normal)
    n_hidden = len(Xtr) - n_normal - (ytr == -1).sum()
    assert n_hidden == round(0.05 * n_normal / 0.95)
    assert len(Xte) == len(X_test)  # the whole test set
    np.testing.assert_array_equal(yte == 1, y_test == 3)
    # deterministic for a fixed seed
    again = make_anomaly_split(X_train, y_train, X_test, y_test, normal_class=3,
                               anomaly_ratio=0.1, contamination=0.05, random_state=0)
    np.testing.assert_array_equal(again[0], Xtr)


def test_make_anomaly_split_errors():
    data = load_digits_images()
    with pytest.raises(ValueError, match="normal class 42"):
        make_anomaly_split(*data, normal_class=42)
    with pytest.raises(ValueError, match="only"):
        make_anomaly_split(*data, anomaly_ratio=100)


def _split_rows(data, **kwargs):
    """make_anomaly_split on row numbers: which training row went where."""
    _, y_train, X_test, y_test = data
    rows, y_out, _, y_test_out = make_anomaly_split(
        np.arange(len(y_train)), y_train, X_test, y_test, **kwargs)
    return rows, y_out, y_train[rows], y_test_out


def test_split_classes_by_membership():
    data = load_digits_images()
    rows, y, classes, y_test = _split_rows(data, normal_class=3, anomaly_ratio=0.2,
                                           contamination=0.1, random_state=0)
    # the normal class is labelled normal and nothing else is, except hidden anomalies
    assert (y[classes == 3] == 1).all()
    assert (classes[y == -1] != 3).all()
    hidden = (y == 1) & (classes != 3)
    assert hidden.sum() == round(0.1 * (classes == 3).sum() / 0.9)
    assert len(np.unique(rows)) == len(rows)  # no row twice
    np.testing.assert_array_equal(y_test == 1, data[3] == 3)


def test_split_known_classes():
    data = load_digits_images()
    known = [1, 7]
    _, y, classes, _ = _split_rows(data, normal_class=0, known_classes=known,
                                   anomaly_ratio=0.5, random_state=0)
    labelled = set(classes[y == -1].tolist())
    assert labelled == set(known)  # only known classes, and both drawn from
    assert set(classes[y == 1].tolist()) == {0}  # the unseen classes never appear
    assert (y == -1).sum() == round(0.5 * (classes == 0).sum())
    # hidden contamination may come from every anomaly class; the labels do not
    _, y, classes, _ = _split_rows(data, normal_class=0, known_classes=[5],
                                   anomaly_ratio=0.2, contamination=0.2, random_state=0)
    assert set(classes[y == -1].tolist()) == {5}
    assert len(set(classes[(y == 1) & (classes != 0)].tolist())) > 3


@pytest.mark.parametrize("share", [0.05, 0.2])
def test_split_labelled_share(share):
    data = load_digits_images()
    n_normal = (data[1] == 2).sum()
    _, y, _, _ = _split_rows(data, normal_class=2, known_classes=[8],
                             labelled_share=share, random_state=0)
    n_labelled = (y == -1).sum()
    assert n_labelled == round(share * n_normal / (1 - share))
    assert abs(n_labelled / len(y) - share) < 0.5 / len(y) + 1e-9
    # with contamination, the share is of the whole set, hidden anomalies included
    _, y, _, _ = _split_rows(data, normal_class=2, labelled_share=share,
                             contamination=0.1, random_state=0)
    assert abs((y == -1).mean() - share) < 1 / len(y)


def test_split_defaults_unchanged_by_new_options():
    data = load_digits_images()
    a = make_anomaly_split(*data, normal_class=4, anomaly_ratio=0.1, contamination=0.05,
                           random_state=3)
    nine = [c for c in range(10) if c != 4]
    b = make_anomaly_split(*data, normal_class=4, anomaly_ratio=0.1, contamination=0.05,
                           random_state=3, known_classes=nine)
    for x, z in zip(a, b):
        np.testing.assert_array_equal(x, z)


def test_split_new_option_errors():
    data = load_digits_images()
    with pytest.raises(ValueError, match="not both"):
        make_anomaly_split(*data, anomaly_ratio=0.1, labelled_share=0.1)
    with pytest.raises(ValueError, match="labelled_share must be"):
        make_anomaly_split(*data, labelled_share=1.0)
    with pytest.raises(ValueError, match="overlaps"):
        make_anomaly_split(*data, normal_class=0, known_classes=[0, 1])
    with pytest.raises(ValueError, match=r"in known_classes \[1\]"):
        make_anomaly_split(*data, normal_class=0, known_classes=[1], anomaly_ratio=5)


@requires_fashion
def test_real_fashion_mnist():
    X_train, _y_train, X_test, y_test = load_fashion_mnist()
    assert X_train.shape == (60000, 28, 28) and X_test.shape == (10000, 28, 28)
    assert np.bincount(y_test).tolist() == [1000] * 10
