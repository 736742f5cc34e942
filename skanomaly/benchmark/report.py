"""Regenerate the benchmark's tables from results files.

``python -m skanomaly.benchmark.report FILE... [--format md|rst] [--breakdown]``
prints the tables of the records in the results.jsonl files (the last record
of each run counts), exactly as the benchmark printed them.
"""

import argparse
import sys

from ._report import FORMATS, format_report
from ._runner import latest, read_records

__all__ = ["main"]


def main(argv=None):
    """Print the tables of one or more results.jsonl files.

    Parameters
    ----------
    argv : list of str, default=None
        Command-line arguments; None reads ``sys.argv``.

    Returns
    -------
    status : int
        0, or 1 when the files hold no record.
    """
    parser = argparse.ArgumentParser(
        prog="python -m skanomaly.benchmark.report",
        description="Print the tables of benchmark results files (results.jsonl).")
    parser.add_argument("files", nargs="+", metavar="FILE", help="results.jsonl files")
    parser.add_argument("--format", choices=FORMATS, default="md",
                        help="md (default) or rst")
    parser.add_argument("--breakdown", action="store_true",
                        help="also print the AUROC per anomaly class")
    args = parser.parse_args(argv)
    records = []
    for path in args.files:
        records += read_records(path)
    print(format_report(latest(records).values(), fmt=args.format,
                        breakdown=args.breakdown), end="")
    return 0 if records else 1


if __name__ == "__main__":
    sys.exit(main())
