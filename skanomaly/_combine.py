"""Sums of the standardised scores of several detectors, and the recipes built on them."""

from numbers import Real
from typing import ClassVar

import numpy as np
from sklearn.base import MetaEstimatorMixin, _fit_context, clone
from sklearn.utils import Bunch, check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metaestimators import _BaseComposition
from sklearn.utils.validation import _num_samples, check_array, check_is_fitted
from torch.utils.data import Dataset as TorchDataset

from ._base import CONTAMINATION_CONSTRAINT, OutlierDetectorMixin, check_labels
from ._trimmed import _take

__all__ = ["RECIPES", "CombinedDetector", "make_recipe"]


class CombinedDetector(MetaEstimatorMixin, OutlierDetectorMixin, _BaseComposition):
    """The weighted sum of the standardised anomaly scores of several detectors.

    Each member is fitted on the training samples except a share of the
    normal ones, ``calibration_share``, held out of every member's fit; on
    those held-out normal samples each member's anomaly score (minus its
    ``score_samples``) gets its mean and standard deviation, which turn it
    into a z-score. The combined anomaly score is the weighted sum of the
    members' z-scores; ``score_samples`` is its negative. Held out of the
    fits, the normal samples score as new normal data would, so that members
    whose training samples score unlike new ones (a kNN, a classifier) are
    standardised on the scale of new data.

    A member listed in ``one_sided`` has its z-score clipped at 0 from below:
    it can raise a sample's anomaly score, never lower it. That is the place
    of a classifier of labelled anomalies (:class:`ClassifierDetector`,
    :class:`CNNClassifier`): its confident "normal" on a kind of anomaly the
    labels never showed must not cancel the alarm of the one-class members.
    Members that need labelled anomalies are left out (``skipped_``) when
    ``y`` has none.

    Parameters
    ----------
    detectors : list of (str, detector) tuples
        The members, by name: outlier detectors with ``fit(X, y)`` and
        ``score_samples`` (lower is more abnormal). Cloned in ``fit``; their
        parameters are reachable as ``<name>__<param>`` (grid search).
    weights : dict of str to float, default=None
        Weight of each member's z-score, by name; a member left out weighs 1.
    one_sided : list of str or 'auto', default='auto'
        The members whose z-score is clipped at 0 from below. 'auto': those
        that need labelled anomalies (the classifiers).
    calibration_share : float, default=0.1
        Share of the normal training samples held out of the members' fits
        to standardise their scores (at least 2 samples; under 15 normal
        samples none is held out and the scores are standardised on the
        training samples themselves).
    contamination : 'auto' or float, default='auto'
        Sets ``offset_`` from the combined scores of the training samples, as
        in every detector of the package.
    random_state : int, RandomState instance or None, default=None
        Draws the held-out samples. The members keep their own
        ``random_state``.

    Attributes
    ----------
    detectors_ : list of (str, detector) tuples
        The fitted members (without the skipped ones).
    named_detectors_ : Bunch
        The fitted members by name.
    skipped_ : list of str
        Members left out for lack of labelled anomalies.
    calibration_ : dict of str to (float, float)
        Mean and standard deviation of each member's anomaly score on the
        held-out normal samples.
    held_out_ : ndarray of shape (n_samples,), dtype bool
        The training samples held out of the members' fits.
    offset_ : float
        ``decision_function = score_samples - offset_``.
    n_features_in_ : int
        Number of values per sample (from the first member).

    See Also
    --------
    make_recipe : The package's measured combinations, by name.
    KNNDetector : The pixel kNN that carries most recipes.

    Examples
    --------
    A kNN of the pixels and a kNN of an autoencoder's codes, summed:

    >>> from sklearn.datasets import load_digits
    >>> from skanomaly import AutoEncoder, CombinedDetector, KNNDetector
    >>> digits = load_digits()
    >>> X = digits.images[:, None] / 16
    >>> detector = CombinedDetector([
    ...     ("pixels", KNNDetector()),
    ...     ("codes", KNNDetector(feature_extractor=AutoEncoder(max_epochs=1, random_state=0))),
    ... ], random_state=0).fit(X[digits.target == 0])
    >>> sorted(detector.calibration_)
    ['codes', 'pixels']
    """

    _parameter_constraints: ClassVar[dict] = {
        "detectors": [list],
        "weights": [dict, None],
        "one_sided": [list, tuple, StrOptions({"auto"})],
        "calibration_share": [Interval(Real, 0, 1, closed="neither")],
        "contamination": CONTAMINATION_CONSTRAINT,
        "random_state": ["random_state"],
    }

    def __init__(self, detectors, *, weights=None, one_sided="auto", calibration_share=0.1,
                 contamination="auto", random_state=None):
        self.detectors = detectors
        self.weights = weights
        self.one_sided = one_sided
        self.calibration_share = calibration_share
        self.contamination = contamination
        self.random_state = random_state

    # -- parameters of the members (as VotingClassifier's) ------------------------
    def get_params(self, deep=True):
        """Get parameters, those of the members as ``<name>__<param>``."""
        return self._get_params("detectors", deep=deep)

    def set_params(self, **params):
        """Set parameters, those of the members as ``<name>__<param>``."""
        self._set_params("detectors", **params)
        return self

    # -- fitting -----------------------------------------------------------------
    def _check_members(self):
        names = [name for name, _ in self.detectors]
        if not names:
            raise ValueError("detectors is empty: give at least one (name, detector).")
        self._validate_names(names)
        for name, detector in self.detectors:
            if not (hasattr(detector, "fit") and hasattr(detector, "score_samples")):
                raise ValueError(f"The member {name!r} has no fit and score_samples: "
                                 f"{detector!r} is not an outlier detector.")
        for option, given in (("weights", list(self.weights or {})),
                              ("one_sided", [] if self.one_sided == "auto"
                               else list(self.one_sided))):
            unknown = sorted(set(given) - set(names))
            if unknown:
                raise ValueError(f"{option} names {unknown}, which are not members; the "
                                 f"members are {names}.")
        for name, weight in (self.weights or {}).items():
            if not (isinstance(weight, Real) and np.isfinite(weight) and weight >= 0):
                raise ValueError(f"weights[{name!r}] must be a finite number >= 0; "
                                 f"got {weight!r}.")

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None):
        """Fit the members without the held-out normal samples, then standardise on them.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...) or a torch Dataset
            Training samples (images or vectors), passed to the members,
            which validate them.
        y : array-like of shape (n_samples,), default=None
            1 normal, -1 labelled anomaly; None means all normal. Passed to
            the members, each of which uses the labelled anomalies or not.

        Returns
        -------
        self : object
        """
        self._check_members()
        if not isinstance(X, TorchDataset):
            # the shape only (sparse, empty, a single sample); the members check the values
            X = check_array(X, allow_nd=True, dtype=None, ensure_all_finite=False,
                            ensure_min_samples=2, input_name="X")
        y = check_labels(y, _num_samples(X))
        normal = np.flatnonzero(y == 1)
        if not len(normal):
            raise ValueError("y has no normal sample (label 1): nothing to learn.")
        rng = check_random_state(self.random_state)
        n_held = round(self.calibration_share * len(normal))
        held = np.zeros(len(y), dtype=bool)
        if len(normal) >= 15 and n_held >= 2:
            held[rng.choice(normal, n_held, replace=False)] = True
        fit_rows = ~held
        has_anomalies = bool((y == -1).any())
        self.detectors_, self.skipped_ = [], []
        for name, detector in self.detectors:
            if getattr(detector, "_requires_anomalies", False) and not has_anomalies:
                self.skipped_.append(name)
                continue
            member = clone(detector).fit(_take(X, np.flatnonzero(fit_rows)), y[fit_rows])
            self.detectors_.append((name, member))
        if not self.detectors_:
            raise ValueError(f"Every member needs labelled anomalies (y == -1) and y has "
                             f"none: {self.skipped_}.")
        self.named_detectors_ = Bunch(**dict(self.detectors_))
        self.held_out_ = held
        # without held-out samples: standardised on the training samples themselves
        reference = _take(X, np.flatnonzero(held if held.any() else y == 1))
        raw = self._raw_scores(reference)
        self.calibration_ = {name: (float(col.mean()), float(col.std()) or 1.0)
                             for name, col in zip(self.named_detectors_, raw.T)}
        self._set_offset(self._score_samples(X), y)
        return self

    # -- scoring -----------------------------------------------------------------
    def _raw_scores(self, X):
        """Each member's anomaly score (minus ``score_samples``), ``(n, n_members)``."""
        return np.column_stack([-np.asarray(member.score_samples(X), dtype=np.float64)
                                for _, member in self.detectors_])

    def _one_sided_names(self):
        if self.one_sided == "auto":
            return {name for name, detector in self.detectors
                    if getattr(detector, "_requires_anomalies", False)}
        return set(self.one_sided)

    def _z_scores(self, X):
        raw = self._raw_scores(X)
        names = list(self.named_detectors_)
        mean = np.array([self.calibration_[n][0] for n in names])
        std = np.array([self.calibration_[n][1] for n in names])
        z = (raw - mean) / std
        clip = [i for i, n in enumerate(names) if n in self._one_sided_names()]
        z[:, clip] = np.maximum(z[:, clip], 0.0)
        return z

    def _score_samples(self, X):
        weights = self.weights or {}
        w = np.array([float(weights.get(name, 1.0)) for name in self.named_detectors_])
        return -(self._z_scores(X) @ w)

    def score_samples(self, X):
        """Minus the weighted sum of the members' standardised anomaly scores.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)

        Returns
        -------
        scores : ndarray of shape (n_samples,), dtype float64
            The lower, the more abnormal.
        """
        check_is_fitted(self)
        return self._score_samples(X)

    def score_components(self, X):
        """Each member's standardised anomaly score (one-sided ones clipped), unweighted.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)

        Returns
        -------
        components : dict of str to ndarray of shape (n_samples,)
            Higher is more abnormal; ``score_samples`` is minus their
            weighted sum.
        """
        check_is_fitted(self)
        z = self._z_scores(X)
        return {name: z[:, i] for i, name in enumerate(self.named_detectors_)}

    @property
    def n_features_in_(self):
        """Number of features seen in ``fit`` (from the first member)."""
        return self.detectors_[0][1].n_features_in_

    def __sklearn_is_fitted__(self):
        return hasattr(self, "offset_")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.input_tags.allow_nan = False
        return tags


# ------------------------------------------------------------------------------
# recipes
# ------------------------------------------------------------------------------
def _one_class(random_state, device):
    from ._cnn_features import CNNFeatures
    from ._knn import KNNDetector

    return CombinedDetector([
        ("cnn", KNNDetector(feature_extractor=CNNFeatures(
            pooling="grid", device=device, random_state=random_state), device=device)),
        ("pixels", KNNDetector(device=device)),
    ], random_state=random_state)


def _labelled(weights):
    def build(random_state, device):
        from ._deep_sad import DeepSAD
        from ._knn import KNNDetector
        from ._supervised import ClassifierDetector, CNNClassifier

        members = [
            ("deep-sad", DeepSAD(device=device, random_state=random_state)),
            ("pixels", KNNDetector(device=device)),
            ("svm", ClassifierDetector(device=device)),
        ]
        if weights.get("cnn", 0) > 0:
            members.append(("cnn", CNNClassifier(device=device, random_state=random_state)))
        return CombinedDetector(members, weights=weights, random_state=random_state)

    return build


#: the measured combinations, by name: what they combine and when to use them
RECIPES = {
    "one-class": (
        _one_class,
        "normal images only: kNN of a rotation-trained CNN's grid features + pixel kNN"),
    "few-kinds": (
        _labelled({"deep-sad": 0.25, "pixels": 1.0, "svm": 0.25}),
        ("labelled anomalies of few of the kinds to expect: Deep SAD (0.25) + pixel kNN "
        "(1) + a balanced RBF SVM of the pixels (0.25, one-sided)")),
    "all-kinds": (
        _labelled({"deep-sad": 0.25, "pixels": 1.0, "svm": 2.0, "cnn": 4.0}),
        ("labelled anomalies of every kind to expect: Deep SAD (0.25) + pixel kNN (1) + "
        "the SVM (2, one-sided) + a CNN classifier (4, one-sided)")),
}


def make_recipe(name, *, random_state=None, device="cpu"):
    """One of the package's measured combinations, as an unfitted :class:`CombinedDetector`.

    ``'one-class'``
        Normal images only: the kNN of the grid features of a CNN trained
        on the normal images to recognise rotations
        (``KNNDetector(feature_extractor=CNNFeatures(pooling='grid'))``) plus
        the pixel :class:`KNNDetector`, weights 1.
    ``'few-kinds'``
        Labelled anomalies that show few of the kinds to expect: Deep SAD's
        distance (weight 0.25), the pixel kNN (1) and a class-balanced RBF
        support vector machine of the pixels (:class:`ClassifierDetector`,
        0.25, one-sided). The pixel kNN, which no label moves, keeps the
        kinds the labels never showed from scoring as normal.
    ``'all-kinds'``
        Labelled anomalies that show every kind to expect: the same with the
        SVM at weight 2 and a :class:`CNNClassifier` at weight 4 (both
        one-sided). With labels of few kinds, these weights cost the unseen
        kinds.

    The weights were chosen on validation data carved from Fashion-MNIST's
    training split; the figures are in the documentation's benchmarks.

    Parameters
    ----------
    name : {'one-class', 'few-kinds', 'all-kinds'}
    random_state : int, RandomState instance or None, default=None
        Seeds the held-out samples and every member with a network.
    device : str, default='cpu'
        Torch device of every member.

    Returns
    -------
    detector : CombinedDetector
        Unfitted; its members are reachable as ``<name>__<param>``.

    Examples
    --------
    >>> from skanomaly import make_recipe
    >>> detector = make_recipe("few-kinds", random_state=0)
    >>> [name for name, _ in detector.detectors]
    ['deep-sad', 'pixels', 'svm']
    >>> detector.weights
    {'deep-sad': 0.25, 'pixels': 1.0, 'svm': 0.25}
    """
    if name not in RECIPES:
        raise ValueError(f"Unknown recipe {name!r}; known: {sorted(RECIPES)}.")
    return RECIPES[name][0](random_state, device)
