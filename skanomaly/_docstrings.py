"""Parameter descriptions shared by the deep estimators' docstrings.

A class docstring holds a line ``{name}`` (indented as a parameter) where a
shared description goes; :func:`fill_doc` substitutes it, so the text is
written once for every estimator (as imbalanced-learn's ``Substitution``).
"""

import re

__all__ = ["fill_doc"]

_SHARED = {
    "contamination": """\
contamination : 'auto' or float, default='auto'
    Expected share of anomalies, which sets ``offset_``. With a float,
    ``offset_`` is that percentile of the training scores; with 'auto', it
    is the lower Tukey fence (Q1 - 1.5 IQR) of the normal training scores.""",
    "callbacks": """\
callbacks : list of skorch callbacks, default=None
    Extra skorch callbacks (checkpoints, early stopping on
    ``train_loss``, learning-rate schedules).""",
    "device": """\
device : str, default='cpu'
    Torch device, e.g. 'cuda'.""",
    "n_threads": """\
n_threads : int, default=None
    Torch threads during fit; None keeps torch's setting.""",
    "verbose": """\
verbose : int, default=0
    0 silent, 1 skorch's epoch table, 2 also a progress bar per epoch.""",
}


def fill_doc(obj):
    """Replace the ``{name}`` lines of ``obj.__doc__`` by the shared descriptions."""

    def substitute(match):
        indent, name = match.group(1), match.group(2)
        return "\n".join(indent + line if line else line
                         for line in _SHARED[name].splitlines())

    pattern = r"^( *)\{(" + "|".join(_SHARED) + r")\}$"
    obj.__doc__ = re.sub(pattern, substitute, obj.__doc__, flags=re.MULTILINE)
    return obj
