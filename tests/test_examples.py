"""Every gallery script examples/plot_*.py runs to completion.

These are slower than the unit tests (seconds to a minute each). Deselect
them with ``-m "not examples"`` (the ``examples`` marker); CI runs them.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("plot_*.py"))

pytestmark = pytest.mark.examples


def test_there_are_examples():
    names = {path.name for path in EXAMPLES}
    assert {"plot_quickstart.py", "plot_grid_search.py", "plot_pipeline.py",
            "plot_compare_detectors.py", "plot_save_load.py"} <= names


@pytest.mark.parametrize("path", EXAMPLES, ids=[path.stem for path in EXAMPLES])
def test_example_runs(path, tmp_path):
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONWARNINGS="ignore::UserWarning",
               # one torch thread: no oversubscription when the machine is shared
               OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    code = f"import runpy; runpy.run_path({str(path)!r}, run_name='__main__')"
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, (
        f"{path.name} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")


BENCHMARKS = sorted(EXAMPLES[0].parent.glob("bench_*.py"))


@pytest.mark.parametrize("path", BENCHMARKS, ids=[path.stem for path in BENCHMARKS])
def test_benchmark_script_starts(path):
    """The benchmark scripts are not run in CI (minutes to hours), but they import and
    parse their arguments: ``--help`` exits 0."""
    result = subprocess.run([sys.executable, str(path), "--help"], capture_output=True,
                            text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "usage:" in result.stdout
