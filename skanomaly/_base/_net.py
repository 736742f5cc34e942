"""The skorch engine of the deep estimators and its class-balanced batches."""

import math
import time

import numpy as np
import torch
from skorch import NeuralNet
from skorch.callbacks import Callback, EarlyStopping
from skorch.utils import to_device
from torch.utils.data import DataLoader, Sampler

from ..exceptions import TrainingDivergedError

__all__ = ["BalancedBatchSampler", "DetectorNet", "TimeLeft", "balanced_loader", "set_cosine_lr"]


class DetectorNet(NeuralNet):
    """skorch :class:`~skorch.NeuralNet` with the helpers every detector uses.

    It is the training engine inside an estimator (its ``net_``), not a
    public estimator. Nets with one module extend :meth:`get_loss`; nets with
    several modules and optimizers create them in ``initialize_module`` and
    ``initialize_optimizer`` (names ending in ``_``, which skorch registers
    for ``set_params``, devices and pickling) and extend ``train_step``. Every
    loss term goes through :meth:`check_finite`.
    """

    def check_finite(self, **losses):
        """Raise :class:`~skanomaly.TrainingDivergedError` if a loss term is NaN or inf.

        Parameters
        ----------
        **losses : dict of str to torch.Tensor
            Scalar loss terms, by name.
        """
        for name, value in losses.items():
            if not torch.isfinite(value.detach()).all():
                epoch = len(self.history)
                raise TrainingDivergedError(
                    f"Training diverged at epoch {epoch}: the loss term {name!r} "
                    f"is {value.item()}. Lower the learning rate or the weight of "
                    f"{name!r} and fit again."
                )

    def train_step_single(self, batch, **fit_params):
        """Forward, loss, divergence check and backward for one batch."""
        self._set_training(True)
        Xi, yi = batch
        # on the net's device: the loss compares the output with the input
        Xi, yi = to_device(Xi, self.device), to_device(yi, self.device)
        y_pred = self.infer(Xi, **fit_params)
        loss = self.get_loss(y_pred, yi, X=Xi, training=True)
        self.check_finite(loss=loss)
        loss.backward()
        return {"loss": loss, "y_pred": y_pred}

    def completed_epochs(self):
        """Number of epochs that ran to their end (their loss is recorded)."""
        return sum(1 for row in self.history if "train_loss" in row)

    def stopped_early(self):
        """Whether an :class:`~skorch.callbacks.EarlyStopping` callback ended training."""
        return any(
            isinstance(cb, EarlyStopping) and cb.misses_ >= cb.patience
            for _, cb in getattr(self, "callbacks_", [])
        )


class BalancedBatchSampler(Sampler):
    """Batches with a fixed share of anomalies, however rare they are.

    One epoch visits every normal sample once; each batch is completed with
    ``round(batch_size * anomaly_share)`` anomalies (at least one), drawn by
    cycling through shuffled anomalies, so the rare class is seen in every
    batch. Shuffling draws from torch's generator (seeded by the estimator).

    Parameters
    ----------
    labels : array-like of shape (n_samples,)
        1 for normal, -1 for anomalous samples.
    batch_size : int
        Samples per batch.
    anomaly_share : float, default=0.5
        Share of every batch drawn from the anomalies.
    """

    def __init__(self, labels, batch_size, anomaly_share=0.5):
        labels = np.asarray(labels)
        self.normal = np.flatnonzero(labels == 1)
        self.anomaly = np.flatnonzero(labels == -1)
        n_anomaly = min(batch_size - 1, max(1, round(batch_size * anomaly_share)))
        self.n_anomaly = n_anomaly if len(self.anomaly) else 0
        self.n_normal = max(1, batch_size - self.n_anomaly)

    def __len__(self):
        return math.ceil(len(self.normal) / self.n_normal)

    def __iter__(self):
        normal = self.normal[torch.randperm(len(self.normal)).numpy()]
        if self.n_anomaly:
            n_perm = math.ceil(len(self) * self.n_anomaly / len(self.anomaly))
            anomaly = np.concatenate(
                [self.anomaly[torch.randperm(len(self.anomaly)).numpy()]
                 for _ in range(n_perm)]
            )
        for b in range(len(self)):
            batch = normal[b * self.n_normal:(b + 1) * self.n_normal]
            if self.n_anomaly:
                batch = np.concatenate(
                    [batch, anomaly[b * self.n_anomaly:(b + 1) * self.n_anomaly]]
                )
            yield batch.tolist()


def balanced_loader(dataset, batch_size, labels, anomaly_share=0.5, shuffle=None,
                    **kwargs):
    """``iterator_train`` for skorch that draws :class:`BalancedBatchSampler` batches."""
    sampler = BalancedBatchSampler(labels, batch_size, anomaly_share)
    return DataLoader(dataset, batch_sampler=sampler, **kwargs)


def set_cosine_lr(optimizer, step, n_steps):
    """Set the learning rate of step ``step`` of ``n_steps``: a cosine from the initial one to 0.

    The initial rate of each parameter group is kept in its ``'initial_lr'``
    entry (set from ``'lr'`` on the first call), as torch's schedulers do.
    """
    factor = 0.5 * (1 + math.cos(math.pi * min(step, n_steps) / n_steps))
    for group in optimizer.param_groups:
        group.setdefault("initial_lr", group["lr"])
        group["lr"] = group["initial_lr"] * factor


class TimeLeft(Callback):
    """Records the estimated time left in the whole fit, shown in the epoch table.

    After every epoch, ``time_left`` (seconds) is recorded in the history: the
    mean duration of the epochs so far times the epochs still planned, in
    every phase of the fit (pretraining, encoder...). skorch's epoch table
    (``verbose=1``) prints it as a column.

    Parameters
    ----------
    total_epochs : int
        Epochs planned for the whole fit.
    """

    def __init__(self, total_epochs):
        self.total_epochs = total_epochs

    def initialize(self):
        self.done_ = 0
        self.started_ = None
        return self

    def on_epoch_begin(self, net, **kwargs):
        if self.started_ is None:
            self.started_ = time.perf_counter()

    def on_epoch_end(self, net, **kwargs):
        self.done_ += 1
        per_epoch = (time.perf_counter() - self.started_) / self.done_
        left = per_epoch * max(0, self.total_epochs - self.done_)
        net.history.record("time_left", round(left, 1))
