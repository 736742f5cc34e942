"""Reconstruction autoencoder detector."""

from numbers import Integral, Real
from typing import ClassVar

import numpy as np
import torch
from sklearn.utils._param_validation import Hidden, Interval, StrOptions
from skorch.utils import to_device

from ._base import (
    AnomalyMapMixin,
    BaseDeepDetector,
    DetectorNet,
    EmbeddingMixin,
    ReconstructionMixin,
    store_params,
)
from ._docstrings import fill_doc
from .nn import HingedReconstructionLoss, make_autoencoder

__all__ = ["AutoEncoder", "AutoEncoderNet"]


class AutoEncoderNet(DetectorNet):
    """skorch engine of :class:`AutoEncoder`.

    The criterion, :class:`~skanomaly.nn.HingedReconstructionLoss`, compares
    the reconstruction with the input and the labels (``criterion__*``
    arguments set its weight and margin).
    """

    def get_loss(self, y_pred, y_true, X=None, training=False):
        """The criterion of the reconstructions ``y_pred`` of ``X``, labels ``y_true``.

        The module reconstructs the images as it sees them
        (``module_.prepare(X)``), which are the target.
        """
        X = to_device(X, self.device)
        return self.criterion_(y_pred, self.module_.prepare(X), y_true)


@fill_doc
class AutoEncoder(AnomalyMapMixin, ReconstructionMixin, EmbeddingMixin, BaseDeepDetector):
    """Convolutional autoencoder, scored by its reconstruction error.

    Images get a DCGAN-style convolutional encoder and decoder that adapt to
    the image size (any height and width, any number of channels); flat
    feature vectors get a fully connected autoencoder. Trained on the normal
    samples, it reconstructs normal data well and anomalies badly: the
    anomaly score is the mean squared reconstruction error, and
    ``anomaly_map`` the squared error of each pixel. The network sees the
    square root of the intensities, blurred by a 3x3 box
    (``preprocessing``), and reconstructs that view of the image.

    When ``y`` holds labelled anomalies (-1), they are used too: batches are
    class-balanced (``anomaly_batch_share`` of every batch is anomalies) and a
    bounded hinge pushes their reconstruction error up to ``anomaly_margin``
    times the normal error.

    ``embed`` gives the bottleneck code of each image, for
    ``KNNDetector(feature_extractor=AutoEncoder())`` (distances between
    codes) or a :class:`CombinedDetector` recipe.

    Parameters
    ----------
    preprocessing : {'sqrt_blur', None}, default='sqrt_blur'
        What the network sees of an image: the square root of the
        intensities, blurred by a 3x3 box
        (:func:`skanomaly.nn.sqrt_blur`), or the image itself.
    latent_dim : int, default=32
        Size of the bottleneck code.
    n_filters : int, default=16
        Channels of the first convolution, doubled at every level.
    max_epochs : int or 'auto', default='auto'
        Training epochs (one epoch visits every normal sample once). 'auto':
        10, or more on a small training set, so that training takes at least
        940 batches (10 epochs of 6000 images); the other phases of the fit
        are lengthened alike.
    batch_size : int, default=64
        Batch size for training and scoring.
    lr : float, default=1e-3
        Adam learning rate.
    anomaly_weight : float, default=1.0
        Weight of the hinge on labelled anomalies (0 ignores them).
    anomaly_margin : float, default=5.0
        Error the hinge pushes anomalies to, as a multiple of the batch's
        mean normal reconstruction error.
    anomaly_batch_share : float, default=0.5
        Share of every training batch drawn from the labelled anomalies.
    {image_shape}
    {contamination}
    net_params : dict, default=None
        Extra arguments of the skorch net, e.g.
        ``{"optimizer__weight_decay": 1e-5}``; also settable as
        ``set_params(optimizer__weight_decay=1e-5)``.
    {runtime_params}
    anomaly_batch_ratio : float, default="deprecated"
        Old name of ``anomaly_batch_share`` (0.1), removed in 0.4.

    Attributes
    ----------
    net_ : skorch.NeuralNet
        The trained skorch net; ``net_.module_`` is the autoencoder.
    net_config_ : dict
        Settings of the net learnt from the training data (a sigmoid output
        for data in [0, 1]).
    {detector_attributes}

    See Also
    --------
    DualDiscGAN : Autoencoder generator judged by two discriminators.

    Examples
    --------
    Normal images only: the zeros of scikit-learn's digits, scaled to [0, 1].

    >>> from sklearn.datasets import load_digits
    >>> from skanomaly import AutoEncoder
    >>> digits = load_digits()
    >>> X = digits.images[digits.target == 0, None] / 16
    >>> X.shape
    (178, 1, 8, 8)
    >>> detector = AutoEncoder(max_epochs=1, random_state=0).fit(X)
    >>> detector.score_samples(digits.images[:3, None] / 16).dtype
    dtype('float64')
    """

    _parameter_constraints: ClassVar[dict] = {
        **BaseDeepDetector._parameter_constraints,
        "preprocessing": [StrOptions({"sqrt_blur"}), None],
        "latent_dim": [Interval(Integral, 1, None, closed="left")],
        "n_filters": [Interval(Integral, 1, None, closed="left")],
        "anomaly_weight": [Interval(Real, 0, None, closed="left")],
        "anomaly_margin": [Interval(Real, 0, None, closed="left")],
        "anomaly_batch_share": [Interval(Real, 0, 1, closed="neither")],
        "anomaly_batch_ratio": [Interval(Real, 0, 1, closed="neither"),
                                Hidden(StrOptions({"deprecated"}))],
    }
    _learns_from_anomalies = True
    _auto_epochs = (10, 940)
    _renamed_params: ClassVar[dict] = {"anomaly_batch_ratio": "anomaly_batch_share"}

    #: files of skanomaly 0.1 have no such parameter: their behaviour then
    _defaults_before: ClassVar[dict] = {"preprocessing": None}

    def __init__(self, *, preprocessing="sqrt_blur", latent_dim=32,
            n_filters=16, max_epochs="auto", batch_size=64, lr=1e-3, anomaly_weight=1.0,
            anomaly_margin=5.0, anomaly_batch_share=0.5, image_shape=None,
            contamination="auto", net_params=None, callbacks=None, device="cpu",
            n_threads=None, random_state=None, verbose=0,
            anomaly_batch_ratio="deprecated"):
        store_params(self, locals())

    def _learn_input(self, X, y):
        unit = X.dtype == np.uint8 or (X.min() >= 0 and X.max() <= 1)
        return {"module__out_activation": "sigmoid" if unit else None}

    def _build_net(self):
        return AutoEncoderNet(
            **self._net_kwargs(
                module=make_autoencoder,
                module__image_shape=self.image_shape_,
                module__latent_dim=self.latent_dim,
                module__n_filters=self.n_filters,
                module__preprocessing=self.preprocessing,
                criterion=HingedReconstructionLoss,
                criterion__anomaly_weight=self.anomaly_weight,
                criterion__anomaly_margin=self.anomaly_margin,
                optimizer=torch.optim.Adam,
                **self.net_config_,
            )
        )

    def _train(self, X, y):
        self._run_net(X, y, anomaly_share=self._param("anomaly_batch_share"))

    def _reconstruct_batch(self, x):
        return self.net_.module_(x)

    def _residual(self, x):
        """The reconstruction's error, in the network's view of x."""
        module = self.net_.module_
        return module(x) - module.prepare(x)

    def _anomaly_score(self, x):
        return self._residual(x).pow(2).flatten(1).mean(1)

    def _embed_batch(self, x):
        return self.net_.module_.encode(x)

    def _anomaly_map_batch(self, x):
        # the squared error of each pixel, averaged over channels
        return self._residual(x).pow(2).mean(1)
