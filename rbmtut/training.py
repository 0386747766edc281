"""Learning an RBM: the CD/PCD gradient, the surrogate loss and the trainer.

The log-likelihood gradient of an RBM is a difference of two expectations,

    d log p(v) / d theta = -<dF/dtheta>_data + <dF/dtheta>_model,

and for the weights ``-dF/dW = v p(h|v)^T``.  CD-k estimates the model term
with a k-step Gibbs chain started at the data; PCD-k continues persistent
chains instead (Tieleman 2008).  Both are the gradient of the *surrogate*

    L = mean F(v_data) - mean F(stop_gradient(v_model)),

which is not a log-likelihood: its value says little, and only its first
derivative is meaningful.  :class:`RBMTrainer` applies the estimate either
as the classic momentum-SGD rule on the analytic statistics (chapter 2,
``02_gibbs_cd_pcd``) or through ``cd_loss``, autodiff and a Keras optimizer
(chapter 3, ``03_tf2_surrogate_loss``).  The epoch loop is in
:mod:`rbmtut.fitting`; a trainer built inside a ``tf.distribute`` strategy's
scope splits each update across its replicas (:mod:`rbmtut.distribute`).
"""

from __future__ import annotations

import functools
from typing import Callable, NamedTuple

import keras
import numpy as np
import tensorflow as tf

from . import distribute, estimators
from .gibbs import PersistentChains, gibbs_chain
from .rbm import BernoulliRBM, check_binary_input, sample_bernoulli

__all__ = ["cd_loss", "Gradients", "cd_gradients", "RBMTrainer", "mean_over_batches", "compile_step"]


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
    """Learns an RBM by CD-k, PCD-k or the exact gradient, one mini-batch at a time.

    Two ways to apply the gradient estimate:

    - built in (the default): momentum SGD on the analytic statistics of
      :func:`cd_gradients`, ``u <- momentum * u - lr * (g + weight_decay * W)``,
      ``theta <- theta + u`` — the classic rule of chapter 2;
    - ``optimizer``: autodiff of ``cd_loss + weight_decay / 2 * |W|^2`` and a
      Keras optimizer on the raw variables (chapter 3), optionally with a
      second optimizer, e.g. with a smaller learning rate, for the biases.

    All state — the model, velocities or optimizer slots, persistent chains,
    the random generator and the epoch counter — is tracked, so
    ``tf.train.Checkpoint(trainer=trainer)`` saves the whole run, and a fresh
    trainer built with the same arguments resumes it exactly.

    Built inside ``with strategy.scope():`` (a ``tf.distribute.Strategy``,
    e.g. ``MirroredStrategy``), together with the RBM and any optimizer, the
    trainer is data parallel: each replica takes its rows of the global batch
    (and of the persistent chains) with the noise one device would give them,
    and the summed statistics update the mirrored variables once, so the
    result equals one device's up to rounding (:mod:`rbmtut.distribute`).
    The global batch and ``n_chains`` must divide by the number of replicas;
    ``trainer.strategy`` is the strategy (None on one device).  Its
    checkpoints restore into a trainer on one device, and back.

    Args:
        rbm: the model to train (updated in place).
        method: ``"cd"`` (chains start at the data), ``"pcd"`` (persistent
            chains, Tieleman 2008) or ``"exact"`` (the true log-likelihood
            gradient by enumeration; tiny models only).
        k: Gibbs steps per update.
        learning_rate: built-in rule only: a float, or a function
            ``epoch (0-based) -> float`` applied at the start of each epoch
            (default 0.05).  With an ``optimizer``, use its own learning rate
            or a ``keras.optimizers.schedules`` schedule.
        momentum: built-in rule only: coefficient in [0, 1) (default 0.5).
        weight_decay: L2 coefficient on ``W`` only, in both modes.
        optimizer: a fresh (unbuilt) ``keras.optimizers.Optimizer``; it is
            built here on ``(W, b, c)``, or on ``W`` alone if
            ``bias_optimizer`` is given.
        bias_optimizer: a fresh Keras optimizer for ``(b, c)``.
        n_chains: number of persistent chains; required for ``"pcd"``
            (usually the batch size) and meaningless otherwise.
        seed: seeds the trainer's ``tf.random.Generator`` and the shuffles of
            :func:`rbmtut.fitting.train_epochs`.
        compile: run updates as ``tf.function`` s (same numbers, faster).
        jit_compile: also compile them with XLA (needs ``compile``; often
            slower on CPU, and rounding may differ from the other modes).
    """

    def __init__(
        self,
        rbm: BernoulliRBM,
        *,
        method: str = "cd",
        k: int = 1,
        learning_rate: float | Callable[[int], float] | None = None,
        momentum: float | None = None,
        weight_decay: float = 0.0,
        optimizer: keras.optimizers.Optimizer | None = None,
        bias_optimizer: keras.optimizers.Optimizer | None = None,
        n_chains: int | None = None,
        seed: int = 0,
        compile: bool = True,
        jit_compile: bool = False,
        name: str | None = None,
    ):
        super().__init__(name=name)
        if jit_compile and not compile:
            raise ValueError("jit_compile=True needs compile=True.")
        _check_settings(rbm, method, k, weight_decay, n_chains, seed)
        self.strategy = distribute.active_strategy()
        if self.strategy is not None:
            if jit_compile:
                raise ValueError("jit_compile=True is not supported with a tf.distribute strategy.")
            distribute.check_strategy(self.strategy, rbm, method, n_chains, (optimizer, bias_optimizer))
        elif isinstance(rbm.W, tf.distribute.DistributedValues):
            raise ValueError(
                "the RBM's variables belong to a tf.distribute strategy; build the trainer "
                "inside the same `with strategy.scope():`."
            )
        if optimizer is None:
            if bias_optimizer is not None:
                raise ValueError("bias_optimizer needs an optimizer for the weights as well.")
            learning_rate = 0.05 if learning_rate is None else learning_rate
            momentum = 0.5 if momentum is None else momentum
            if not 0 <= momentum < 1:
                raise ValueError(f"momentum must be in [0, 1); got {momentum}.")
        elif learning_rate is not None or momentum is not None:
            raise ValueError(
                "learning_rate and momentum belong to the built-in rule; with an optimizer, "
                "set them on the optimizer (e.g. keras.optimizers.SGD(0.05, momentum=0.5))."
            )
        self.rbm, self.method, self.k, self.seed = rbm, method, k, seed
        dtype = rbm.dtype
        self.weight_decay = tf.Variable(weight_decay, dtype=dtype, trainable=False)
        self.optimizer, self.bias_optimizer = optimizer, bias_optimizer
        # The built-in rule's state; a Keras optimizer keeps its own instead.
        self.learning_rate_schedule = self.learning_rate = self.momentum = None
        self.velocities = []
        if optimizer is None:
            self.learning_rate_schedule = learning_rate if callable(learning_rate) else None
            first_rate = learning_rate(0) if callable(learning_rate) else learning_rate
            if not first_rate > 0:
                raise ValueError(f"learning_rate must be > 0; got {first_rate}.")
            self.learning_rate = tf.Variable(first_rate, dtype=dtype, trainable=False)
            self.momentum = tf.Variable(momentum, dtype=dtype, trainable=False)
            self.velocities = [
                tf.Variable(tf.zeros_like(p), trainable=False, name=f"velocity_{p.name.split(':')[0]}")
                for p in rbm.parameters
            ]
        elif bias_optimizer is None:
            _build(optimizer, list(rbm.parameters), "optimizer")
        else:
            _build(optimizer, [rbm.W], "optimizer")
            _build(bias_optimizer, [rbm.b, rbm.c], "bias_optimizer")
        self.completed_epochs = tf.Variable(0, dtype=tf.int64, trainable=False)
        self.rng = tf.random.Generator.from_seed(seed)
        self.chains: PersistentChains | None = None
        if method == "pcd":
            # The fantasy particles start from noise drawn by the trainer's rng.
            p = tf.fill([n_chains, rbm.n_visible], tf.constant(0.5, dtype))
            self.chains = PersistentChains(sample_bernoulli(p, self.rng), name="chains")
        wrap = (lambda f: compile_step(f, jit_compile=jit_compile)) if compile else (lambda f: f)
        self._step, self._run_epoch = wrap(self._update), wrap(self._epoch)

    # --- one update -----------------------------------------------------------------

    def _update(self, v_data):
        """One update on ``v_data`` (n, n_visible); returns the surrogate before it."""
        if self.strategy is not None:
            return distribute.run_on_replicas(self.strategy, self._replica_update, v_data)
        return self._update_and_hidden(v_data)[0]

    def _update_and_hidden(self, v_data):
        """One update; returns ``(surrogate, p(h | v_data))``, both from before it.

        The hidden probabilities are the positive phase's, handed out so that
        a stack trained all at once can pass them to the next layer without
        computing them again.
        """
        if self.strategy is not None:
            raise ValueError("stacks train on one device: build their trainers without a strategy.")
        rbm = self.rbm
        a_data = rbm.hidden_logits(v_data)
        h_data = tf.sigmoid(a_data)
        if self.method == "exact":
            vh, v_mean, h_mean = estimators.exact_model_statistics(rbm)
            inv_n = 1.0 / tf.cast(tf.shape(v_data)[0], rbm.dtype)
            self._apply(Gradients(
                vh - tf.matmul(v_data, h_data, transpose_a=True) * inv_n,
                v_mean - tf.reduce_mean(v_data, axis=0),
                h_mean - tf.reduce_mean(h_data, axis=0),
            ))
            return tf.constant(np.nan, rbm.dtype), h_data
        v_model = self._negative_phase(h_data)
        if self.optimizer is not None:
            with tf.GradientTape() as tape:
                surrogate = cd_loss(rbm, v_data, v_model)
                penalty = 0.5 * self.weight_decay * tf.reduce_sum(tf.square(rbm.W))
                loss = surrogate + penalty
            self._optimize(tape.gradient(loss, rbm.parameters))
            return surrogate, h_data
        a_model = rbm.hidden_logits(v_model)
        h_model = tf.sigmoid(a_model)
        # The surrogate's value, from the logits already computed (diagnostic only).
        surrogate = _mean_free_energy(rbm, v_data, a_data) - _mean_free_energy(
            rbm, v_model, a_model
        )
        self._apply(cd_gradients(rbm, v_data, h_data, v_model, h_model))
        return surrogate, h_data

    def _replica_update(self, v_data):
        """One update from inside a replica, on its rows ``v_data`` (n / R, n_visible).

        Both phases and their statistics run here, on the noise one device
        would give these rows; the R replicas' shares are summed and the
        update is applied once.  Returns the surrogate (summed over replicas).
        """
        rbm, ctx = self.rbm, tf.distribute.get_replica_context()
        replicas, rows = ctx.num_replicas_in_sync, tf.shape(v_data)[0]
        tf.debugging.assert_equal(  # a dataset's batches may split unevenly
            ctx.all_reduce(tf.distribute.ReduceOp.SUM, rows), rows * replicas,
            message="the global batch must split evenly over the replicas; batch the dataset "
                    "with drop_remainder=True and a multiple of the number of replicas")
        chains = rows if self.method == "cd" else self.chains.n_chains // replicas
        noise = ctx.merge_call(lambda _: distribute.draw_noise(  # once, for all replicas
            self.rng, self.k, chains * replicas, rbm.n_visible, rbm.n_hidden, rbm.dtype))
        a_data = rbm.hidden_logits(v_data)
        v0, a0 = v_data, a_data
        if self.method == "pcd":
            v0 = distribute.own_rows(tf.cast(self.chains.v, rbm.dtype), chains)
            a0 = rbm.hidden_logits(v0)
        v_model, a_model = distribute.gibbs_chain_from_noise(
            rbm, v0, a0, distribute.own_rows(noise, chains))
        share, grads = 1.0 / replicas, None  # shares of the batch means sum to the means
        if self.optimizer is not None:
            with tf.GradientTape() as tape:
                surrogate = cd_loss(rbm, v_data, v_model) * share
                penalty = 0.5 * self.weight_decay * tf.reduce_sum(tf.square(rbm.W)) * share
                loss = surrogate + penalty
            self._optimize(tape.gradient(loss, rbm.parameters))  # Keras sums across replicas
        else:
            surrogate = share * (_mean_free_energy(rbm, v_data, a_data)
                                 - _mean_free_energy(rbm, v_model, a_model))
            statistics = cd_gradients(rbm, v_data, tf.sigmoid(a_data), v_model, tf.sigmoid(a_model))
            grads = [g * share for g in statistics]
        ctx.merge_call(self._merge_update, args=(grads, v_model))
        return ctx.all_reduce(tf.distribute.ReduceOp.SUM, surrogate)

    def _merge_update(self, strategy, grads, v_model):
        """Cross-replica, once per update: sum and apply ``grads``; store the chains' ends."""
        if grads is not None:  # the built-in rule (an optimizer sums its own gradients)
            self._apply(Gradients(*(strategy.reduce("SUM", g, axis=None) for g in grads)))
        if self.method == "pcd":
            self.chains.v.assign(tf.cast(strategy.gather(v_model, axis=0), self.chains.v.dtype))

    def _negative_phase(self, h_data):
        """The chain ends ``v_model``: k steps from the data (CD) or from the chains (PCD)."""
        rbm = self.rbm
        if self.method == "pcd":
            return self.chains.advance(rbm, self.k, self.rng).v
        # The first hidden sample reuses the positive-phase probabilities.
        h0 = sample_bernoulli(h_data, self.rng)
        v1 = sample_bernoulli(rbm.visible_probs(h0), self.rng)
        return v1 if self.k == 1 else gibbs_chain(rbm, v1, self.k - 1, self.rng).v

    def _apply(self, grads: Gradients) -> None:
        """Descend along ``grads`` plus the L2 term on ``W``."""
        rbm = self.rbm
        grads = Gradients(grads.dW + self.weight_decay * rbm.W, grads.db, grads.dc)
        if self.optimizer is not None:
            self._optimize(grads)
            return
        for param, velocity, grad in zip(rbm.parameters, self.velocities, grads):
            velocity.assign(self.momentum * velocity - self.learning_rate * grad)
            param.assign_add(velocity)

    def _optimize(self, grads) -> None:
        """Hand ``(dW, db, dc)`` to the Keras optimizer(s)."""
        W, b, c = self.rbm.parameters
        if self.bias_optimizer is None:
            self.optimizer.apply_gradients(zip(grads, (W, b, c)))
        else:
            self.optimizer.apply_gradients([(grads[0], W)])
            self.bias_optimizer.apply_gradients(zip(grads[1:], (b, c)))

    # --- public API --------------------------------------------------------------------

    def step(self, v_data) -> tf.Tensor:
        """One parameter update on the batch ``v_data`` (n, n_visible).

        Returns:
            The surrogate loss before the update (a diagnostic, not a
            likelihood).
        """
        check_binary_input(v_data, self.rbm.n_visible, name="v_data")
        return self._step(tf.convert_to_tensor(v_data, dtype=self.rbm.dtype))

    def begin_epoch(self) -> None:
        """Set the learning rate of the coming epoch from the schedule, if any."""
        if self.learning_rate_schedule is not None:
            rate = self.learning_rate_schedule(int(self.completed_epochs.numpy()))
            if not rate >= 0:
                raise ValueError(f"the learning-rate schedule returned {rate}; need >= 0.")
            self.learning_rate.assign(rate)

    def end_epoch(self) -> None:
        """Count a finished epoch (the counter is checkpointed)."""
        self.completed_epochs.assign_add(1)

    def _epoch(self, data, order):
        """Updates on ``data[order[i]]`` for every row ``i`` of ``order``; mean surrogate."""
        return mean_over_batches(self._update, data, order)

    def epoch(self, data, order) -> tf.Tensor:
        """One pass of updates, the whole pass as a single compiled loop.

        Calls :meth:`begin_epoch` before and :meth:`end_epoch` after the pass.

        Args:
            data: the training set (N, n_visible), ideally already a tensor.
            order: int indices (n_batches, batch_size); row ``i`` is batch ``i``.

        Returns:
            The mean surrogate loss over the pass.
        """
        data = tf.convert_to_tensor(data, dtype=self.rbm.dtype)
        order = tf.convert_to_tensor(order, dtype=tf.int32)
        if order.shape.rank != 2:
            raise ValueError(f"order must be (n_batches, batch_size); got shape {order.shape}.")
        self.begin_epoch()
        loss = self._run_epoch(data, order)
        self.end_epoch()
        return loss


def compile_step(fn: Callable, *, jit_compile: bool = False):
    """``tf.function(fn)``, with call statistics of its own.

    Every trainer, epoch loop or sampler compiles its own step once.
    TensorFlow counts traces per code object, so a chapter that builds many
    trainers would be warned of "excessive retracing" although each one traced
    once; a ``functools.partial`` around ``fn`` gives each compiled function
    its own count, and the warning keeps its meaning.
    """
    return tf.function(functools.partial(fn), jit_compile=jit_compile)


def mean_over_batches(update: Callable, data, order, *, shape=()) -> tf.Tensor:
    """Run ``update(data[order[i]])`` for every row ``i`` of ``order`` in one ``tf.while_loop``.

    The loop over batches stays inside the graph, so a compiled epoch never
    returns to Python between updates.

    Args:
        update: ``batch (batch_size, d) -> tensor of shape`` ``shape``; it
            updates some state.
        data: the training set (N, d), or a tuple of tensors with N rows
            each (e.g. inputs and per-example noise), whose rows are
            gathered together and passed to ``update`` as a tuple.
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
        lambda i, _: i < n_batches, body, (tf.constant(0), tf.zeros(shape, dtype))
    )
    return total * (1.0 / tf.cast(n_batches, dtype))


def _check_settings(rbm, method, k, weight_decay, n_chains, seed) -> None:
    """Raise a clear error for settings the trainer cannot use."""
    if not isinstance(rbm, BernoulliRBM):
        raise TypeError(f"rbm must be a BernoulliRBM; got {type(rbm).__name__}.")
    if method not in ("cd", "pcd", "exact"):
        raise ValueError(f"method must be 'cd', 'pcd' or 'exact'; got {method!r}.")
    if method == "exact" and min(rbm.n_visible, rbm.n_hidden) > estimators.MAX_EXACT_UNITS:
        raise ValueError(
            "method='exact' enumerates a layer and needs one with at most "
            f"{estimators.MAX_EXACT_UNITS} units; use 'cd' or 'pcd'."
        )
    if not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be an int >= 1; got {k!r}.")
    if not weight_decay >= 0:
        raise ValueError(f"weight_decay must be >= 0; got {weight_decay}.")
    if method == "pcd" and (not isinstance(n_chains, int) or n_chains < 1):
        raise ValueError(
            f"method='pcd' needs n_chains, an int >= 1 (usually the batch size); got {n_chains!r}."
        )
    if method != "pcd" and n_chains is not None:
        raise ValueError(f"n_chains is only used by method='pcd', not {method!r}.")
    if not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int; got {type(seed).__name__}.")


def _build(optimizer, variables, name) -> None:
    """Build a fresh Keras optimizer on ``variables`` (so checkpoints restore eagerly)."""
    if not isinstance(optimizer, keras.optimizers.Optimizer):
        raise TypeError(f"{name} must be a keras.optimizers.Optimizer; got {type(optimizer).__name__}.")
    if optimizer.built:
        raise ValueError(f"{name} is already built on other variables; pass a fresh optimizer.")
    optimizer.build(variables)


def _mean_free_energy(rbm, v, hidden_logits):
    """``mean F(v)`` given ``hidden_logits = v W + c`` (saves a matmul)."""
    return -tf.reduce_mean(
        tf.linalg.matvec(v, rbm.b) + tf.reduce_sum(tf.nn.softplus(hidden_logits), axis=-1)
    )
