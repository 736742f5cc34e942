"""GAN with an autoencoder generator and two discriminators (Kim et al., 2020)."""

import warnings
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
from .nn import abc_loss, make_discriminator, make_generator, patch_l1

__all__ = ["DualDiscGAN", "DualDiscNet"]


class DualDiscNet(DetectorNet):
    """skorch engine of :class:`DualDiscGAN`.

    It owns three modules, created in :meth:`initialize_module`:
    ``generator_`` (the autoencoder), ``discriminator_normal_`` (judges normal
    images against their reconstructions) and ``discriminator_anomaly_``
    (judges anomalous images against theirs), and two Adam optimizers,
    ``optimizer_g_`` and ``optimizer_d_`` (both discriminators). Their
    settings come from ``generator__*``, ``discriminator__*``,
    ``optimizer_g__*`` and ``optimizer_d__*`` arguments, which
    ``set_params`` and grid search reach.

    Every batch holds normal (``y == 1``) and anomalous (``y == -1``)
    samples; :meth:`train_step` makes one discriminator step and one
    generator step on it, with the losses of the paper weighted by the
    ``*_weight`` arguments.

    Parameters
    ----------
    generator, discriminator : callable
        Factories called with their ``generator__*`` / ``discriminator__*``
        arguments, e.g. :func:`skanomaly.nn.make_generator`.
    optimizer_g, optimizer_d : torch.optim.Optimizer class, default=Adam
        Optimizers of the generator and of the discriminators.
    input_shift, input_scale : float, default=0.0, 1.0
        The modules see ``(x - input_shift) / input_scale``.
    reconstruction_weight, latent_weight, patch_weight, \
adversarial_normal_weight, abc_weight, adversarial_anomaly_weight, \
discriminator_normal_weight, discriminator_anomaly_weight : float
        Weights of the loss terms; see :class:`DualDiscGAN`.
    patch_size, patch_stride : int or None, default=None
        Window of the Patch loss; see :func:`skanomaly.nn.patch_l1`.
    n_worst_patches : int, default=10
        Patches averaged by the Patch loss.
    horizontal_flip : bool, default=False
        Mirror a random half of every training batch of images.
    **kwargs
        Passed to :class:`skorch.NeuralNet`.
    """

    # one set of discriminator__* arguments builds both discriminators, whose
    # own names (discriminator_normal_, discriminator_anomaly_) skorch registers
    prefixes_: ClassVar[list] = [*DetectorNet.prefixes_, "discriminator"]

    def __init__(
        self,
        generator,
        discriminator,
        *,
        optimizer_g=torch.optim.Adam,
        optimizer_d=torch.optim.Adam,
        input_shift=0.0,
        input_scale=1.0,
        reconstruction_weight=1.5,
        latent_weight=0.5,
        patch_weight=1.5,
        adversarial_normal_weight=0.5,
        abc_weight=0.5,
        adversarial_anomaly_weight=1.0,
        discriminator_normal_weight=1.0,
        discriminator_anomaly_weight=0.5,
        patch_size=None,
        patch_stride=None,
        n_worst_patches=10,
        horizontal_flip=False,
        criterion=torch.nn.BCEWithLogitsLoss,
        **kwargs,
    ):
        super().__init__(module=None, criterion=criterion, **kwargs)
        store_params(self, locals())

    # -- components ----------------------------------------------------------
    def initialize_module(self):
        """Create ``generator_``, ``discriminator_normal_`` and ``discriminator_anomaly_``."""
        self.generator_ = self.initialized_instance(
            self.generator, self.get_params_for("generator"))
        params = self.get_params_for("discriminator")
        self.discriminator_normal_ = self.initialized_instance(self.discriminator, params)
        self.discriminator_anomaly_ = self.initialized_instance(self.discriminator, params)
        return self

    def initialize_optimizer(self, *args, **kwargs):
        """Create ``optimizer_g_`` (generator) and ``optimizer_d_`` (both discriminators)."""
        args, kw = self.get_params_for_optimizer(
            "optimizer_g", self.generator_.named_parameters())
        self.optimizer_g_ = self.optimizer_g(*args, **kw)
        named = [
            *(("normal." + n, p) for n, p in self.discriminator_normal_.named_parameters()),
            *(("anomaly." + n, p) for n, p in self.discriminator_anomaly_.named_parameters()),
        ]
        args, kw = self.get_params_for_optimizer("optimizer_d", named)
        self.optimizer_d_ = self.optimizer_d(*args, **kw)
        return self

    def normalize(self, x):
        """The modules' view of a float32 batch: ``(x - input_shift) / input_scale``."""
        return (x - self.input_shift) / self.input_scale

    def denormalize(self, x):
        """Inverse of :meth:`normalize`."""
        return x * self.input_scale + self.input_shift

    # -- training ------------------------------------------------------------
    def _bce(self, logits, target):
        return self.criterion_(logits, torch.full_like(logits, float(target)))

    def train_step(self, batch, **fit_params):
        """One discriminator step, then one generator step, on a mixed batch.

        The generator reconstructs the whole batch at once; the normal part
        gets the reconstruction, latent, Patch and normal adversarial losses,
        the anomalous part the ABC and anomaly adversarial losses (summed,
        each averaged over its part, into one generator step).
        """
        self._set_training(True)
        Xi, yi = batch
        x = self.normalize(to_device(Xi, self.device))
        if self.horizontal_flip and x.dim() == 4:
            flip = torch.rand(x.shape[0], device=x.device) < 0.5
            x = torch.where(flip[:, None, None, None], x.flip(-1), x)
        normal = to_device(yi, self.device) > 0
        x_n, x_a = x[normal], x[~normal]
        has_anomalies = x_a.shape[0] > 0
        zero = x.new_zeros(())

        features = self.generator_.encode(x)
        x_hat = self.generator_.decode(features)
        x_hat_n, x_hat_a = x_hat[normal], x_hat[~normal]

        # discriminators: real images against detached reconstructions
        d_n = 0.5 * (self._bce(self.discriminator_normal_(x_n), 1)
                     + self._bce(self.discriminator_normal_(x_hat_n.detach()), 0))
        d_a = zero
        if has_anomalies:
            d_a = 0.5 * (self._bce(self.discriminator_anomaly_(x_a), 1)
                         + self._bce(self.discriminator_anomaly_(x_hat_a.detach()), 0))
        self.check_finite(discriminator_normal=d_n, discriminator_anomaly=d_a)
        loss_d = (self.discriminator_normal_weight * d_n
                  + self.discriminator_anomaly_weight * d_a)
        self.optimizer_d_.zero_grad()
        loss_d.backward()
        self.optimizer_d_.step()

        # generator on the normal part
        rec = (x_n - x_hat_n).abs().mean()
        lat = (features[-1][normal]
               - self.generator_.encode(x_hat_n)[-1]).abs().mean()
        patch = patch_l1(x_n, x_hat_n, self.patch_size, self.patch_stride,
                         self.n_worst_patches).mean()
        adv_n = self._bce(self.discriminator_normal_(x_hat_n), 1)
        # generator on the anomalous part
        abc = adv_a = zero
        if has_anomalies:
            abc = abc_loss((x_a - x_hat_a).abs().flatten(1).mean(1)).mean()
            adv_a = self._bce(self.discriminator_anomaly_(x_hat_a), 0)
        self.check_finite(reconstruction=rec, latent=lat, patch=patch,
                          adversarial_normal=adv_n, abc=abc,
                          adversarial_anomaly=adv_a)
        loss_g = (self.reconstruction_weight * rec + self.latent_weight * lat
                  + self.patch_weight * patch + self.adversarial_normal_weight * adv_n
                  + self.abc_weight * abc + self.adversarial_anomaly_weight * adv_a)
        self.optimizer_g_.zero_grad()
        loss_g.backward()
        self.optimizer_g_.step()

        self.history.record_batch("loss_d", loss_d.item())
        self.history.record_batch("reconstruction", rec.item())
        if has_anomalies:
            self.history.record_batch("abc", abc.item())
        return {"loss": loss_g.detach(), "y_pred": x_hat.detach()}

    def infer(self, x, **fit_params):
        """Reconstruction of a batch, in the input's scale."""
        x = to_device(x, self.device)
        return self.denormalize(self.generator_(self.normalize(x)))


@fill_doc
class DualDiscGAN(AnomalyMapMixin, ReconstructionMixin, EmbeddingMixin, BaseDeepDetector):
    """Autoencoder GAN with one discriminator for normal data and one for anomalies.

    The detector of Kim et al. (2020) for imbalanced anomaly detection. The
    generator is an autoencoder (U-Net style: its decoder can concatenate the
    encoder's feature maps) that reconstructs its input; the anomaly score is
    the mean absolute reconstruction error of a sample, so only the
    generator is kept for scoring. During training two discriminators judge
    it: the *normal* discriminator tells normal images from their
    reconstructions, and the generator learns to fool it; the *anomaly*
    discriminator tells labelled anomalous images from their
    reconstructions, and the generator helps it, so that anomalies are
    reconstructed unlike themselves.

    ``embed`` gives the generator's bottleneck features (the deepest encoder
    level, through which no skip connection passes), for
    ``KNNDetector(feature_extractor=DualDiscGAN())``: with its skip
    connections at every scale the U-Net learns to reconstruct almost
    everything but the kinds of anomalies it was pushed away from, while
    anomalies of kinds the labels never showed can still land far from the
    normal images in the bottleneck (see the user guide's recipes).

    The generator minimises, on normal samples ``x`` (``G(x)`` its
    reconstruction, ``E(x)`` the deepest encoder feature map)::

        reconstruction_weight * |x - G(x)|                (L1)
        + latent_weight * |E(x) - E(G(x))|                (latent loss)
        + patch_weight * mean of the worst patch L1s      (Patch loss)
        + adversarial_normal_weight * BCE(D_N(G(x)), 1)   (normal adversarial loss)

    and on labelled anomalies ``a``::

        abc_weight * -log(1 - exp(-|a - G(a)|))           (ABC loss)
        + adversarial_anomaly_weight * BCE(D_A(G(a)), 0)  (anomaly adversarial loss)

    while the discriminators minimise
    ``discriminator_normal_weight * (BCE(D_N(x), 1) + BCE(D_N(G(x)), 0)) / 2``
    and ``discriminator_anomaly_weight * (BCE(D_A(a), 1) + BCE(D_A(G(a)), 0)) / 2``.
    The defaults are the weights of the authors' code. Every batch draws
    ``anomaly_batch_share`` of its samples from the labelled anomalies,
    however rare they are.

    Images (any size, any number of channels) get convolutional networks
    that halve the image down to at most 4 pixels and a PatchGAN critic; flat
    feature vectors get fully connected ones. Images in [0, 1] are mapped to
    [-1, 1] with a tanh output, as in the paper; other data is standardised
    with the mean and standard deviation of the training set.

    Parameters
    ----------
    supervision : {'auto', 'supervised', 'unsupervised'}, default='auto'
        How labelled anomalies (``y == -1``) are used. 'supervised' requires
        at least 2 of them and raises ValueError otherwise; 'unsupervised'
        ignores them (fits on the normal samples only, the anomaly branch
        idle); 'auto' uses them when there are any and otherwise trains the
        normal branch only, with a warning.
    n_filters : int, default=16
        Width of the generator and of the discriminators: channels of their
        first convolution, doubled at every level (the authors use 64 on
        128-pixel images; 16 suits 28-pixel ones and a CPU).
    skip_connections : bool, default=True
        U-Net skip connections in the generator.
    reconstruction_weight : float, default=1.5
        Weight of the L1 reconstruction loss of normal samples.
    latent_weight : float, default=0.5
        Weight of the latent loss, the L1 distance between the deepest
        encoder features of a normal sample and of its reconstruction.
    patch_weight : float, default=1.5
        Weight of the Patch loss, the mean L1 error of the ``n_worst_patches``
        worst-reconstructed patches of a normal sample.
    adversarial_normal_weight : float, default=0.5
        Weight of the generator's adversarial loss against the normal
        discriminator.
    abc_weight : float, default=0.5
        Weight of the ABC loss ``-log(1 - exp(-error))`` that pushes the
        reconstruction error of labelled anomalies up.
    adversarial_anomaly_weight : float, default=1.0
        Weight of the anomaly adversarial loss, which trains the generator to
        make the anomaly discriminator call anomalies' reconstructions fake.
    discriminator_normal_weight : float, default=1.0
        Weight of the normal discriminator's loss.
    discriminator_anomaly_weight : float, default=0.5
        Weight of the anomaly discriminator's loss.
    patch_size : int, default=None
        Side of the Patch loss windows; None is a quarter of the image's
        shorter side (a quarter of the features for vectors).
    n_worst_patches : int, default=10
        Number of worst patches averaged by the Patch loss.
    horizontal_flip : bool, default=False
        Augment the training images by mirroring a random half of every
        batch left to right (the authors' code flips its training images);
        only for images whose class does not depend on their orientation.
    anomaly_batch_share : float, default=0.5
        Share of every training batch drawn from the labelled anomalies.
    max_epochs : int or 'auto', default='auto'
        Training epochs (one epoch visits every normal sample once, with as
        many labelled anomalies again at the default
        ``anomaly_batch_share``). 'auto': 5, or more on a small training
        set, so that training takes at least 470 batches (5 epochs of 6000
        images); the other phases of the fit are lengthened alike.
    batch_size : int, default=64
        Batch size for training and scoring.
    lr : float, default=1e-3
        Adam learning rate of the generator and the discriminators (set them
        apart with ``optimizer_g__lr`` / ``optimizer_d__lr``). Both use
        ``betas=(0.5, 0.999)``, as in the paper.
    {image_shape}
    {contamination}
    net_params : dict, default=None
        Extra arguments of the skorch net (:class:`DualDiscNet`), e.g.
        ``{"optimizer_d__lr": 1e-4, "discriminator__n_filters": 16}``; also
        settable as ``set_params(optimizer_d__lr=1e-4)``. Prefixes:
        ``generator``, ``discriminator``, ``optimizer_g``, ``optimizer_d``,
        ``iterator_train``, ``criterion``.
    {runtime_params}
    mode : str, default="deprecated"
        Old name of ``supervision`` (0.1), removed in 0.4.
    anomaly_batch_ratio : float, default="deprecated"
        Old name of ``anomaly_batch_share`` (0.1), removed in 0.4.

    Attributes
    ----------
    net_ : DualDiscNet
        The trained skorch net: ``net_.generator_`` scores;
        ``net_.discriminator_normal_`` and ``net_.discriminator_anomaly_``
        are kept for inspection only.
    net_config_ : dict
        Settings of the net learnt from the training data: the input's shift
        and scale, and the generator's output activation.
    supervised_ : bool
        Whether labelled anomalies were used in training.
    {detector_attributes}

    See Also
    --------
    AutoEncoder : Reconstruction autoencoder with a hinge on labelled anomalies.

    Notes
    -----
    The authors train with batch size 1, one update per sample. Here a batch
    mixes normal and anomalous samples: the generator reconstructs it in one
    pass and takes one step on the sum of both branches' losses. The
    authors' code detaches the Patch loss from the graph (so it has no
    effect); here it is differentiable. ``score_samples`` is minus the mean
    absolute reconstruction error on the [-1, 1] (or standardised) scale.

    References
    ----------
    .. [1] J. Kim, K. Jeong, H. Choi, K. Seo, "GAN-based Anomaly Detection in
       Imbalance Problems", ECCV 2020 Workshops, LNCS 12540, pp. 128-145.
    .. [2] Y. Yamanaka, T. Iwata, H. Takahashi, M. Yamada, S. Kanai,
       "Autoencoding Binary Classifiers for Supervised Anomaly Detection",
       PRICAI 2019.

    Examples
    --------
    Zeros of scikit-learn's digits as the normal class, ten ones labelled as
    anomalies (``y == -1``):

    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from skanomaly import DualDiscGAN
    >>> X, digit = load_digits(return_X_y=True)
    >>> keep = (digit == 0) | ((digit == 1) & (np.cumsum(digit == 1) <= 10))
    >>> y = np.where(digit[keep] == 0, 1, -1)
    >>> detector = DualDiscGAN(n_filters=4, max_epochs=1, image_shape=(1, 8, 8),
    ...                        random_state=0).fit(X[keep] / 16, y)
    >>> detector.predict(X[:5] / 16).shape
    (5,)
    """

    _parameter_constraints: ClassVar[dict] = {
        **BaseDeepDetector._parameter_constraints,
        "supervision": [StrOptions({"auto", "supervised", "unsupervised"})],
        "mode": [StrOptions({"auto", "supervised", "unsupervised"}),
                 Hidden(StrOptions({"deprecated"}))],
        "n_filters": [Interval(Integral, 1, None, closed="left")],
        "skip_connections": ["boolean"],
        "reconstruction_weight": [Interval(Real, 0, None, closed="left")],
        "latent_weight": [Interval(Real, 0, None, closed="left")],
        "patch_weight": [Interval(Real, 0, None, closed="left")],
        "adversarial_normal_weight": [Interval(Real, 0, None, closed="left")],
        "abc_weight": [Interval(Real, 0, None, closed="left")],
        "adversarial_anomaly_weight": [Interval(Real, 0, None, closed="left")],
        "discriminator_normal_weight": [Interval(Real, 0, None, closed="left")],
        "discriminator_anomaly_weight": [Interval(Real, 0, None, closed="left")],
        "patch_size": [Interval(Integral, 1, None, closed="left"), None],
        "n_worst_patches": [Interval(Integral, 1, None, closed="left")],
        "horizontal_flip": ["boolean"],
        "anomaly_batch_share": [Interval(Real, 0, 1, closed="neither")],
        "anomaly_batch_ratio": [Interval(Real, 0, 1, closed="neither"),
                                Hidden(StrOptions({"deprecated"}))],
    }
    _learns_from_anomalies = True
    _auto_epochs = (5, 470)
    _renamed_params: ClassVar[dict] = {"mode": "supervision",
                                       "anomaly_batch_ratio": "anomaly_batch_share"}

    def __init__(self, *, supervision="auto", n_filters=16,
            skip_connections=True, reconstruction_weight=1.5, latent_weight=0.5, patch_weight=1.5,
            adversarial_normal_weight=0.5, abc_weight=0.5, adversarial_anomaly_weight=1.0,
            discriminator_normal_weight=1.0, discriminator_anomaly_weight=0.5,
            patch_size=None, n_worst_patches=10, horizontal_flip=False,
            anomaly_batch_share=0.5, max_epochs="auto", batch_size=64, lr=1e-3,
            image_shape=None, contamination="auto", net_params=None, callbacks=None,
            device="cpu", n_threads=None, random_state=None, verbose=0, mode="deprecated",
            anomaly_batch_ratio="deprecated"):
        store_params(self, locals())

    def _use_anomalies(self, y):
        """Whether to train the anomaly branch; warns or raises as ``supervision`` says."""
        n_anomalies = int((y == -1).sum())
        supervision = self._param("supervision")
        if supervision == "unsupervised":
            return False
        if supervision == "supervised" and n_anomalies < 2:
            raise ValueError(
                f"supervision='supervised' needs at least 2 labelled anomalies "
                f"(y == -1); got {n_anomalies}. Label more anomalies, or use "
                "supervision='auto' or 'unsupervised' to train on normal samples only."
            )
        if n_anomalies == 0:
            warnings.warn(
                "DualDiscGAN got no labelled anomaly (y is None or all 1): the "
                "anomaly discriminator and the ABC and anomaly adversarial losses "
                "are idle, and the model trains as a normal-data autoencoder GAN. "
                "Pass y with -1 for known anomalies to use them, or "
                "supervision='unsupervised' to silence this warning.",
                UserWarning,
            )
            return False
        return True

    def _learn_input(self, X, y):
        normal = X[y == 1]
        if X.dtype == np.uint8 or (normal.min() >= 0 and normal.max() <= 1):
            # images in [0, 1] seen in [-1, 1] with a tanh output, as in the paper
            return {"input_shift": 0.5, "input_scale": 0.5,
                    "generator__out_activation": "tanh"}
        return {"input_shift": float(normal.mean()),
                "input_scale": float(normal.std()) or 1.0,
                "generator__out_activation": None}

    def _build_net(self):
        return DualDiscNet(**self._net_kwargs(
            generator=make_generator,
            generator__image_shape=self.image_shape_,
            generator__n_filters=self.n_filters,
            generator__skip_connections=self.skip_connections,
            discriminator=make_discriminator,
            discriminator__image_shape=self.image_shape_,
            discriminator__n_filters=self.n_filters,
            optimizer_g__betas=(0.5, 0.999),
            optimizer_d__betas=(0.5, 0.999),
            reconstruction_weight=self.reconstruction_weight,
            latent_weight=self.latent_weight,
            patch_weight=self.patch_weight,
            adversarial_normal_weight=self.adversarial_normal_weight,
            abc_weight=self.abc_weight,
            adversarial_anomaly_weight=self.adversarial_anomaly_weight,
            discriminator_normal_weight=self.discriminator_normal_weight,
            discriminator_anomaly_weight=self.discriminator_anomaly_weight,
            patch_size=self.patch_size,
            n_worst_patches=self.n_worst_patches,
            horizontal_flip=self.horizontal_flip,
            **self.net_config_,
        ))

    def _train(self, X, y):
        self.supervised_ = self._use_anomalies(y)
        if not self.supervised_:
            X, y = X[y == 1], y[y == 1]
        self._run_net(X, y, anomaly_share=self._param("anomaly_batch_share"))

    def _modules_for_inference(self):
        return [self.net_.generator_]

    def _anomaly_score(self, x):
        x = self.net_.normalize(x)
        return (x - self.net_.generator_(x)).abs().flatten(1).mean(1)

    def _embed_batch(self, x):
        return self.net_.generator_.encode(self.net_.normalize(x))[-1]

    def _anomaly_map_batch(self, x):
        # the absolute error of each pixel (the score's terms), over channels
        x = self.net_.normalize(x)
        return (x - self.net_.generator_(x)).abs().mean(1)

    def _reconstruct_batch(self, x):
        return self.net_.infer(x)
