"""The epoch loop: seeded shuffles, monitors, history, checkpoints and ``fit_rbm``.

:class:`rbmtut.training.RBMTrainer` knows how to make one update; this module
runs it for whole epochs.  Each epoch visits the examples in a shuffle that
depends only on the trainer's seed and the epoch number, so training that is
stopped, checkpointed and resumed sees exactly the batches, and ends with
exactly the parameters, of training straight through (chapter 3,
``03_tf2_surrogate_loss``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from typing import Callable, Iterator

import numpy as np
import tensorflow as tf
from tqdm.auto import tqdm

from . import estimators
from .rbm import BernoulliRBM, check_binary_input
from .training import RBMTrainer, compile_step, mean_over_batches

__all__ = [
    "epoch_orders",
    "compiled_epochs",
    "batch_dataset",
    "History",
    "default_monitors",
    "checkpoint_manager",
    "train_epochs",
    "fit_rbm",
]


def epoch_orders(
    n_examples: int, batch_size: int, seed: int, *, first_epoch: int = 0, epochs: int = 1
) -> Iterator[np.ndarray]:
    """The mini-batch indices of epochs ``first_epoch, ..., first_epoch + epochs - 1``.

    Epoch ``e`` uses the ``(e + 1)``-th permutation drawn from
    ``np.random.default_rng(seed)``; the last partial batch is dropped, so
    every update averages ``batch_size`` rows.

    Args:
        n_examples: size N of the training set.
        batch_size: rows per batch, in [1, N].
        seed: the shuffle seed.
        first_epoch: 0-based index of the first epoch wanted.
        epochs: how many epochs.

    Yields:
        int32 arrays (N // batch_size, batch_size); row ``i`` is batch ``i``.
    """
    if not isinstance(batch_size, (int, np.integer)) or not 0 < batch_size <= n_examples:
        raise ValueError(f"batch_size must be an int in [1, {n_examples}]; got {batch_size!r}.")
    n_batches = n_examples // batch_size
    rng = np.random.default_rng(seed)
    for _ in range(first_epoch):  # skip the shuffles already used (cheap)
        rng.permutation(n_examples)
    for _ in range(epochs):
        order = rng.permutation(n_examples)[: n_batches * batch_size]
        yield order.reshape(n_batches, batch_size).astype(np.int32)


def compiled_epochs(update: Callable, data, *, epochs: int, batch_size: int, seed: int,
                    shape=(), progress: bool = True) -> Iterator[tf.Tensor]:
    """Run ``update`` over seeded shuffles of ``data``, one compiled loop per epoch.

    The shared loop of ``fit_autoencoder`` and ``fit_vae``: epoch ``e`` uses
    the batches of :func:`epoch_orders` and runs as a single ``tf.function``
    (:func:`rbmtut.training.mean_over_batches`), so Python is only visited
    between epochs.

    Args:
        update: ``batch (batch_size, d) -> tensor of shape`` ``shape``; it
            changes some state (one optimizer step).
        data: the training set (N, d), a tensor, or a tuple of such tensors
            (see :func:`rbmtut.training.mean_over_batches`).
        epochs: how many epochs (a non-negative int).
        batch_size: rows per update (the last partial batch is dropped).
        seed: the shuffle seed.
        shape: the shape of ``update``'s result.
        progress: show a progress bar over the epochs.

    Yields:
        Each epoch's mean of ``update``'s results.
    """
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 0:
        raise ValueError(f"epochs must be a non-negative int; got {epochs!r}.")
    run_epoch = compile_step(lambda d, order: mean_over_batches(update, d, order, shape=shape))
    orders = epoch_orders(int(tf.nest.flatten(data)[0].shape[0]), batch_size, seed, epochs=epochs)
    for order in tqdm(orders, total=epochs, disable=not progress, unit="epoch"):
        yield run_epoch(data, tf.constant(order))


def batch_dataset(
    x, batch_size: int, seed: int, *, first_epoch: int = 0, epochs: int = 1
) -> tf.data.Dataset:
    """The batches :func:`train_epochs` would use, as a ``tf.data.Dataset``.

    Feed it to ``model.fit(..., steps_per_epoch=len(x) // batch_size)`` to
    train a Keras model on exactly the same sequence of batches.

    Args:
        x: training data (N, n_visible).
        batch_size, seed, first_epoch, epochs: as in :func:`epoch_orders`.

    Returns:
        A dataset of ``epochs * (N // batch_size)`` batches (batch_size, n_visible).
    """
    data = tf.convert_to_tensor(x)
    orders = list(epoch_orders(len(x), batch_size, seed, first_epoch=first_epoch, epochs=epochs))
    indices = np.concatenate(orders) if orders else np.zeros((0, batch_size), np.int32)
    return tf.data.Dataset.from_tensor_slices(indices).map(lambda rows: tf.gather(data, rows))


@dataclasses.dataclass
class History:
    """Per-epoch record of a training run.

    Attributes:
        epoch: epoch numbers (1-based, counted from the start of training,
            so a resumed run continues the numbering).
        metrics: name -> list of per-epoch values (``"surrogate"`` is the mean
            surrogate loss; the monitors add their own keys).
        seconds: wall-clock training time of each epoch (monitors excluded).
    """

    epoch: list = dataclasses.field(default_factory=list)
    metrics: dict = dataclasses.field(default_factory=dict)
    seconds: list = dataclasses.field(default_factory=list)

    def record(self, epoch: int, seconds: float, values: dict) -> None:
        """Append one epoch."""
        self.epoch.append(epoch)
        self.seconds.append(seconds)
        for key, value in values.items():
            self.metrics.setdefault(key, []).append(float(value))

    def __getitem__(self, key: str) -> list:
        return self.metrics[key]


def default_monitors(monitor_data) -> dict[str, Callable]:
    """Reconstruction cross-entropy and exact pseudo-log-likelihood on ``monitor_data``."""
    return {
        "reconstruction": lambda rbm: estimators.reconstruction_cross_entropy(rbm, monitor_data),
        "pseudo_log_likelihood": lambda rbm: estimators.pseudo_log_likelihood(rbm, monitor_data),
    }


def checkpoint_manager(
    trainer: RBMTrainer, directory: str, *, max_to_keep: int = 2
) -> tf.train.CheckpointManager:
    """A ``tf.train.CheckpointManager`` for everything ``trainer`` holds.

    The checkpoint stores the parameters, velocities or optimizer slots,
    persistent chains, the random generator and the epoch counter.  Call
    ``manager.restore_or_initialize()`` on a freshly built trainer to resume.

    Args:
        trainer: the trainer to save.
        directory: where checkpoints go.
        max_to_keep: how many recent checkpoints to keep.
    """
    return tf.train.CheckpointManager(
        tf.train.Checkpoint(trainer=trainer), directory, max_to_keep=max_to_keep
    )


def train_epochs(
    trainer: RBMTrainer,
    x,
    *,
    epochs: int,
    batch_size: int = 100,
    monitors: dict[str, Callable] | None = None,
    callback: Callable[[int, BernoulliRBM, dict], None] | None = None,
    checkpoint: tf.train.CheckpointManager | None = None,
    progress: bool = True,
) -> History:
    """Run ``epochs`` more epochs of ``trainer`` on ``x``; return their history.

    Continues from ``trainer.completed_epochs``: the shuffles (seeded by
    ``trainer.seed``) and the learning-rate schedule pick up where they
    stopped, so N epochs, a checkpoint restore and M epochs equal N + M epochs.

    Args:
        trainer: an :class:`~rbmtut.training.RBMTrainer`.
        x: training data (N, n_visible) in [0, 1] (binary for a likelihood).
        epochs: how many epochs to run now.
        batch_size: examples per update (the last partial batch is dropped).
        monitors: name -> ``f(rbm) -> scalar`` evaluated after each epoch
            (see :func:`default_monitors`).
        callback: ``f(epoch, rbm, values)`` after each epoch (1-based epoch).
        checkpoint: a ``tf.train.CheckpointManager`` (see
            :func:`checkpoint_manager`) saved after every epoch.
        progress: show a progress bar over the epochs.

    Returns:
        A :class:`History` of these epochs.
    """
    if not isinstance(trainer, RBMTrainer):
        raise TypeError(f"trainer must be an RBMTrainer; got {type(trainer).__name__}.")
    rbm = trainer.rbm
    check_binary_input(x, rbm.n_visible, name="x")
    if not isinstance(epochs, int) or epochs < 0:
        raise ValueError(f"epochs must be a non-negative int; got {epochs!r}.")
    if checkpoint is not None and not isinstance(checkpoint, tf.train.CheckpointManager):
        raise TypeError("checkpoint must be a tf.train.CheckpointManager (see checkpoint_manager).")
    x = np.asarray(x, dtype=rbm.dtype.as_numpy_dtype)
    done = int(trainer.completed_epochs.numpy())  # .numpy(): a MirroredVariable has no int()
    orders = epoch_orders(len(x), batch_size, trainer.seed, first_epoch=done, epochs=epochs)
    data = tf.constant(x)
    history = History()
    bar = tqdm(orders, total=epochs, disable=not progress, unit="epoch")
    for epoch, order in enumerate(bar, start=done + 1):
        start = time.perf_counter()
        surrogate = float(trainer.epoch(data, order))
        seconds = time.perf_counter() - start
        values = {"surrogate": surrogate}
        for name, monitor in (monitors or {}).items():
            values[name] = float(monitor(rbm))
        history.record(epoch, seconds, values)
        bar.set_postfix({key: f"{val:.4g}" for key, val in values.items()})
        if checkpoint is not None:
            checkpoint.save(checkpoint_number=epoch)
        if callback is not None:
            callback(epoch, rbm, values)
    bar.close()
    return history


def fit_rbm(
    rbm: BernoulliRBM,
    x,
    *,
    epochs: int = 10,
    batch_size: int = 100,
    method: str = "cd",
    k: int = 1,
    learning_rate: float | Callable[[int], float] | None = None,
    momentum: float | None = None,
    weight_decay: float = 0.0,
    optimizer=None,
    bias_optimizer=None,
    n_chains: int | None = None,
    seed: int = 0,
    monitors: dict[str, Callable] | None = None,
    callback: Callable[[int, BernoulliRBM, dict], None] | None = None,
    progress: bool = True,
    compile: bool = True,
    strategy: tf.distribute.Strategy | None = None,
) -> History:
    """Train ``rbm`` on ``x`` with CD-k or PCD-k; return the per-epoch history.

    A shortcut for ``train_epochs(RBMTrainer(rbm, ...), x, ...)``; build the
    trainer yourself to checkpoint it or to continue training later.

    Args:
        rbm: the model, updated in place.
        x: training data (N, n_visible) in [0, 1] (binary for a likelihood).
        epochs: passes over the data.
        batch_size: examples per update.
        method, k, learning_rate, momentum, weight_decay: see
            :class:`~rbmtut.training.RBMTrainer` (built-in rule by default:
            learning rate 0.05, momentum 0.5).
        optimizer, bias_optimizer, seed, compile: see
            :class:`~rbmtut.training.RBMTrainer`.
        n_chains: persistent chains for PCD (default: ``batch_size``).
        monitors, callback, progress: see :func:`train_epochs`.
        strategy: a ``tf.distribute`` strategy (e.g. ``MirroredStrategy``) to
            split every update across its replicas, with the result of one
            device up to rounding (default: the strategy whose scope is
            active, if any).  Create ``rbm`` and the optimizers inside
            ``strategy.scope()``; ``batch_size`` and ``n_chains`` must divide
            by the number of replicas (see :mod:`rbmtut.distribute`).

    Returns:
        A :class:`History`.
    """
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int; got {batch_size!r}.")
    if method == "pcd" and n_chains is None:
        n_chains = batch_size
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        trainer = RBMTrainer(
            rbm, method=method, k=k, learning_rate=learning_rate, momentum=momentum,
            weight_decay=weight_decay, optimizer=optimizer, bias_optimizer=bias_optimizer,
            n_chains=n_chains, seed=seed, compile=compile,
        )
    return train_epochs(
        trainer, x, epochs=epochs, batch_size=batch_size, monitors=monitors, callback=callback,
        progress=progress,
    )
