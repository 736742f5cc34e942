"""The package as a whole: it imports under -OO, its public names."""

import subprocess
import sys

import skanomaly


def test_import_with_docstrings_stripped():
    """``python -OO`` removes docstrings; the docstring templates must cope."""
    code = ("import skanomaly, skanomaly.datasets, skanomaly.model_selection, "
            "skanomaly.plotting, skanomaly.nn; print(skanomaly.__version__)")
    result = subprocess.run([sys.executable, "-OO", "-c", code], capture_output=True,
                            text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == skanomaly.__version__


def test_public_names():
    assert skanomaly.__all__ == sorted(skanomaly.__all__)
    for name in skanomaly.__all__:
        assert getattr(skanomaly, name) is not None
