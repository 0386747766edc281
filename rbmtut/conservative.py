"""Conservative likelihood estimates: reverse AIS and RAISE.

Forward AIS (:func:`rbmtut.likelihood.ais_log_partition`) is unbiased for
``Z`` and so, by Jensen's inequality, *under*-estimates ``log Z`` in
expectation: the log-likelihood it gives is optimistic.  Annealing the other
way round errs the other way (Burda, Grosse & Salakhutdinov 2015):

- **Reverse AIS** starts from samples of the RBM and anneals down to the
  base model.  Its weights are unbiased for ``Z_A / Z``, so it *over*-estimates
  ``log Z`` in expectation, and the log-likelihood it gives is conservative —
  provided the start samples come from the RBM.  Long Gibbs chains only
  approximate that; exact samples exist only for enumerable models.
- **RAISE** starts from each test digit itself.  Its weight is unbiased for
  ``p_ann(v)``, the probability of ``v`` under the directed model that draws
  from the base and then takes forward AIS's transitions, so its logarithm is
  a stochastic lower bound on ``log p_ann(v)``; ``p_ann`` approaches the RBM
  as the temperatures grow, and averaged over digits drawn from the RBM,
  ``log p_ann`` is at most ``log p`` (Gibbs' inequality).

Both use the forward estimator's path and sweep
(:func:`rbmtut.likelihood.annealed_log_weights`) with the temperatures
reversed; forward AIS itself is introduced in chapter 2 (``02_gibbs_cd_pcd``).
A forward estimate and a conservative one bracket a model's log-likelihood.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import tensorflow as tf

from ._seeding import SeededFunction
from ._validation import check_int, check_real
from .likelihood import (annealed_log_weights, annealing_path, effective_sample_size,
                         weight_statistics)
from .nn import sample_bernoulli

if TYPE_CHECKING:
    from .rbm import BernoulliRBM

__all__ = ["ReverseAISResult", "reverse_ais_log_partition", "raise_log_likelihood"]


class ReverseAISResult(NamedTuple):
    """A reverse-AIS estimate of ``log Z`` (too high in expectation).

    Attributes:
        log_z: ``log Z_A - log mean(w)``, the weights ``w`` estimating ``Z_A / Z``.
        std_err: its standard error in log space, ``std(w) / (sqrt(M) mean(w))``.
        log_z_low: ``log Z_A - log(mean(w) + 3 sigma)``.
        log_z_high: ``log Z_A - log(mean(w) - 3 sigma)`` (``inf`` if that is
            not positive).
        log_weights: the ``M`` log-weights, (M,).
    """

    log_z: float
    std_err: float
    log_z_low: float
    log_z_high: float
    log_weights: np.ndarray

    @property
    def effective_sample_size(self) -> float:
        """Kish's effective number of runs (1 to ``M``)."""
        return effective_sample_size(self.log_weights)

    def log_z_upper_bound(self, confidence: float = 0.99) -> float:
        """An upper bound on ``log Z`` that holds with probability ``confidence``
        *if the runs started from exact samples of the RBM*.

        ``mean(w)`` is then unbiased for ``Z_A / Z`` and non-negative, so by
        Markov's inequality ``log Z <= log_z - log(1 - confidence)``.
        """
        confidence = check_real(confidence, "confidence", low=0.0, high=1.0,
                                low_open=True, high_open=True)
        return self.log_z - math.log1p(-confidence)


_SEEDED_ANNEAL = SeededFunction(annealed_log_weights, compile=False)


def reverse_ais_log_partition(rbm: BernoulliRBM, v_model, *, betas=None,
                              base_bias=None, seed: int = 0) -> ReverseAISResult:
    """Estimate ``log Z`` by AIS from the RBM down to the base-rate model.

    Each row of ``v_model`` starts a run at beta = 1; at every step down the
    schedule it adds ``log p*_{t-1}(v) - log p*_t(v)`` to its log-weight and
    takes a Gibbs transition at the lower temperature.  With exact samples of
    the RBM, ``E[exp(log w)] = Z_A / Z`` and ``E[log Z_hat] >= log Z``.

    Args:
        rbm: the model.
        v_model: (M, n_visible) binary samples of the RBM, M >= 2 (e.g. the ends
            of long Gibbs chains); each starts one run.
        betas, base_bias: the path, as in
            :func:`rbmtut.likelihood.annealing_path` (``betas`` increasing; it
            is run backwards here).
        seed: seeds the transitions.

    Returns:
        A :class:`ReverseAISResult`.
    """
    v = rbm.visible_input(v_model, "v_model", values="binary")
    if v.shape[0] < 2:
        raise ValueError("v_model needs at least two rows (runs) for a standard error.")
    betas, base_b, log_z_base = annealing_path(rbm, betas, base_bias)
    log_w, _ = _SEEDED_ANNEAL(seed, rbm.W, rbm.b, rbm.c, base_b,
                              tf.constant(betas[::-1], rbm.dtype), v)
    log_w = log_w.numpy()
    log_mean_w, rel_se = weight_statistics(log_w)  # of Z_A / Z
    log_z = log_z_base - log_mean_w
    high = log_z - math.log(1 - 3 * rel_se) if rel_se < 1 / 3 else math.inf
    return ReverseAISResult(log_z, rel_se, log_z - math.log1p(3 * rel_se), high, log_w)


@tf.function(reduce_retracing=True)
def _raise_log_weights(W, b, c, base_b, reversed_betas, v, rng):
    # One transition at beta = 1 from the digit itself, then the reverse sweep.
    h = sample_bernoulli(tf.sigmoid(tf.matmul(v, W) + c), rng)
    start = sample_bernoulli(tf.sigmoid(tf.matmul(h, W, transpose_b=True) + b), rng)
    return annealed_log_weights(W, b, c, base_b, reversed_betas, start, rng)[0]


_SEEDED_RAISE = SeededFunction(_raise_log_weights, compile=False)


def raise_log_likelihood(rbm: BernoulliRBM, v, *, n_chains: int = 1, betas=None,
                         base_bias=None, seed: int = 0) -> tf.Tensor:
    """RAISE: a stochastic lower bound on ``log p_ann(v)`` for each row of ``v``.

    For each digit, ``n_chains`` chains start at the digit, take one Gibbs
    transition at beta = 1 and then anneal down to the base model; with
    ``log w_rev`` the reverse sweep's log-weight and ``F`` the free energy,

        ``log p_hat(v) = -F(v) - log Z_A + log mean_chains exp(log w_rev)``

    has ``E[p_hat(v)] = p_ann(v)`` exactly (module docstring), so
    ``E[log p_hat(v)] <= log p_ann(v)``.  No ``log Z`` estimate is needed.

    Args:
        rbm: the model.
        v: (n, n_visible) binary digits.
        n_chains: chains per digit, >= 1; more tighten the bound.
        betas, base_bias: the path, as in
            :func:`rbmtut.likelihood.annealing_path`.
        seed: seeds the chains.

    Returns:
        float64 tensor (n,) of per-digit estimates in nats; their mean bounds
        the mean log-likelihood from below in expectation.
    """
    n_chains = check_int(n_chains, "n_chains", low=1)
    v = rbm.visible_input(v, values="binary")
    betas, base_b, log_z_base = annealing_path(rbm, betas, base_bias)
    repeated = tf.repeat(v, n_chains, axis=0)  # digit i's chains are adjacent
    log_w = _SEEDED_RAISE(seed, rbm.W, rbm.b, rbm.c, base_b,
                          tf.constant(betas[::-1], rbm.dtype), repeated)
    log_w = tf.reshape(log_w, [-1, n_chains])
    log_mean = tf.reduce_logsumexp(log_w, axis=1) - math.log(n_chains)
    return -tf.cast(rbm.free_energy(v), tf.float64) - log_z_base + log_mean
