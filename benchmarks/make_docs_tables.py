"""Write docs/_benchmark_results.rst, the test tables of docs/benchmarks.rst.

Every table is generated from a committed ``benchmarks/<folder>/results.jsonl``
by ``skanomaly.benchmark.report``, as ``python -m skanomaly.benchmark.report
FILE --format rst`` prints it::

    python benchmarks/make_docs_tables.py
"""

import io
from contextlib import redirect_stdout
from pathlib import Path

from skanomaly.benchmark import report

HERE = Path(__file__).resolve().parent
OUT = HERE.parent / "docs" / "_benchmark_results.rst"

#: folder -> (breakdown per anomaly class, what the table is)
TABLES = {
    "one_class": (False, "Normal training images only."),
    "labelled_k1": (True, "Labelled anomalies from one class, 5 % of the training set "
                          "(Deep SAD's scenario (i))."),
    "labelled_k3": (True, "Labelled anomalies from three classes, 5 % of the normal count: "
                          "six anomaly classes unseen in training."),
    "labelled_k9": (False, "Labelled anomalies from all nine classes, 5 % of the normal count."),
    "labelled_without_labels": (False, "DualDiscGAN fitted on the normal images alone (no "
                                       "labelled anomaly), beside the pixel kNN and PyOD's kNN: the reference "
                                       "of the comparison with labels, not its intended use "
                                       "(DeepSAD's is its one-class run)."),
    "contaminated": (False, "5 % unlabelled anomalies in the training set, with and without "
                            "TrimmedDetector."),
    "defects": (True, "Synthetic defects on the normal class's test images: image and pixel "
                      "AUROC of the anomaly maps, per defect kind."),
    "digits": (False, "Small data: scikit-learn's 8x8 digits, one vs rest."),
    "textures": (True, "Real textures (scikit-image's brick, grass, gravel) with small "
                       "defects: image and pixel AUROC and AUPRO, per defect kind."),
}


def main():
    parts = [".. This file is written by benchmarks/make_docs_tables.py from the committed\n"
             "   benchmarks/*/results.jsonl: do not edit it by hand.\n\n"]
    for folder, (breakdown, what) in TABLES.items():
        path = HERE / folder / "results.jsonl"
        if not path.exists():
            continue
        buffer = io.StringIO()
        argv = [str(path), "--format", "rst"] + (["--breakdown"] if breakdown else [])
        with redirect_stdout(buffer):
            report.main(argv)
        text = buffer.getvalue().replace(str(HERE.parent) + "/", "")
        parts.append(f".. raw results: benchmarks/{folder}/results.jsonl\n\n")
        lines = text.splitlines()
        # the report's title, then what the table is, then the rest
        parts.append("\n".join(lines[:2]) + f"\n\n{what} Raw results: "
                     f"``benchmarks/{folder}/results.jsonl``.\n\n" + "\n".join(lines[2:]) + "\n\n")
    OUT.write_text("".join(parts))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
