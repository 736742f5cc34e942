"""The benchmark command: JSON lines, the table, the figures, --resume, the protocols."""

import json

import numpy as np
import pytest

from skanomaly import benchmark
from skanomaly.benchmark import main

QUICK = ["--dataset", "digits", "--quick", "--no-progress", "--max-train", "150",
         "--max-test", "200"]
DETECTORS = "autoencoder,iforest-raw,ocsvm-raw"


def _records(out):
    lines = (out / "results.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """One quick run on digits classes 0 and 1, two seeds, kept for several tests."""
    out = tmp_path_factory.mktemp("bench")
    status = main(QUICK + ["--detectors", DETECTORS, "--normal-class", "0,1",
                           "--seeds", "0,1", "--out", str(out)])
    return out, status


def test_quick_run_writes_one_record_per_run(quick_run):
    out, status = quick_run
    assert status == 0
    records = _records(out)
    runs = {(r["normal_class"], r["detector"], r["seed"]) for r in records}
    assert len(records) == len(runs) == 2 * 3 * 2
    assert {r["detector"] for r in records} == set(DETECTORS.split(","))
    for r in records:
        assert r["dataset"] == "digits" and r["protocol"] == "one-class"
        assert 0.0 <= r["auroc"] <= 1.0
        assert r["auroc_seen"] is None and r["auroc_unseen"] is None
        assert r["fit_seconds"] > 0 and r["score_images_per_s"] > 0
        assert 0 < r["n_train"] <= 150 and r["n_train_anomalies"] == 0
        assert r["config"]["max_epochs"] == 1 and r["config"]["quick"] is True
        assert isinstance(r["params"], dict)
    ae = [r for r in records if r["detector"] == "autoencoder"]
    assert all(r["params"]["max_epochs"] == 1 for r in ae)
    assert {r["params"]["random_state"] for r in ae} == {0, 1}
    # the raw-pixel peers separate digit 0 from the other digits easily
    iforest = [r["auroc"] for r in records
               if r["detector"] == "iforest-raw" and r["normal_class"] == 0]
    assert min(iforest) > 0.9


def test_table_and_figures(quick_run, capsys):
    out, _ = quick_run
    table = (out / "results.md").read_text()
    records = _records(out)
    assert "| detector | 0 | 1 | mean | fit s | score img/s |" in table
    for name in DETECTORS.split(","):
        row = next(line for line in table.splitlines() if line.startswith(f"| {name} |"))
        cells = [c.strip() for c in row.strip("|").split("|")]
        aurocs = [r["auroc"] for r in records if r["detector"] == name and r["normal_class"] == 0]
        assert cells[1] == f"{np.mean(aurocs):.3f} ± {np.std(aurocs):.3f}"
        class_means = [np.mean([r["auroc"] for r in records
                                if r["detector"] == name and r["normal_class"] == c])
                       for c in (0, 1)]
        assert cells[3] == f"**{np.mean(class_means):.3f}**"
    assert "--dataset digits" in table
    pytest.importorskip("matplotlib")
    for figure in ("roc.png", "reconstructions.png"):
        assert (out / figure).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_resume_skips_finished_runs(quick_run, capsys, monkeypatch):
    out, _ = quick_run
    before = _records(out)
    fitted = []
    real_run_one = benchmark.run_one

    def counting_run_one(detector, split):
        fitted.append(type(detector).__name__)
        return real_run_one(detector, split)

    monkeypatch.setattr(benchmark, "run_one", counting_run_one)
    # the finished runs plus one new seed of one detector
    status = main(QUICK + ["--detectors", "iforest-raw", "--normal-class", "0,1",
                           "--seeds", "0,1,2", "--out", str(out), "--resume", "--no-figures"])
    assert status == 0
    assert fitted == ["RawPixels"] * 2  # only seed 2, for classes 0 and 1
    after = _records(out)
    assert after[:len(before)] == before
    assert [(r["detector"], r["seed"]) for r in after[len(before):]] == [("iforest-raw", 2)] * 2
    assert "Resuming: 4 of 6 runs already done." in capsys.readouterr().out


def test_resume_tolerates_a_cut_line(tmp_path, monkeypatch):
    args = QUICK + ["--detectors", "iforest-raw", "--normal-class", "0", "--out",
                    str(tmp_path), "--no-figures"]
    assert main(args) == 0
    with open(tmp_path / "results.jsonl", "a") as f:
        f.write('{"dataset": "digits", "protoc')  # interrupted mid-write
    calls = []
    monkeypatch.setattr(benchmark, "run_one", lambda *a: calls.append(a))
    assert main(args + ["--resume"]) == 0
    assert calls == []


def test_without_resume_previous_results_are_kept_aside(tmp_path):
    args = QUICK + ["--detectors", "iforest-raw", "--normal-class", "0", "--out",
                    str(tmp_path), "--no-figures"]
    main(args)
    main(args)
    assert len(_records(tmp_path)) == 1
    backups = list(tmp_path.glob("results.*.jsonl"))
    assert len(backups) == 1 and backups[0].read_text().strip()


def test_imbalanced_protocol_reports_seen_and_unseen_classes(tmp_path):
    status = main(QUICK + ["--protocol", "imbalanced", "--unseen-classes", "3",
                           "--detectors", "logreg-raw,iforest-raw", "--normal-class", "0",
                           "--out", str(tmp_path), "--no-figures"])
    assert status == 0
    records = _records(tmp_path)
    assert {r["detector"] for r in records} == {"logreg-raw", "iforest-raw"}
    for r in records:
        assert len(r["unseen_classes"]) == 3 and 0 not in r["unseen_classes"]
        assert r["n_train_anomalies"] > 0
        assert 0 <= r["auroc_seen"] <= 1 and 0 <= r["auroc_unseen"] <= 1
    table = (tmp_path / "results.md").read_text()
    assert "| seen | unseen |" in table


def test_unseen_classes_are_withheld_from_training():
    from skanomaly.datasets import load_digits_images

    data = load_digits_images()
    args = benchmark._parse(["--dataset", "digits", "--protocol", "imbalanced",
                             "--unseen-classes", "4", "--anomaly-ratio", "0.5"])
    split = benchmark.make_split(data, 3, 0, args)
    X_train, y_train = data[0], data[1]
    # recover the original class of each labelled training anomaly by its pixels
    classes = {X_train[i].tobytes(): y_train[i] for i in range(len(y_train))}
    labelled = {classes[x.tobytes()] for x in split.X_train[split.y_train == -1]}
    assert labelled and not labelled & set(split.unseen)
    assert 3 not in labelled and len(split.unseen) == 4
    assert set(split.unseen) <= set(split.test_classes[split.y_test == -1].tolist())


def test_contaminated_protocol_hides_anomalies(tmp_path):
    from skanomaly.datasets import load_digits_images

    data = load_digits_images()
    args = benchmark._parse(["--dataset", "digits", "--protocol", "contaminated",
                             "--contamination", "0.1"])
    split = benchmark.make_split(data, 0, 0, args)
    assert (split.y_train == 1).all()
    assert "autoencoder+trimmed" in args.detector_list
    assert "logreg-raw" not in args.detector_list


def test_unavailable_detectors_are_skipped(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(benchmark, "_lookup", lambda *a: None)
    status = main(QUICK + ["--detectors", "dualdiscgan,iforest-raw", "--normal-class", "0",
                           "--out", str(tmp_path), "--no-figures"])
    assert status == 0
    assert "Skipping dualdiscgan: skanomaly has no DualDiscGAN" in capsys.readouterr().out
    assert {r["detector"] for r in _records(tmp_path)} == {"iforest-raw"}


def test_logreg_needs_the_imbalanced_protocol(tmp_path, capsys):
    status = main(QUICK + ["--detectors", "logreg-raw", "--normal-class", "0",
                           "--out", str(tmp_path)])
    assert status == 1
    assert "Skipping logreg-raw: a classifier needs labelled anomalies" in capsys.readouterr().out


def test_a_failing_detector_does_not_stop_the_others(tmp_path, monkeypatch, capsys):
    def broken(args, random_state):
        raise_on_fit = benchmark.RawPixels(object())  # clone(object()) fails in fit
        return raise_on_fit

    monkeypatch.setitem(benchmark.DETECTORS, "broken", broken)
    status = main(QUICK + ["--detectors", "broken,iforest-raw", "--normal-class", "0",
                           "--out", str(tmp_path), "--no-figures"])
    assert status == 1
    assert {r["detector"] for r in _records(tmp_path)} == {"iforest-raw"}
    assert "FAILED broken (class 0, seed 0)" in capsys.readouterr().out
    assert "Failed: broken (class 0, seed 0)" in (tmp_path / "results.md").read_text()


@pytest.mark.parametrize("argv", [
    ["--detectors", "nope"],
    ["--seeds", "a,b"],
    ["--unseen-classes", "2"],  # one-class protocol
    ["--contamination", "0.7"],
])
def test_bad_arguments_exit(argv):
    with pytest.raises(SystemExit):
        benchmark._parse(argv)


def test_figure_images_are_scaled_to_unit_range():
    grey = benchmark._as_2d(np.full((1, 4, 4), 255, dtype=np.uint8))
    assert grey.shape == (4, 4) and grey.max() == 1.0
    rgb = benchmark._as_2d(np.full((3, 4, 4), 0.5, dtype=np.float32))
    assert rgb.shape == (4, 4, 3) and rgb.max() == 0.5
