"""Choosing a detector's settings without the test set.

Every setting of a detector (a latent size, a number of epochs, a score)
should be chosen on data carved from the training set, never on the test
set. Two situations:

* **Some anomalies are labelled** (``y == -1``): :func:`train_validation_split`
  carves a validation set with the labelled anomalies stratified into both
  parts, and any scikit-learn splitter that stratifies on ``y``
  (:class:`~sklearn.model_selection.StratifiedKFold`) lets
  :class:`~sklearn.model_selection.GridSearchCV` score folds by
  ``scoring="roc_auc"`` (``y``: 1 normal, -1 anomaly).
* **No anomaly at all** (one-class data): the validation folds hold normal
  samples only, so their AUROC needs anomalies from elsewhere.
  :func:`make_validation_scorer` scores the held-out normal samples against
  a fixed set of reference anomalies: anomalies labelled elsewhere (another
  data set, another class), or, by default, synthetic defects made from the
  fold's own images (:func:`skanomaly.datasets.make_defects`). Synthetic
  defects measure how well a detector notices local damage; whether that
  ranks settings as real anomalies would is an assumption, stated in the
  user guide with its measured agreement.
"""

import numpy as np
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state

from ._base import check_labels
from .datasets import DEFECT_KINDS, make_defects

__all__ = ["make_validation_scorer", "train_validation_split"]


def train_validation_split(X, y=None, *, validation_size=0.2, random_state=None):
    """Carve a validation set from a training set, labelled anomalies stratified.

    Parameters
    ----------
    X : array-like of shape (n_samples, ...)
        Training images or feature vectors.
    y : array-like of shape (n_samples,), default=None
        1 normal, -1 labelled anomaly; None means all normal.
    validation_size : float or int, default=0.2
        Share (float) or number (int) of samples held out, drawn from the
        normal samples and the labelled anomalies in proportion.
    random_state : int, RandomState instance or None, default=None
        Draws the split.

    Returns
    -------
    X_train, X_val : ndarray
    y_train, y_val : ndarray of int
        1 normal, -1 anomaly.

    Raises
    ------
    ValueError
        If y holds labels other than 1 and -1, or a single labelled anomaly
        (it cannot be in both parts).

    Examples
    --------
    >>> import numpy as np
    >>> from skanomaly.model_selection import train_validation_split
    >>> X = np.arange(100).reshape(50, 2)
    >>> y = np.r_[np.ones(40, int), -np.ones(10, int)]
    >>> X_tr, X_val, y_tr, y_val = train_validation_split(X, y, random_state=0)
    >>> int((y_tr == -1).sum()), int((y_val == -1).sum())
    (8, 2)
    """
    y = check_labels(y, len(X))
    if (y == -1).sum() == 1:
        raise ValueError("y has a single labelled anomaly: it cannot be stratified "
                         "into both the training and the validation part.")
    stratify = y if (y == -1).any() else None
    return train_test_split(np.asarray(X), y, test_size=validation_size,
                            random_state=random_state, stratify=stratify)


def make_validation_scorer(X_anomalies=None, *, defect_kinds=DEFECT_KINDS,
                           random_state=0):
    """A scorer for one-class data: held-out normal samples against reference anomalies.

    Returns ``scorer(estimator, X, y=None)``, usable as ``scoring`` in
    :class:`~sklearn.model_selection.GridSearchCV` or
    :func:`~sklearn.model_selection.cross_val_score`: the AUROC with which
    the fitted ``estimator.score_samples`` tells the normal samples of the
    validation fold (``y == 1``, or all of them when ``y`` is None) from
    anomalies, which are the fold's labelled anomalies (``y == -1``) if any,
    plus:

    * ``X_anomalies``, a fixed set of anomalies labelled elsewhere (in the
      layout of X), when given;
    * otherwise synthetic defects (:func:`~skanomaly.datasets.make_defects`)
      of the fold's normal images, seeded by ``random_state`` so that every
      candidate setting is scored on the same defects.

    Parameters
    ----------
    X_anomalies : array-like, default=None
        Reference anomalies. None: synthetic defects of the fold's images
        (images only, ``(n, H, W)`` or ``(n, C, H, W)``).
    defect_kinds : sequence of str, default=DEFECT_KINDS
        Kinds of synthetic defects (see :func:`~skanomaly.datasets.make_defects`).
    random_state : int, default=0
        Seeds the synthetic defects.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y=None) -> float``, higher is better.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.ensemble import IsolationForest
    >>> from sklearn.model_selection import GridSearchCV, KFold
    >>> from skanomaly.model_selection import make_validation_scorer
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(60, 5))
    >>> reference = rng.normal(loc=4.0, size=(20, 5))
    >>> search = GridSearchCV(IsolationForest(random_state=0),
    ...                       {"n_estimators": [10, 50]},
    ...                       scoring=make_validation_scorer(reference), cv=KFold(3))
    >>> float(round(search.fit(X).best_score_, 2))
    1.0
    """

    def scorer(estimator, X, y=None):
        X = np.asarray(X)
        y = check_labels(y, len(X))
        normal, anomalies = X[y == 1], [X[y == -1]]
        if X_anomalies is not None:
            anomalies.append(np.asarray(X_anomalies, dtype=X.dtype))
        else:
            defects, _, _ = make_defects(normal, kinds=defect_kinds,
                                         random_state=check_random_state(random_state))
            anomalies.append(defects)
        anomalies = np.concatenate(anomalies)
        scores = np.concatenate([estimator.score_samples(normal),
                                 estimator.score_samples(anomalies)])
        labels = np.r_[np.ones(len(normal)), -np.ones(len(anomalies))]
        return float(roc_auc_score(labels, scores))

    return scorer
