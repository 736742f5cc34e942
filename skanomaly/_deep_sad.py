"""Deep SAD: deep semi-supervised anomaly detection (Ruff et al., ICLR 2020)."""

import contextlib
from numbers import Integral, Real
from typing import ClassVar

import numpy as np
import torch
from sklearn.utils._param_validation import Interval
from skorch.utils import to_device

from ._base import (
    AnomalyMapMixin,
    BaseDeepDetector,
    DetectorNet,
    EmbeddingMixin,
    gradient_map,
    store_params,
)
from ._docstrings import fill_doc
from .nn import DeepSADLoss, SVDDNetwork

__all__ = ["DeepSAD", "DeepSADNet"]

class DeepSADNet(DetectorNet):
    """skorch engine of :class:`DeepSAD`: autoencoder pretraining, then Deep SAD.

    The module is a :class:`~skanomaly.nn.SVDDNetwork` (the bias-free encoder
    ``phi`` and a decoder), the criterion a :class:`~skanomaly.nn.DeepSADLoss`
    holding the centre. Inside :meth:`pretraining`, a training step fits the
    autoencoder (mean squared error of the standardised input); otherwise it
    fits ``phi`` with the Deep SAD loss.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.phase = "sad"

    @contextlib.contextmanager
    def pretraining(self):
        """Within the block, training steps train the autoencoder."""
        self.phase = "pretrain"
        try:
            yield self
        finally:
            self.phase = "sad"

    def get_loss(self, y_pred, y_true, X=None, training=False):
        """Autoencoder error (pretraining) or the Deep SAD loss of ``phi(X)``."""
        if self.phase == "pretrain":
            # per image the sum of squared errors, as Ruff et al.'s pretraining
            x = self.module_.normalize(to_device(X, self.device))
            return (self.module_.decoder(y_pred) - x).pow(2).flatten(1).sum(1).mean()
        return self.criterion_(y_pred, y_true)


@fill_doc
class DeepSAD(AnomalyMapMixin, EmbeddingMixin, BaseDeepDetector):
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

    Without labelled anomalies it is Deep SVDD (Ruff et al., 2018). The
    network (Ruff et al.'s LeNet-type encoder, :class:`~skanomaly.nn.LeNetEncoder`)
    has no bias terms, so it cannot map every input onto ``c``. The defaults
    are Ruff et al.'s, but for the number of epochs (8 of pretraining and
    22 of training instead of 150 and 150: chosen on validation data
    carved from Fashion-MNIST's training split). ``embed`` gives
    ``phi(x)``; ``anomaly_map`` the gradient of the score with respect to
    the pixels (times the pixels, smoothed).

    The user guide's recipes combine Deep SAD's score with the pixel
    :class:`KNNDetector` and a classifier of the labelled anomalies
    (:class:`CombinedDetector`); with labels from few of the anomaly kinds to
    expect they rank the unseen kinds better than the distance alone.

    Parameters
    ----------
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
        ``net_.criterion_.center`` the centre.
    net_config_ : dict
        The input standardisation learnt from the training data.
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
        "rep_dim": [Interval(Integral, 1, None, closed="left")],
        "n_filters": [Interval(Integral, 1, None, closed="left")],
        "eta": [Interval(Real, 0, None, closed="left")],
        "pretrain_epochs": [Interval(Integral, 0, None, closed="left")],
        "pretrain_lr": [Interval(Real, 0, None, closed="neither")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "anomaly_batch_share": [Interval(Real, 0, 1, closed="neither"), None],
    }
    _learns_from_anomalies = True
    _auto_epochs = (22, 1034)

    def __init__(self, *, rep_dim=64, n_filters=16,
            eta=1.0, pretrain_epochs=8,
            pretrain_lr=1e-3, max_epochs="auto", batch_size=128, lr=1e-4, weight_decay=5e-7,
            anomaly_batch_share=None, image_shape=None, contamination="auto",
            net_params=None, callbacks=None, device="cpu", n_threads=None,
            random_state=None, verbose=0):
        store_params(self, locals())

    def _planned_epochs(self):
        return self._epochs(self.pretrain_epochs) + self._epochs()

    def _learn_input(self, X, y):
        normal = X[y == 1]
        scale = 255.0 if X.dtype == np.uint8 else 1.0
        shift, std = float(normal.mean()) / scale, (float(normal.std()) / scale) or 1.0
        return {"module__input_shift": shift, "module__input_scale": std}

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

    def _center(self, X):
        """Mean representation of normal samples, coordinates kept off 0 by 0.1."""
        z = torch.as_tensor(self._map_batches(self.net_.module_, X)).mean(0)
        small = z.abs() < 0.1
        return torch.where(small, torch.where(z < 0, -0.1, 0.1), z).to(self.device_)

    def _anomaly_score(self, x):
        return self.net_.criterion_.distance(self.net_.module_(x))

    def _embed_batch(self, x):
        return self.net_.module_(x)

    def _anomaly_map_batch(self, x):
        return gradient_map(self._anomaly_score, x)
