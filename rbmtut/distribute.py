"""Data parallelism with ``tf.distribute``:
one update split across replicas, same noise.

A distributed update does on R replicas what one device does on the whole
global batch of n rows: replica ``r`` takes rows ``r n/R .. (r+1) n/R - 1``,
runs its positive and negative phases, the replicas' statistics are summed,
and the parameter update is applied once, to every copy of the variables.

The hard part is randomness.  For the result to equal one device's, every
example must see the noise it would see on one device.  So the uniform
numbers of a whole update are drawn *once*, in cross-replica context, by the
trainer's generator, in exactly the shapes and order the single-device chain
draws them (:func:`draw_noise`), and each replica keeps its rows
(:func:`own_rows`) and runs its chains on them (:func:`gibbs_chain_from_noise`).
Persistent chains are split the same way.  The single-device path is left
alone, so its numbers do not change; distributed and single-device runs
agree up to the order in which floating-point sums are added.

What the user writes: build everything that holds variables — the RBM, the
trainer, any Keras optimizer, an :class:`~rbmtut.keras_rbm.RBMModel` — inside
the strategy's scope (Keras's rule too), then train as usual::

    strategy = tf.distribute.MirroredStrategy()      # e.g. all local GPUs
    with strategy.scope():
        rbm = BernoulliRBM(784, 500)
        trainer = DistributedRBMTrainer(rbm, method="pcd", k=5, n_chains=100,
                                        optimizer=keras.optimizers.Adam(1e-3))
    train_epochs(trainer, x, epochs=10, batch_size=100)

or ``fit_rbm(rbm, x, ..., strategy=strategy)``, or ``model.fit`` of an
``RBMModel(trainer)`` built in the scope.  The global batch and ``n_chains``
must divide by the number of replicas.  :class:`DistributedRBMTrainer`
extends the single-device :class:`~rbmtut.learning.RBMTrainer` of chapters 2
and 3 (``03_tf2_surrogate_loss``) by its update alone; the tests run it on two
logical CPUs.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import tensorflow as tf

from .learning import (Gradients, RBMTrainer, Update, cd_gradients, cd_loss,
                       mean_free_energy)
from .rbm import BernoulliRBM

__all__ = [
    "GibbsNoise", "active_strategy", "check_strategy", "check_batch_size", "draw_noise",
    "own_rows", "gibbs_chain_from_noise", "run_on_replicas", "DistributedRBMTrainer",
]


class GibbsNoise(NamedTuple):
    """The uniform numbers of ``k`` Gibbs steps on ``rows`` chains.

    Attributes:
        hidden: (k, rows, n_hidden), compared with p(h|v) at each step.
        visible: (k, rows, n_visible), compared with p(v|h) at each step.
    """

    hidden: tf.Tensor
    visible: tf.Tensor


def active_strategy() -> tf.distribute.Strategy | None:
    """The strategy whose ``scope()`` is active, or None outside any scope."""
    return tf.distribute.get_strategy() if tf.distribute.has_strategy() else None


def check_strategy(strategy, rbm: BernoulliRBM, method: str, n_chains,
                   optimizers) -> None:
    """Raise a clear error unless a trainer with these settings can run on ``strategy``.

    Args:
        strategy: the ``tf.distribute.Strategy`` the trainer is built under.
        rbm: the model; its variables must come from ``strategy.scope()``.
        method: ``"cd"`` or ``"pcd"`` (``"exact"`` is for tiny models only).
        n_chains: persistent chains (PCD); must split evenly over the replicas.
        optimizers: the Keras optimizers given (None entries are skipped).
    """
    replicas = strategy.num_replicas_in_sync
    if not all(strategy.extended.variable_created_in_scope(p) for p in rbm.parameters):
        raise ValueError(
            "the RBM's variables were not created under this strategy; build the RBM "
            "inside `with strategy.scope():` as well as the trainer."
        )
    if method == "exact":
        raise ValueError(
            "method='exact' enumerates a tiny model; train it without a strategy."
        )
    if method in ("pt", "fpcd"):
        raise ValueError(
            f"method={method!r} (parallel tempering, fast weights) runs on one "
            "device; train it without a strategy, or use 'cd' or 'pcd'."
        )
    if method == "pcd" and n_chains % replicas:
        raise ValueError(
            f"n_chains={n_chains} does not split evenly over {replicas} replicas; "
            f"use a multiple of {replicas}."
        )
    for optimizer in optimizers:
        if optimizer is not None and not strategy.extended.variable_created_in_scope(
            optimizer.iterations.value
        ):
            raise ValueError(
                "the Keras optimizer was created outside the strategy's scope "
                "(its step counter would count every replica); create it inside "
                "`with strategy.scope():`."
            )


def check_batch_size(strategy: tf.distribute.Strategy, batch_size: int) -> None:
    """Raise a ValueError unless ``batch_size`` rows split evenly over the replicas."""
    replicas = strategy.num_replicas_in_sync
    if batch_size % replicas:
        raise ValueError(
            f"a global batch of {batch_size} rows does not split evenly over "
            f"{replicas} replicas; use a batch size that is a multiple of {replicas}."
        )


def draw_noise(rng: tf.random.Generator, k: int, rows, n_visible: int, n_hidden: int,
               dtype, *, visible_first: bool = False) -> GibbsNoise:
    """Draw the noise of ``k`` Gibbs steps exactly as a single-device chain would.

    A chain of ``k`` steps on ``rows`` chains draws, per step, a (rows,
    n_hidden) and then a (rows, n_visible) uniform tensor (the other way round,
    ``visible_first``, for chains that keep hidden states, which step
    ``h -> v -> h``); drawing the same shapes in the same order yields the
    same numbers (a generator's stream depends on the shapes drawn, not just
    their total size).

    Args:
        rng: the trainer's generator; call in cross-replica context.
        k: Gibbs steps.
        rows: chains in the whole global batch (all replicas together).
        n_visible, n_hidden: layer sizes.
        dtype: the model's float dtype.

    Returns:
        :class:`GibbsNoise` with tensors (k, rows, n_hidden) and (k, rows, n_visible).
    """
    hidden, visible = [], []
    for _ in range(k):
        if visible_first:
            visible.append(rng.uniform([rows, n_visible], dtype=dtype))
        hidden.append(rng.uniform([rows, n_hidden], dtype=dtype))
        if not visible_first:
            visible.append(rng.uniform([rows, n_visible], dtype=dtype))
    return GibbsNoise(tf.stack(hidden), tf.stack(visible))


def own_rows(x, rows_per_replica):
    """This replica's block of ``x``: rows ``r m .. (r+1) m - 1`` on replica ``r``.

    Args:
        x: a tensor whose first axis runs over the global batch (or all
            chains), or a :class:`GibbsNoise` (its second axis does).
        rows_per_replica: m, the block size.

    Returns:
        Like ``x``, with m rows.  Call in replica context.
    """
    replica = tf.distribute.get_replica_context().replica_id_in_sync_group
    start = replica * rows_per_replica
    if isinstance(x, GibbsNoise):
        return GibbsNoise(*(t[:, start:start + rows_per_replica] for t in x))
    return x[start:start + rows_per_replica]


def gibbs_chain_from_noise(rbm: BernoulliRBM, v0, hidden_logits, noise: GibbsNoise):
    """Run ``k`` block Gibbs steps from ``v0`` using the given uniform numbers.

    Step ``i`` sets ``h = [noise.hidden[i] < p(h|v)]`` then ``v = [noise.visible[i]
    < p(v|h)]``, the comparisons :func:`rbmtut.rbm.sample_bernoulli` makes.

    Args:
        rbm: the model.
        v0: the starting visible states (m, n_visible).
        hidden_logits: ``c + v0 W`` (m, n_hidden), e.g. the positive phase's.
        noise: :class:`GibbsNoise` for these m chains.

    Returns:
        ``(v_k, c + v_k W)``: the chain ends (m, n_visible) and their hidden logits.
    """
    k = tf.shape(noise.hidden)[0]

    def body(i, v, a):
        h = tf.cast(noise.hidden[i] < tf.sigmoid(a), rbm.dtype)
        v = tf.cast(noise.visible[i] < rbm.visible_probs(h), rbm.dtype)
        return i + 1, v, rbm.hidden_logits(v)

    _, v, a = tf.while_loop(lambda i, *_: i < k, body,
                            (tf.constant(0), v0, hidden_logits))
    return v, a


def hidden_chain_from_noise(rbm: BernoulliRBM, h0, noise: GibbsNoise):
    """``k`` steps ``h -> v -> h`` from the hidden states ``h0`` (m, n_hidden)
    with the given uniform numbers, as :func:`rbmtut.gibbs.hidden_chain` and
    the stored hidden sample of :class:`rbmtut.gibbs.PersistentChains` draw them.

    Returns:
        ``(v_k, c + v_k W, h_k)``: the chain ends, their hidden logits and the
        hidden sample drawn from them.
    """
    k = tf.shape(noise.hidden)[0]

    def body(i, v, a, h):
        v = tf.cast(noise.visible[i] < rbm.visible_probs(h), rbm.dtype)
        a = rbm.hidden_logits(v)
        return i + 1, v, a, tf.cast(noise.hidden[i] < tf.sigmoid(a), rbm.dtype)

    m = tf.shape(h0)[0]
    start = (tf.constant(0), tf.zeros([m, rbm.n_visible], rbm.dtype),
             tf.zeros([m, rbm.n_hidden], rbm.dtype), h0)
    _, v, a, h = tf.while_loop(lambda i, *_: i < k, body, start)
    return v, a, h


def run_on_replicas(strategy: tf.distribute.Strategy, replica_fn: Callable,
                    batch) -> tf.Tensor:
    """Run ``replica_fn(rows)`` on every replica, each on its rows of ``batch``.

    Called inside a replica already (Keras ``model.fit`` of a model built in
    the scope has split the batch), it just calls ``replica_fn(batch)``.

    Args:
        strategy: the trainer's strategy.
        replica_fn: ``rows -> scalar`` that is the same on every replica
            (an all-reduced value).
        batch: the global batch (n, d), or this replica's rows inside a replica.

    Returns:
        ``replica_fn``'s value (the first replica's).
    """
    if tf.distribute.has_strategy() and not tf.distribute.in_cross_replica_context():
        if tf.distribute.get_strategy() is not strategy:
            raise ValueError(
                "the trainer runs in the replica of another strategy than its own."
            )
        return replica_fn(batch)
    if batch.shape[0] is not None:
        check_batch_size(strategy, batch.shape[0])
    per_replica = tf.shape(batch)[0] // strategy.num_replicas_in_sync
    rows = strategy.experimental_distribute_values_from_function(
        lambda ctx: batch[ctx.replica_id_in_sync_group * per_replica:][:per_replica]
    )
    values = strategy.run(replica_fn, args=(rows,))
    return strategy.experimental_local_results(values)[0]


class DistributedRBMTrainer(RBMTrainer):
    """An :class:`~rbmtut.learning.RBMTrainer` whose every update
    is split across replicas.

    Build it, its RBM and any Keras optimizer inside ``with strategy.scope():``
    of a ``tf.distribute.Strategy`` (e.g. ``MirroredStrategy``).  Each replica
    takes its rows of the global batch (and of the persistent chains) with the
    noise one device would give them, and the summed statistics update the
    mirrored variables once, so the result equals one device's up to rounding.
    The global batch and ``n_chains`` must divide by the number of replicas;
    ``method="exact"`` and XLA are not supported.  Its checkpoints restore
    into a trainer on one device, and back.  The arguments are RBMTrainer's.
    """

    def __init__(self, rbm: BernoulliRBM, rule=None, *, seed: int = 0,
                 compile: bool = True, jit_compile: bool = False,
                 name: str | None = None, **rule_fields):
        if jit_compile:
            raise ValueError(
                "jit_compile=True is not supported with a tf.distribute strategy."
            )
        super().__init__(rbm, rule, seed=seed, compile=compile, name=name,
                         **rule_fields)

    def _check_devices(self, rbm, rule):
        strategy = active_strategy()
        if strategy is None:
            raise ValueError(
                "DistributedRBMTrainer must be built inside `with strategy.scope():` "
                "of a tf.distribute strategy, together with its RBM.")
        if rule.centering or not isinstance(rbm, BernoulliRBM) or rbm.n_labels:
            what = ("centering" if rule.centering else "a model with label units"
                    if isinstance(rbm, BernoulliRBM) else "a model with Gaussian units")
            raise ValueError(f"{what} runs on one device; train it without a strategy.")
        check_strategy(strategy, rbm, rule.method, rule.n_chains,
                       (rule.optimizer, rule.bias_optimizer))
        return strategy

    def update(self, v_data) -> Update:
        """One update on the global batch ``v_data``: every replica takes its rows."""
        surrogate = run_on_replicas(self.strategy, self.replica_update, v_data)
        return Update(surrogate, None)

    def replica_update(self, v_data):
        """One update from inside a replica, on its rows ``v_data`` (n / R, n_visible).

        Both phases and their statistics run here, on the noise one device
        would give these rows; the R replicas' shares are summed and the
        update is applied once.  Returns the surrogate (summed over replicas).
        """
        rbm, ctx = self.rbm, tf.distribute.get_replica_context()
        replicas, rows = ctx.num_replicas_in_sync, tf.shape(v_data)[0]
        tf.debugging.assert_equal(  # a dataset's batches may split unevenly
            ctx.all_reduce(tf.distribute.ReduceOp.SUM, rows), rows * replicas,
            message="the global batch must split evenly over the replicas; "
                    "batch the dataset with drop_remainder=True and a multiple of "
                    "the number of replicas")
        chains = rows if self.method == "cd" else self.chains.n_chains // replicas
        pcd = self.method == "pcd"
        noise = ctx.merge_call(lambda _: draw_noise(  # once, for all replicas
            self.rng, self.k, chains * replicas, rbm.n_visible, rbm.n_hidden,
            rbm.dtype, visible_first=pcd))
        a_data = rbm.hidden_logits(v_data)
        noise, h_model = own_rows(noise, chains), None
        if pcd:  # the chains' hidden states, as on one device
            h0 = own_rows(tf.cast(self.chains.h, rbm.dtype), chains)
            v_model, a_model, h_model = hidden_chain_from_noise(rbm, h0, noise)
        else:
            v_model, a_model = gibbs_chain_from_noise(rbm, v_data, a_data, noise)
        share = 1.0 / replicas  # shares of the batch means sum to the means
        grads = None
        if self.optimizer is not None:
            with tf.GradientTape() as tape:
                surrogate = cd_loss(rbm, v_data, v_model) * share
                squared_norm = tf.reduce_sum(tf.square(rbm.W))
                penalty = 0.5 * self.weight_decay * squared_norm * share
                loss = surrogate + penalty
            # Keras sums replicas.
            self.apply_gradients(tape.gradient(loss, rbm.parameters))
        else:
            surrogate = share * (mean_free_energy(rbm, v_data, a_data)
                                 - mean_free_energy(rbm, v_model, a_model))
            statistics = cd_gradients(rbm, v_data, tf.sigmoid(a_data), v_model,
                                      tf.sigmoid(a_model))
            grads = [g * share for g in statistics]
        ctx.merge_call(self._merge_update, args=(grads, v_model, h_model))
        return ctx.all_reduce(tf.distribute.ReduceOp.SUM, surrogate)

    def _merge_update(self, strategy, grads, v_model, h_model):
        """Cross-replica, once per update: sum and apply ``grads``; store
        the chains' ends."""
        if grads is not None:  # the built-in rule (an optimizer sums its own gradients)
            summed = Gradients(*(strategy.reduce("SUM", g, axis=None) for g in grads))
            self.apply_gradients(self.with_weight_decay(summed))
        if self.method == "pcd":
            for stored, ends in ((self.chains.v, v_model), (self.chains.h, h_model)):
                stored.assign(tf.cast(strategy.gather(ends, axis=0), stored.dtype))
