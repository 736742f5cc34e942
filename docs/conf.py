"""Sphinx configuration of the skanomaly documentation.

Build with ``make -C docs html`` (warnings are errors) or
``python -m sphinx -W --keep-going -b html docs docs/_build/html``.

Set ``SKANOMALY_DOCS_RUN_GALLERY=0`` to build the example gallery without
running the examples (what ``tests/test_docs.py`` does).

The API reference lists every name of ``skanomaly.__all__`` (and of the
``__all__`` of ``skanomaly.datasets``, ``model_selection``, ``metrics``,
``tiling``, ``plotting`` and ``nn``): :func:`write_api_entries` writes the autosummary tables into
``_api_entries.rst``, which ``api.rst`` includes, so a new public name
appears in the reference once it is exported.
"""

import ast
import inspect
import os
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

import skanomaly  # noqa: E402  (after the sys.path insertion)

# -- project -----------------------------------------------------------------
project = "skanomaly"
author = "the skanomaly developers"
copyright = "2026, the skanomaly developers"
release = skanomaly.__version__
version = release

# -- extensions ----------------------------------------------------------------
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]
templates_path = ["_templates"]
exclude_patterns = ["_build", "_api_entries.rst", "Thumbs.db", ".DS_Store"]
root_doc = "index"
default_role = "literal"

# autosummary generates one page per entry of api.rst and _api_entries.rst
autosummary_generate = ["api.rst", "_api_entries.rst"]
autosummary_imported_members = True
# members inherited from scikit-learn's mixins (get_metadata_routing,
# set_output...) and from torch's Module (the skanomaly.nn classes) are
# documented by those libraries: they are left out; those of skanomaly's base
# classes stay
SKLEARN_BASES = ("BaseEstimator, OutlierMixin, TransformerMixin, MetaEstimatorMixin, "
                 "ClassNamePrefixFeaturesOutMixin, _SetOutputMixin, _MetadataRequester, "
                 "ReprHTMLMixin, _HTMLDocumentationLinkMixin, Module")
autodoc_default_options = {"members": True, "inherited-members": SKLEARN_BASES}
autodoc_typehints = "none"
# numpydoc renders the Methods lists itself; autosummary tables of members
# would need stub pages of their own
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# -- HTML ---------------------------------------------------------------------
try:
    import pydata_sphinx_theme  # noqa: F401

    html_theme = "pydata_sphinx_theme"
    html_theme_options = {
        "navigation_with_keys": False,
        "show_toc_level": 2,
        "secondary_sidebar_items": ["page-toc"],
    }
except ImportError:  # the docs still build with Sphinx's default theme
    html_theme = "alabaster"
    html_theme_options = {}
html_title = f"skanomaly {release}"
html_static_path = []
html_show_sourcelink = False

# -- sphinx-gallery -----------------------------------------------------------
RUN_GALLERY = os.environ.get("SKANOMALY_DOCS_RUN_GALLERY", "1").lower() not in (
    "0", "false", "no", "off",
)


def _has_title(path):
    """Whether an example opens with a docstring (sphinx-gallery needs its title)."""
    try:
        return bool(ast.get_docstring(ast.parse(Path(path).read_text())))
    except SyntaxError:
        return False


sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    # only plot_*.py are run; bench_*.py (long benchmark scripts) are left
    # out of the gallery altogether
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"(^|[/\\])(__init__|bench_[^/\\]*)\.py$",
    "plot_gallery": RUN_GALLERY,
    "abort_on_example_error": True,
    "within_subsection_order": "FileNameSortKey",
    "doc_module": ("skanomaly",),
    "backreferences_dir": "generated/backreferences",
    "remove_config_comments": True,
    "download_all_examples": False,
    "show_memory": False,
    "min_reported_time": 1,
}
# an example without a title docstring would stop the build: leave it out
_untitled = [p.name for p in (ROOT / "examples").glob("plot_*.py") if not _has_title(p)]
if _untitled:
    sphinx_gallery_conf["ignore_pattern"] = (
        r"(^|[/\\])(__init__\.py|bench_[^/\\]*\.py|"
        + "|".join(map(re.escape, _untitled)) + r")$"
    )


# -- the API list, from __all__ -------------------------------------------------
def _is_estimator(obj):
    from sklearn.base import BaseEstimator

    return inspect.isclass(obj) and issubclass(obj, BaseEstimator)


def _api_groups():
    """Public names grouped for the reference, each as ``module.name``."""
    from sklearn.base import OutlierMixin, TransformerMixin

    from skanomaly import datasets

    groups = {
        "Detectors": [],
        "Meta-detectors": [],
        "Transformers": [],
        "Exceptions": [],
        "Other": [],
    }
    for name in sorted(skanomaly.__all__, key=str.lower):
        if name.startswith("_"):
            continue
        obj = getattr(skanomaly, name)
        entry = f"skanomaly.{name}"
        if inspect.isclass(obj) and issubclass(obj, BaseException):
            groups["Exceptions"].append(entry)
        elif _is_estimator(obj) and issubclass(obj, OutlierMixin):
            params = inspect.signature(obj).parameters
            meta = any(p in params for p in ("estimator", "detector", "base_estimator"))
            groups["Meta-detectors" if meta else "Detectors"].append(entry)
        elif _is_estimator(obj) and issubclass(obj, TransformerMixin):
            groups["Transformers"].append(entry)
        elif callable(obj):
            groups["Other"].append(entry)
    from skanomaly import metrics, model_selection, nn, plotting, tiling

    for title, module in (("Datasets", datasets), ("Model selection", model_selection),
                          ("Metrics", metrics), ("Tiling", tiling),
                          ("Plotting", plotting), ("Torch modules and losses", nn)):
        groups[title] = [
            f"{module.__name__}.{name}" for name in module.__all__
            if callable(getattr(module, name))
        ]
    return groups


_INTROS = {
    "Detectors": "Outlier detectors: ``fit(X, y=None)`` with ``y`` in {1, -1}, "
                 "``score_samples`` (lower is more abnormal), ``decision_function``, "
                 "``predict``.",
    "Meta-detectors": "Detectors built around another detector.",
    "Transformers": "Feature extractors for pipelines.",
    "Exceptions": "",
    "Other": "",
    "Datasets": "Loaders, anomaly-detection splits and synthetic defects "
                "(``skanomaly.datasets``).",
    "Model selection": "Choosing settings without the test set "
                       "(``skanomaly.model_selection``).",
    "Metrics": "How well anomaly maps localise defects: pixel AUROC, AUPRO "
               "(``skanomaly.metrics``).",
    "Tiling": "Whole images scored by a detector fitted on crops "
              "(``skanomaly.tiling``).",
    "Plotting": "ROC curves, score histograms, anomaly maps (``skanomaly.plotting``, "
                "matplotlib).",
    "Torch modules and losses": "The plain torch building blocks of the detectors "
                                "(``skanomaly.nn``).",
}


def write_api_entries(path=HERE / "_api_entries.rst"):
    """Write the autosummary tables of the public API into ``path``."""
    lines = [".. Generated by docs/conf.py from skanomaly.__all__: do not edit.", ""]
    for title, entries in _api_groups().items():
        if not entries:
            continue
        lines += [title, "-" * len(title), ""]
        if _INTROS.get(title):
            lines += [_INTROS[title], ""]
        # no :template: option: autosummary picks _templates/autosummary/<objtype>.rst
        lines += [".. autosummary::", "   :toctree: generated/", "   :nosignatures:", ""]
        lines += [f"   {entry}" for entry in entries]
        lines.append("")
    text = "\n".join(lines)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def write_benchmark_help(path=HERE / "_benchmark_help.txt"):
    """Write ``python -m skanomaly.benchmark --help`` for the benchmarks page."""
    from skanomaly.benchmark import make_parser

    parser = make_parser()
    columns = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "88"  # argparse wraps to the terminal's width
    try:
        text = parser.format_help()
    finally:
        if columns is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = columns
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


_STARRED_SHAPE = re.compile(r"of shape (\([^()\n`]*\*[^()\n`]*\))")


_INITIAL = re.compile(r"^(\s*)([A-Z])\. ")


def _fix_docstring_markup(app, what, name, obj, options, lines):
    """Two reStructuredText traps of numpydoc docstrings, fixed before numpydoc runs.

    * A shape such as ``(n_samples, *image_shape_)``: ``*`` would open an
      emphasis and ``image_shape_`` would be a link; it is quoted as a literal.
    * In References, a wrapped author list whose line starts with an initial
      (``G. Langs, ...``) would be read as an enumerated list item; the
      period is escaped.
    """
    in_references = False
    for i, line in enumerate(lines):
        lines[i] = _STARRED_SHAPE.sub(r"of shape ``\1``", line)
        if i + 1 < len(lines) and set(lines[i + 1].strip()) == {"-"} and line.strip():
            in_references = line.strip() == "References"
        elif in_references:
            lines[i] = _INITIAL.sub(r"\1\2\\. ", lines[i])


def setup(app):
    # before numpydoc (priority 500), which turns "name : type" lines into fields
    app.connect("autodoc-process-docstring", _fix_docstring_markup, priority=100)


write_api_entries()
write_benchmark_help()
