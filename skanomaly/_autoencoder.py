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
    ReconstructionMixin,
    pixel_components,
    store_params,
)
from ._docstrings import fill_doc
from .nn import HingedReconstructionLoss, box_blur, make_autoencoder, sqrt_blur

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
class AutoEncoder(AnomalyMapMixin, ReconstructionMixin, BaseDeepDetector):
    """Convolutional autoencoder, scored by its reconstruction error and its codes.

    Images get a DCGAN-style convolutional encoder and decoder that adapt to
    the image size (any height and width, any number of channels); flat
    feature vectors get a fully connected autoencoder. Trained on the normal
    samples, it reconstructs normal data well and anomalies badly, and it
    maps normal images to codes near those of the normal training images.

    The score (``score_mode``) is, by default, the sum of three z-scores: the
    reconstruction error, blurred (a 5x5 box) before it is squared so that
    what counts is a region reconstructed wrong rather than edges off by a
    pixel; the mean distance of the image's code to the codes of its 5
    nearest normal training images; and, weighted by ``pixel_weight``, how
    far each pixel (square root, 3x3 blur) is from its mean over the normal
    training images, in units of its standard deviation (summed squares: a
    diagonal Gaussian), which sees mass missing where normal images always
    have it. Each is standardised with its mean and standard deviation on 10%
    of the normal training images, held out of the fit. The network sees the
    square root of the intensities, blurred by a 3x3 box
    (``preprocessing``).

    When ``y`` holds labelled anomalies (-1), they are used too: batches are
    class-balanced (``anomaly_batch_share`` of every batch is anomalies) and a
    bounded hinge pushes their reconstruction error up to ``anomaly_margin``
    times the normal error.

    Parameters
    ----------
    score_mode : {'combined', 'reconstruction', 'latent_knn'}, default='combined'
        'reconstruction': the mean squared reconstruction error (the classic
        autoencoder score). 'latent_knn': the mean distance of the code to
        the codes of the 5 nearest normal training images. 'combined': the
        sum of the z-scores of the blurred reconstruction error, of the
        code's kNN distance and of the pixels' deviation (see above).
    pixel_weight : float, default=1.0
        Weight of the pixels' deviation in the 'combined' score (0 leaves it
        out: the score of skanomaly 0.3 and earlier).
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
        Old name of ``anomaly_batch_share`` (0.1), removed in 0.3.

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
        "score_mode": [StrOptions({"combined", "reconstruction", "latent_knn"})],
        "pixel_weight": [Interval(Real, 0, None, closed="left")],
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
    _defaults_before: ClassVar[dict] = {"score_mode": "reconstruction", "preprocessing": None,
                                        "pixel_weight": 0.0}

    def __init__(self, *, score_mode="combined", pixel_weight=1.0,
            preprocessing="sqrt_blur", latent_dim=32,
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

    def _blurred_residual(self, x):
        residual = self._residual(x)
        return box_blur(residual, 5)

    def _anomaly_score(self, x):
        return self._residual(x).pow(2).flatten(1).mean(1)

    def _score_components(self):
        if self.score_mode == "combined":
            return pixel_components(["residual", "knn:latent"], self.pixel_weight)
        return {"reconstruction": None, "latent_knn": ["knn:latent"]}[self.score_mode]

    def _component_weight(self, name):
        return self.pixel_weight if name == "gauss:pixels" else 1.0

    def _direct_scores(self, x):
        return {"residual": self._blurred_residual(x).pow(2).flatten(1).sum(1)}

    def _knn_spaces(self, x):
        return {"latent": self.net_.module_.encode(x), "pixels": sqrt_blur(x).flatten(1)}

    def _anomaly_map_batch(self, x):
        # the squared error of each pixel (blurred with the combined score),
        # averaged over channels
        if self.score_mode == "reconstruction":
            return self._residual(x).pow(2).mean(1)
        return self._blurred_residual(x).pow(2).mean(1)
