"""One-Class SVM on CNN features (pretrained or learnt by transformation prediction)."""

from numbers import Real
from typing import ClassVar

import numpy as np
import torch
from sklearn.preprocessing import StandardScaler
from sklearn.svm import OneClassSVM
from sklearn.utils._param_validation import Hidden, Interval, StrOptions

from ._base import (
    AnomalyMapMixin,
    BaseDeepDetector,
    gradient_map,
    store_params,
)
from ._cnn_features import EXTRACTOR_CONSTRAINTS, CNNExtractorMixin
from ._docstrings import fill_doc

__all__ = ["CNNOneClassSVM"]

_SCORE_MODES = {"ocsvm", "rotation", "combined"}

#: gamma='narrow': this many times scikit-learn's gamma='scale' (chosen on
#: validation data, see the docstring)
NARROW_GAMMA = 8.0


@fill_doc
class CNNOneClassSVM(AnomalyMapMixin, CNNExtractorMixin, BaseDeepDetector):
    """One-Class SVM on CNN features (pretrained, or learnt by rotation prediction).

    A :class:`CNNFeatures` extractor, a :class:`~sklearn.preprocessing.StandardScaler`
    and a :class:`~sklearn.svm.OneClassSVM`, fitted on the normal samples
    (``y == 1``), with the package's conventions: lower ``score_samples`` is
    more abnormal, ``offset_`` from ``contamination``, float64 scores.
    ``make_pipeline(CNNFeatures(), StandardScaler(), OneClassSVM())`` is the
    same model without those conventions.

    With ``weights=None`` (default), the backbone learns on the training
    images to recognise which of four rotations was applied (or, with
    ``transformations='rotations+flip'``, which of eight: the rotations of
    the image and of its mirror image; with ``'rotations+translations'``,
    which of 36: the rotations of 9 shifted copies), and
    ``score_mode='rotation'`` scores with that task directly: the sum
    over the transformations of the log-probability of the right one
    (GEOM/RotNet), which needs no SVM.

    For distances to the nearest normal images in the same features, use
    ``KNNDetector(feature_extractor=CNNFeatures(pooling='grid'))``.

    Parameters
    ----------
    {extractor_params}
    pooling : {'mean', 'grid'}, default='grid'
        {pooling}
        The grid ranked Fashion-MNIST's anomalies better on validation data.
    score_mode : {'ocsvm', 'rotation', 'combined'}, default='ocsvm'
        'ocsvm': the One-Class SVM's score of the standardised features.
        'rotation': the rotation task's log-likelihood (``weights=None``
        only). 'combined': the sum of both, each standardised by its mean
        and standard deviation on the training samples (``weights=None``
        only).
    kernel : {'rbf', 'linear', 'poly', 'sigmoid'}, default='rbf'
        Kernel of the One-Class SVM.
    nu : float, default=0.1
        Upper bound on the share of training margin errors of the SVM.
    gamma : {'narrow', 'scale', 'auto'} or float, default='narrow'
        Kernel coefficient of the SVM (on the standardised features).
        'scale' and 'auto' are scikit-learn's, ``1 / (n_features * X.var())``
        and ``1 / n_features`` (the same on standardised features); 'narrow'
        is 8 times 'scale', a kernel that sees the training features' local
        structure: of the widths tried on validation data carved from
        Fashion-MNIST's training split (1 to 32 times 'scale'), it ranked
        the anomalies best.
    {contamination}
    {runtime_params}
    anomaly_score : str, default="deprecated"
        Old name of ``score_mode`` (0.1), removed in 0.4.

    Attributes
    ----------
    extractor_ : torch.nn.Module
        Images to features.
    net_ : CNNNet
        The skorch net: ``net_.module_`` is the rotation task holding
        ``extractor_``, or ``extractor_`` itself with external weights.
    net_config_ : dict
        The input normalisation (``mean``, ``std`` per channel).
    scaler_ : StandardScaler or None
        Standardises the features (``score_mode`` 'ocsvm' or 'combined').
    ocsvm_ : OneClassSVM or None
        The fitted One-Class SVM (``score_mode`` 'ocsvm' or 'combined').
    score_scale_ : tuple of ndarray or None
        Training mean and standard deviation of the SVM and rotation scores
        (``score_mode='combined'``).
    {detector_attributes}

    See Also
    --------
    CNNFeatures : The feature extractor alone, for a Pipeline.
    AutoEncoder : Reconstruction-error detector.

    Notes
    -----
    With the default four rotations, images that look the same upside down
    (some bags, trousers) make the rotation task ambiguous for their class.
    ``transformations='rotations+translations'`` (36 transformations, GEOM's
    set without its flip) gives the task more to tell apart at 9 times the
    cost per image and epoch; ``'rotations+flip'`` suits data whose
    handedness matters (text, digits) and hurts classes whose items look alike
    in a mirror. Measured accuracy and cost on Fashion-MNIST are in the
    documentation's benchmarks page.

    References
    ----------
    {cnn_references}

    Schölkopf, B. et al. "Estimating the support of a high-dimensional
    distribution." Neural Computation 13(7), 2001.

    Examples
    --------
    >>> import numpy as np
    >>> from skanomaly import CNNOneClassSVM
    >>> X = np.random.RandomState(0).rand(32, 1, 8, 8).astype(np.float32)
    >>> detector = CNNOneClassSVM(n_filters=4, max_epochs=1, random_state=0)
    >>> detector.fit(X).score_samples(X[:3]).shape
    (3,)
    """

    _parameter_constraints: ClassVar[dict] = {
        **BaseDeepDetector._parameter_constraints,
        **EXTRACTOR_CONSTRAINTS,
        "score_mode": [StrOptions(_SCORE_MODES)],
        "anomaly_score": [StrOptions(_SCORE_MODES), Hidden(StrOptions({"deprecated"}))],
        "kernel": [StrOptions({"rbf", "linear", "poly", "sigmoid"})],
        "nu": [Interval(Real, 0, 1, closed="right")],
        "gamma": [StrOptions({"narrow", "scale", "auto"}),
                  Interval(Real, 0, None, closed="left")],
    }
    _renamed_params: ClassVar[dict] = {"anomaly_score": "score_mode"}

    def __init__(self, *, backbone="small", layer=None, weights=None, weights_path=None,
            image_size=None, n_filters=16, transformations="rotations", pooling="grid",
            score_mode="ocsvm", kernel="rbf", nu=0.1, gamma="narrow", max_epochs="auto",
            batch_size=128, lr=1e-3, image_shape=None, contamination="auto",
            net_params=None, callbacks=None, device="cpu", n_threads=None,
            random_state=None, verbose=0, anomaly_score="deprecated"):
        store_params(self, locals())

    def _learn_input(self, X, y):
        mode = self._param("score_mode")
        if mode in ("rotation", "combined") and not self._self_supervised():
            raise ValueError(
                f"score_mode={mode!r} needs the self-supervised rotation head, "
                "trained only with weights=None and no weights_path; use "
                "score_mode='ocsvm'."
            )
        return super()._learn_input(X, y)

    def _train(self, X, y):
        super()._train(X, y)
        mode = self._param("score_mode")
        self.scaler_ = self.ocsvm_ = self.score_scale_ = None
        if mode in ("ocsvm", "combined"):
            features = self._features(X)
            self.scaler_ = StandardScaler().fit(features)
            scaled = self.scaler_.transform(features)
            gamma = self.gamma
            if gamma == "narrow":
                variance = float(scaled.var())
                gamma = NARROW_GAMMA / (scaled.shape[1] * (variance if variance > 0 else 1.0))
            self.ocsvm_ = OneClassSVM(kernel=self.kernel, nu=self.nu, gamma=gamma)
            self.ocsvm_.fit(scaled)
        if mode == "combined":
            parts = self._map_batches(self._score_parts, X)
            std = parts.std(axis=0)
            self.score_scale_ = (parts.mean(axis=0), np.where(std > 0, std, 1.0))

    def _svm_score(self, x):
        """The One-Class SVM's score of a batch's features, float64 on the CPU."""
        features = self.extractor_(x).cpu().numpy().astype(np.float64)
        return torch.from_numpy(self.ocsvm_.score_samples(self.scaler_.transform(features)))

    def _score_parts(self, x):
        """The SVM's and the rotation task's scores of a batch, ``(n, 2)`` float64."""
        rotation = self._rotation_log_likelihood(x).cpu().double()
        return torch.stack([self._svm_score(x), rotation], dim=1)

    def _anomaly_score(self, x):
        mode = self._param("score_mode")
        if mode == "rotation":
            return -self._rotation_log_likelihood(x)
        if mode == "ocsvm":
            return -self._svm_score(x)
        mean, std = (torch.as_tensor(v) for v in self.score_scale_)
        return -((self._score_parts(x) - mean) / std).sum(dim=1)

    def _anomaly_map_batch(self, x):
        # where the score is sensitive to the pixels: the gradient of the
        # self-supervised score, or of the One-Class SVM's (its RBF or linear
        # kernel written in torch)
        mode = self._param("score_mode")
        if mode == "ocsvm":
            return gradient_map(self._svm_anomaly_torch, x)
        return gradient_map(lambda z: -self._rotation_log_likelihood(z), x)

    def _svm_anomaly_torch(self, x):
        """Minus the One-Class SVM's score of a batch, differentiable in torch."""
        svm, scaler = self.ocsvm_, self.scaler_
        f = (self.extractor_(x).double() - torch.as_tensor(scaler.mean_).to(x.device)) \
            / torch.as_tensor(scaler.scale_).to(x.device)
        vectors = torch.as_tensor(svm.support_vectors_).to(x.device)
        coef = torch.as_tensor(svm.dual_coef_[0]).to(x.device)
        if svm.kernel == "rbf":
            kernel = torch.exp(-svm._gamma * torch.cdist(f, vectors).pow(2))
        elif svm.kernel == "linear":
            kernel = f @ vectors.T
        else:
            raise ValueError(
                f"Anomaly maps of score_mode='ocsvm' need kernel='rbf' or 'linear'; "
                f"got kernel={svm.kernel!r}."
            )
        return -(kernel @ coef)
