"""The one training loop: seeded epoch orders, compiled epochs, trainers, ``History``.

Every model family trains the same way.  A *trainer* knows how to make one update on a
batch (:meth:`Trainer.update_step`); :func:`train_epochs` runs it for whole epochs, each
epoch one compiled ``tf.while_loop`` over the batches of a seeded shuffle, and records
a :class:`History`.  Epoch ``e`` of a trainer with seed ``s`` always visits the
examples in the same order, so a run stopped, checkpointed and resumed equals a run
straight through (chapter 3, ``03_tf2_surrogate_loss``).  The trainer knows nothing of
the loop, and the loop nothing of the model.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from typing import Callable, Iterator

import numpy as np
import tensorflow as tf
from tqdm.auto import tqdm

from ._validation import (check_bool, check_callable, check_instance, check_int,
                          check_monitors, check_seed)

__all__ = ["History", "compile_step", "derive_seeds", "epoch_orders",
           "mean_over_batches", "check_optimizer", "Trainer", "train_epochs"]


@dataclasses.dataclass
class History:
    """Per-epoch record of a training run, the same type for every model family.

    Attributes:
        epoch: epoch numbers (1-based, counted from the start of training, so a
            resumed run continues the numbering).
        metrics: name -> list of per-epoch values (e.g. ``"surrogate"``, the
            mean surrogate loss of an RBM epoch; monitors add their own keys).
        seconds: wall-clock training time of each epoch (monitors excluded).
        layers: for a stack trained layer by layer, one History per layer
            (bottom first); empty otherwise.
        wall_seconds: wall-clock time of the whole call that made this
            history, monitors and data passes included (None if not timed).
        info: what else the run used that a reader may want, e.g. the seeds
            a stack derived for its layers.
    """

    epoch: list = dataclasses.field(default_factory=list)
    metrics: dict = dataclasses.field(default_factory=dict)
    seconds: list = dataclasses.field(default_factory=list)
    layers: list = dataclasses.field(default_factory=list)
    wall_seconds: float | None = None
    info: dict = dataclasses.field(default_factory=dict)

    def record(self, epoch: int, seconds: float, values: dict) -> None:
        """Append one epoch's values (name -> number)."""
        self.epoch.append(int(epoch))
        self.seconds.append(seconds)
        for key, value in values.items():
            self.metrics.setdefault(key, []).append(float(value))

    @property
    def total_seconds(self) -> float:
        """``wall_seconds`` if the whole run was timed, else the sum of the epochs'."""
        return (self.wall_seconds if self.wall_seconds is not None
                else float(sum(self.seconds)))

    def __getitem__(self, key: str) -> list:
        if key not in self.metrics:
            raise KeyError(
                f"no metric {key!r} in this history; it has {sorted(self.metrics)}.")
        return self.metrics[key]

    def keys(self):
        """The metric names."""
        return self.metrics.keys()


def compile_step(fn: Callable, *, jit_compile: bool = False):
    """``tf.function(fn)``, with call statistics of its own.

    Every trainer, epoch loop or sampler compiles its own step once.
    TensorFlow counts traces per code object, so a chapter that builds many
    trainers would be warned of "excessive retracing" although each one traced
    once; a ``functools.partial`` around ``fn`` gives each compiled function
    its own count, and the warning keeps its meaning.
    """
    return tf.function(functools.partial(fn), jit_compile=jit_compile)


def derive_seeds(seed: int, n: int) -> list[int]:
    """``n`` distinct, well-mixed seeds from one (NumPy ``SeedSequence``);
    same seed, same list."""
    n = check_int(n, "n", low=0)
    return [int(s) for s in np.random.SeedSequence(check_seed(seed)).generate_state(n)]


def epoch_orders(n_examples: int, batch_size: int, seed: int, *, first_epoch: int = 0,
                 epochs: int = 1) -> Iterator[np.ndarray]:
    """The mini-batch indices of epochs ``first_epoch, ..., first_epoch + epochs - 1``.

    Epoch ``e`` uses the ``(e + 1)``-th permutation drawn from
    ``np.random.default_rng(seed)``; the last partial batch is dropped, so
    every update averages ``batch_size`` rows.

    Args:
        n_examples: size N >= 1 of the training set.
        batch_size: rows per batch, in [1, N].
        seed: the shuffle seed.
        first_epoch: 0-based index of the first epoch wanted.
        epochs: how many epochs.

    Yields:
        int32 arrays (N // batch_size, batch_size); row ``i`` is batch ``i``.
    """
    n_examples = check_int(n_examples, "n_examples", low=1)
    batch_size = check_int(batch_size, "batch_size", low=1)
    if batch_size > n_examples:
        raise ValueError("batch_size must be at most the number of examples, "
                         f"{n_examples}; got {batch_size}.")
    first_epoch = check_int(first_epoch, "first_epoch", low=0)
    epochs = check_int(epochs, "epochs", low=0)
    return _orders(n_examples, batch_size, check_seed(seed), first_epoch, epochs)


def _orders(n_examples, batch_size, seed, first_epoch, epochs):
    n_batches = n_examples // batch_size
    rng = np.random.default_rng(seed)
    for _ in range(first_epoch):  # skip the shuffles already used (cheap)
        rng.permutation(n_examples)
    for _ in range(epochs):
        order = rng.permutation(n_examples)[: n_batches * batch_size]
        yield order.reshape(n_batches, batch_size).astype(np.int32)


def mean_over_batches(update: Callable, data, order, *, shape=()) -> tf.Tensor:
    """Run ``update(data[order[i]])`` for every row ``i`` of ``order``
    in one ``tf.while_loop``.

    The loop over batches stays inside the graph, so a compiled epoch never
    returns to Python between updates.

    Args:
        update: ``batch -> tensor of shape`` ``shape``; it updates some state.
        data: the training set (N, d), or a tuple of tensors with N rows each
            (e.g. inputs and per-example noise), whose rows are gathered with
            the same indices and passed to ``update`` as a tuple.
        order: int indices (n_batches, batch_size).
        shape: the shape of ``update``'s result (a scalar by default).

    Returns:
        The mean of ``update``'s results, of shape ``shape``.
    """
    n_batches = tf.shape(order)[0]
    dtype = tf.nest.flatten(data)[0].dtype

    def body(i, total):
        batch = tf.nest.map_structure(lambda d: tf.gather(d, order[i]), data)
        return i + 1, total + update(batch)

    _, total = tf.while_loop(
        lambda i, _: i < n_batches, body, (tf.constant(0), tf.zeros(shape, dtype)))
    return total * (1.0 / tf.cast(n_batches, dtype))


class Trainer(tf.Module):
    """What every trainer shares: a seed, a generator, an epoch counter
    and compiled steps.

    A subclass says how to make one update (:meth:`update_step`), which values it
    returns (``metric_names``), which model it trains (``model``) and how to check a
    training set (:meth:`prepare`).  Everything else — compiled steps and epochs, the
    epoch counter that checkpoints carry, the per-epoch hooks — is here.

    Args:
        seed: seeds the trainer's ``tf.random.Generator`` (``rng``) and the
            shuffles of :func:`train_epochs`.
        compile: run updates as ``tf.function`` s (same numbers, faster).
        jit_compile: also compile them with XLA (needs ``compile``).
        name: module name.
    """

    #: Names of the values :meth:`update_step` returns (one name: a scalar).
    metric_names: tuple = ("loss",)

    def __init__(self, *, seed: int = 0, compile: bool = True,
                 jit_compile: bool = False, name: str | None = None):
        super().__init__(name=name)
        self.seed = check_seed(seed)
        compile = check_bool(compile, "compile")
        jit_compile = check_bool(jit_compile, "jit_compile")
        if jit_compile and not compile:
            raise ValueError("jit_compile=True needs compile=True.")
        self.completed_epochs = tf.Variable(0, dtype=tf.int64, trainable=False)
        self.rng = tf.random.Generator.from_seed(self.seed)
        wrap = ((lambda f: compile_step(f, jit_compile=jit_compile)) if compile
                else (lambda f: f))
        # Public, so that benchmarks can check they trace once.
        self.compiled_step = wrap(self.update_step)
        self.compiled_epoch = wrap(self._epoch)

    @property
    def model(self) -> tf.Module:
        """The model being trained."""
        raise NotImplementedError

    def update_step(self, batch) -> tf.Tensor:
        """One update on ``batch``; returns the values named by ``metric_names``."""
        raise NotImplementedError

    def prepare(self, x, name: str = "x"):
        """The training set ``x``, checked and converted for :meth:`epoch`."""
        raise NotImplementedError

    def step(self, batch) -> tf.Tensor:
        """One update on ``batch`` (checked like training data); returns its values."""
        return self.compiled_step(self.prepare(batch, "batch"))

    def _epoch(self, data, order):
        return mean_over_batches(self.update_step, data, order, shape=self._value_shape)

    @property
    def _value_shape(self):
        return () if len(self.metric_names) == 1 else (len(self.metric_names),)

    def begin_epoch(self) -> None:
        """Called before each epoch (e.g. to set the epoch's learning rate)."""

    def end_epoch(self) -> None:
        """Count a finished epoch (the counter is checkpointed)."""
        self.completed_epochs.assign_add(1)

    def epoch(self, data, order) -> tf.Tensor:
        """One pass of updates, the whole pass as a single compiled loop.

        Args:
            data: the output of :meth:`prepare`: the training set (N, d), or a tuple.
            order: int indices (n_batches, batch_size); row ``i`` is batch ``i``.

        Returns:
            The mean over the batches of :meth:`update_step`'s values.
        """
        if not all(isinstance(d, tf.Tensor) for d in tf.nest.flatten(data)):
            data = self.prepare(data)
        order = tf.convert_to_tensor(order, dtype=tf.int32)
        if order.shape.rank != 2:
            raise ValueError(
                f"order must be (n_batches, batch_size); got shape {order.shape}.")
        self.begin_epoch()
        values = self.compiled_epoch(data, order)
        self.end_epoch()
        return values


def check_optimizer(optimizer, name: str = "optimizer"):
    """A Keras optimizer: ``optimizer`` itself,
    or ``keras.optimizers.Adam(1e-3)`` for None."""
    import keras

    if optimizer is None:
        return keras.optimizers.Adam(1e-3)
    return check_instance(optimizer, name, keras.optimizers.Optimizer,
                          "Pass an optimizer object, e.g. keras.optimizers.Adam(1e-3).",
                          what="keras.optimizers.Optimizer")


def train_epochs(trainer: Trainer, x, *, epochs: int, batch_size: int = 100,
                 shuffle_seed: int | None = None, monitors: dict | None = None,
                 callback: Callable | None = None, checkpoint=None,
                 progress: bool = True, desc: str | None = None) -> History:
    """Run ``epochs`` more epochs of ``trainer`` on ``x``; return a :class:`History`.

    By default the shuffles are the trainer's: seeded by ``trainer.seed`` and
    continuing from ``trainer.completed_epochs``, so N epochs, a checkpoint
    restore and M more epochs equal N + M epochs.

    Args:
        trainer: any :class:`Trainer` (``RBMTrainer``, ``UpDownTrainer``, ...).
        x: the training set, as the trainer's ``prepare`` accepts it.
        epochs: how many epochs to run now (>= 0).
        batch_size: examples per update (the last partial batch is dropped).
        shuffle_seed: seed the shuffles of this call alone (epochs 0, 1, ...
            of ``np.random.default_rng(shuffle_seed)``) instead.
        monitors: name -> ``f(model) -> number``, evaluated after each epoch.
        callback: ``f(epoch, model, values)`` after each epoch (1-based epoch).
        checkpoint: a ``tf.train.CheckpointManager`` saved after every epoch.
        progress: show a progress bar over the epochs.
        desc: the progress bar's label.

    Returns:
        A :class:`History` of these epochs.

    Raises:
        FloatingPointError: if an epoch's loss is not finite (training diverged).
    """
    check_instance(trainer, "trainer", Trainer,
                   "Build one, e.g. rbmtut.RBMTrainer(rbm).")
    epochs = check_int(epochs, "epochs", low=0)
    batch_size = check_int(batch_size, "batch_size", low=1)
    monitors = check_monitors(monitors)
    if callback is not None:
        check_callable(callback, "callback", "(epoch, model, values) -> None")
    if checkpoint is not None:
        check_instance(
            checkpoint, "checkpoint", tf.train.CheckpointManager,
            "Make one with rbmtut.fitting.checkpoint_manager(trainer, directory).")
    progress = check_bool(progress, "progress")
    data = trainer.prepare(x)
    n_rows = int(tf.nest.flatten(data)[0].shape[0])
    if batch_size > n_rows:
        raise ValueError(
            f"batch_size must be at most len(x) = {n_rows}; got {batch_size}.")
    # .numpy(): a MirroredVariable has no int()
    done = int(trainer.completed_epochs.numpy())
    if shuffle_seed is None:
        orders = epoch_orders(n_rows, batch_size, trainer.seed, first_epoch=done,
                              epochs=epochs)
    else:
        orders = epoch_orders(n_rows, batch_size, shuffle_seed, epochs=epochs)
    names, model = trainer.metric_names, trainer.model
    history, started = History(), time.perf_counter()
    bar = tqdm(orders, total=epochs, disable=not progress, unit="epoch", desc=desc)
    for epoch, order in enumerate(bar, start=done + 1):
        start = time.perf_counter()
        result = np.atleast_1d(trainer.epoch(data, order).numpy())
        seconds = time.perf_counter() - start
        if not np.all(np.isfinite(result)):  # the parameters have gone with it
            raise FloatingPointError(
                f"training diverged in epoch {epoch}: "
                f"{ {n: float(v) for n, v in zip(names, result)} }. "
                "Start again from a fresh model with a smaller learning rate "
                "(for real-valued data, also scale or whiten the data).")
        values = {name: float(value) for name, value in zip(names, result)}
        for name, monitor in monitors.items():
            values[name] = float(monitor(model))
        history.record(epoch, seconds, values)
        bar.set_postfix({key: f"{val:.4g}" for key, val in values.items()})
        if checkpoint is not None:
            checkpoint.save(checkpoint_number=epoch)
        if callback is not None:
            callback(epoch, model, values)
    bar.close()
    history.wall_seconds = time.perf_counter() - started
    return history

