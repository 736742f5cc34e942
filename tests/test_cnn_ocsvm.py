"""CNNFeatures and CNNOneClassSVM: the composition, the self-supervised task, backbones, weights.

The contract they share with every estimator (checks, persistence, grid
search, pipelines, bad input), in each score mode, is in test_common.py.
"""

import urllib.error

import joblib
import numpy as np
import pytest
import torch
import torchvision
from _helpers import TinyBackbone
from sklearn.base import clone
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import OneClassSVM
from sklearn.utils._param_validation import InvalidParameterError
from torch import nn

from skanomaly import CNNFeatures, CNNOneClassSVM
from skanomaly.nn import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    RotationClassifier,
    rotation_log_likelihood,
    transform,
)

FAST = {"n_filters": 2, "max_epochs": 1, "batch_size": 32, "n_threads": 1, "random_state": 0}


# --------------------------------------------------------------------------
# fixtures
# --------------------------------------------------------------------------
def oriented_images(rng, n=48, size=8):
    """Images with an 'L' of bright pixels in a fixed corner, plus noise."""
    X = rng.rand(n, 1, size, size).astype(np.float32) * 0.2
    X[:, :, 1:size - 2, 1] = 1.0
    X[:, :, size - 3, 1:size // 2 + 1] = 1.0
    return X


def save_resnet18(path, seed):
    torch.manual_seed(seed)
    model = torchvision.models.resnet18(weights=None)
    torch.save(model.state_dict(), path)
    return model


# --------------------------------------------------------------------------
# composition and pickling
# --------------------------------------------------------------------------
def test_detector_equals_the_pipeline_it_composes(images):
    """CNN features, standardised, and scikit-learn's One-Class SVM: its default score."""
    X, _ = images
    detector = CNNOneClassSVM(nu=0.2, **FAST).fit(X)
    features = CNNFeatures(pooling="grid", **FAST).fit(X).transform(X)
    scaled = StandardScaler().fit_transform(features)
    # gamma='narrow': 8 times scikit-learn's 'scale'
    gamma = 8.0 / (scaled.shape[1] * scaled.var())
    pipe = make_pipeline(CNNFeatures(pooling="grid", **FAST), StandardScaler(),
                         OneClassSVM(nu=0.2, gamma=gamma)).fit(X)
    np.testing.assert_allclose(detector.embed(X), pipe[0].transform(X), rtol=1e-6)
    np.testing.assert_allclose(
        detector.score_samples(X), pipe.score_samples(X), rtol=1e-5, atol=1e-8
    )
    assert detector.ocsvm_._gamma == pytest.approx(gamma)
    assert pipe.predict(X).shape == (len(X),)
    # scikit-learn's own width, on the averaged maps: the 0.2 default
    mean = CNNOneClassSVM(nu=0.2, pooling="mean", gamma="scale", **FAST).fit(X)
    plain = make_pipeline(CNNFeatures(**FAST), StandardScaler(), OneClassSVM(nu=0.2)).fit(X)
    np.testing.assert_allclose(mean.score_samples(X), plain.score_samples(X), rtol=1e-5,
                               atol=1e-8)


def test_fit_uses_only_normal_samples(images):
    X, y = images
    with_labels = CNNOneClassSVM(score_mode="ocsvm", **FAST).fit(X, y)
    normal_only = CNNOneClassSVM(score_mode="ocsvm", **FAST).fit(X[y == 1])
    np.testing.assert_allclose(
        with_labels.embed(X), normal_only.embed(X), rtol=1e-6
    )
    assert len(with_labels.ocsvm_.support_vectors_) <= (y == 1).sum()


def test_joblib_round_trip_of_a_cut_torchvision_backbone(rng, tmp_path):
    # layer= cuts the backbone with torch.fx: the GraphModule must pickle too
    X = rng.rand(6, 1, 8, 8).astype(np.float32)
    features = CNNFeatures(backbone="resnet18", layer="layer2", **FAST).fit(X)
    joblib.dump(features, tmp_path / "features.joblib")
    np.testing.assert_array_equal(
        features.transform(X), joblib.load(tmp_path / "features.joblib").transform(X)
    )


# --------------------------------------------------------------------------
# the self-supervised rotation task
# --------------------------------------------------------------------------
def test_combined_score_is_the_sum_of_standardised_scores(images):
    X, y = images
    X_train = X[y == 1]
    parts = [CNNOneClassSVM(score_mode=score, **FAST).fit(X_train)
             for score in ("ocsvm", "rotation")]
    train = np.column_stack([p.score_samples(X_train) for p in parts])
    test = np.column_stack([p.score_samples(X) for p in parts])
    expected = ((test - train.mean(0)) / train.std(0)).sum(1)
    combined = CNNOneClassSVM(score_mode="combined", **FAST).fit(X_train)
    np.testing.assert_allclose(combined.score_samples(X), expected, rtol=1e-6, atol=1e-9)
    assert combined.ocsvm_ is not None and combined.net_ is not None


def test_rotation_log_likelihood():
    perfect = torch.eye(4).expand(3, 4, 4) * 100
    np.testing.assert_allclose(rotation_log_likelihood(perfect).numpy(), 0, atol=1e-6)
    uniform = torch.zeros(2, 4, 4)
    np.testing.assert_allclose(rotation_log_likelihood(uniform).numpy(), 4 * np.log(0.25))


def test_rotation_classifier_shares_the_extractor(images):
    X, _ = images
    features = CNNFeatures(**FAST).fit(X)
    module = features.net_.module_
    assert isinstance(module, RotationClassifier)
    assert module.extractor is features.extractor_
    logits = module(torch.as_tensor(X[:5]))
    assert logits.shape == (5, 4, 4)


def test_rotation_score_flags_rotated_images(rng):
    X = oriented_images(rng)
    det = CNNOneClassSVM(n_filters=4, max_epochs=15, batch_size=16, lr=3e-3,
                         n_threads=1, random_state=0).fit(X)
    X_new = oriented_images(rng, n=20)
    upright = det.score_samples(X_new)
    turned = det.score_samples(np.rot90(X_new, 1, axes=(2, 3)).copy())
    # the net learnt the orientation of the training images
    assert upright.mean() > turned.mean()
    assert (upright > np.median(turned)).mean() > 0.8


def test_training_lowers_the_rotation_loss(rng):
    X = oriented_images(rng)
    det = CNNOneClassSVM(n_filters=4, max_epochs=5, batch_size=16, lr=3e-3,
                         n_threads=1, random_state=0).fit(X)
    losses = det.net_.history[:, "train_loss"]
    assert len(losses) == 5 and losses[-1] < losses[0]


def test_transform_is_a_rotation_of_the_image_or_of_its_mirror(rng):
    x = torch.as_tensor(rng.rand(2, 1, 5, 5).astype(np.float32))
    for t in range(8):
        mirrored = x.flip(3) if t >= 4 else x
        torch.testing.assert_close(transform(x, t), torch.rot90(mirrored, t % 4, dims=(2, 3)))
    # the eight are distinct on an asymmetric image
    flat = torch.stack([transform(x, t).flatten() for t in range(8)])
    assert len(torch.unique(flat, dim=0)) == 8
    uniform = torch.zeros(3, 8, 8)
    np.testing.assert_allclose(rotation_log_likelihood(uniform).numpy(), 8 * np.log(1 / 8),
                               rtol=1e-6)


@pytest.mark.parametrize("transformations, n_classes",
                         [("rotations+flip", 8), ("rotations+translations", 36)])
def test_larger_tasks_learn_one_class_per_transformation(images, transformations,
                                                         n_classes):
    X, _ = images
    det = CNNOneClassSVM(transformations=transformations, **FAST).fit(X)
    module = det.net_.module_
    assert module.n_transforms == n_classes and module.head.out_features == n_classes
    assert module(torch.as_tensor(X[:3])).shape == (3, n_classes, n_classes)
    scores = det.score_samples(X)
    assert scores.shape == (len(X),) and np.isfinite(scores).all()


def test_bad_transformations(images):
    X, _ = images
    with pytest.raises(InvalidParameterError, match="'transformations' parameter"):
        CNNOneClassSVM(transformations="flip").fit(X)
    # images too small to shift by a quarter of their side: a clear error
    with pytest.raises(ValueError, match="at least 4x4 pixels; got 3x3"):
        CNNOneClassSVM(transformations="rotations+translations", **FAST).fit(X[:, :, :3, :3])


def test_translations_are_reflected_shifts_of_a_quarter_side():
    from skanomaly.nn import translate

    x = torch.arange(64.0).reshape(1, 1, 8, 8)
    right = translate(x, 0, 1)  # content moves 2 px right, border reflected
    torch.testing.assert_close(right[..., 2:], x[..., :6])
    torch.testing.assert_close(right[..., :2], x[..., [2, 1]])
    down = translate(x, 1, 0)
    torch.testing.assert_close(down[..., 2:, :], x[..., :6, :])
    up_left = translate(x, -1, -1)
    torch.testing.assert_close(up_left[..., :6, :6], x[..., 2:, 2:])
    # 36 distinct transformations; the first four are the plain rotations
    x = torch.rand(2, 1, 12, 12)
    flat = torch.stack([transform(x, t, 36).flatten() for t in range(36)])
    assert len(torch.unique(flat, dim=0)) == 36
    for t in range(4):
        torch.testing.assert_close(transform(x, t, 36), torch.rot90(x, t, dims=(2, 3)))


def test_rotations_and_flip_score_flags_mirrored_images(rng):
    X = oriented_images(rng)
    det = CNNOneClassSVM(n_filters=4, max_epochs=15, batch_size=16, lr=3e-3,
                         transformations="rotations+flip", n_threads=1,
                         random_state=0).fit(X)
    X_new = oriented_images(rng, n=20)
    upright = det.score_samples(X_new)
    mirrored = det.score_samples(X_new[..., ::-1].copy())
    # the net learnt the handedness of the training images
    assert upright.mean() > mirrored.mean()
    assert (upright > np.median(mirrored)).mean() > 0.8


# --------------------------------------------------------------------------
# backbones, layers, input adaptation
# --------------------------------------------------------------------------
def test_layer_selects_the_features(images):
    X, _ = images
    assert CNNFeatures(**FAST).fit_transform(X).shape == (len(X), 8)
    assert CNNFeatures(layer="stage2", **FAST).fit_transform(X).shape == (len(X), 4)
    with pytest.raises(ValueError, match="not a node of the backbone.*stage1"):
        CNNFeatures(layer="layer9", **FAST).fit(X)


def test_torchvision_backbone_trained_on_grey_images(rng):
    X = rng.rand(8, 6, 6).astype(np.float32)
    features = CNNFeatures(backbone="resnet18", **FAST).fit(X)
    ext = features.extractor_
    assert ext.in_channels == 1 and ext.trunk_channels == 3
    assert ext.size == (8, 8)  # raised to the backbone's minimum
    assert ext.trunk.conv1.kernel_size == (3, 3)  # small-image stem
    assert features.transform(X).shape == (8, 512)
    assert CNNFeatures(backbone="resnet18", layer="layer2", **FAST).fit_transform(X).shape \
        == (8, 128)


def test_module_backbone_instance_and_class(images):
    X, _ = images
    net = nn.Sequential(nn.Conv2d(3, 5, 3), nn.ReLU())
    before = [p.detach().clone() for p in net.parameters()]
    trained = CNNFeatures(backbone=net, **FAST).fit(X)
    assert trained.transform(X).shape == (len(X), 5)
    # the parameter is copied, not trained in place
    for p, q in zip(before, net.parameters()):
        torch.testing.assert_close(p, q)
    assert not np.allclose(
        trained.transform(X), CNNFeatures(backbone=net, weights="keep").fit_transform(X)
    )
    # weights='keep': the module's own weights, no training
    kept = CNNFeatures(backbone=net, weights="keep").fit(X)
    assert kept.n_epochs_ == 0  # no self-supervised training with weights="keep"
    x = torch.as_tensor(X).expand(-1, 3, -1, -1)
    x = (x - torch.as_tensor(X).mean()) / torch.as_tensor(X).std(unbiased=False)
    with torch.no_grad():
        expected = net(x).mean((2, 3)).numpy()
    np.testing.assert_allclose(kept.transform(X), expected, rtol=1e-4, atol=1e-5)

    assert CNNFeatures(backbone=TinyBackbone, **FAST).fit_transform(X).shape == (len(X), 3)


def test_image_size_resizes(images):
    X, _ = images
    features = CNNFeatures(image_size=(16, 10), **FAST).fit(X)
    assert features.extractor_.size == (16, 10)
    assert features.transform(X).shape == (len(X), 8)


def test_inputs_uint8_flat_and_3d_agree(rng):
    X8 = rng.randint(0, 256, size=(12, 1, 8, 8)).astype(np.uint8)
    features = CNNFeatures(**FAST).fit(X8)
    Xf = X8.astype(np.float32) / 255
    np.testing.assert_allclose(features.transform(X8), features.transform(Xf), rtol=1e-5)
    np.testing.assert_allclose(features.transform(X8), features.transform(X8[:, 0]), rtol=1e-6)
    np.testing.assert_allclose(
        features.transform(X8), features.transform(X8.reshape(12, -1)), rtol=1e-6
    )
    flat = CNNFeatures(image_shape=(8, 8), **FAST).fit(X8.reshape(12, -1))
    assert flat.image_shape_ == (1, 8, 8)
    assert CNNFeatures(**FAST).fit(Xf.reshape(12, -1)).image_shape_ == (1, 1, 64)


# --------------------------------------------------------------------------
# weights: from a file, ImageNet, errors
# --------------------------------------------------------------------------
def test_weights_from_a_file_are_the_features(rng, tmp_path):
    X = rng.rand(4, 1, 20, 20).astype(np.float32)
    model_a = save_resnet18(tmp_path / "a.pt", seed=0)
    save_resnet18(tmp_path / "b.pt", seed=1)
    params = {"backbone": "resnet18", "image_size": 64, "random_state": 0}
    feat_a = CNNFeatures(weights_path=tmp_path / "a.pt", **params).fit(X)
    feat_b = CNNFeatures(weights_path=str(tmp_path / "b.pt"), **params).fit(X)
    assert feat_a.n_epochs_ == 0  # no self-supervised training with given weights
    fa, fb = feat_a.transform(X), feat_b.transform(X)
    assert fa.shape == (4, 512) and not np.allclose(fa, fb)
    # the same as torchvision's resnet18 with those weights, by hand
    x = torch.nn.functional.interpolate(
        torch.as_tensor(X).expand(-1, 3, -1, -1), size=(64, 64), mode="bilinear",
        align_corners=False,
    )
    x = (x - torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)) / torch.tensor(
        IMAGENET_STD).view(1, 3, 1, 1)
    model_a.fc = nn.Identity()
    with torch.no_grad():
        expected = model_a.eval()(x).numpy()
    np.testing.assert_allclose(fa, expected, rtol=1e-4, atol=1e-5)


def test_detector_with_weights_from_a_file(rng, tmp_path):
    X = rng.rand(10, 1, 20, 20).astype(np.float32)
    save_resnet18(tmp_path / "w.pt", seed=0)
    det = CNNOneClassSVM(
        backbone="resnet18", weights_path=tmp_path / "w.pt", image_size=32,
        score_mode="ocsvm", random_state=0,
    )
    # below 64 px a ResNet is built with a 3x3 stem, which the file does not fit
    with pytest.raises(ValueError, match="do not fit the backbone.*image_size=224"):
        det.fit(X)
    det.set_params(image_size=64).fit(X)
    assert det.score_samples(X).shape == (10,)
    for score in ("rotation", "combined"):
        with pytest.raises(ValueError, match=f"score_mode='{score}' needs"):
            clone(det).set_params(score_mode=score).fit(X)


def test_missing_or_bad_weights_file(images, tmp_path):
    X, _ = images
    with pytest.raises(FileNotFoundError, match="does not exist"):
        CNNFeatures(weights_path=tmp_path / "nope.pt").fit(X)
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="Could not read a state dict"):
        CNNFeatures(weights_path=tmp_path / "junk.pt").fit(X)
    torch.save({"conv.weight": torch.zeros(1)}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="do not fit the backbone 'small'"):
        CNNFeatures(weights_path=tmp_path / "other.pt").fit(X)
    with pytest.raises(ValueError, match="not both"):
        CNNFeatures(weights="imagenet", weights_path=tmp_path / "other.pt").fit(X)


def test_state_dict_of_a_trained_small_net_round_trips(images, tmp_path):
    X, _ = images
    trained = CNNFeatures(**FAST).fit(X)
    state = {k.removeprefix("trunk."): v for k, v in trained.extractor_.state_dict().items()
             if k.startswith("trunk.")}
    torch.save(state, tmp_path / "small.pt")
    loaded = CNNFeatures(weights_path=tmp_path / "small.pt", n_filters=2).fit(X)
    np.testing.assert_allclose(loaded.transform(X), trained.transform(X), rtol=1e-5)


def test_unknown_backbone_is_a_clear_error(images):
    X, _ = images
    with pytest.raises(InvalidParameterError, match="'backbone' parameter.*resnet18"):
        CNNFeatures(backbone="resnet19").fit(X)


def test_imagenet_without_network_is_a_clear_error(images, monkeypatch):
    X, _ = images

    def offline(url, *args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", offline)
    with pytest.raises(OSError, match="resnet18-f37072fd.pth.*weights_path|weights_path"):
        CNNFeatures(backbone="resnet18", weights="imagenet").fit(X)
    with pytest.raises(ValueError, match="torchvision backbone by name"):
        CNNFeatures(weights="imagenet").fit(X)


def test_imagenet_weights_are_loaded_from_the_hub(images, monkeypatch):
    X, _ = images
    seen = {}

    def from_cache(url, *args, **kwargs):
        seen["url"] = url
        torch.manual_seed(3)
        return torchvision.models.resnet18(weights=None).state_dict()

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", from_cache)
    features = CNNFeatures(backbone="resnet18", weights="imagenet", image_size=32).fit(X)
    assert seen["url"].endswith("resnet18-f37072fd.pth")
    assert features.n_epochs_ == 0
    assert features.extractor_.trunk.conv1.kernel_size == (7, 7)  # ImageNet stem
    torch.testing.assert_close(features.extractor_.mean.flatten(), torch.tensor(IMAGENET_MEAN))
    assert features.transform(X).shape == (len(X), 512)


def test_default_score_is_the_one_class_svm_of_the_standardised_cnn_features(images):
    """The method's score (issue 26): scikit-learn's OneClassSVM on the CNN's features."""
    X, y = images
    detector = CNNOneClassSVM(**FAST).fit(X[y == 1])
    assert detector.score_mode == "ocsvm" and isinstance(detector.ocsvm_, OneClassSVM)
    with torch.no_grad():
        features = detector.extractor_(torch.as_tensor(X, dtype=torch.float32)).numpy()
    expected = detector.ocsvm_.score_samples(detector.scaler_.transform(features.astype(np.float64)))
    np.testing.assert_allclose(detector.score_samples(X), expected, rtol=1e-4, atol=1e-6)
