"""Do labelled anomalies ever hurt on the kinds they never showed?

For DeepSAD, DualDiscGAN and the AutoEncoder, compares the test AUROC
against each *unseen* anomaly class of a run with labelled anomalies
(``labelled_k1``, ``labelled_k3``) with the same detector, class and seed
fitted on the normal images alone (the one-class protocol:
``labelled_without_labels`` for DeepSAD and DualDiscGAN, ``one_class`` for
the AutoEncoder). Per normal class: the mean over seeds of the mean over the
unseen classes, with and without labels, their difference; the worst unseen
class (its difference averaged over the seeds in which it was unseen); and
the worst single (seed, unseen class) difference::

    python benchmarks/never_worse.py > benchmarks/never_worse.md
"""

import json
from collections import defaultdict
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DETECTORS = ("deep-sad", "dualdiscgan", "autoencoder")


def load(folder):
    """(detector, normal class, seed) -> the completed record."""
    records = {}
    path = HERE / folder / "results.jsonl"
    if not path.exists():
        return records
    for line in path.read_text().splitlines():
        r = json.loads(line)
        if r["status"] == "completed":
            records[r["detector"], r["normal_class"], r["seed"]] = r
    return records


def main():
    alone = {**load("one_class"), **load("labelled_without_labels")}
    print("# Labelled anomalies against none, on the unseen anomaly classes (test AUROC)\n")
    print("Unseen: the anomaly classes no labelled anomaly came from, per seed. 'with' and "
          "'alone': mean over seeds of the mean AUROC over those classes; 'worst unseen "
          "class': the lowest difference of one unseen class, averaged over the seeds in which "
          "it was unseen; 'worst single': the lowest for a single seed and unseen class.\n")
    for folder, what in (("labelled_k1", "K=1, 5 % of the training set"),
                         ("labelled_k3", "K=3, 5 % of the normal count")):
        labelled = load(folder)
        for detector in DETECTORS:
            rows = defaultdict(list)
            per_class = defaultdict(lambda: defaultdict(list))
            for (d, c, s), r in sorted(labelled.items()):
                base = alone.get((d, c, s))
                if d != detector or base is None:
                    continue
                unseen = [str(u) for u in r["unseen_classes"]]
                with_labels = np.array([r["auroc_per_class"][u] for u in unseen])
                without = np.array([base["auroc_per_class"][u] for u in unseen])
                rows[c].append((with_labels.mean(), without.mean(), (with_labels - without).min()))
                for u, delta in zip(unseen, with_labels - without):
                    per_class[c][u].append(delta)
            if not rows:
                continue
            print(f"## {detector}, {what}\n")
            print("| normal class | seeds | with | alone | difference ± std over seeds "
                  "| worst unseen class | worst single |")
            print("|---|---|---|---|---|---|---|")
            diffs = []
            for c, values in sorted(rows.items()):
                v = np.array(values)
                per_seed = v[:, 0] - v[:, 1]
                diffs.append(per_seed.mean())
                spread = per_seed.std(ddof=1) if len(v) > 1 else float("nan")
                u, worst = min(((u, np.mean(d)) for u, d in per_class[c].items()),
                               key=lambda item: item[1])
                print(f"| {c} | {len(v)} | {v[:, 0].mean():.3f} | {v[:, 1].mean():.3f} | "
                      f"{diffs[-1]:+.3f} ± {spread:.3f} | {worst:+.3f} (class {u}) "
                      f"| {v[:, 2].min():+.3f} |")
            print(f"\nMean difference over classes {np.mean(diffs):+.3f}; classes worse "
                  f"with labels: {sum(d < 0 for d in diffs)} of {len(diffs)}.\n")


if __name__ == "__main__":
    main()
