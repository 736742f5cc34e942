"""The Sphinx documentation builds without a warning.

The gallery is not executed here (``SKANOMALY_DOCS_RUN_GALLERY=0``):
tests/test_examples.py runs the examples.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("sphinx")
pytest.importorskip("numpydoc")
pytest.importorskip("sphinx_gallery")

DOCS = Path(__file__).resolve().parents[1] / "docs"

pytestmark = pytest.mark.docs


@pytest.fixture(scope="module")
def html(tmp_path_factory):
    out = tmp_path_factory.mktemp("html")
    env = dict(os.environ, SKANOMALY_DOCS_RUN_GALLERY="0", MPLBACKEND="Agg")
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         "-d", str(out / ".doctrees"), str(DOCS), str(out)],
        env=env, capture_output=True, text=True, timeout=600, check=False,
    )
    assert result.returncode == 0, f"Sphinx failed:\n{result.stdout}\n{result.stderr}"
    return out


def test_docs_build_without_warnings(html):
    for page in ("index", "user_guide", "api", "benchmarks", "auto_examples/index"):
        assert (html / f"{page}.html").is_file(), page


def test_every_public_name_has_a_page(html):
    import skanomaly
    from skanomaly import datasets

    api = (html / "api.html").read_text()
    names = [f"skanomaly.{n}" for n in skanomaly.__all__ if not n.startswith("_")]
    names += [f"skanomaly.datasets.{n}" for n in datasets.__all__
              if callable(getattr(datasets, n))]
    for name in names:
        assert (html / "generated" / f"{name}.html").is_file(), name
        assert f"generated/{name}.html" in api, name


def test_the_gallery_lists_the_examples(html):
    gallery = (html / "auto_examples" / "index.html").read_text()
    for path in sorted((DOCS.parent / "examples").glob("plot_*.py")):
        assert f"{path.stem}.html" in gallery, path.name
    assert "bench_" not in gallery


def test_benchmark_help_is_in_the_docs(html):
    page = (html / "benchmarks.html").read_text()
    assert "--unseen-classes" in page and "--resume" in page
