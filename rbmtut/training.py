"""Learning an RBM: the CD/PCD gradient, the surrogate loss and ``fit_rbm``.

The log-likelihood gradient of an RBM is a difference of two expectations,

    d log p(v) / d theta = -<dF/dtheta>_data + <dF/dtheta>_model,

and for the weights ``-dF/dW = v p(h|v)^T``.  CD-k estimates the model term
with a k-step Gibbs chain started at the data; PCD-k continues persistent
chains instead (Tieleman 2008).  Both are the gradient of the *surrogate*

    L = mean F(v_data) - mean F(stop_gradient(v_model)),

which is not a log-likelihood: its value says little, and only its first
derivative is meaningful.  Chapter 2 (``02_gibbs_cd_pcd``) uses the analytic
statistics below; chapter 3 trains through ``cd_loss`` with autodiff.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Callable, NamedTuple

import numpy as np
import tensorflow as tf
from tqdm.auto import tqdm

from . import estimators
from .gibbs import PersistentChains, gibbs_chain
from .rbm import BernoulliRBM, check_binary_input, sample_bernoulli

__all__ = ["cd_loss", "Gradients", "cd_gradients", "RBMTrainer", "History", "fit_rbm"]


def cd_loss(rbm: BernoulliRBM, v_data, v_model) -> tf.Tensor:
    """The CD/PCD surrogate ``mean F(v_data) - mean F(stop_gradient(v_model))``.

    Its gradient with respect to ``(W, b, c)`` is the CD (or PCD) estimate of
    the negative log-likelihood gradient.  Its *value* is not a likelihood.

    Args:
        rbm: the model.
        v_data: a data batch (n, n_visible).
        v_model: the chain ends (m, n_visible); gradients do not flow into them.

    Returns:
        Scalar tensor.
    """
    return tf.reduce_mean(rbm.free_energy(v_data)) - tf.reduce_mean(
        rbm.free_energy(tf.stop_gradient(v_model))
    )


class Gradients(NamedTuple):
    """Gradients of the surrogate loss: ``dW`` (n_visible, n_hidden), ``db``, ``dc``."""

    dW: tf.Tensor
    db: tf.Tensor
    dc: tf.Tensor


def cd_gradients(rbm: BernoulliRBM, v_data, h_data, v_model, h_model) -> Gradients:
    """Analytic gradient of :func:`cd_loss` from the sufficient statistics.

    ``dL/dW = -(<v h^T>_data - <v h^T>_model)``, ``dL/db = -(<v>_data -
    <v>_model)``, ``dL/dc = -(<h>_data - <h>_model)``, where ``h`` are the
    hidden probabilities ``p(h|v)`` (Rao-Blackwellised statistics).

    Args:
        v_data: data batch (n, n_visible); h_data: ``p(h|v_data)`` (n, n_hidden).
        v_model: chain ends (m, n_visible); h_model: ``p(h|v_model)`` (m, n_hidden).

    Returns:
        :class:`Gradients` (descend along them to learn).
    """
    # Multiply by reciprocals: a graph would constant-fold "x / n" into
    # "x * (1/n)", and eager and compiled runs must round identically.
    inv_n = 1.0 / tf.cast(tf.shape(v_data)[0], rbm.dtype)
    inv_m = 1.0 / tf.cast(tf.shape(v_model)[0], rbm.dtype)
    dW = tf.matmul(v_model, h_model, transpose_a=True) * inv_m - tf.matmul(
        v_data, h_data, transpose_a=True
    ) * inv_n
    db = tf.reduce_mean(v_model, axis=0) - tf.reduce_mean(v_data, axis=0)
    dc = tf.reduce_mean(h_model, axis=0) - tf.reduce_mean(h_data, axis=0)
    return Gradients(dW, db, dc)


class RBMTrainer(tf.Module):
    """CD-k or PCD-k with SGD, momentum and L2 weight decay.

    All state — velocities, persistent chains, the random generator,
    learning rate and momentum — lives in variables, so one compiled step
    serves the whole run and a ``tf.train.Checkpoint`` of the trainer
    resumes it exactly.

    Args:
        rbm: the model to train (updated in place).
        method: ``"cd"`` (chains start at the data), ``"pcd"`` (persistent
            chains, Tieleman 2008) or ``"exact"`` (the true log-likelihood
            gradient by enumeration; tiny models only).
        k: Gibbs steps per update.
        learning_rate: step size.
        momentum: momentum coefficient in [0, 1).
        weight_decay: L2 coefficient applied to ``W`` only.
        n_chains: number of persistent chains for PCD (default: batch size,
            set on the first step if not given).
        seed: seed of the trainer's ``tf.random.Generator``.
        compile: run the step as a ``tf.function`` (same numbers, faster).
    """

    def __init__(
        self,
        rbm: BernoulliRBM,
        *,
        method: str = "cd",
        k: int = 1,
        learning_rate: float = 0.05,
        momentum: float = 0.5,
        weight_decay: float = 0.0,
        n_chains: int | None = None,
        seed: int = 0,
        compile: bool = True,
        name: str | None = None,
    ):
        super().__init__(name=name)
        if method not in ("cd", "pcd", "exact"):
            raise ValueError(f"method must be 'cd', 'pcd' or 'exact'; got {method!r}.")
        if method == "exact" and min(rbm.n_visible, rbm.n_hidden) > estimators.MAX_EXACT_UNITS:
            raise ValueError(
                "method='exact' enumerates a layer and needs one with at most "
                f"{estimators.MAX_EXACT_UNITS} units; use 'cd' or 'pcd'."
            )
        if not isinstance(k, int) or k < 1:
            raise ValueError(f"k must be an int >= 1; got {k!r}.")
        if not 0 <= momentum < 1:
            raise ValueError(f"momentum must be in [0, 1); got {momentum}.")
        if learning_rate <= 0 or weight_decay < 0:
            raise ValueError("learning_rate must be > 0 and weight_decay >= 0.")
        self.rbm, self.method, self.k = rbm, method, k
        dtype = rbm.dtype
        self.learning_rate = tf.Variable(learning_rate, dtype=dtype, trainable=False)
        self.momentum = tf.Variable(momentum, dtype=dtype, trainable=False)
        self.weight_decay = tf.Variable(weight_decay, dtype=dtype, trainable=False)
        self.velocities = [
            tf.Variable(tf.zeros_like(p), trainable=False, name=f"velocity_{p.name.split(':')[0]}")
            for p in rbm.parameters
        ]
        self.rng = tf.random.Generator.from_seed(seed)
        self.n_chains = n_chains
        self.chains: PersistentChains | None = None
        self._step = tf.function(self._update) if compile else self._update
        self._run_epoch = tf.function(self._epoch) if compile else self._epoch

    def _init_chains(self, batch_size: int) -> None:
        n = self.n_chains or batch_size
        # Start the fantasy particles from noise drawn by the trainer's rng.
        p = tf.fill([n, self.rbm.n_visible], tf.constant(0.5, self.rbm.dtype))
        self.chains = PersistentChains(sample_bernoulli(p, self.rng), name="chains")

    def _update(self, v_data):
        """One CD/PCD update on ``v_data`` (n, n_visible); returns the surrogate."""
        rbm = self.rbm
        a_data = rbm.hidden_logits(v_data)
        h_data = tf.sigmoid(a_data)
        if self.method == "exact":
            vh, v_mean, h_mean = estimators.exact_model_statistics(rbm)
            inv_n = 1.0 / tf.cast(tf.shape(v_data)[0], rbm.dtype)
            grads = Gradients(
                vh - tf.matmul(v_data, h_data, transpose_a=True) * inv_n,
                v_mean - tf.reduce_mean(v_data, axis=0),
                h_mean - tf.reduce_mean(h_data, axis=0),
            )
            self._apply(grads)
            return tf.constant(np.nan, rbm.dtype)
        if self.method == "cd":
            # The first hidden sample reuses the positive-phase probabilities.
            h0 = sample_bernoulli(h_data, self.rng)
            v1 = sample_bernoulli(rbm.visible_probs(h0), self.rng)
            v_model = v1 if self.k == 1 else gibbs_chain(rbm, v1, self.k - 1, self.rng).v
        else:
            v_model = self.chains.advance(rbm, self.k, self.rng).v
        a_model = rbm.hidden_logits(v_model)
        h_model = tf.sigmoid(a_model)
        # The surrogate's value, from the logits already computed (diagnostic only).
        surrogate = _mean_free_energy(rbm, v_data, a_data) - _mean_free_energy(
            rbm, v_model, a_model
        )
        self._apply(cd_gradients(rbm, v_data, h_data, v_model, h_model))
        return surrogate

    def _apply(self, grads: Gradients) -> None:
        """Momentum SGD step with L2 decay on ``W``."""
        rbm = self.rbm
        grads = Gradients(grads.dW + self.weight_decay * rbm.W, grads.db, grads.dc)
        for param, velocity, grad in zip(rbm.parameters, self.velocities, grads):
            velocity.assign(self.momentum * velocity - self.learning_rate * grad)
            param.assign_add(velocity)

    def _epoch(self, data, order):
        """Updates on ``data[order[i]]`` for every row ``i`` of ``order``; mean surrogate."""
        n_batches = tf.shape(order)[0]

        def body(i, total):
            return i + 1, total + self._update(tf.gather(data, order[i]))

        _, total = tf.while_loop(
            lambda i, _: i < n_batches, body, (tf.constant(0), tf.zeros([], self.rbm.dtype))
        )
        return total * (1.0 / tf.cast(n_batches, self.rbm.dtype))

    def _ensure_chains(self, batch_size: int) -> None:
        if self.method == "pcd" and self.chains is None:
            self._init_chains(batch_size)

    def step(self, v_data) -> tf.Tensor:
        """One parameter update on the batch ``v_data`` (n, n_visible).

        Returns:
            The surrogate loss before the update (a diagnostic, not a
            likelihood).
        """
        v_data = tf.convert_to_tensor(v_data, dtype=self.rbm.dtype)
        self._ensure_chains(int(v_data.shape[0]))
        return self._step(v_data)

    def epoch(self, data, order) -> tf.Tensor:
        """One pass of updates, the whole pass as a single compiled loop.

        Args:
            data: the training set (N, n_visible), ideally already a tensor.
            order: int indices (n_batches, batch_size); row ``i`` is batch ``i``.

        Returns:
            The mean surrogate loss over the pass.
        """
        data = tf.convert_to_tensor(data, dtype=self.rbm.dtype)
        order = tf.convert_to_tensor(order, dtype=tf.int32)
        self._ensure_chains(int(order.shape[1]))
        return self._run_epoch(data, order)


def _mean_free_energy(rbm, v, hidden_logits):
    """``mean F(v)`` given ``hidden_logits = v W + c`` (saves a matmul)."""
    return -tf.reduce_mean(
        tf.linalg.matvec(v, rbm.b) + tf.reduce_sum(tf.nn.softplus(hidden_logits), axis=-1)
    )


@dataclasses.dataclass
class History:
    """Per-epoch record of a training run.

    Attributes:
        epoch: epoch numbers (1-based).
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


def fit_rbm(
    rbm: BernoulliRBM,
    x,
    *,
    epochs: int = 10,
    batch_size: int = 100,
    method: str = "cd",
    k: int = 1,
    learning_rate: float | Callable[[int], float] = 0.05,
    momentum: float = 0.5,
    weight_decay: float = 0.0,
    n_chains: int | None = None,
    seed: int = 0,
    monitors: dict[str, Callable] | None = None,
    callback: Callable[[int, BernoulliRBM, dict], None] | None = None,
    progress: bool = True,
    compile: bool = True,
    trainer: RBMTrainer | None = None,
) -> History:
    """Train ``rbm`` on ``x`` with CD-k or PCD-k; return the per-epoch history.

    Each epoch visits every example once in a fresh seeded shuffle (the last
    partial batch is dropped, so every update averages ``batch_size`` rows).

    Args:
        rbm: the model, updated in place.
        x: training data (N, n_visible) in [0, 1] (binary for a likelihood).
        epochs: passes over the data.
        batch_size: examples per update.
        method: ``"cd"``, ``"pcd"`` or ``"exact"`` (see :class:`RBMTrainer`).
        k: Gibbs steps per update.
        learning_rate: a float, or a function ``epoch (0-based) -> float``
            (e.g. a linear decay to zero, which helps PCD).
        momentum, weight_decay, n_chains: see :class:`RBMTrainer`.
        seed: seeds the shuffles and the sampling noise.
        monitors: name -> ``f(rbm) -> scalar`` evaluated after each epoch;
            default: none (see :func:`default_monitors`).
        callback: ``f(epoch, rbm, values)`` after each epoch (1-based).
        progress: show a progress bar over the epochs.
        compile: compile the update step with ``tf.function``.
        trainer: continue with an existing :class:`RBMTrainer` (its chains,
            velocities and generator) instead of making a new one.

    Returns:
        A :class:`History`.
    """
    check_binary_input(x, rbm.n_visible, name="x")
    x = np.asarray(x, dtype=rbm.dtype.as_numpy_dtype)
    if not isinstance(epochs, int) or epochs < 0:
        raise ValueError(f"epochs must be a non-negative int; got {epochs!r}.")
    if not isinstance(batch_size, int) or not 0 < batch_size <= len(x):
        raise ValueError(f"batch_size must be an int in [1, {len(x)}]; got {batch_size!r}.")
    schedule = learning_rate if callable(learning_rate) else (lambda epoch: learning_rate)
    if trainer is None:
        trainer = RBMTrainer(
            rbm, method=method, k=k, learning_rate=schedule(0), momentum=momentum,
            weight_decay=weight_decay, n_chains=n_chains, seed=seed, compile=compile,
        )
    data = tf.constant(x)
    n_batches = len(x) // batch_size
    order_rng = np.random.default_rng(seed)
    history = History()
    bar = tqdm(range(1, epochs + 1), disable=not progress, unit="epoch")
    for epoch in bar:
        trainer.learning_rate.assign(schedule(epoch - 1))
        order = order_rng.permutation(len(x))[: n_batches * batch_size]
        start = time.perf_counter()
        surrogate = float(trainer.epoch(data, order.reshape(n_batches, batch_size)))
        seconds = time.perf_counter() - start
        values = {"surrogate": surrogate}
        for name, monitor in (monitors or {}).items():
            values[name] = float(monitor(rbm))
        history.record(epoch, seconds, values)
        bar.set_postfix({key: f"{val:.4g}" for key, val in values.items()})
        if callback is not None:
            callback(epoch, rbm, values)
    bar.close()
    return history
