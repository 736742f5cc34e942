"""The benchmark on textures and on MVTec AD's masks: splits, metrics, the CLI, PatchKNN.

The photographs are synthetic (smoothed noise, named as scikit-image's): no
scikit-image needed.
"""

from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage

from skanomaly import datasets
from skanomaly.benchmark import (
    PatchKNN,
    SplitSettings,
    _cli,
    _runner,
    main,
    make_split,
    report,
)
from skanomaly.datasets import TEXTURE_DEFECT_KINDS, make_texture_split
from skanomaly.metrics import aupro, pixel_auroc

NAMES = datasets.TEXTURES  # named as the real ones, to run --dataset texture:NAME
SMALL = ["--crop-size", "16", "--max-train", "20", "--max-test", "12", "--no-progress",
         "--n-threads", "1"]


def _photograph(seed, sigma):
    noise = np.random.RandomState(seed).rand(96, 96) - 0.5
    smooth = ndimage.gaussian_filter(noise, sigma)
    image = np.clip(0.5 + smooth / (4 * smooth.std()), 0, 1)
    return np.rint(image * 255).astype(np.uint8)[None]


@pytest.fixture(scope="module")
def textures():
    return _runner.TextureData(tuple(_photograph(i, s) for i, s in enumerate((1, 2, 0.7))),
                               NAMES)


@pytest.fixture
def fake_textures(monkeypatch, textures):
    monkeypatch.setattr(_cli, "_load", lambda args: (textures, list(NAMES)))
    return textures


def _records(out):
    return _runner.read_records(Path(out) / "results.jsonl")


def _settings(**kwargs):
    return SplitSettings(**{"protocol": "defects", "crop_size": 16, "max_train": 20,
                            "max_test": 12, **kwargs})


# --------------------------------------------------------------------------
# splits
# --------------------------------------------------------------------------
def test_texture_split_is_make_texture_split_with_the_other_photographs(textures, monkeypatch):
    calls = []

    def spy(image, **kwargs):
        calls.append(kwargs)
        return make_texture_split(image, **kwargs)

    monkeypatch.setattr(_runner, "make_texture_split", spy)
    split = make_split(textures, 1, 3, _settings())
    (kwargs,) = calls
    np.testing.assert_array_equal(kwargs["source"],
                                  np.stack([textures.images[0], textures.images[2]]))
    assert kwargs["random_state"] == 3 and kwargs["n_validation"] == 0
    parts = make_texture_split(textures.images[1], **kwargs)
    np.testing.assert_array_equal(split.X_train, parts.X_train)
    np.testing.assert_array_equal(split.X_eval, parts.X_test)
    assert split.X_train.shape == (20, 1, 16, 16) and (split.y_train == 1).all()
    assert split.normal_class == 1 and len(split.y_eval) == 12
    assert (split.y_eval == -1).sum() == 6 and (split.eval_classes[split.y_eval == 1] == 1).all()
    assert split.eval_masks[split.y_eval == -1].any(axis=(1, 2)).all()
    assert set(split.eval_kinds[split.y_eval == -1]) <= set(TEXTURE_DEFECT_KINDS)
    assert (split.eval_kinds[split.y_eval == 1] == "good").all()


def test_validation_never_makes_the_test_crops(textures, monkeypatch):
    calls = []

    def spy(image, **kwargs):
        calls.append(kwargs)
        return make_texture_split(image, **kwargs)

    monkeypatch.setattr(_runner, "make_texture_split", spy)
    split = make_split(textures, 0, 0, _settings(evaluate="validation", validation_size=10))
    assert calls[0]["n_test"] == 0 and calls[0]["n_validation"] == 10
    parts = make_texture_split(textures.images[0], **calls[0])
    np.testing.assert_array_equal(split.X_eval, parts.X_validation)
    _, y1, x0, _ = parts.regions["validation"]
    assert ((parts.corners_validation[:, 0] + 16 <= y1)
            & (parts.corners_validation[:, 1] >= x0)).all()


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_imbalanced_labels_defects_of_the_known_kinds(textures, seed):
    settings = _settings(protocol="imbalanced", labelled_defects=6, known_kinds=1)
    split = make_split(textures, 2, seed, settings)
    assert split.known_kinds == [TEXTURE_DEFECT_KINDS[seed]]  # one kind a seed, in turn
    assert split.unseen_kinds == [k for k in TEXTURE_DEFECT_KINDS if k not in split.known_kinds]
    assert (split.y_train == -1).sum() == 6 and (split.y_train == 1).sum() == 20
    assert (split.train_classes[split.y_train == -1] == -1).all()
    # the evaluation crops are those of the defects protocol
    plain = make_split(textures, 2, seed, _settings())
    np.testing.assert_array_equal(split.X_eval, plain.X_eval)
    np.testing.assert_array_equal(split.X_train[split.y_train == 1], plain.X_train)
    # the scores: normal 0, seen kinds -1, unseen ones +1
    kinds = split.eval_kinds.astype(str)
    scores = np.where(split.y_eval == 1, 0.0, np.where(np.isin(kinds, split.known_kinds),
                                                        -1.0, 1.0))
    result = _runner.evaluate_scores(split, scores)
    if (kinds == split.known_kinds[0]).any():
        assert result["auroc_seen"] == 1.0
    assert result["auroc_unseen"] == 0.0
    assert set(result["auroc_per_kind"]) == set(kinds[split.y_eval == -1])


def test_textures_take_the_defects_or_imbalanced_protocol(textures):
    with pytest.raises(ValueError, match="defects or imbalanced"):
        make_split(textures, 0, 0, _settings(protocol="one-class"))
    with pytest.raises(ValueError, match="one shape"):
        _runner.TextureData((np.zeros((1, 8, 8)), np.zeros((1, 9, 8))), ("a", "b"))


class MaskOracle:
    """Its anomaly map is the defect mask it was told (a perfect localiser)."""

    def __init__(self, masks):
        self.masks = masks

    def anomaly_map(self, X):
        return self.masks.astype(float)


def test_pixel_metrics_per_kind(textures):
    split = make_split(textures, 0, 0, _settings(max_test=40))
    result = _runner.pixel_metrics(MaskOracle(split.eval_masks), split)
    assert result["pixel_auroc"] == 1.0 and result["aupro"] == 1.0
    assert set(result["pixel_auroc_per_kind"]) == set(split.eval_kinds[split.y_eval == -1])
    assert all(v == 1.0 for v in result["pixel_auroc_per_kind"].values())
    noise = np.random.RandomState(0).rand(*split.eval_masks.shape)
    result = _runner.pixel_metrics(MaskOracle(noise), split)
    assert result["aupro"] == pytest.approx(aupro(split.eval_masks, noise))
    assert result["pixel_auroc"] == pytest.approx(pixel_auroc(split.eval_masks, noise))
    assert _runner.pixel_metrics(object(), split) == dict.fromkeys(
        ("pixel_auroc", "aupro", "pixel_auroc_per_kind"))


# --------------------------------------------------------------------------
# the command line
# --------------------------------------------------------------------------
def test_textures_through_the_command_line(fake_textures, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["--dataset", "textures", "--normal-class", "grass,gravel", "--detectors",
                 "iforest-raw,patch-knn-raw", "--set", "patch-knn-raw.max_patches=500",
                 "--breakdown", "--out", str(out)] + SMALL) == 0
    records = {(r["normal_class"], r["detector"]): r for r in _records(out)}
    assert set(records) == {(c, d) for c in (1, 2) for d in ("iforest-raw", "patch-knn-raw")}
    for (c, name), r in records.items():
        assert r["dataset"] == "textures" and r["protocol"] == "defects"
        assert r["class_names"] == list(NAMES) and r["n_train"] == 20 and r["n_eval"] == 12
        assert r["config"] == {"evaluate": "test", "max_train": 20, "max_test": 12,
                               "crop_size": 16, "set": r["config"]["set"]}
        assert 0 <= r["auroc"] <= 1 and r["score_images_per_s"] > 0
        assert set(r["auroc_per_kind"]) <= set(TEXTURE_DEFECT_KINDS)
        if name == "patch-knn-raw":
            assert 0 <= r["pixel_auroc"] <= 1 and 0 <= r["aupro"] <= 1
            assert set(r["pixel_auroc_per_kind"]) == set(r["auroc_per_kind"])
            assert r["params"]["max_patches"] == 500
        else:
            assert r["pixel_auroc"] is None and r["aupro"] is None
    table = (out / "results.md").read_text()
    assert "| pixel AUROC | AUPRO |" in table and "1 (grass)" in table
    assert "Per defect kind, normal class 2 (gravel)" in table
    assert "| patch-knn-raw (max_patches=500) (pixel) |" in table
    capsys.readouterr()
    assert report.main([str(out / "results.jsonl"), "--breakdown"]) == 0
    assert capsys.readouterr().out == table


def test_one_texture_imbalanced_through_the_command_line(fake_textures, tmp_path):
    out = tmp_path / "run"
    assert main(["--dataset", "texture:grass", "--protocol", "imbalanced", "--known-kinds", "2",
                 "--labelled-defects", "4", "--detectors", "logreg-raw", "--seeds", "0,1",
                 "--no-figures", "--out", str(out)] + SMALL + ["--max-test", "40"]) == 0
    records = _records(out)
    assert [r["normal_class"] for r in records] == [1, 1]
    assert [r["known_kinds"] for r in records] == [["disc", "scratch"], ["stain", "smudge"]]
    for r in records:
        assert r["n_train_anomalies"] == 4 and r["config"]["known_kinds"] == 2
        assert r["config"]["labelled_defects"] == 4
        assert r["auroc_seen"] is not None and r["auroc_unseen"] is not None
    assert "the defect kinds the labelled defects had" in (out / "results.md").read_text()


@pytest.mark.parametrize("argv", [
    ["--dataset", "textures", "--protocol", "one-class"],
    ["--dataset", "textures", "--protocol", "contaminated"],
    ["--dataset", "textures", "--protocol", "imbalanced", "--known-classes", "1"],
    ["--dataset", "textures", "--labelled-defects", "3"],  # defects protocol
    ["--dataset", "textures", "--crop-size", "1"],
    ["--dataset", "textures", "--evaluate", "validation", "--validation-size", "0.2"],
    ["--dataset", "texture:brick", "--normal-class", "grass"],
    ["--dataset", "texture:marble"],
    ["--dataset", "digits", "--crop-size", "16"],
    ["--dataset", "digits", "--protocol", "imbalanced", "--known-kinds", "1"],
])
def test_bad_texture_arguments_exit(argv):
    with pytest.raises(SystemExit):
        _cli._parse(argv)


def test_texture_defaults():
    args = _cli._parse(["--dataset", "textures"])
    assert args.protocol == "defects" and args.normal_class == "all"
    settings = _cli._settings(args, 3)
    assert (settings.crop_size, settings.max_train, settings.max_test) == (64, 300, 200)
    args = _cli._parse(["--dataset", "texture:gravel", "--protocol", "imbalanced", "--quick"])
    assert args.normal_class == "gravel" and args.max_train is None
    settings = _cli._settings(args, 3)
    assert settings.labelled_defects == 10 and settings.known_kinds is None
    assert _cli._parse(["--dataset", "digits"]).protocol == "one-class"


def test_unknown_texture_names_exit(fake_textures, tmp_path):
    with pytest.raises(SystemExit, match="among brick, grass, gravel"):
        main(["--dataset", "textures", "--normal-class", "wood", "--detectors", "iforest-raw",
              "--out", str(tmp_path)] + SMALL)


def test_load_textures_without_scikit_image(monkeypatch):
    def missing(name):
        raise ImportError("load_texture needs scikit-image: pip install 'skanomaly[textures]'.")

    monkeypatch.setattr(datasets, "load_texture", missing)
    with pytest.raises(SystemExit, match=r"skanomaly\[textures\]"):
        _cli._load(_cli._parse(["--dataset", "textures"]))


def test_mvtec_records_aupro_and_each_defect_type(monkeypatch, tmp_path):
    rng = np.random.RandomState(0)
    X_train = (rng.rand(30, 1, 16, 16) * 60).astype(np.uint8)
    X_test = (rng.rand(12, 1, 16, 16) * 60).astype(np.uint8)
    types = np.array(["good"] * 4 + ["crack"] * 4 + ["hole"] * 4, dtype=object)
    masks = np.zeros((12, 16, 16), dtype=bool)
    masks[4:, 5:9, 6:10] = True
    X_test[masks[:, None]] = 255
    y_test = np.where(types == "good", 1, -1)

    def load(category, data_home=None):
        assert category == "carpet"
        return X_train, X_test, y_test, masks, types

    monkeypatch.setattr(datasets, "load_mvtec_ad", load)
    out = tmp_path / "run"
    assert main(["--dataset", "mvtec-ad:carpet", "--protocol", "defects", "--detectors",
                 "patch-knn-raw", "--no-progress", "--no-figures", "--out", str(out)]) == 0
    (record,) = _records(out)
    assert set(record["auroc_per_kind"]) == set(record["pixel_auroc_per_kind"]) == {
        "crack", "hole"}
    assert record["auroc"] == 1.0 and record["pixel_auroc"] > 0.9 and record["aupro"] > 0.9


# --------------------------------------------------------------------------
# PatchKNN
# --------------------------------------------------------------------------
def _patches(images, p):
    """Every pixel's patch of reflection-padded images, by loops: (n, H, W, C * p * p)."""
    pad = p // 2
    padded = np.pad(images, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode="reflect")
    n, _, height, width = images.shape
    return np.array([[[padded[i, :, y:y + p, x:x + p].ravel() for x in range(width)]
                      for y in range(height)] for i in range(n)])


def test_patch_knn_map_is_the_brute_force_nearest_distance():
    rng = np.random.RandomState(0)
    X = rng.rand(5, 2, 7, 6).astype(np.float32)
    detector = PatchKNN(patch_size=3, max_patches=None, contamination=0.2,
                        random_state=0).fit(X)
    bank = _patches(X, 3).reshape(-1, 18)
    assert detector.bank_.shape == bank.shape
    test = rng.rand(3, 2, 7, 6).astype(np.float32)
    queries = _patches(test, 3).reshape(-1, 18)
    expected = np.sqrt(((queries[:, None] - bank[None]) ** 2).sum(-1)).min(1).reshape(3, 7, 6)
    maps = detector.anomaly_map(test)
    assert maps.dtype == np.float64
    np.testing.assert_allclose(maps, expected, atol=1e-5)
    scores = detector.score_samples(test)
    np.testing.assert_allclose(scores, -expected.reshape(3, -1).max(1), atol=1e-5)
    # offset_: each training image against the patches of the others only
    own = _patches(X, 3).reshape(5, 42, 18)
    train_scores = [-np.sqrt(((own[i][:, None] - np.delete(own, i, 0).reshape(-1, 18)[None])
                              ** 2).sum(-1)).min(1).max() for i in range(5)]
    assert detector.offset_ == pytest.approx(np.percentile(train_scores, 20), abs=1e-5)
    np.testing.assert_allclose(detector.decision_function(test), scores - detector.offset_)
    assert set(detector.predict(test)) <= {-1, 1}


def test_patch_knn_bank_is_a_seeded_sample_of_the_normal_images():
    rng = np.random.RandomState(0)
    X = rng.rand(8, 1, 10, 10)
    y = np.array([1] * 6 + [-1] * 2)
    X[y == -1] += 5.0  # labelled anomalies: never in the bank
    a = PatchKNN(patch_size=3, max_patches=100, random_state=1).fit(X, y)
    b = PatchKNN(patch_size=3, max_patches=100, random_state=1).fit(X, y)
    c = PatchKNN(patch_size=3, max_patches=100, random_state=2).fit(X, y)
    assert a.bank_.shape == (100, 9) and a.bank_.max() <= 1.0
    np.testing.assert_array_equal(a.bank_, b.bank_)
    assert not np.array_equal(a.bank_, c.bank_)
    # uint8 images are scaled to [0, 1]; the layout (n, H, W) works too
    grey = (rng.rand(6, 10, 10) * 255).astype(np.uint8)
    maps = PatchKNN(patch_size=3, random_state=0).fit(grey).anomaly_map(grey[:2])
    assert maps.shape == (2, 10, 10) and maps.max() < 1.0


def test_patch_knn_finds_a_defect_and_keeps_the_last_maps():
    rng = np.random.RandomState(0)
    X = rng.rand(20, 1, 16, 16) * 0.2
    detector = PatchKNN(patch_size=5, random_state=0).fit(X)
    defective = X[:2].copy()
    defective[1, 0, 6:10, 6:10] = 1.0
    maps = detector.anomaly_map(defective)
    assert np.unravel_index(maps[1].argmax(), maps[1].shape) in {
        (y, x) for y in range(4, 12) for x in range(4, 12)}
    maps[:] = 0  # a copy: the kept maps are not changed
    assert detector.score_samples(defective)[1] < detector.score_samples(defective)[0] < 0
    assert detector.score_samples(X[2:4]).tolist() != detector.score_samples(
        defective).tolist()


@pytest.mark.parametrize("params, X, match", [
    ({"patch_size": 4}, np.zeros((3, 8, 8)), "odd"),
    ({"patch_size": 17}, np.zeros((3, 8, 8)), "too small"),
    ({}, np.zeros((3, 8)), "images"),
])
def test_patch_knn_bad_input(params, X, match):
    with pytest.raises(ValueError, match=match):
        PatchKNN(**params).fit(X)


def test_patch_knn_checks_channels_and_labels():
    X = np.random.RandomState(0).rand(4, 3, 8, 8)
    detector = PatchKNN(patch_size=3).fit(X)
    with pytest.raises(ValueError, match="channels"):
        detector.anomaly_map(X[:, :1])
    with pytest.raises(ValueError, match="normal training images"):
        PatchKNN(patch_size=3).fit(X, -np.ones(4))
