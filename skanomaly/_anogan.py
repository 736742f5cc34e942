"""AnoGAN and f-AnoGAN: a DCGAN trained on normal data, three ways to score."""

import contextlib
from numbers import Integral, Real
from typing import ClassVar

import numpy as np
import torch
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from skorch.utils import to_tensor

from ._base import (
    AnomalyMapMixin,
    BaseDeepDetector,
    DetectorNet,
    EmbeddingMixin,
    store_params,
)
from ._docstrings import fill_doc
from .nn import (
    AnoGANDiscriminator,
    AnoGANEncoder,
    AnoGANGenerator,
    feature_residual,
    image_residual,
    preprocess,
)

__all__ = ["AnoGAN"]

#: latent vectors drawn once at fit time; latent search starts every image
#: from the one whose generated image is closest to it
_N_LATENT_STARTS = 64


class AnoGANNet(DetectorNet):
    """skorch engine of :class:`AnoGAN`: a DCGAN, then an f-AnoGAN encoder.

    The modules ``generator_``, ``discriminator_`` and ``encoder_`` are built
    in :meth:`initialize_module` from ``generator__*``, ``discriminator__*``
    and ``encoder__*``; each has its own optimizer (``optimizer_g_``,
    ``optimizer_d_``, ``optimizer_e_``, set with ``optimizer_g__lr`` ...,
    built from ``optimizer``). :meth:`train_step` runs one of two phases:

    * ``"gan"`` (``fit``): a discriminator step on real and generated
      batches, then a non-saturating generator step;
    * ``"encoder"`` (inside :meth:`encoder_phase`): generator and discriminator frozen
      in eval mode, the encoder learns ``G(E(x)) ~ x`` with the izif loss
      ``image residual + kappa * discriminator-feature residual``.

    Parameters
    ----------
    generator, discriminator, encoder : class of torch.nn.Module
        The three modules (see :mod:`skanomaly.nn`).
    latent_dim : int, default=64
        Size of the latent vector fed to the generator.
    kappa : float, default=1.0
        Weight of the feature residual in the encoder's loss.
    preprocessing : {None, 'sqrt_blur'}, default=None
        What the GAN sees of a sample (:func:`skanomaly.nn.preprocess`).
    real_label : float, default=0.9
        Target of real samples in the discriminator loss (one-sided label
        smoothing).
    **kwargs
        Passed to :class:`skorch.NeuralNet`.
    """

    def __init__(
        self, generator=AnoGANGenerator, discriminator=AnoGANDiscriminator,
        encoder=AnoGANEncoder, *, latent_dim=64, kappa=1.0, real_label=0.9,
        preprocessing=None, criterion=torch.nn.BCEWithLogitsLoss, **kwargs,
    ):
        super().__init__(module=generator, criterion=criterion, **kwargs)
        store_params(self, locals())
        self.phase = "gan"

    def prepare(self, x):
        """The samples as the GAN sees them (:func:`skanomaly.nn.preprocess`)."""
        return preprocess(x, self.preprocessing)

    # -- components ------------------------------------------------------------
    def initialize_module(self):
        """Build ``generator_``, ``discriminator_`` and ``encoder_``."""
        self.generator_ = self.initialized_instance(
            self.generator, self.get_params_for("generator"))
        self.discriminator_ = self.initialized_instance(
            self.discriminator, self.get_params_for("discriminator"))
        self.encoder_ = self.initialized_instance(
            self.encoder, self.get_params_for("encoder"))
        return self

    def initialize_optimizer(self, *args, **kwargs):
        """One optimizer per module: ``optimizer_g_``, ``optimizer_d_``, ``optimizer_e_``."""
        for prefix, module in (
            ("optimizer_g", self.generator_),
            ("optimizer_d", self.discriminator_),
            ("optimizer_e", self.encoder_),
        ):
            args, kwargs = self.get_params_for_optimizer(prefix, module.named_parameters())
            setattr(self, prefix + "_", self.optimizer(*args, **kwargs))
        return self

    # -- training ----------------------------------------------------------------
    def train_step(self, batch, **fit_params):
        """One step of the current phase on a batch of real samples."""
        x = self.prepare(to_tensor(batch[0], device=self.device))
        if self.phase == "encoder":
            return self._encoder_step(x)
        return self._gan_step(x)

    def _gan_step(self, x):
        self._set_training(True)
        G, D = self.generator_, self.discriminator_
        bce = self.criterion_
        z = torch.randn(len(x), self.latent_dim, device=x.device)
        fake = G(z)

        d_real, d_fake = D(x), D(fake.detach())
        loss_d = (bce(d_real, torch.full_like(d_real, self.real_label))
                  + bce(d_fake, torch.zeros_like(d_fake)))
        self.check_finite(discriminator=loss_d)
        self.optimizer_d_.zero_grad()
        loss_d.backward()
        self.optimizer_d_.step()

        d_gen = D(fake)
        loss_g = bce(d_gen, torch.ones_like(d_gen))
        self.check_finite(generator=loss_g)
        self.optimizer_g_.zero_grad()
        loss_g.backward()
        self.optimizer_g_.step()

        self.history.record_batch("d_loss", loss_d.item())
        self.history.record_batch("g_loss", loss_g.item())
        return {"loss": (loss_d + loss_g).detach(), "y_pred": fake.detach()}

    def _encoder_step(self, x):
        self.encoder_.train()
        self.generator_.eval()
        self.discriminator_.eval()
        image_loss, feature_loss = self.izif(x)
        image_loss, feature_loss = image_loss.mean(), feature_loss.mean()
        self.check_finite(encoder_image_residual=image_loss,
                          encoder_feature_residual=feature_loss)
        loss = image_loss + self.kappa * feature_loss
        self.optimizer_e_.zero_grad()
        loss.backward()
        self.optimizer_e_.step()
        self.history.record_batch("e_loss", loss.item())
        return {"loss": loss.detach(), "y_pred": None}

    def izif(self, x):
        """Per-sample image and feature residuals of ``G(E(x))``, two ``(n,)`` tensors."""
        x_hat = self.generator_(self.encoder_(x))
        D = self.discriminator_
        return image_residual(x_hat, x), feature_residual(D.features(x_hat), D.features(x))

    @contextlib.contextmanager
    def encoder_phase(self):
        """Within the block, training steps train the encoder, the GAN frozen."""
        frozen = [p for m in (self.generator_, self.discriminator_) for p in m.parameters()]
        for p in frozen:
            p.requires_grad_(False)
        self.phase = "encoder"
        try:
            yield self
        finally:
            self.phase = "gan"
            for p in frozen:
                p.requires_grad_(True)


@fill_doc
class AnoGAN(AnomalyMapMixin, EmbeddingMixin, BaseDeepDetector):
    """AnoGAN and f-AnoGAN: a DCGAN of the normal data and its anomaly scores.

    A DCGAN (a generator from a latent vector, a discriminator) is trained
    on the normal samples; samples that the GAN cannot produce are
    anomalies. Images get size-adaptive convolutional nets (any height and
    width, 1 or 3 channels); flat feature vectors get fully connected ones.
    The ``score_mode`` parameter picks how a sample is scored:

    ``'encoder'`` (f-AnoGAN's izi_f score, the default)
        After the GAN, an encoder ``E`` is trained, the GAN frozen, so that
        ``G(E(x))`` reconstructs ``x``; the score is the image residual plus
        ``kappa`` times the residual of the discriminator's features. One
        forward pass per image. The default because f-AnoGAN (Schlegl et
        al., 2019) proposed it to replace the latent search, which it
        approximates at a fraction of the cost, and because the
        discriminator alone ranked Fashion-MNIST's anomalies far worse on
        validation data (see the benchmarks).
    ``'latent_search'`` (AnoGAN)
        For each image, a latent vector is optimised with Adam for
        ``search_steps`` steps so that ``G(z)`` matches it, from the closest
        of 64 latent vectors drawn at fit time; the score is
        ``(1 - search_lambda) * residual + search_lambda * discrimination``,
        both mean absolute differences (of the pixels, and of the
        discriminator's last hidden features). Done for a whole batch of
        images at once; ``search_steps`` forward and backward passes per
        batch make it the slowest mode.
    ``'discriminator'``
        The negative of the discriminator's logit: normal images look real,
        anomalies fake. One forward pass; usually weak.

    The GAN sees the square root of the intensities, blurred by a 3x3 box
    (``preprocessing``); ``generate`` returns such images. Only the samples
    labelled 1 are used for training; labelled anomalies are ignored.

    Parameters
    ----------
    score_mode : {'encoder', 'latent_search', 'discriminator'}, default='encoder'
        How samples are scored (see above). The encoder is trained only with
        ``score_mode='encoder'``.
    preprocessing : {'sqrt_blur', None}, default='sqrt_blur'
        What the GAN sees of an image: the square root of the intensities,
        blurred by a 3x3 box (:func:`skanomaly.nn.sqrt_blur`), or the image
        itself. (Not named ``score``: scikit-learn reserves
        that name for the ``score(X, y)`` method, which pipelines and
        cross-validation look up.)
    latent_dim : int, default=64
        Size of the latent vector.
    n_filters : int, default=16
        Channels of the first convolution of the discriminator and encoder
        (doubled at every level); the generator mirrors them.
    max_epochs : int or 'auto', default='auto'
        GAN training epochs (one epoch visits every normal sample once).
        'auto': 10, or more on a small training set, so that training takes
        at least 940 batches (10 epochs of 6000 images); the other phases of
        the fit are lengthened alike.
    encoder_epochs : int, default=5
        Encoder training epochs (``score_mode='encoder'`` only).
    batch_size : int, default=64
        Batch size for training and scoring.
    lr : float, default=2e-4
        Adam learning rate of the three nets (``optimizer_d__lr`` ... override
        one of them); Adam's betas are (0.5, 0.999), as in DCGAN.
    kappa : float, default=1.0
        Weight of the discriminator-feature residual in the encoder's loss
        and score.
    search_steps : int, default=20
        Adam steps of the latent search.
    search_lambda : float, default=0.1
        Weight of the discrimination loss in the latent search.
    search_lr : float, default=0.05
        Adam learning rate of the latent search.
    {image_shape}
    {contamination}
    net_params : dict, default=None
        Extra arguments of the skorch net, e.g.
        ``{"discriminator__n_filters": 16, "optimizer_d__lr": 1e-4}``; also
        settable as ``set_params(optimizer_d__lr=1e-4)``.
    {runtime_params}

    Attributes
    ----------
    net_ : skorch.NeuralNet
        The trained skorch net; ``net_.generator_``, ``net_.discriminator_``
        and ``net_.encoder_`` are the torch modules.
    net_config_ : dict
        Settings of the net learnt from the training data (a sigmoid output
        of the generator for data in [0, 1]).
    encoder_fitted_ : bool
        Whether the f-AnoGAN encoder was trained (``score_mode='encoder'``).
    latent_starts_ : torch.Tensor of shape (64, latent_dim)
        Latent vectors drawn at fit time; the latent search starts each image
        from the one whose generated image is closest to it.
    {detector_attributes}

    See Also
    --------
    AutoEncoder : Reconstruction autoencoder.
    TrimmedDetector : Fits a detector on contaminated data by trimming.

    Notes
    -----
    ``offset_`` comes from the training scores, so a fit with
    ``score_mode='latent_search'`` also runs the latent search over the
    training set. ``score_mode`` is read when scoring: a fitted detector can
    be switched between ``'latent_search'`` and ``'discriminator'`` (and to
    ``'encoder'`` if it was fitted with it) with ``set_params`` to compare the
    scores of one GAN, ``offset_`` then still being that of the fitted mode.

    References
    ----------
    .. [1] T. Schlegl, P. Seeböck, S. M. Waldstein, U. Schmidt-Erfurth and G.
       Langs, "Unsupervised Anomaly Detection with Generative Adversarial
       Networks to Guide Marker Discovery", IPMI 2017.
    .. [2] T. Schlegl, P. Seeböck, S. M. Waldstein, G. Langs and
       U. Schmidt-Erfurth, "f-AnoGAN: Fast unsupervised anomaly detection
       with generative adversarial networks", Medical Image Analysis 54, 2019.

    Examples
    --------
    ``predict`` flags the ``contamination`` share of the training images:

    >>> import numpy as np
    >>> from skanomaly import AnoGAN
    >>> X = np.random.RandomState(0).rand(64, 1, 8, 8).astype(np.float32)
    >>> detector = AnoGAN(max_epochs=1, encoder_epochs=1, contamination=0.25,
    ...                   random_state=0)
    >>> int((detector.fit_predict(X) == -1).sum())
    16
    """

    _parameter_constraints: ClassVar[dict] = {
        **BaseDeepDetector._parameter_constraints,
        "score_mode": [StrOptions({"encoder", "latent_search", "discriminator"})],
        "preprocessing": [StrOptions({"sqrt_blur"}), None],
        "latent_dim": [Interval(Integral, 1, None, closed="left")],
        "n_filters": [Interval(Integral, 1, None, closed="left")],
        "encoder_epochs": [Interval(Integral, 1, None, closed="left")],
        "kappa": [Interval(Real, 0, None, closed="left")],
        "search_steps": [Interval(Integral, 0, None, closed="left")],
        "search_lambda": [Interval(Real, 0, 1, closed="both")],
        "search_lr": [Interval(Real, 0, None, closed="neither")],
    }
    _auto_epochs = (10, 940)
    _renamed_attributes: ClassVar[dict] = {"_encoder_fitted": "encoder_fitted_",
                           "_latent_starts": "latent_starts_"}

    #: files of skanomaly 0.1 have no such parameter: their behaviour then
    _defaults_before: ClassVar[dict] = {"preprocessing": None}

    def __init__(self, *, score_mode="encoder", preprocessing="sqrt_blur", latent_dim=64,
            n_filters=16, max_epochs="auto", encoder_epochs=5, batch_size=64, lr=2e-4,
            kappa=1.0, search_steps=20,
            search_lambda=0.1, search_lr=0.05, image_shape=None, contamination="auto",
            net_params=None, callbacks=None, device="cpu", n_threads=None,
            random_state=None, verbose=0):
        store_params(self, locals())

    # -- fitting -----------------------------------------------------------------
    def _planned_epochs(self):
        encoder = self._epochs(self.encoder_epochs) if self._uses_encoder() else 0
        return self._epochs() + encoder

    def _learn_input(self, X, y):
        unit = X.dtype == np.uint8 or (X.min() >= 0 and X.max() <= 1)
        return {"generator__out_activation": "sigmoid" if unit else None}

    def _build_net(self):
        return AnoGANNet(**self._net_kwargs(
            generator=AnoGANGenerator,
            discriminator=AnoGANDiscriminator,
            encoder=AnoGANEncoder,
            generator__image_shape=self.image_shape_,
            generator__latent_dim=self.latent_dim,
            generator__n_filters=self.n_filters,
            discriminator__image_shape=self.image_shape_,
            discriminator__n_filters=self.n_filters,
            encoder__image_shape=self.image_shape_,
            encoder__latent_dim=self.latent_dim,
            encoder__n_filters=self.n_filters,
            latent_dim=self.latent_dim,
            kappa=self.kappa,
            preprocessing=self.preprocessing,
            optimizer=torch.optim.Adam,
            optimizer_g__betas=(0.5, 0.999),
            optimizer_d__betas=(0.5, 0.999),
            optimizer_e__betas=(0.5, 0.999),
            **self.net_config_,
        ))

    def _train(self, X, y):
        self._run_net(X, y)
        self.encoder_fitted_ = self._uses_encoder()
        if self.encoder_fitted_:
            with self.net_.encoder_phase():
                self._run_net(X, y, epochs=self.encoder_epochs)
        self.latent_starts_ = torch.randn(
            _N_LATENT_STARTS, self.latent_dim, device=self.device_)

    def _uses_encoder(self):
        return self.score_mode == "encoder"

    def _modules_for_inference(self):
        return [self.net_.generator_, self.net_.discriminator_, self.net_.encoder_]

    # -- scoring -----------------------------------------------------------------
    def _check_encoder(self):
        if not self.encoder_fitted_:
            raise ValueError(
                f"score_mode={self.score_mode!r} needs the encoder, which is trained "
                "only when AnoGAN is fitted with score_mode='encoder': fit again."
            )

    def _anomaly_score(self, x):
        x = self.net_.prepare(x)
        if self.score_mode == "discriminator":
            return -self.net_.discriminator_(x)
        if self.score_mode == "latent_search":
            return self._latent_search(x)[0]
        self._check_encoder()
        image, features = self.net_.izif(x)
        return image + self.kappa * features

    def _embed_batch(self, x):
        self._check_encoder()
        return self.net_.encoder_(self.net_.prepare(x))

    def _anomaly_map_batch(self, x):
        # the pixel residual of the image the GAN finds for x: through the
        # encoder when it was trained, else by the latent search
        x = self.net_.prepare(x)
        if self.encoder_fitted_:
            x_hat = self.net_.generator_(self.net_.encoder_(x))
        else:
            x_hat = self.net_.generator_(self._latent_search(x)[1])
        return (x_hat - x).pow(2).mean(1)

    def _search_loss(self, x_hat, x, features):
        residual = image_residual(x_hat, x, p=1)
        discrimination = feature_residual(
            self.net_.discriminator_.features(x_hat), features, p=1)
        lam = self.search_lambda
        return (1 - lam) * residual + lam * discrimination

    def _latent_search(self, x):
        """Latent search on a batch: (per-sample loss, optimised latents).

        Every sample's latent vector follows its own Adam trajectory (Adam
        is element-wise and the summed loss separates), so the result does
        not depend on the other samples of the batch.
        """
        G = self.net_.generator_
        features = self.net_.discriminator_.features(x).detach()
        starts = self.latent_starts_.to(x.device)
        with torch.no_grad():
            distances = torch.cdist(G(starts).flatten(1), x.flatten(1))  # (k, n)
            z = starts[distances.argmin(0)].clone()
        z.requires_grad_(True)
        optimizer = torch.optim.Adam([z], lr=self.search_lr)
        with torch.enable_grad():
            for _ in range(self.search_steps):
                loss = self._search_loss(G(z), x, features)
                (z.grad,) = torch.autograd.grad(loss.sum(), z)
                optimizer.step()
        with torch.no_grad():
            return self._search_loss(G(z), x, features), z.detach()

    def latent_search(self, X):
        """Latent vectors found by the AnoGAN latent search, and their losses.

        {X_fitted}

        Returns
        -------
        Z : ndarray of shape (n_samples, latent_dim), dtype float32
            The optimised latent vectors; ``generate(Z)`` approximates X.
        loss : ndarray of shape (n_samples,), dtype float32
            The final search loss (the ``'latent_search'`` anomaly score).
        """
        check_is_fitted(self)
        X = self._validate_input(X, reset=False)

        def search(x):
            loss, z = self._latent_search(self.net_.prepare(x))
            return torch.cat([z, loss[:, None]], 1)

        out = self._map_batches(search, X)
        return out[:, :-1], out[:, -1]

    def generate(self, Z):
        """Samples generated from latent vectors.

        Parameters
        ----------
        Z : array-like of shape (n_samples, latent_dim) or int
            Latent vectors, or a number of samples to draw from the prior
            (seeded by ``random_state``).

        Returns
        -------
        X : ndarray of shape ``(n_samples, *image_shape_)``, dtype float32
        """
        check_is_fitted(self)
        if isinstance(Z, Integral):
            with self._torch_context():
                Z = torch.randn(int(Z), self.latent_dim).numpy()
        Z = np.asarray(Z, dtype=np.float32)
        if Z.ndim != 2 or Z.shape[1] != self.latent_dim:
            raise ValueError(
                f"Z must have shape (n_samples, {self.latent_dim}); got {Z.shape}.")
        return self._map_batches(self.net_.generator_, Z)
