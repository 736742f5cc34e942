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
    0 silent, 1 skorch's epoch table, 2 also a progress bar per epoch
    with the time left.""",
    "image_shape": """\
image_shape : tuple of int, default=None
    ``(channels, height, width)`` to fold flat 2-D input into images,
    as a Pipeline handing over 2-D arrays needs. None: 2-D input is a
    feature vector.""",
    "random_state": """\
random_state : int, RandomState instance or None, default=None
    Seeds torch for the fit (weights, batches, noise); an int gives
    reproducible scores on the CPU. None draws the seed from numpy's
    global generator, as scikit-learn's estimators do; torch's global
    generator is left as it was.""",
    "fitted_attributes": """\
image_shape_ : tuple of int
    Shape of one sample seen in ``fit``: ``(C, H, W)`` or ``(d,)``.
device_ : str
    The torch device the fitted modules run on.
n_epochs_ : int
    Training epochs completed.
fit_status_ : {'completed', 'stopped_early', 'interrupted'}
    How training ended: all epochs, an EarlyStopping callback, or Ctrl-C
    (skorch then returns normally; the model is usable, undertrained).
n_features_in_ : int
    Number of values per sample.""",
}


def fill_doc(obj):
    """Replace the ``{name}`` lines of ``obj.__doc__`` by the shared descriptions.

    Under ``python -OO`` docstrings are stripped (``__doc__`` is None) and
    ``obj`` is returned unchanged.
    """
    if obj.__doc__ is None:
        return obj

    def substitute(match):
        indent, name = match.group(1), match.group(2)
        return "\n".join(indent + line if line else line
                         for line in _SHARED[name].splitlines())

    pattern = r"^( *)\{(" + "|".join(_SHARED) + r")\}$"
    obj.__doc__ = re.sub(pattern, substitute, obj.__doc__, flags=re.MULTILINE)
    return obj
