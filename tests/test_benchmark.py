"""The benchmark package: records, statuses, resume, protocols, splits, peers, report."""

import platform
import subprocess
from pathlib import Path

import numpy as np
import pytest
import sklearn
import torch
from sklearn.base import BaseEstimator
from sklearn.ensemble import IsolationForest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.svm import OneClassSVM
from threadpoolctl import threadpool_info

import skanomaly
from skanomaly import TrainingDivergedError
from skanomaly._base import OutlierDetectorMixin
from skanomaly.benchmark import (
    DETECTORS,
    BalancedCNN,
    Entry,
    PyODDetector,
    RawPixels,
    SplitSettings,
    _cli,
    _report,
    _runner,
    build_detector,
    default_detectors,
    main,
    make_split,
    report,
)
from skanomaly.datasets import load_digits_images

BASE = ["--dataset", "digits", "--no-progress", "--max-train", "150", "--max-test", "200"]


def _records(out):
    return _runner.read_records(Path(out) / "results.jsonl")


def _row(table, label):
    line = next(line for line in table.splitlines() if line.startswith(f"| {label} |"))
    return [c.strip() for c in line.strip("|").split("|")]


@pytest.fixture(scope="module")
def digits():
    return load_digits_images()


# --------------------------------------------------------------------------
# a scripted detector, to make fits complete, diverge, fail or be interrupted
# --------------------------------------------------------------------------
class Scripted(OutlierDetectorMixin, BaseEstimator):
    """Scores the distance of the mean pixel to the training one; fit does ``behaviour``."""

    def __init__(self, *, behaviour="completed", contamination="auto", random_state=None):
        self.behaviour = behaviour
        self.contamination = contamination
        self.random_state = random_state

    def fit(self, X, y=None):
        FITS.append({"seed": self.random_state, "torch_threads": torch.get_num_threads(),
                     "pools": [p["num_threads"] for p in threadpool_info()]})
        if self.behaviour == "diverged":
            raise TrainingDivergedError("the loss is nan at epoch 2")
        if self.behaviour == "failed":
            raise RuntimeError("boom")
        if self.behaviour == "keyboard":
            raise KeyboardInterrupt
        X = np.asarray(X, dtype=np.float64)
        self.mean_ = X.reshape(len(X), -1).mean()
        self.fit_status_ = self.behaviour
        self.n_epochs_ = 2 if self.behaviour == "interrupted" else 3
        self._set_offset(self.score_samples(X), y)
        return self

    def score_samples(self, X):
        X = np.asarray(X, dtype=np.float64)
        return -np.abs(X.reshape(len(X), -1).mean(axis=1) - self.mean_)


FITS = []


@pytest.fixture
def scripted(monkeypatch):
    """Registers 'scripted'; set ``behaviour[seed]`` to script the fit of a seed."""
    behaviour = {}
    FITS.clear()

    def build(random_state, device):
        return Scripted(behaviour=behaviour.get(random_state, "completed"),
                        random_state=random_state)

    monkeypatch.setitem(DETECTORS, "scripted", Entry(build, "skanomaly"))
    return behaviour


# --------------------------------------------------------------------------
# one quick run, several checks
# --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """Digits classes 0 and 1, two seeds, an AutoEncoder of one epoch and two peers."""
    out = tmp_path_factory.mktemp("bench")
    status = main(BASE + ["--quick", "--detectors", "autoencoder,iforest-raw,ocsvm-raw",
                          "--normal-class", "0,1", "--seeds", "0,1", "--n-threads", "1",
                          "--set", "autoencoder.max_epochs=1", "--out", str(out)])
    return out, status


def test_records_say_what_ran_and_where(quick_run):
    out, status = quick_run
    assert status == 0
    records = _records(out)
    assert len(records) == len({_runner.run_key(r) for r in records}) == 2 * 3 * 2
    package = Path(skanomaly.__file__).resolve().parent
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=package, check=True,
                              capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        head = None
    for r in records:
        assert r["status"] == "completed" and r["error"] is None
        assert r["version"] == skanomaly.__version__
        assert r["commit"] == head and r["dirty"] in ((True, False) if head else (None,))
        assert r["torch"] == torch.__version__ and r["sklearn"] == sklearn.__version__
        assert r["python"] == platform.python_version()
        assert r["evaluate"] == "test" and r["protocol"] == "one-class"
        assert 0.0 <= r["auroc"] <= 1.0 and r["auroc_seen"] is None
        assert set(r["auroc_per_class"]) == {str(c) for c in range(10)} - {str(r["normal_class"])}
        assert r["fit_seconds"] > 0 and r["score_images_per_s"] > 0
        assert 0 < r["n_train"] <= 150 and r["n_train_anomalies"] == 0
        assert r["n_threads"] == 1 and "--quick" in r["command"]
    for name, param in [("autoencoder", "random_state"),
                        ("iforest-raw", "estimator__random_state")]:
        assert {(r["seed"], r["params"][param]) for r in records
                if r["detector"] == name} == {(0, 0), (1, 1)}
    ae = [r for r in records if r["detector"] == "autoencoder"]
    # --set reaches the detector, and is part of the run's config
    assert all(r["params"]["max_epochs"] == 1 and r["config"]["set"] == {"max_epochs": 1}
               for r in ae)
    assert all(r["kind"] == "skanomaly" for r in ae)
    peers = [r for r in records if r["detector"] != "autoencoder"]
    assert all(r["kind"] == "peer" and r["n_epochs"] is None and r["config"]["set"] == {}
               for r in peers)
    # the raw-pixel peers separate digit 0 from the other digits easily
    assert min(r["auroc"] for r in peers if r["normal_class"] == 0) > 0.9


def test_table_mean_std_and_headline(quick_run):
    out, _ = quick_run
    table = (out / "results.md").read_text()
    records = _records(out)
    assert "| detector | 0 | 1 | mean | fit s | score img/s |" in table
    for name, label in [("iforest-raw", "iforest-raw"),
                        ("autoencoder", "autoencoder (max_epochs=1)")]:
        cells = _row(table, label)
        auroc = {(r["normal_class"], r["seed"]): r["auroc"] for r in records
                 if r["detector"] == name}
        first = [auroc[0, s] for s in (0, 1)]
        assert cells[1] == f"{np.mean(first):.3f} ± {np.std(first, ddof=1):.3f}"
        per_seed = [np.mean([auroc[c, s] for c in (0, 1)]) for s in (0, 1)]
        assert cells[3] == f"**{np.mean(per_seed):.3f} ± {np.std(per_seed, ddof=1):.3f}**"
    headline = next(line for line in table.splitlines() if line.startswith("Headline"))
    assert "best skanomaly detector `autoencoder (max_epochs=1)`" in headline
    assert "seed 0:" in headline and "seed 1:" in headline
    assert "exceeds the spread: yes" in headline or "exceeds the spread: no" in headline
    assert "Left out" not in table
    pytest.importorskip("matplotlib")
    for figure in ("roc.png", "reconstructions.png"):
        assert (out / figure).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_reproduces_the_table(quick_run, capsys):
    out, _ = quick_run
    assert report.main([str(out / "results.jsonl")]) == 0
    assert capsys.readouterr().out == (out / "results.md").read_text()


def test_report_reproduces_the_printed_rst_table(tmp_path, capsys):
    args = BASE + ["--detectors", "iforest-raw,ocsvm-raw", "--normal-class", "0",
                   "--format", "rst", "--breakdown", "--out", str(tmp_path), "--no-figures"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert report.main([str(tmp_path / "results.jsonl"), "--format", "rst",
                        "--breakdown"]) == 0
    regenerated = capsys.readouterr().out
    assert "=====" in regenerated and "Per anomaly class" in regenerated
    assert regenerated in printed
    assert regenerated == (tmp_path / "results.rst").read_text()


def test_headline_spread_rule():
    yes = _report.compare({0: 0.90, 1: 0.92}, {0: 0.80, 1: 0.83})[1]
    assert yes.startswith("yes")
    assert _report.compare({0: 0.90}, {0: 0.80})[1] == "one seed: no spread"
    assert "disagree in sign" in _report.compare({0: 0.9, 1: 0.8}, {0: 0.85, 1: 0.85})[1]
    diffs, verdict = _report.compare({0: 0.91, 1: 0.90, 2: 0.90}, {0: 0.90, 1: 0.80, 2: 0.899})
    assert verdict.startswith("no (the mean's size") and list(diffs) == [0, 1, 2]


# --------------------------------------------------------------------------
# statuses: interrupted, diverged, failed; --resume
# --------------------------------------------------------------------------
@pytest.mark.parametrize("how", ["interrupted", "keyboard"])
def test_an_interrupted_fit_is_recorded_stops_and_resumes(tmp_path, scripted, how, capsys):
    scripted[0] = how  # seed 0's fit reports fit_status_='interrupted', or raises Ctrl-C
    args = BASE + ["--detectors", "scripted,iforest-raw", "--normal-class", "0",
                   "--seeds", "0,1", "--out", str(tmp_path), "--no-figures"]
    with pytest.raises(KeyboardInterrupt):
        main(args)
    (record,) = _records(tmp_path)  # written before stopping; nothing ran after it
    assert record["detector"] == "scripted" and record["status"] == "interrupted"
    assert record["n_epochs"] == (2 if how == "interrupted" else None)
    assert record["auroc"] is None and record["error"]
    assert "INTERRUPTED scripted" in capsys.readouterr().err
    scripted.clear()
    assert main(args + ["--resume"]) == 0
    assert [f["seed"] for f in FITS] == [0, 0, 1]  # seed 0 ran again
    last = _runner.latest(_records(tmp_path))
    assert len(last) == 4 and {r["status"] for r in last.values()} == {"completed"}
    assert "| scripted |" in (tmp_path / "results.md").read_text()


def test_diverged_and_failed_runs_are_left_out_and_rerun(tmp_path, scripted, capsys):
    scripted.update({0: "diverged", 1: "failed", 2: "stopped_early"})
    args = BASE + ["--detectors", "scripted,iforest-raw", "--normal-class", "0",
                   "--seeds", "0,1,2", "--out", str(tmp_path), "--no-figures"]
    assert main(args) == 1
    by_seed = {r["seed"]: r for r in _records(tmp_path) if r["detector"] == "scripted"}
    assert by_seed[0]["status"] == "diverged"
    assert by_seed[0]["error"] == "TrainingDivergedError: the loss is nan at epoch 2"
    assert by_seed[1]["status"] == "failed" and by_seed[1]["error"] == "RuntimeError: boom"
    assert by_seed[2]["status"] == "stopped_early" and by_seed[2]["n_epochs"] == 3
    table = (tmp_path / "results.md").read_text()
    assert _row(table, "scripted")[1] == f"{by_seed[2]['auroc']:.3f}"  # seed 2 alone
    assert "Left out of the table: 2 run(s) not completed (1 diverged, 1 failed)" in table
    # a run that did not complete stays out even when its record holds a figure
    records = [dict(r, auroc=0.0) if r["status"] == "diverged" else r
               for r in _records(tmp_path)]
    assert _report.format_report(records) == table
    out = capsys.readouterr()
    assert "DIVERGED scripted (class 0, seed 0)" in out.err
    scripted.clear()
    FITS.clear()
    assert main(args + ["--resume"]) == 0
    assert sorted(f["seed"] for f in FITS) == [0, 1]  # only the two that did not complete
    assert "Resuming: 4 of 6 runs already done." in capsys.readouterr().out
    table = (tmp_path / "results.md").read_text()
    assert "Left out" not in table and "±" in _row(table, "scripted")[1]


def test_n_threads_limits_every_fit_and_is_restored(tmp_path, scripted):
    before = torch.get_num_threads()
    assert main(BASE + ["--detectors", "scripted", "--normal-class", "0", "--n-threads", "1",
                        "--out", str(tmp_path), "--no-figures"]) == 0
    assert FITS[0]["torch_threads"] == 1 and set(FITS[0]["pools"]) <= {1}
    assert torch.get_num_threads() == before


def test_resume_tolerates_a_cut_line_and_runs_are_kept_aside(tmp_path, monkeypatch):
    args = BASE + ["--detectors", "iforest-raw", "--normal-class", "0", "--out",
                   str(tmp_path), "--no-figures"]
    assert main(args) == 0
    with open(tmp_path / "results.jsonl", "a") as f:
        f.write('{"dataset": "digits", "protoc')  # interrupted mid-write
    calls = []
    monkeypatch.setattr(_runner, "run_one", lambda *a, **k: calls.append(a))
    assert main(args + ["--resume"]) == 0
    assert calls == []
    monkeypatch.undo()
    main(args)  # without --resume: the previous file is moved aside
    assert len(_records(tmp_path)) == 1
    assert len(list(tmp_path.glob("results.*.jsonl"))) == 1


# --------------------------------------------------------------------------
# peers
# --------------------------------------------------------------------------
@pytest.mark.parametrize("estimator", [IsolationForest(random_state=0), OneClassSVM()],
                         ids=["iforest", "ocsvm"])
@pytest.mark.parametrize("contamination", [0.1, 0.25])
def test_raw_pixels_flags_the_contamination_share(digits, estimator, contamination):
    X = digits[0][digits[1] == 3]
    detector = RawPixels(estimator, contamination=contamination).fit(X)
    assert abs((detector.predict(X) == -1).mean() - contamination) <= 0.02
    scores = detector.score_samples(X)
    assert scores.dtype == np.float64
    np.testing.assert_allclose(detector.decision_function(X), scores - detector.offset_)
    auto = RawPixels(estimator).fit(X).predict(X)
    assert 0 < (auto == -1).mean() < 0.1  # 'auto': the lower Tukey fence, >= 1%


def test_labelled_peers_flag_the_contamination_share(digits):
    X, y, _, _ = skanomaly.datasets.make_anomaly_split(*digits, normal_class=0,
                                                       anomaly_ratio=0.3, random_state=0)
    for detector in [RawPixels(LogisticRegression(class_weight="balanced", max_iter=1000),
                               use_labels=True, contamination=0.1),
                     BalancedCNN(max_epochs=2, random_state=0, contamination=0.1)]:
        detector.fit(X, y)
        assert abs((detector.predict(X) == -1).mean() - 0.1) <= 0.02
        assert detector.score_samples(X[y == -1]).mean() < detector.score_samples(
            X[y == 1]).mean()


def test_balanced_cnn_is_seeded(digits):
    X, y, _, _ = skanomaly.datasets.make_anomaly_split(*digits, normal_class=0,
                                                       anomaly_ratio=0.3, random_state=0)
    a = BalancedCNN(max_epochs=1, random_state=3).fit(X, y).score_samples(X[:20])
    b = BalancedCNN(max_epochs=1, random_state=3).fit(X, y).score_samples(X[:20])
    np.testing.assert_array_equal(a, b)
    c = BalancedCNN(max_epochs=1, random_state=4).fit(X, y).score_samples(X[:20])
    assert not np.array_equal(a, c)


def test_pyod_detector_flags_the_contamination_share(digits):
    iforest = pytest.importorskip("pyod.models.iforest")
    X = digits[0][digits[1] == 3]
    detector = PyODDetector(iforest.IForest, model_params={"random_state": 0},
                            contamination=0.1).fit(X)
    assert abs((detector.predict(X) == -1).mean() - 0.1) <= 0.02
    # PyOD scores higher for more abnormal: negated here
    other = digits[0][digits[1] == 0]
    assert detector.score_samples(other).mean() < detector.score_samples(X).mean()



def test_pyod_devnet_learns_from_its_labels_once_its_loss_is_fixed(digits):
    """PyOD 3.6.7's DevNet swaps its loss's arguments and learns nothing; fixed, it does."""
    devnet = pytest.importorskip("pyod.models.devnet")
    from skanomaly.benchmark._registry import devnet_with_its_loss_fixed

    X, y, X_test, y_test = skanomaly.datasets.make_anomaly_split(
        *digits, normal_class=0, anomaly_ratio=0.2, random_state=0)
    X, X_test = X.reshape(len(X), -1), X_test.reshape(len(X_test), -1)
    params = {"model_params": {"epochs": 20}, "use_labels": True, "random_state": 0}
    fixed = PyODDetector(devnet_with_its_loss_fixed(), **params).fit(X, y)
    assert roc_auc_score(y_test, fixed.score_samples(X_test)) > 0.9
    if devnet_with_its_loss_fixed() is not devnet.DevNet:  # this PyOD has the bug
        plain = PyODDetector(devnet.DevNet, **params).fit(X, y)
        assert roc_auc_score(y_test, plain.score_samples(X_test)) < 0.8

# --------------------------------------------------------------------------
# splits and protocols
# --------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [0, 1])
def test_known_classes_split(digits, seed):
    settings = SplitSettings(protocol="imbalanced", known_classes=3, anomaly_ratio=0.5)
    split = make_split(digits, 4, seed, settings)
    assert len(split.known) == 3 and 4 not in split.known
    assert sorted(split.known + split.unseen) == [c for c in range(10) if c != 4]
    np.testing.assert_array_equal(split.X_train, digits[0][split.train_rows])
    np.testing.assert_array_equal(split.train_classes, digits[1][split.train_rows])
    # the normal class only in the normal part, labelled anomalies only from known classes
    assert set(split.train_classes[split.y_train == 1].tolist()) == {4}
    assert set(split.train_classes[split.y_train == -1].tolist()) <= set(split.known)
    assert not set(split.unseen) & set(split.train_classes.tolist())
    assert (split.y_eval == 1).sum() == (split.eval_classes == 4).sum()
    # the masks: seen anomalies perfectly ranked, unseen ones ranked above the normals
    scores = np.where(split.y_eval == 1, 0.0,
                      np.where(np.isin(split.eval_classes, split.known), -1.0, 1.0))
    metrics = _runner.evaluate_scores(split, scores)
    assert metrics["auroc_seen"] == 1.0 and metrics["auroc_unseen"] == 0.0
    assert {int(c) for c, v in metrics["auroc_per_class"].items() if v == 1.0} == set(
        split.known)


def test_known_classes_are_drawn_per_seed(digits):
    settings = SplitSettings(protocol="imbalanced", known_classes=2)
    draws = {tuple(make_split(digits, 0, seed, settings).known) for seed in range(5)}
    assert len(draws) > 1


def test_deep_sad_scenario_labelled_share(digits):
    settings = SplitSettings(protocol="imbalanced", known_classes=1, labelled_share=0.05)
    split = make_split(digits, 0, 0, settings)
    n_a, n = (split.y_train == -1).sum(), len(split.y_train)
    n_n = n - n_a
    assert n_a == round(0.05 * n_n / 0.95)
    assert len(set(split.train_classes[split.y_train == -1].tolist())) == 1
    assert settings.config()["labelled_share"] == 0.05 and "anomaly_ratio" not in (
        settings.config())


def test_unseen_classes_is_an_alias_of_known_classes(capsys):
    args = _cli._parse(["--protocol", "imbalanced", "--unseen-classes", "3"])
    assert _cli._settings(args, 10).known_classes == 6
    assert "deprecated" in capsys.readouterr().err
    assert "deprecated" in _cli.make_parser().format_help()


def test_imbalanced_run_records_seen_unseen_and_per_class(tmp_path):
    assert main(BASE + ["--protocol", "imbalanced", "--known-classes", "3",
                        "--detectors", "logreg-raw", "--normal-class", "0", "--seeds", "0,1",
                        "--out", str(tmp_path), "--no-figures", "--breakdown"]) == 0
    records = _records(tmp_path)
    for r in records:
        assert len(r["known_classes"]) == 3 and len(r["unseen_classes"]) == 6
        assert r["n_train_anomalies"] > 0 and r["config"]["known_classes"] == 3
        assert 0 <= r["auroc_seen"] <= 1 and 0 <= r["auroc_unseen"] <= 1
        assert len(r["auroc_per_class"]) == 9
    table = (tmp_path / "results.md").read_text()
    assert "| seen | unseen |" in table
    assert "| logreg-raw, seen |" in table and "| logreg-raw, unseen |" in table


def test_contaminated_protocol_hides_anomalies_and_reports_trimming(digits, tmp_path):
    split = make_split(digits, 0, 0, SplitSettings(protocol="contaminated",
                                                   contamination=0.1))
    assert (split.y_train == 1).all() and (split.train_classes != 0).sum() > 0
    args = _cli._parse(["--protocol", "contaminated"])
    assert "autoencoder+trimmed" in args.detector_list
    assert "logreg-raw" not in args.detector_list
    assert main(BASE + ["--protocol", "contaminated", "--contamination", "0.1",
                        "--detectors", "iforest-raw+trimmed", "--normal-class", "0",
                        "--set", "iforest-raw+trimmed.n_rounds=1", "--out", str(tmp_path),
                        "--no-figures"]) == 0
    (record,) = _records(tmp_path)
    assert record["n_train_hidden"] > 0 and record["kind"] == "peer"
    assert record["params"]["n_rounds"] == 1 and record["trimming"]["dropped"] > 0


class _Untouchable:
    """A test set that must not be read."""

    def __getattr__(self, name):
        raise AssertionError(f"the test set was read ({name})")

    def __getitem__(self, item):
        raise AssertionError("the test set was read")

    def __len__(self):
        raise AssertionError("the test set was read")


def test_evaluate_validation_never_reads_the_test_set(digits, tmp_path, monkeypatch):
    untouched = (digits[0], digits[1], _Untouchable(), _Untouchable())
    monkeypatch.setattr(_cli, "_load", lambda args: (untouched, [str(i) for i in range(10)]))
    assert main(["--dataset", "digits", "--no-progress", "--evaluate", "validation",
                 "--detectors", "iforest-raw", "--normal-class", "0", "--out",
                 str(tmp_path), "--no-figures"]) == 0
    (record,) = _records(tmp_path)
    assert record["evaluate"] == "validation" and record["config"]["validation_size"] == 0.2
    assert "validation set carved" in (tmp_path / "results.md").read_text()

    settings = SplitSettings(protocol="imbalanced", evaluate="validation", anomaly_ratio=0.2)
    split = make_split(untouched, 0, 0, settings)
    assert not set(split.eval_rows) & set(split.train_rows)  # disjoint from training
    np.testing.assert_array_equal(split.X_eval, digits[0][split.eval_rows])
    counts = np.bincount(split.eval_classes, minlength=10)
    assert counts[0] == round(0.2 * (digits[1] == 0).sum())
    assert (counts[1:] == counts[0]).all()  # as many images of each anomaly class


def test_set_reaches_nested_and_trimmed_detectors():
    overrides = {"iforest-raw": {"estimator__n_estimators": 7},
                 "iforest-raw+trimmed": {"trim_share": 0.1}}
    plain = build_detector("iforest-raw", overrides=overrides)
    trimmed = build_detector("iforest-raw+trimmed", overrides=overrides)
    assert plain.estimator.n_estimators == 7
    assert trimmed.estimator.estimator.n_estimators == 7 and trimmed.trim_share == 0.1
    args = _cli._parse(["--detectors", "autoencoder", "--set", "autoencoder.latent_dim=16",
                        "--set", "autoencoder.lr=3e-3"])
    assert args.overrides == {"autoencoder": {"latent_dim": 16, "lr": 0.003}}


def test_max_epochs_is_a_shorthand_of_set():
    args = _cli._parse(["--detectors", "autoencoder,anogan+trimmed,iforest-raw",
                        "--protocol", "contaminated", "--max-epochs", "2",
                        "--set", "autoencoder.max_epochs=3"])
    _cli._available(args)
    assert args.overrides == {"autoencoder": {"max_epochs": 3}, "anogan": {"max_epochs": 2}}


def test_registry_by_protocol():
    one_class = default_detectors("one-class")
    imbalanced = default_detectors("imbalanced")
    assert {"autoencoder", "anogan", "cnn-ocsvm"} <= set(one_class)
    # the detectors made to learn from labelled anomalies run without them by name only
    assert not {"logreg-raw", "cnn-classifier", "pyod-devnet", "pyod-anogan", "dualdiscgan",
                "deep-sad"} & set(one_class)
    assert {"logreg-raw", "cnn-classifier", "pyod-devnet", "dualdiscgan", "deep-sad"} \
        <= set(imbalanced)
    contaminated = default_detectors("contaminated")
    assert "dualdiscgan+trimmed" not in contaminated and "autoencoder+trimmed" in contaminated


def test_unavailable_and_unlabelled_detectors_are_skipped(tmp_path, capsys, monkeypatch):
    def missing(random_state, device):
        raise ImportError("No module named 'pyod'")

    monkeypatch.setitem(DETECTORS, "pyod-autoencoder", Entry(missing, "peer"))
    assert main(BASE + ["--detectors", "pyod-autoencoder,logreg-raw", "--normal-class", "0",
                        "--out", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "Skipping pyod-autoencoder: No module named 'pyod'" in out
    assert "Skipping logreg-raw: it needs labelled anomalies" in out


@pytest.mark.parametrize("argv", [
    ["--detectors", "nope"],
    ["--seeds", "a,b"],
    ["--known-classes", "2"],  # one-class protocol
    ["--protocol", "imbalanced", "--anomaly-ratio", "0.1", "--labelled-share", "0.1"],
    ["--contamination", "0.7"],
    ["--set", "autoencoder.latent_dim"],
    ["--detectors", "iforest-raw", "--set", "autoencoder.latent_dim=4"],
    ["--validation-size", "100"],  # without --evaluate validation
])
def test_bad_arguments_exit(argv):
    with pytest.raises(SystemExit):
        _cli._parse(argv)


def test_an_unknown_parameter_exits(tmp_path):
    with pytest.raises(SystemExit, match="latent_dimension"):
        main(BASE + ["--detectors", "autoencoder", "--set", "autoencoder.latent_dimension=4",
                     "--out", str(tmp_path)])


def test_quick_cuts_data_not_epochs():
    args = _cli._parse(["--quick"])
    assert args.normal_class == "0" and args.overrides == {} and args.max_epochs is None
    assert (args.max_train, args.max_test) == (_cli.QUICK_MAX_TRAIN, _cli.QUICK_MAX_TEST)
    # the pixel kNN and PyOD's kNN beside every table
    assert {"knn", "autoencoder", "anogan", "cnn-ocsvm", "iforest-raw", "ocsvm-raw",
            "pyod-knn"} == set(args.detector_list)
    imbalanced = _cli._parse(["--quick", "--protocol", "imbalanced"]).detector_list
    assert {"dualdiscgan", "deep-sad", "logreg-raw"} <= set(imbalanced)
    assert "pyod-autoencoder" in _cli._parse([]).detector_list


def test_figure_images_are_scaled_to_unit_range():
    grey = _report._as_2d(np.full((1, 4, 4), 255, dtype=np.uint8))
    assert grey.shape == (4, 4) and grey.max() == 1.0
    rgb = _report._as_2d(np.full((3, 4, 4), 0.5, dtype=np.float32))
    assert rgb.shape == (4, 4, 3) and rgb.max() == 0.5


def test_defects_split_puts_a_masked_defect_in_every_second_normal_image():
    data = load_digits_images()
    split = make_split(data, 3, 0, SplitSettings(protocol="defects"))
    assert (split.train_classes == 3).all() and (split.y_train == 1).all()
    normal_test = (np.asarray(data[3]) == 3).sum()
    assert len(split.y_eval) == normal_test  # only the normal class's images
    defective = split.y_eval == -1
    assert defective.sum() == normal_test // 2
    assert split.eval_masks.shape == (normal_test, 8, 8)
    assert split.eval_masks[defective].any(axis=(1, 2)).all()
    assert not split.eval_masks[~defective].any()
    clean = data[2][np.asarray(data[3]) == 3]
    np.testing.assert_array_equal(split.X_eval[~defective], clean[~defective])
    assert not np.array_equal(split.X_eval[defective], clean[defective])


def test_defects_protocol_records_the_pixel_auroc_of_detectors_that_localise(tmp_path):
    main(BASE + ["--protocol", "defects", "--detectors", "autoencoder,iforest-raw",
                 "--set", "autoencoder.max_epochs=2", "--normal-class", "0",
                 "--out", str(tmp_path)])
    records = {r["detector"]: r for r in _records(tmp_path)}
    assert 0.0 <= records["autoencoder"]["pixel_auroc"] <= 1.0
    assert records["iforest-raw"]["pixel_auroc"] is None
    assert "pixel AUROC" in (tmp_path / "results.md").read_text()
