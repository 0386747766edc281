"""Parallel tempering: persistent chains at several temperatures that swap states.

Once an RBM has sharp, separated modes, PCD's chains stay in the mode they are
in: a Gibbs step at the model's temperature rarely climbs out.  Parallel
tempering (Desjardins, Courville, Bengio, Vincent & Delalleau 2010) runs
replicas of the chains at inverse temperatures ``1 = beta_0 > beta_1 > ... >
beta_{R-1} >= 0``.  Replica ``r`` samples

    ``p_r(v) ~ exp(-F_r(v))``, ``F_r(v) = -beta_r b.v - sum_j
    softplus(beta_r (c + v W)_j)``,

the RBM with every energy scaled by ``beta_r`` (``beta = 0``: uniform); hot
replicas move freely.  After the Gibbs steps, neighbouring replicas ``r`` and
``r + 1`` propose to exchange their states, accepted with probability
``min(1, exp(F_r(x_r) + F_{r+1}(x_{r+1}) - F_r(x_{r+1}) - F_{r+1}(x_r)))``.
That is a Metropolis move on the product distribution ``prod_r p_r``, so
every replica keeps its own distribution and replica 0 samples the model,
while states found by the hot replicas travel down to it.  Even pairs (0-1,
2-3, ...) are proposed on even calls, odd pairs on odd calls.

:class:`rbmtut.learning.RBMTrainer` uses these chains with ``method="pt"``.
Chapter 1 (``01_energy_models``) runs it on bars and stripes, where the
exact log-likelihood is known; chapter 2c (``02c_training_well``) on MNIST,
at the same number of matrix products as CD and PCD.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import tensorflow as tf

from ._validation import check_int, check_matrix, check_no_label_units
from .gibbs import ChainState
from .nn import sample_bernoulli

if TYPE_CHECKING:
    from .rbm import BernoulliRBM

__all__ = ["inverse_temperatures", "TemperedChains"]


def inverse_temperatures(ladder) -> np.ndarray:
    """The ladder ``1 = beta_0 > ... > beta_{R-1} >= 0``, checked.

    Args:
        ladder: an int ``R >= 2`` (``R`` evenly spaced values from 1 to 0,
            both included), or the inverse temperatures themselves.

    Returns:
        float64 array (R,).
    """
    if isinstance(ladder, (int, np.integer)) and not isinstance(ladder, bool):
        return np.linspace(1.0, 0.0, check_int(ladder, "ladder", low=2))
    betas = np.asarray(ladder, dtype=np.float64)
    if (betas.ndim != 1 or len(betas) < 2 or betas[0] != 1 or betas[-1] < 0
            or np.any(np.diff(betas) >= 0)):
        raise ValueError(
            "ladder must be a number of temperatures >= 2 or a strictly decreasing "
            f"sequence of inverse temperatures from 1 down to >= 0; got {ladder!r}.")
    return betas


class TemperedChains(tf.Module):
    """Chains at every temperature of a ladder, kept between calls.

    Args:
        initial: starting states (n_chains, n_visible) in [0, 1], used by
            every replica, e.g. random bits.
        ladder: see :func:`inverse_temperatures`.
        name: module name.

    Attributes:
        v: the states, a non-trainable variable (R, n_chains, n_visible);
            replica 0 is at the model's temperature.
        betas: the inverse temperatures (R,), a float64 array.
        proposed, accepted: swaps proposed and accepted for each neighbouring
            pair (R - 1,), float64 variables (see :attr:`acceptance`).
    """

    def __init__(self, initial, ladder=10, name: str | None = None):
        super().__init__(name=name)
        initial = check_matrix(initial, "initial", what="units")
        self.betas = inverse_temperatures(ladder)
        replicas = len(self.betas)
        self.v = tf.Variable(tf.tile(initial[None], [replicas, 1, 1]),
                             trainable=False, name="tempered_chains")
        self.calls = tf.Variable(0, dtype=tf.int64, trainable=False, name="calls")
        self.proposed = tf.Variable(tf.zeros([replicas - 1], tf.float64),
                                    trainable=False, name="swaps_proposed")
        self.accepted = tf.Variable(tf.zeros([replicas - 1], tf.float64),
                                    trainable=False, name="swaps_accepted")

    @property
    def n_chains(self) -> int:
        """Chains per temperature."""
        return int(self.v.shape[1])

    @property
    def acceptance(self) -> np.ndarray:
        """Share of the proposed swaps accepted, per neighbouring pair (R - 1,);
        NaN where none was proposed yet."""
        proposed = self.proposed.numpy()
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(proposed > 0, self.accepted.numpy() / proposed, np.nan)

    def advance(self, rbm: BernoulliRBM, k, rng: tf.random.Generator) -> ChainState:
        """``k`` Gibbs steps in every replica, then one round of swaps.

        Args:
            rbm: the model (its current parameters).
            k: Gibbs steps per call, >= 1.
            rng: source of randomness.

        Returns:
            The :class:`~rbmtut.gibbs.ChainState` of replica 0 after the swaps
            (``v_probs`` and ``h`` from its last Gibbs step).
        """
        check_no_label_units(rbm, "parallel tempering")
        if not isinstance(k, (tf.Tensor, tf.Variable)):
            k = check_int(k, "k", low=1)
        beta = tf.constant(self.betas, rbm.dtype)[:, None, None]
        v = tf.cast(self.v.read_value(), rbm.dtype)

        def step(v):  # v -> h -> v at every temperature: energies scaled by beta
            h = sample_bernoulli(tf.sigmoid(beta * (tf.matmul(v, rbm.W) + rbm.c)), rng)
            v_probs = tf.sigmoid(beta * (tf.matmul(h, rbm.W, transpose_b=True) + rbm.b))
            return sample_bernoulli(v_probs, rng), v_probs, h

        _, (v, v_probs, h) = tf.while_loop(
            lambda i, _: i < k, lambda i, state: (i + 1, step(state[0])),
            (tf.constant(1), step(v)), parallel_iterations=1)
        v = self._swap(rbm, v, rng)
        self.v.assign(tf.cast(v, self.v.dtype))
        return ChainState(v[0], v_probs[0], h[0])

    def _swap(self, rbm, v, rng):
        """One round of swap proposals between neighbours of one parity."""
        replicas = len(self.betas)
        shape = tf.shape(v)
        inputs = tf.reshape(tf.matmul(tf.reshape(v, [-1, shape[2]]), rbm.W) + rbm.c,
                            [shape[0], shape[1], -1])  # (R, n, n_hidden)
        visible = tf.linalg.matvec(v, rbm.b)  # (R, n)
        beta = tf.constant(self.betas, rbm.dtype)[:, None]  # (R, 1)

        def free_energy(beta, inputs, visible):  # F_beta of each row of states
            return -beta * visible - tf.reduce_sum(
                tf.nn.softplus(beta[..., None] * inputs), axis=-1)

        own = free_energy(beta, inputs, visible)  # replica r at beta_r
        up = free_energy(beta[:-1], inputs[1:], visible[1:])  # r + 1 at beta_r
        down = free_energy(beta[1:], inputs[:-1], visible[:-1])  # r at beta_{r+1}
        log_ratio = tf.cast(own[:-1] + own[1:] - up - down, tf.float64)  # (R - 1, n)
        pairs = tf.range(replicas - 1)
        this_round = tf.equal(tf.cast(pairs, tf.int64) % 2, self.calls % 2)[:, None]
        uniform = rng.uniform(tf.shape(log_ratio), dtype=tf.float64)
        accept = this_round & (tf.math.log(uniform) < log_ratio)
        n = tf.cast(tf.shape(v)[1], tf.float64)
        self.proposed.assign_add(tf.where(this_round[:, 0], n, tf.zeros_like(n)))
        self.accepted.assign_add(tf.reduce_sum(tf.cast(accept, tf.float64), axis=1))
        self.calls.assign_add(1)
        # replica r takes replica r+1's state if their pair swaps, r-1's likewise
        none = tf.zeros_like(accept[:1])
        from_above, from_below = (tf.cast(tf.concat(parts, 0), tf.int32)
                                  for parts in ([accept, none], [none, accept]))
        source = tf.range(replicas)[:, None] + from_above - from_below  # (R, n)
        chains = tf.transpose(v, [1, 0, 2])  # (n, R, n_visible)
        swapped = tf.gather(chains, tf.transpose(source), batch_dims=1)
        return tf.transpose(swapped, [1, 0, 2])
