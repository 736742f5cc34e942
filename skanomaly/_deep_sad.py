"""Deep SAD: deep semi-supervised anomaly detection (Ruff et al., ICLR 2020)."""

import contextlib
import functools
from numbers import Integral, Real
from typing import ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.linear_model import LogisticRegression
from sklearn.svm import SVC
from sklearn.utils._param_validation import Interval, StrOptions
from skorch.utils import to_device

from ._base import (
    AnomalyMapMixin,
    BalancedBatchSampler,
    BaseDeepDetector,
    DetectorNet,
    gradient_map,
    set_cosine_lr,
    store_params,
)
from ._docstrings import fill_doc
from .nn import DeepSADLoss, ImageClassifier, SVDDNetwork, random_shift, sqrt_blur

__all__ = ["DeepSAD", "DeepSADNet"]

#: the CNN classifier's training (the settings validated on Fashion-MNIST)
CNN_BATCH_SIZE, CNN_ANOMALY_SHARE, CNN_LR = 64, 0.25, 1e-3

def cnn_max_shift(image_shape):
    """Largest shift of the CNN classifier's training images: 1/14 of the shorter side.

    2 pixels on 28, the shift validated on Fashion-MNIST; 0 for feature vectors.
    """
    return round(min(image_shape[1:]) / 14) if len(image_shape) == 3 else 0


#: weights of the 'combined' score's components (chosen on validation data)
DEFAULT_SCORE_WEIGHTS = {"distance": 0.25, "knn:pixels": 1.0, "classifier": 0.25, "cnn": 0.0}

#: named ``score_weights`` (chosen on validation data): 'all-kinds' for labels that show every
#: kind of anomaly to expect (labels from all nine Fashion-MNIST anomaly classes)
SCORE_WEIGHT_PRESETS = {"all-kinds": {"classifier": 2.0, "cnn": 4.0}}


class DeepSADNet(DetectorNet):
    """skorch engine of :class:`DeepSAD`: autoencoder pretraining, then Deep SAD.

    The module is a :class:`~skanomaly.nn.SVDDNetwork` (the bias-free encoder
    ``phi`` and a decoder), the criterion a :class:`~skanomaly.nn.DeepSADLoss`
    holding the centre. Inside :meth:`pretraining`, a training step fits the
    autoencoder (mean squared error of the standardised input); otherwise it
    fits ``phi`` with the Deep SAD loss. With ``with_classifier=True`` the
    net also holds ``classifier_module_`` (by default an
    :class:`~skanomaly.nn.ImageClassifier`, arguments ``classifier_module__*``)
    and its optimizer ``optimizer_c_`` (arguments ``optimizer_c__*``); inside
    :meth:`classifier_training`, a training step fits it alone.
    """

    prefixes_: ClassVar[list] = [*DetectorNet.prefixes_, "classifier_module", "optimizer_c"]

    def __init__(self, *args, classifier_module=ImageClassifier, with_classifier=False,
                 optimizer_c=torch.optim.Adam, max_shift=2, **kwargs):
        super().__init__(*args, **kwargs)
        self.classifier_module = classifier_module
        self.with_classifier = with_classifier
        self.optimizer_c = optimizer_c
        self.max_shift = max_shift
        self.phase = "sad"

    def initialize_module(self):
        """``module_``, and ``classifier_module_`` when ``with_classifier``."""
        super().initialize_module()
        if self.with_classifier:
            # on a fork of torch's generator: the rest of the fit draws the same
            # numbers with or without the classifier
            with torch.random.fork_rng(devices=[]):
                self.classifier_module_ = self.initialized_instance(
                    self.classifier_module, self.get_params_for("classifier_module"))
        return self

    def initialize_optimizer(self, *args, **kwargs):
        """``optimizer_`` for ``module_``; ``optimizer_c_`` for ``classifier_module_``."""
        args, kw = self.get_params_for_optimizer("optimizer", self.module_.named_parameters())
        self.optimizer_ = self.optimizer(*args, **kw)
        if self.with_classifier:
            args, kw = self.get_params_for_optimizer(
                "optimizer_c", self.classifier_module_.named_parameters())
            self.optimizer_c_ = self.optimizer_c(*args, **kw)
        return self

    @contextlib.contextmanager
    def pretraining(self):
        """Within the block, training steps train the autoencoder."""
        self.phase = "pretrain"
        try:
            yield self
        finally:
            self.phase = "sad"

    @contextlib.contextmanager
    def classifier_training(self, n_steps):
        """Within the block, training steps train the classifier.

        Its learning rate follows a cosine from ``optimizer_c``'s to 0 over
        ``n_steps`` steps.
        """
        self.phase = "classifier"
        self._classifier_steps = (0, n_steps)
        try:
            yield self
        finally:
            self.phase = "sad"

    def train_step(self, batch, **fit_params):
        """A step of the current phase; the classifier's: balanced cross-entropy of shifted images.

        The batches are class-balanced by the sampler, so the loss is the plain
        mean binary cross-entropy of the logit of "normal" (label 1).
        """
        if self.phase != "classifier":
            return super().train_step(batch, **fit_params)
        self._set_training(True)
        Xi, yi = batch
        x = random_shift(to_device(Xi, self.device), self.max_shift)
        target = (to_device(yi, self.device) > 0).to(x.dtype)
        logit = self.classifier_module_(x)
        loss = F.binary_cross_entropy_with_logits(logit, target)
        self.check_finite(classifier=loss)
        step, n_steps = self._classifier_steps
        set_cosine_lr(self.optimizer_c_, step, n_steps)
        self._classifier_steps = (step + 1, n_steps)
        self.optimizer_c_.zero_grad()
        loss.backward()
        self.optimizer_c_.step()
        return {"loss": loss.detach(), "y_pred": logit.detach()}

    def get_loss(self, y_pred, y_true, X=None, training=False):
        """Autoencoder error (pretraining) or the Deep SAD loss of ``phi(X)``."""
        if self.phase == "pretrain":
            # per image the sum of squared errors, as Ruff et al.'s pretraining
            x = self.module_.normalize(to_device(X, self.device))
            return (self.module_.decoder(y_pred) - x).pow(2).flatten(1).sum(1).mean()
        return self.criterion_(y_pred, y_true)


@fill_doc
class DeepSAD(AnomalyMapMixin, BaseDeepDetector):
    """Deep SAD: normal data near a centre, labelled anomalies pushed away.

    A bias-free network ``phi`` maps images to a representation space where
    normal data gathers around a centre ``c``; the anomaly score is the
    squared distance ``||phi(x) - c||^2`` (Ruff et al., 2020). Training:

    1. an autoencoder (``phi`` and a decoder) is pretrained on the normal
       training samples for ``pretrain_epochs`` (learning rate
       ``pretrain_lr``);
    2. ``c`` is the mean representation of the normal training samples
       (coordinates closer to 0 than 0.1 are moved to +-0.1);
    3. ``phi`` is trained for ``max_epochs`` on ``||phi(x) - c||^2`` for the
       normal samples (label 1) and ``eta / ||phi(x) - c||^2`` for the
       labelled anomalies (label -1), which pushes them away from the centre.

    By default (``score_mode='combined'``) the distance is one of the
    components of the score, each standardised with its mean and standard
    deviation on 10% of the normal training images held out of the fit,
    and summed with the weights ``score_weights``: the second is the mean
    distance of the image to its 5 nearest normal training images in the
    pixels after :func:`skanomaly.nn.sqrt_blur`; with labelled anomalies, the
    third is a class-balanced classifier of the pixels (normal against
    labelled anomalous; by default a support vector machine with a Gaussian
    kernel, see ``classifier``), whose z-score is clipped at 0 from below: it
    can raise an image's anomaly score, never lower it. A fourth, of weight 0
    by default, is a small CNN classifier of the images (normal against
    labelled anomalous, see ``cnn_epochs``), clipped alike. Labelled
    anomalies teach the network and the classifiers the kinds they show; the pixel kNN, which no label moves, keeps anomalies
    of other kinds from scoring as normal, and the clipping keeps the
    classifier's confident "normal" on a kind it never saw from cancelling
    that alarm.

    Without labelled anomalies it is Deep SVDD (Ruff et al., 2018). The
    network (Ruff et al.'s LeNet-type encoder, :class:`~skanomaly.nn.LeNetEncoder`)
    has no bias terms, so it cannot map every input onto ``c``. The defaults
    are Ruff et al.'s, but for the number of epochs (8 of pretraining and
    22 of training instead of 150 and 150: chosen on validation data
    carved from Fashion-MNIST's training split, where they reach the
    published AUROC).

    Parameters
    ----------
    score_mode : {'combined', 'distance'}, default='combined'
        'distance': Ruff et al.'s score, the squared distance to the centre.
        'combined': its z-score plus that of the pixel kNN and, with labelled
        anomalies, the clipped one of the classifier (see above).
    score_weights : dict, 'all-kinds' or None, default=None
        Weights of the 'combined' score's components, by name
        (``'distance'``, ``'knn:pixels'``, ``'classifier'``, ``'cnn'``); a
        component left out weighs as by default. 'all-kinds': the weights
        for labelled anomalies that show every kind of anomaly to expect,
        ``{'classifier': 2.0, 'cnn': 4.0}`` (see below). None:
        ``{'distance': 0.25, 'knn:pixels': 1.0, 'classifier': 0.25,
        'cnn': 0.0}``, chosen on
        validation data carved from Fashion-MNIST's training split (labelled
        anomalies from one and from three anomaly classes), where the pixel
        kNN ranks the anomaly kinds the labels never showed better than the
        distance does. Of the classifier weights tried, 0.25 keeps what the
        labels cost the kinds they never showed smallest on the worst normal
        class (with labels from one class, 0.5 cost them up to 0.005 there,
        0.25 up to 0.002) at the same mean AUROC of those kinds. When the
        labels show every kind of anomaly to expect, the classifiers should
        weigh more: with labels from all nine anomaly classes,
        ``{'classifier': 2.0, 'cnn': 4.0}`` (the preset 'all-kinds') ranked
        best of the weights tried (validation AUROC 0.988, against 0.982 for
        ``{'classifier': 2.0}``, the best without the CNN); when they show
        few, the classifiers cost the kinds they do not show (with labels
        from one class, those weights lost 0.028 on the unseen classes). The
        CNN is trained only when its weight is above 0 (and ``y`` has
        labelled anomalies).
    classifier : {'svm', 'logistic'} or None, default='svm'
        The classifier of the 'combined' score, fitted on the pixels of the
        training images (normal against labelled anomalous, classes
        balanced) only when ``y`` has labelled anomalies. 'svm': a support
        vector machine with the Gaussian kernel ``exp(-gamma ||x - x'||^2)``,
        ``gamma = 1 / (n_features * X.var())`` (scikit-learn's
        ``gamma='scale'``); 'logistic': a logistic regression. None leaves
        the classifier out. The support vector machine ranked better on
        validation data carved from Fashion-MNIST's training split, most when
        the labels show every anomaly kind; its fit grows with the square of
        the number of training images.
    classifier_C : float or 'auto', default='auto'
        Inverse regularisation strength of the classifier. 'auto': 1.0 for
        'svm', 0.01 for 'logistic'.
    rep_dim : int, default=64
        Size of the representation.
    n_filters : int, default=16
        Channels of the first convolution of ``phi``, doubled at every level.
    eta : float, default=1.0
        Weight of the labelled anomalies' term.
    pretrain_epochs : int, default=8
        Epochs of autoencoder pretraining (0 skips it: ``phi`` keeps its
        random initialisation).
    pretrain_lr : float, default=1e-3
        Adam learning rate of the pretraining.
    max_epochs : int or 'auto', default='auto'
        Epochs of Deep SAD training. 'auto': 22, or more on a small training
        set, so that training takes at least 1034 batches (22 epochs of 6000
        images); the other phases of the fit are lengthened alike.
    batch_size : int, default=128
        Batch size for training and scoring.
    lr : float, default=1e-4
        Adam learning rate of Deep SAD training.
    weight_decay : float, default=5e-7
        Adam's weight decay, in both phases (Ruff et al.'s setting).
    anomaly_batch_share : float or None, default=None
        Share of every training batch drawn from the labelled anomalies;
        None shuffles all samples together, as Ruff et al.
    cnn_epochs : int, default=20
        Epochs of the CNN classifier of the ``'cnn'`` component (lengthened
        on small training sets as ``max_epochs='auto'``), trained after
        Deep SAD on its own: a :class:`~skanomaly.nn.ImageClassifier` (two
        levels of 16 and 32 channels on 28x28 images), batches of 64 with 16
        labelled anomalies, each image shifted by up to 1/14 of its side
        (2 pixels on 28), Adam at 1e-3 falling to 0 along a cosine, the
        binary cross-entropy of its logit of "normal" (the settings
        validated on Fashion-MNIST). Feature vectors get a small MLP and no
        shifts.
    {image_shape}
    {contamination}
    net_params : dict, default=None
        Extra arguments of the skorch net, e.g. ``{"module__rep_dim": 64}``;
        also settable as ``set_params(optimizer__betas=(0.9, 0.99))``.
    {runtime_params}

    Attributes
    ----------
    net_ : DeepSADNet
        The trained skorch net: ``net_.module_`` is the network,
        ``net_.criterion_.center`` the centre, ``net_.classifier_module_``
        the CNN classifier when the ``'cnn'`` component is used.
    net_config_ : dict
        The input standardisation learnt from the training data.
    classifier_ : SVC, LogisticRegression or None
        The classifier of the 'combined' score (classes ``[-1, 1]``), or None
        when it is not used (no labelled anomalies, ``classifier=None`` or
        ``score_mode='distance'``).
    {detector_attributes}

    See Also
    --------
    AutoEncoder : Reconstruction autoencoder, with a hinge on labelled anomalies.
    DualDiscGAN : Autoencoder GAN for imbalanced labelled data.

    References
    ----------
    .. [1] L. Ruff, R. A. Vandermeulen, N. Görnitz, A. Binder, E. Müller,
       K.-R. Müller and M. Kloft, "Deep Semi-Supervised Anomaly Detection",
       ICLR 2020.
    .. [2] L. Ruff, R. A. Vandermeulen, N. Görnitz, L. Deecke, S. A. Siddiqui,
       A. Binder, E. Müller and M. Kloft, "Deep One-Class Classification",
       ICML 2018.

    Examples
    --------
    >>> import numpy as np
    >>> from skanomaly import DeepSAD
    >>> rng = np.random.RandomState(0)
    >>> X = rng.rand(64, 1, 8, 8).astype(np.float32)
    >>> y = np.where(np.arange(64) < 8, -1, 1)
    >>> detector = DeepSAD(n_filters=4, pretrain_epochs=1, max_epochs=1,
    ...                    random_state=0).fit(X, y)
    >>> detector.score_samples(X[:3]).shape
    (3,)
    """

    _parameter_constraints: ClassVar[dict] = {
        **BaseDeepDetector._parameter_constraints,
        "score_mode": [StrOptions({"combined", "distance"})],
        "score_weights": [dict, StrOptions(set(SCORE_WEIGHT_PRESETS)), None],
        "classifier": [StrOptions({"svm", "logistic"}), None],
        "classifier_C": [Interval(Real, 0, None, closed="neither"), StrOptions({"auto"})],
        "rep_dim": [Interval(Integral, 1, None, closed="left")],
        "n_filters": [Interval(Integral, 1, None, closed="left")],
        "eta": [Interval(Real, 0, None, closed="left")],
        "pretrain_epochs": [Interval(Integral, 0, None, closed="left")],
        "pretrain_lr": [Interval(Real, 0, None, closed="neither")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "anomaly_batch_share": [Interval(Real, 0, 1, closed="neither"), None],
        "cnn_epochs": [Interval(Integral, 1, None, closed="left")],
    }
    _learns_from_anomalies = True
    _auto_epochs = (22, 1034)

    def __init__(self, *, score_mode="combined", score_weights=None, classifier="svm",
            classifier_C="auto",
            rep_dim=64, n_filters=16,
            eta=1.0, pretrain_epochs=8,
            pretrain_lr=1e-3, max_epochs="auto", batch_size=128, lr=1e-4, weight_decay=5e-7,
            anomaly_batch_share=None, cnn_epochs=20, image_shape=None, contamination="auto",
            net_params=None, callbacks=None, device="cpu", n_threads=None,
            random_state=None, verbose=0):
        store_params(self, locals())

    def _start_fit(self):
        super()._start_fit()
        unknown = set(self._score_weights()) - set(DEFAULT_SCORE_WEIGHTS)
        if unknown:
            raise ValueError(f"score_weights has unknown components {sorted(unknown)}; "
                             f"known: {sorted(DEFAULT_SCORE_WEIGHTS)}.")
        for name, weight in self._score_weights().items():
            if not (isinstance(weight, Real) and np.isfinite(weight) and weight >= 0):
                raise ValueError(f"score_weights[{name!r}] must be a finite number >= 0; "
                                 f"got {weight!r}.")
        self.__dict__.pop("classifier_", None)  # a previous fit's

    def _planned_epochs(self):
        cnn = self._epochs(self.cnn_epochs) if self._with_cnn() else 0
        return self._epochs(self.pretrain_epochs) + self._epochs() + cnn

    def _learn_input(self, X, y):
        normal = X[y == 1]
        scale = 255.0 if X.dtype == np.uint8 else 1.0
        shift, std = float(normal.mean()) / scale, (float(normal.std()) / scale) or 1.0
        config = {"module__input_shift": shift, "module__input_scale": std}
        if (self.score_mode == "combined" and self._component_weight("cnn") > 0
                and (y == -1).any()):
            config.update(with_classifier=True, classifier_module__input_shift=shift,
                          classifier_module__input_scale=std)
        return config

    def _build_net(self):
        shape = self.image_shape_
        return DeepSADNet(**self._net_kwargs(
            module=SVDDNetwork,
            module__image_shape=shape,
            module__rep_dim=self.rep_dim,
            module__n_filters=self.n_filters,
            criterion=DeepSADLoss,
            criterion__rep_dim=self.rep_dim,
            criterion__eta=self.eta,
            optimizer=torch.optim.Adam,
            optimizer__weight_decay=self.weight_decay,
            classifier_module__image_shape=shape,
            optimizer_c__lr=CNN_LR,
            max_shift=cnn_max_shift(shape),
            **self.net_config_,
        ))

    def _train(self, X, y):
        net = self.net_
        net.lr = self.pretrain_lr if self.pretrain_epochs else self.lr
        net.initialize()
        if self.pretrain_epochs:
            normal = y == 1
            with net.pretraining():
                self._run_net(X[normal], y[normal], epochs=self.pretrain_epochs)
            net.lr = self.lr
            net.initialize_optimizer()  # a fresh Adam, at lr, for Deep SAD
        net.criterion_.center.copy_(self._center(X[y == 1]))
        self._run_net(X, y, anomaly_share=self.anomaly_batch_share)
        if net.with_classifier:
            batches = len(BalancedBatchSampler(y, CNN_BATCH_SIZE, CNN_ANOMALY_SHARE))
            with net.classifier_training(self._epochs(self.cnn_epochs) * batches):
                self._run_net(X, y, epochs=self.cnn_epochs, anomaly_share=CNN_ANOMALY_SHARE,
                              batch_size=CNN_BATCH_SIZE)
        self._fit_classifier(X, y)

    def _fit_classifier(self, X, y):
        """The balanced classifier of the 'combined' score, or None."""
        self.classifier_ = None
        if self.score_mode == "combined" and self.classifier is not None and (y == -1).any():
            pixels = self._map_batches(lambda x: x.flatten(1), X).astype(np.float64)
            C = self.classifier_C
            if self.classifier == "svm":
                variance = float(pixels.var())
                gamma = 1.0 / (pixels.shape[1] * variance) if variance > 0 else 1.0
                model = SVC(C=1.0 if C == "auto" else C, kernel="rbf", gamma=gamma,
                            class_weight="balanced")
            else:
                model = LogisticRegression(C=0.01 if C == "auto" else C,
                                           class_weight="balanced", max_iter=2000)
            self.classifier_ = model.fit(pixels, y)

    def _center(self, X):
        """Mean representation of normal samples, coordinates kept off 0 by 0.1."""
        z = torch.as_tensor(self._map_batches(self.net_.module_, X)).mean(0)
        small = z.abs() < 0.1
        return torch.where(small, torch.where(z < 0, -0.1, 0.1), z).to(self.device_)

    def _anomaly_score(self, x):
        return self.net_.criterion_.distance(self.net_.module_(x))

    def _with_cnn(self):
        """Whether the fitted net has the CNN classifier of the 'cnn' component."""
        return bool(getattr(self, "net_config_", {}).get("with_classifier", False))

    def _score_components(self):
        if self.score_mode != "combined":
            return None
        with_classifier = getattr(self, "classifier_", None) is not None
        return (["distance", "knn:pixels"] + (["classifier"] if with_classifier else [])
                + (["cnn"] if self._with_cnn() else []))

    def _modules_for_inference(self):
        modules = [self.net_.module_]
        if self._with_cnn():
            modules.append(self.net_.classifier_module_)
        return modules

    def _score_weights(self):
        """The weights ``score_weights`` sets, a preset's by name (None: none)."""
        if isinstance(self.score_weights, str):
            return SCORE_WEIGHT_PRESETS[self.score_weights]
        return self.score_weights or {}

    def _component_weight(self, name):
        return {**DEFAULT_SCORE_WEIGHTS, **self._score_weights()}[name]

    def _one_sided_components(self):
        return ("classifier", "cnn")

    def _direct_scores(self, x):
        scores = {"distance": self._anomaly_score(x)}
        if getattr(self, "classifier_", None) is not None:
            # minus the decision function of "normal" (class 1): higher is more abnormal
            scores["classifier"] = -self._classifier_decision(x.flatten(1).double())
        if self._with_cnn():
            scores["cnn"] = -self.net_.classifier_module_(x)
        return scores

    def _classifier_decision(self, pixels):
        """``classifier_.decision_function`` of a float64 batch, on its device."""
        clf = self.classifier_
        as_tensor = functools.partial(torch.as_tensor, dtype=torch.float64, device=pixels.device)
        if isinstance(clf, SVC):
            support = as_tensor(clf.support_vectors_)
            kernel = torch.exp(-clf.gamma * torch.cdist(pixels, support).pow(2))
            return kernel @ as_tensor(clf.dual_coef_[0]) + float(clf.intercept_[0])
        return pixels @ as_tensor(clf.coef_[0]) + float(clf.intercept_[0])

    def _knn_spaces(self, x):
        return {"pixels": sqrt_blur(x).flatten(1)}

    def _anomaly_map_batch(self, x):
        return gradient_map(self._anomaly_score, x)
