"""Block Gibbs sampling in an RBM: single steps, k-step chains, persistent chains.

Because the conditionals factorise, a whole layer is sampled at once:
``h ~ p(h | v)`` then ``v ~ p(v | h)`` is one Gibbs step.  Chains of ``k``
steps are a ``tf.while_loop``, so they compile into one graph and run many
chains (one per row) in parallel.  Chapter 2 (``02_gibbs_cd_pcd``) uses them
for CD-k, PCD-k, fantasy particles and "dreaming".

The functions work for any model that names its unit types the same way:
``visible_mean(h)`` and ``hidden_mean(hidden_logits)`` (for binary units the
probabilities), ``draw_visible(mean, rng)`` and ``draw_hidden(mean, rng)``
(a sample around that mean), ``hidden_logits``, ``visible_input``,
``hidden_input`` and a ``dtype`` — :class:`rbmtut.rbm.BernoulliRBM` and the
Gaussian models of :mod:`rbmtut.gaussian`.  They take their noise from a
``tf.random.Generator``: they are the tensor-level primitives that run inside
compiled loops.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import tensorflow as tf

from ._validation import check_int, check_matrix

if TYPE_CHECKING:
    from .rbm import BernoulliRBM

__all__ = ["ChainState", "gibbs_step", "gibbs_chain", "hidden_chain",
           "PersistentChains"]


class ChainState(NamedTuple):
    """The end of a Gibbs chain.

    Attributes:
        v: visible sample after the last step, (n, n_visible).
        v_probs: the mean of ``p(v | h)`` that ``v`` was drawn from (for
            binary units, the probabilities), (n, n_visible).
        h: the hidden sample that produced ``v``, (n, n_hidden).
        hidden_logits: ``c + v W`` of the new ``v`` (n, n_hidden), where the
            chain computed it anyway (:meth:`PersistentChains.advance` with
            hidden states); otherwise None.
    """

    v: tf.Tensor
    v_probs: tf.Tensor
    h: tf.Tensor
    hidden_logits: tf.Tensor | None = None


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
    v_mean = rbm.visible_mean(h)
    return ChainState(rbm.draw_visible(v_mean, rng), v_mean, h)


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
        return i + 1, tuple(gibbs_step(rbm, state[0], rng)[:3])

    _, last = tf.while_loop(
        lambda i, _: i < k, body, (tf.constant(1), tuple(first[:3])),
        parallel_iterations=1
    )
    return ChainState(*last)


class PersistentChains(tf.Module):
    """Fantasy particles whose state survives between calls (PCD).

    The chains' visible states are a non-trainable ``tf.Variable`` ``v``
    (n_chains, n_visible), saved by ``tf.train.Checkpoint`` with the model.

    With ``hidden``, the chains also keep a hidden sample ``h`` (n_chains,
    n_hidden) of ``p(h | v)``, redrawn at the end of every call from the
    hidden inputs of the new ``v``: the next call starts from it (``h -> v ->
    h`` steps).  A PCD update needs those inputs for its statistics anyway,
    so keeping ``h`` saves recomputing ``v W`` at the start of the next one:
    five matrix products per PCD-1 update instead of six (scikit-learn's
    BernoulliRBM carries hidden samples the same way).

    Args:
        initial: starting visible states (n_chains, n_visible), e.g. random
            binary vectors or a batch of training data.
        hidden: optional hidden sample (n_chains, n_hidden) drawn from
            ``p(h | initial)`` under the model to be sampled.
        name: module name.
    """

    def __init__(self, initial, hidden=None, name: str | None = None):
        super().__init__(name=name)
        self.v = tf.Variable(self._states(initial, "initial", "units"),
                             trainable=False, name="chains")
        self.h = None
        if hidden is not None:
            hidden = self._states(hidden, "hidden", "hidden units")
            if hidden.shape[0] != self.v.shape[0]:
                raise ValueError(
                    f"hidden has {hidden.shape[0]} rows but initial has "
                    f"{self.v.shape[0]}; pass one hidden state per chain.")
            self.h = tf.Variable(tf.cast(hidden, self.v.dtype), trainable=False,
                                 name="chain_hidden")

    @staticmethod
    def _states(x, name, what):
        if isinstance(x, (tf.Tensor, tf.Variable)):
            x = tf.convert_to_tensor(x)
            check_matrix(x, name, what=what)
        else:
            x = check_matrix(x, name, what=what)
        if len(x.shape) != 2:  # pragma: no cover - check_matrix has refused it
            raise ValueError(f"{name} must be (n_chains, n_units); got {x.shape}.")
        return x

    @property
    def n_chains(self) -> int:
        """Number of parallel chains."""
        return int(self.v.shape[0])

    def advance(self, rbm: BernoulliRBM, k, rng: tf.random.Generator) -> ChainState:
        """Run ``k`` Gibbs steps from the stored states and store the result.

        Visible states only: ``k`` steps ``v -> h -> v``.  With hidden states:
        ``k`` steps ``h -> v -> h``; the result's ``hidden_logits`` are
        ``c + v_k W`` of the new visible states, from which the stored ``h``
        is drawn.

        Args:
            rbm: the model (its current parameters).
            k: number of steps (>= 1).
            rng: source of randomness.

        Returns:
            The :class:`ChainState` after the steps.
        """
        if self.h is None:
            start = rbm.visible_input(tf.cast(self.v.read_value(), rbm.dtype),
                                      "chains")
            state = gibbs_chain(rbm, start, k, rng)
        else:
            start = rbm.hidden_input(tf.cast(self.h.read_value(), rbm.dtype),
                                     "chain hidden states")
            state = hidden_chain(rbm, start, k, rng)
            h = rbm.draw_hidden(rbm.hidden_mean(state.hidden_logits), rng)
            self.h.assign(tf.cast(h, self.h.dtype))
        self.v.assign(tf.cast(state.v, self.v.dtype))
        return state


def hidden_chain(rbm: BernoulliRBM, h0, k, rng: tf.random.Generator) -> ChainState:
    """``k >= 1`` Gibbs steps that start from a hidden sample ``h0`` (n, n_hidden).

    Each step draws ``v ~ p(v | h)`` and then, except after the last step,
    ``h ~ p(h | v)``; the hidden inputs ``c + v W`` of the last ``v`` are
    returned in ``hidden_logits`` (the caller draws its own ``h`` from them,
    or uses them as statistics).  One ``tf.while_loop``, like
    :func:`gibbs_chain`.
    """
    if not isinstance(k, (tf.Tensor, tf.Variable)):
        k = check_int(k, "k", low=1)

    def down(h):
        v_mean = rbm.visible_mean(h)
        v = rbm.draw_visible(v_mean, rng)
        return ChainState(v, v_mean, h, rbm.hidden_logits(v))

    first = down(h0)
    if isinstance(k, int) and k == 1:
        return first

    def body(i, state):
        return i + 1, down(rbm.draw_hidden(rbm.hidden_mean(state.hidden_logits), rng))

    _, last = tf.while_loop(
        lambda i, _: i < k, body, (tf.constant(1), first), parallel_iterations=1
    )
    return last
