"""How good is an RBM?  Reconstruction, pseudo-likelihood, AIS and the log-likelihood.

The log-likelihood ``log p(v) = -F(v) - log Z`` needs the partition function
``Z``: exact for tiny models (:mod:`rbmtut.exact`), estimated for MNIST-sized
ones by annealed importance sampling (AIS; Neal 2001, Salakhutdinov & Murray
2008).  Reconstruction error and pseudo-likelihood are cheap monitors that
need no ``Z``; chapter 2 (``02_gibbs_cd_pcd``) shows when they mislead.  All
of them score binary data: the likelihood of grey levels is not a likelihood.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import tensorflow as tf

from ._seeding import SeededFunction
from ._validation import (as_model_input, check_bool, check_choice, check_int,
                          check_no_label_units, check_real, check_seed)
from .nn import bernoulli_cross_entropy, sample_bernoulli

if TYPE_CHECKING:
    from .rbm import BernoulliRBM

__all__ = [
    "reconstruction_cross_entropy", "log_conditionals", "pseudo_log_likelihood",
    "effective_sample_size", "weight_statistics", "AISResult", "ais_schedule",
    "base_rate_bias", "annealing_path", "annealed_log_weights", "ais_log_weights",
    "ais_log_partition", "log_likelihood",
]


def reconstruction_cross_entropy(rbm: BernoulliRBM, v) -> tf.Tensor:
    """Mean-field reconstruction cross-entropy, in nats per example.

    ``v -> p(h|v) -> logits of p(v|h)``, then the Bernoulli cross-entropy
    between ``v`` and the reconstruction, summed over pixels and averaged
    over examples.  Cheap, but not an objective the RBM optimises.  For
    binary ``v`` it is the negative log-likelihood of the reconstruction
    model; grey levels are read as probabilities, and it is then a
    cross-entropy only.

    Args:
        rbm: the model.
        v: data (n, n_visible) in [0, 1].

    Returns a scalar tensor.
    """
    check_no_label_units(rbm, "the reconstruction cross-entropy")
    v = rbm.visible_input(v)
    return bernoulli_cross_entropy(v, rbm.visible_logits(rbm.hidden_probs(v)))


def log_conditionals(rbm: BernoulliRBM, v, index) -> tf.Tensor:
    """``log p(v_i | v_-i)`` for the bits ``index`` (n, m) of each row of ``v``
    (n, d): (n, m).
    """
    check_no_label_units(rbm, "log_conditionals")
    a = rbm.hidden_logits(v)  # (n, H)
    v_i = tf.gather(v, index, batch_dims=1)  # (n, m)
    d = 1.0 - 2.0 * v_i  # change of v_i when flipped
    W_i = tf.gather(rbm.W, index)  # (n, m, H)
    b_i = tf.gather(rbm.b, index)  # (n, m)
    flipped = a[:, None, :] + d[..., None] * W_i
    # F(v_flip) - F(v); log p(v_i | v_-i) = log_sigmoid(F(v_flip) - F(v))
    gap = -d * b_i - tf.reduce_sum(
        tf.nn.softplus(flipped) - tf.nn.softplus(a)[:, None, :], axis=-1
    )
    return tf.math.log_sigmoid(gap)


def pseudo_log_likelihood(rbm: BernoulliRBM, v, *, stochastic: bool = False,
                          seed: int = 0, batch_size: int = 100) -> tf.Tensor:
    """Pseudo-log-likelihood ``sum_i log p(v_i | v_-i)``, nats per example.

    Normalisation: the sum over all ``n_visible`` bits (not the per-bit
    mean), averaged over examples; divide by ``n_visible`` for nats per bit.
    The stochastic version picks one random bit ``i`` per example and returns
    ``n_visible * log p(v_i | v_-i)``, an unbiased estimate of the same sum
    (scikit-learn's ``BernoulliRBM.score_samples`` convention).

    Args:
        rbm: the model.
        v: binary data (n, n_visible).
        stochastic: use one random bit per example instead of all bits.
        seed: seeds the random bits of the stochastic version.
        batch_size: examples per chunk of the exact computation; memory is
            ``batch_size * n_visible * n_hidden`` numbers.

    Returns a scalar tensor.
    """
    check_no_label_units(rbm, "the pseudo-likelihood")
    v = rbm.visible_input(v, values="binary")
    stochastic = check_bool(stochastic, "stochastic")
    batch_size = check_int(batch_size, "batch_size", low=1)
    n, d = int(v.shape[0]), rbm.n_visible
    if stochastic:
        rng = tf.random.Generator.from_seed(check_seed(seed))
        index = rng.uniform((n, 1), maxval=d, dtype=tf.int32)
        return d * tf.reduce_mean(log_conditionals(rbm, v, index))
    all_bits = tf.range(d)
    totals = []
    for start in range(0, n, batch_size):
        chunk = v[start : start + batch_size]
        index = tf.tile(all_bits[None], [tf.shape(chunk)[0], 1])
        totals.append(tf.reduce_sum(log_conditionals(rbm, chunk, index), axis=-1))
    return tf.reduce_mean(tf.concat(totals, axis=0))


def effective_sample_size(log_weights) -> float:
    """Kish's effective number of runs, ``(sum w)^2 / sum w^2``, from log-weights:
    ``M`` when all ``M`` runs weigh the same, near 1 when one run carries
    nearly all the weight (then the standard error is unreliable).
    """
    log_w = np.asarray(log_weights, np.float64)
    if log_w.ndim != 1 or len(log_w) == 0 or not np.all(np.isfinite(log_w)):
        raise ValueError("log_weights must be a non-empty 1-D array of finite numbers.")
    w = np.exp(log_w - log_w.max())
    return float(w.sum() ** 2 / (w @ w))


def weight_statistics(log_weights) -> tuple[float, float]:
    """``log mean(w)`` and its standard error ``std(w) / (sqrt(M) mean(w))`` from
    the log-weights (M,) of M >= 2 importance-sampling runs (overflow-safe)."""
    log_w = np.asarray(log_weights, np.float64)
    w = np.exp(log_w - log_w.max())
    rel_se = w.std(ddof=1) / (math.sqrt(len(w)) * w.mean())
    return float(log_w.max() + math.log(w.mean())), float(rel_se)


class AISResult(NamedTuple):
    """An AIS estimate of ``log Z``.

    Attributes:
        log_z: the estimate ``log Z_A + log mean(w)``.
        std_err: its standard error in log space (:func:`weight_statistics`).
        log_z_low: ``log(Z_hat - 3 sigma)`` (``-inf`` if that is negative).
        log_z_high: ``log(Z_hat + 3 sigma)``.
        log_weights: the ``M`` log importance weights.

    The interval ``[log_z_low, log_z_high]`` rests on a normal approximation
    that holds when the runs agree; :meth:`log_z_lower_bound` holds always.
    """

    log_z: float
    std_err: float
    log_z_low: float
    log_z_high: float
    log_weights: np.ndarray

    @classmethod
    def from_log_weights(cls, log_weights, log_z_base: float) -> AISResult:
        """The estimate from the log-weights (M,) of M >= 2 runs, ``log Z_A``
        given (:func:`annealing_path`): e.g. from a subset of another result's runs."""
        log_w = np.asarray(log_weights, np.float64)
        log_mean_w, rel_se = weight_statistics(log_w)
        log_z = log_z_base + log_mean_w
        low = log_z + math.log(1 - 3 * rel_se) if rel_se < 1 / 3 else -math.inf
        return cls(log_z, rel_se, low, log_z + math.log1p(3 * rel_se), log_w)

    @property
    def effective_sample_size(self) -> float:
        """:func:`effective_sample_size` of the runs' weights (1 to ``M``)."""
        return effective_sample_size(self.log_weights)

    def log_z_lower_bound(self, confidence: float = 0.99) -> float:
        """A lower bound on the true ``log Z`` that holds with probability
        ``confidence``.

        ``Z_hat`` is unbiased and non-negative, so Markov's inequality gives
        ``P(Z_hat >= Z / (1 - confidence)) <= 1 - confidence`` whatever the
        weights' variance: ``log Z >= log Z_hat + log(1 - confidence)``.  Unlike
        ``log_z_low`` it needs no normal approximation and stays finite when the
        runs disagree, at the price of a wider margin (4.6 nats at 99%).
        """
        confidence = check_real(confidence, "confidence", low=0.0, high=1.0,
                                low_open=True, high_open=True)
        return self.log_z + math.log1p(-confidence)


def ais_schedule(kind: str = "salakhutdinov-murray",
                 n: int | None = None) -> np.ndarray:
    """Inverse temperatures ``0 = beta_0 < ... < beta_K = 1``.

    Args:
        kind: ``"salakhutdinov-murray"``: steps of 1e-3 on [0, 0.5], 1e-4 on
            [0.5, 0.9] and 1e-5 on [0.9, 1] (14,500 intermediate
            distributions, as in the paper); ``"linear"``: ``n`` equal steps.
        n: number of steps for ``"linear"``, >= 1.

    Returns:
        float64 array (K + 1,).
    """
    check_choice(kind, "kind", ("salakhutdinov-murray", "linear"))
    if kind == "salakhutdinov-murray":
        parts = [np.arange(500) * 1e-3,
                 0.5 + np.arange(4000) * 1e-4,
                 0.9 + np.arange(10000) * 1e-5]
        return np.concatenate(parts + [[1.0]])
    if n is None:
        raise ValueError("a linear schedule needs n >= 1 steps; pass n.")
    return np.linspace(0.0, 1.0, check_int(n, "n", low=1) + 1)


def base_rate_bias(x, *, pseudo_count: float = 1.0) -> np.ndarray:
    """Visible biases of the base-rate model: smoothed pixel log-odds.

    ``p_i = (sum_n x_ni + pseudo_count) / (N + 2 pseudo_count)``, ``b_i =
    log(p_i / (1 - p_i))``.  A base model close to the data makes AIS's first
    steps cheap.

    Args:
        x: training data (N, n_visible) in [0, 1].
        pseudo_count: additive smoothing, > 0.

    Returns:
        float64 array (n_visible,).
    """
    pseudo_count = check_real(pseudo_count, "pseudo_count", low=0.0, low_open=True)
    width = np.shape(x)[1] if np.ndim(x) == 2 else None
    x = as_model_input(x, width, tf.float64, what="pixels").numpy()
    p = (x.sum(axis=0) + pseudo_count) / (len(x) + 2 * pseudo_count)
    return np.log(p) - np.log1p(-p)


def annealing_path(rbm: BernoulliRBM, betas=None, base_bias=None):
    """The path AIS anneals along, checked: ``(betas, base_b, log_z_base)``.

    ``p*_beta(v) = exp((1-beta) v.b_A + beta v.b) prod_j (1 + exp(beta (c +
    v W)_j))`` runs from the base-rate model ``A`` (independent visibles with
    biases ``b_A = base_bias``, no weights) at beta = 0 to the RBM at beta = 1.

    Args:
        rbm: the model.
        betas: inverse temperatures (K + 1,), strictly increasing from 0 to 1;
            default :func:`ais_schedule` (14,500 steps).
        base_bias: ``b_A`` (n_visible,), e.g. :func:`base_rate_bias`; default 0.

    Returns ``betas`` (float64), ``b_A`` (the model's dtype) and ``log Z_A =
    sum_i softplus(b_A,i) + n_hidden log 2``.
    """
    check_no_label_units(rbm, "the annealing path (AIS, RAISE)")
    betas = ais_schedule() if betas is None else np.asarray(betas, dtype=np.float64)
    if (betas.ndim != 1 or len(betas) < 2 or betas[0] != 0 or betas[-1] != 1
            or np.any(np.diff(betas) <= 0)):
        raise ValueError("betas must be a strictly increasing schedule from 0 to 1.")
    base_bias = np.zeros(rbm.n_visible) if base_bias is None else np.asarray(base_bias)
    if base_bias.shape != (rbm.n_visible,) or not np.all(np.isfinite(base_bias)):
        raise ValueError(f"base_bias must be finite, of shape ({rbm.n_visible},); "
                         f"got shape {base_bias.shape}.")
    base_b = tf.constant(base_bias, rbm.dtype)
    # At beta = 0 every hidden unit contributes a factor (1 + e^0) = 2.
    log_z_base = float(tf.reduce_sum(tf.nn.softplus(tf.cast(base_b, tf.float64))))
    return betas, base_b, log_z_base + rbm.n_hidden * math.log(2.0)


@tf.function(reduce_retracing=True)
def annealed_log_weights(W, b, c, base_b, betas, v, rng):
    """Anneal the chains ``v`` (n_runs, n_visible) along ``betas``; return their
    log-weights (n_runs,) and final states.

    At each step ``t`` every run adds ``log p*_t(v) - log p*_{t-1}(v)`` to its
    log-weight, then takes one block Gibbs transition that leaves ``p_t``
    invariant.  ``betas`` may run either way: from 0 to 1 it is forward AIS
    (chains started from the base model), from 1 to 0 reverse AIS (chains
    started from the RBM).  The whole sweep is one ``tf.while_loop``.
    """
    # log p*_beta(v) - log p*_beta'(v), hidden units summed out, with a = v W + c:
    #   (beta - beta') v.(b - b_A) + sum_j [softplus(beta a_j) - softplus(beta' a_j)]
    # (one product with v for the visible terms, not two).
    bias_gap = b - base_b
    log_w = tf.zeros([tf.shape(v)[0]], tf.float64)
    n_steps = tf.shape(betas)[0]

    def body(t, v, log_w):
        beta_prev, beta = betas[t - 1], betas[t]
        a = tf.matmul(v, W) + c
        step = ((beta - beta_prev) * tf.linalg.matvec(v, bias_gap)
                + tf.reduce_sum(tf.nn.softplus(beta * a)
                                - tf.nn.softplus(beta_prev * a), axis=-1))
        log_w += tf.cast(step, tf.float64)
        # A Gibbs transition that leaves p_beta invariant (reuses a):
        # v's logits are (1 - beta) b_A + beta (b + h W^T) = b_A + beta (.. - b_A).
        h = sample_bernoulli(tf.sigmoid(beta * a), rng)
        v_logits = base_b + beta * (tf.matmul(h, W, transpose_b=True) + bias_gap)
        v = sample_bernoulli(tf.sigmoid(v_logits), rng)
        return t + 1, v, log_w

    _, v, log_w = tf.while_loop(
        lambda t, *_: t < n_steps, body, (tf.constant(1), tf.cast(v, W.dtype), log_w)
    )
    return log_w, v


@tf.function(reduce_retracing=True)
def ais_log_weights(W, b, c, base_b, betas, n_runs, rng):
    """Forward AIS log-weights (n_runs,): chains drawn from the base-rate model,
    annealed to the RBM by :func:`annealed_log_weights`."""
    p0 = tf.sigmoid(base_b)
    v = sample_bernoulli(tf.broadcast_to(p0, [n_runs, tf.shape(base_b)[0]]), rng)
    return annealed_log_weights(W, b, c, base_b, betas, v, rng)[0]


# One generator for every seeded call, reset each time: traced once, not per call.
_SEEDED_AIS = SeededFunction(ais_log_weights, compile=False)


def ais_log_partition(rbm: BernoulliRBM, *, n_runs: int = 100, betas=None,
                      base_bias=None, seed: int = 0) -> AISResult:
    """Estimate ``log Z`` by annealed importance sampling.

    Along :func:`annealing_path`, one Gibbs transition per temperature
    (:func:`ais_log_weights`), the runs in parallel.  ``E[Z_hat] = Z``, so
    ``E[log Z_hat] <= log Z`` (Jensen): optimistic for the log-likelihood;
    :mod:`rbmtut.conservative` errs the other way.

    Args:
        rbm: the model.
        n_runs: number of independent AIS runs ``M``, >= 2.
        betas, base_bias: the path, as in :func:`annealing_path`.
        seed: seeds the runs.

    Returns an :class:`AISResult`.
    """
    n_runs = check_int(n_runs, "n_runs", low=2)
    betas, base_b, log_z_base = annealing_path(rbm, betas, base_bias)
    log_w = _SEEDED_AIS(seed, rbm.W, rbm.b, rbm.c, base_b,
                        tf.constant(betas, rbm.dtype), tf.constant(n_runs)).numpy()
    return AISResult.from_log_weights(log_w, log_z_base)


def log_likelihood(rbm: BernoulliRBM, v, log_z) -> tf.Tensor:
    """Average ``log p(v) = -F(v) - log Z`` over the binary rows of ``v``, in nats.

    Args:
        rbm: the model.
        v: binary data (n, n_visible).
        log_z: ``log Z`` (exact or an AIS estimate).

    Returns a scalar tensor.
    """
    v = rbm.visible_input(v, values="binary")
    return -tf.reduce_mean(rbm.free_energy(v)) - tf.cast(log_z, rbm.dtype)
