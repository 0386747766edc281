"""Block Gibbs sampling in an RBM: single steps, k-step chains, persistent chains.

Because the conditionals factorise, a whole layer is sampled at once:
``h ~ p(h | v)`` then ``v ~ p(v | h)`` is one Gibbs step.  Chains of ``k``
steps are a ``tf.while_loop``, so they compile into one graph and run many
chains (one per row) in parallel.  Chapter 2 (``02_gibbs_cd_pcd``) uses them
for CD-k, PCD-k, fantasy particles and "dreaming".

The functions work for any model with ``sample_hidden``, ``visible_probs``,
``visible_input`` and a ``dtype`` (:class:`rbmtut.rbm.BernoulliRBM`), and take
their noise from a ``tf.random.Generator``: they are the tensor-level
primitives that run inside compiled loops.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import tensorflow as tf

from ._validation import as_model_input, check_int, check_matrix
from .nn import sample_bernoulli

if TYPE_CHECKING:
    from .rbm import BernoulliRBM

__all__ = ["ChainState", "gibbs_step", "gibbs_chain", "PersistentChains"]


class ChainState(NamedTuple):
    """The end of a Gibbs chain.

    Attributes:
        v: visible sample after the last step, (n, n_visible).
        v_probs: ``p(v | h)`` that ``v`` was drawn from, (n, n_visible).
        h: the hidden sample that produced ``v``, (n, n_hidden).
    """

    v: tf.Tensor
    v_probs: tf.Tensor
    h: tf.Tensor


def gibbs_step(rbm: BernoulliRBM, v, rng: tf.random.Generator, *, h=None) -> ChainState:
    """One block Gibbs step ``v -> h ~ p(h|v) -> v' ~ p(v|h)``.

    Args:
        rbm: the model.
        v: current visible states (n, n_visible).
        rng: source of randomness.
        h: a hidden sample already drawn from ``p(h | v)`` (n, n_hidden), if
            the caller has one (CD reuses the positive phase's); then only
            ``v'`` is drawn.

    Returns:
        A :class:`ChainState` with the new visible sample.
    """
    if h is None:
        h = rbm.sample_hidden(rbm.visible_input(v), rng)
    v_probs = rbm.visible_probs(h)
    return ChainState(sample_bernoulli(v_probs, rng), v_probs, h)


def gibbs_chain(rbm: BernoulliRBM, v0, k, rng: tf.random.Generator, *,
                h0=None) -> ChainState:
    """Run ``k >= 1`` Gibbs steps from ``v0``, one independent chain per row.

    The loop is a ``tf.while_loop``: inside ``tf.function`` it is a single
    graph node however large ``k`` is (``k`` may be a tensor).  Called
    eagerly it runs step by step from Python; for long chains wrap it,
    e.g. ``tf.function(gibbs_chain)(rbm, v0, tf.constant(1000), rng)``.

    Args:
        rbm: the model.
        v0: starting visible states (n, n_visible).
        k: number of steps, a Python int or scalar int tensor, at least 1.
        rng: source of randomness.
        h0: optional hidden sample of ``p(h | v0)`` for the first step (see
            :func:`gibbs_step`).

    Returns:
        The :class:`ChainState` after ``k`` steps.
    """
    if not isinstance(k, (tf.Tensor, tf.Variable)):
        k = check_int(k, "k", low=1)
    first = gibbs_step(rbm, v0, rng, h=h0)
    if isinstance(k, int) and k == 1:
        return first  # no loop at all: CD-1's update stays a straight graph

    def body(i, state):
        return i + 1, gibbs_step(rbm, state.v, rng)

    _, last = tf.while_loop(
        lambda i, _: i < k, body, (tf.constant(1), first), parallel_iterations=1
    )
    return last


class PersistentChains(tf.Module):
    """Fantasy particles whose state survives between calls (PCD).

    The chains are a non-trainable ``tf.Variable`` (n_chains, n_visible), so
    they are saved by ``tf.train.Checkpoint`` together with the model.

    Args:
        initial: starting states (n_chains, n_visible) in [0, 1], e.g. random
            binary vectors or a batch of training data.
        name: module name.
    """

    def __init__(self, initial, name: str | None = None):
        super().__init__(name=name)
        if isinstance(initial, (tf.Tensor, tf.Variable)):
            initial = tf.convert_to_tensor(initial)
            shape = tuple(initial.shape)
            check_matrix(initial, "initial", what="units")
        else:
            initial = check_matrix(initial, "initial", what="units")
            shape = initial.shape
        if len(shape) != 2:  # pragma: no cover - check_matrix has refused it
            raise ValueError(
                f"initial chain states must be (n_chains, n_visible); got {shape}.")
        self.v = tf.Variable(initial, trainable=False, name="chains")

    @property
    def n_chains(self) -> int:
        """Number of parallel chains."""
        return int(self.v.shape[0])

    def advance(self, rbm: BernoulliRBM, k, rng: tf.random.Generator) -> ChainState:
        """Run ``k`` Gibbs steps from the stored states and store the result.

        Args:
            rbm: the model (its current parameters).
            k: number of steps (>= 1).
            rng: source of randomness.

        Returns:
            The :class:`ChainState` after the steps.
        """
        start = as_model_input(self.v.read_value(), rbm.n_visible, rbm.dtype,
                               name="chains")
        state = gibbs_chain(rbm, start, k, rng)
        self.v.assign(tf.cast(state.v, self.v.dtype))
        return state
