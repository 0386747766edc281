"""How good is an RBM?  Reconstruction, pseudo-likelihood, exact and AIS log Z.

The log-likelihood ``log p(v) = -F(v) - log Z`` needs the partition function
``Z``.  For a model with at most ~24 units on one side, ``log Z`` is an exact
sum over that side (the other side is summed analytically through the free
energy).  For MNIST-sized models it is estimated with annealed importance
sampling (AIS; Neal 2001, Salakhutdinov & Murray 2008).  Reconstruction error
and pseudo-likelihood are cheap monitors that need no ``Z``; chapter 2
(``02_gibbs_cd_pcd``) shows when they mislead.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import tensorflow as tf

from .rbm import BernoulliRBM, check_binary_input, sample_bernoulli

__all__ = [
    "reconstruction_cross_entropy",
    "pseudo_log_likelihood",
    "all_binary_states",
    "exact_log_partition",
    "exact_visible_distribution",
    "state_codes",
    "empirical_distribution",
    "total_variation",
    "exact_model_statistics",
    "AISResult",
    "ais_schedule",
    "base_rate_bias",
    "ais_log_partition",
    "log_likelihood",
]

MAX_EXACT_UNITS = 24


def reconstruction_cross_entropy(rbm: BernoulliRBM, v) -> tf.Tensor:
    """Mean-field reconstruction cross-entropy, in nats per example.

    ``v -> p(h|v) -> logits of p(v|h)``, then the Bernoulli cross-entropy
    between ``v`` and the reconstruction, summed over pixels and averaged
    over examples.  Cheap, but not an objective the RBM optimises.

    Args:
        rbm: the model.
        v: data (n, n_visible) in [0, 1].

    Returns:
        Scalar tensor.
    """
    check_binary_input(v, rbm.n_visible)
    v = tf.cast(v, rbm.dtype)
    logits = rbm.visible_logits(rbm.hidden_probs(v))
    per_pixel = tf.nn.sigmoid_cross_entropy_with_logits(labels=v, logits=logits)
    return tf.reduce_mean(tf.reduce_sum(per_pixel, axis=-1))


def _flip_log_conditionals(rbm, v, index):
    """``log p(v_i | v_-i)`` for the bits ``index`` (n, m) of each row: (n, m)."""
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


def pseudo_log_likelihood(
    rbm: BernoulliRBM,
    v,
    *,
    stochastic: bool = False,
    rng: tf.random.Generator | None = None,
    batch_size: int = 100,
) -> tf.Tensor:
    """Pseudo-log-likelihood ``sum_i log p(v_i | v_-i)``, nats per example.

    Normalisation: the sum over all ``n_visible`` bits (not the per-bit
    mean), averaged over examples; divide by ``n_visible`` for nats per bit.
    The stochastic version picks one random bit ``i`` per example and returns
    ``n_visible * log p(v_i | v_-i)``, an unbiased estimate of the same sum
    (scikit-learn's ``BernoulliRBM.score_samples`` convention).  Inputs must
    be binary for the conditionals to mean anything.

    Args:
        rbm: the model.
        v: binary data (n, n_visible).
        stochastic: use one random bit per example instead of all bits.
        rng: generator for the random bits (required when ``stochastic``).
        batch_size: examples per chunk of the exact computation; memory is
            ``batch_size * n_visible * n_hidden`` numbers.

    Returns:
        Scalar tensor.
    """
    check_binary_input(v, rbm.n_visible)
    v = tf.cast(v, rbm.dtype)
    n, d = int(v.shape[0]), rbm.n_visible
    if stochastic:
        if rng is None:
            raise ValueError("stochastic pseudo-likelihood needs rng=tf.random.Generator.")
        index = rng.uniform((n, 1), maxval=d, dtype=tf.int32)
        return d * tf.reduce_mean(_flip_log_conditionals(rbm, v, index))
    all_bits = tf.range(d)
    totals = []
    for start in range(0, n, batch_size):
        chunk = v[start : start + batch_size]
        index = tf.tile(all_bits[None], [tf.shape(chunk)[0], 1])
        totals.append(tf.reduce_sum(_flip_log_conditionals(rbm, chunk, index), axis=-1))
    return tf.reduce_mean(tf.concat(totals, axis=0))


def all_binary_states(n_units: int, dtype=tf.float32) -> tf.Tensor:
    """Every binary vector of length ``n_units``: (2**n_units, n_units).

    Row ``k`` holds the bits of ``k``, least significant first.
    """
    if not 0 < n_units <= MAX_EXACT_UNITS:
        raise ValueError(f"can enumerate 1..{MAX_EXACT_UNITS} units; got {n_units}.")
    codes = tf.range(2**n_units, dtype=tf.int64)
    return _bits(codes, n_units, dtype)


def _bits(codes, n_units, dtype):
    shifts = tf.range(n_units, dtype=tf.int64)
    return tf.cast(tf.bitwise.bitwise_and(tf.bitwise.right_shift(codes[:, None], shifts[None, :]), tf.constant(1, tf.int64)), dtype)


def exact_log_partition(rbm: BernoulliRBM, *, chunk_bits: int = 16) -> tf.Tensor:
    """Exact ``log Z`` by enumerating the smaller layer.

    With ``m = min(n_visible, n_hidden) <= 24`` it sums ``exp(-F)`` over the
    ``2**m`` states of that layer, the other layer summed out analytically.
    Cost: ``2**m * n_visible * n_hidden``.

    Args:
        rbm: the model.
        chunk_bits: states are processed ``2**chunk_bits`` at a time.

    Returns:
        Scalar tensor in the model's dtype.

    Raises:
        ValueError: if both layers have more than 24 units (use
            :func:`ais_log_partition`).
    """
    m = min(rbm.n_visible, rbm.n_hidden)
    if m > MAX_EXACT_UNITS:
        raise ValueError(
            f"exact log Z enumerates 2**{m} states, too many; it supports a layer of "
            f"at most {MAX_EXACT_UNITS} units. Estimate log Z with ais_log_partition."
        )
    over_hidden = rbm.n_hidden <= rbm.n_visible
    free_energy = rbm.hidden_free_energy if over_hidden else rbm.free_energy
    step = 2 ** min(chunk_bits, m)
    parts = []
    for start in range(0, 2**m, step):
        codes = tf.range(start, start + step, dtype=tf.int64)
        parts.append(tf.reduce_logsumexp(-free_energy(_bits(codes, m, rbm.dtype))))
    return tf.reduce_logsumexp(tf.stack(parts))


def exact_visible_distribution(rbm: BernoulliRBM) -> tf.Tensor:
    """Exact ``p(v)`` for every visible state: (2**n_visible,).

    Entry ``k`` is the probability of the state whose bits are those of ``k``
    (see :func:`all_binary_states` and :func:`state_codes`).
    """
    states = all_binary_states(rbm.n_visible, rbm.dtype)
    return tf.exp(-rbm.free_energy(states) - exact_log_partition(rbm))


def state_codes(v) -> tf.Tensor:
    """Integer code ``sum_i v_i 2**i`` of each binary row of ``v`` (n, d): (n,) int64."""
    v = tf.cast(tf.cast(v, tf.float64) > 0.5, tf.int64)
    powers = tf.bitwise.left_shift(tf.constant(1, tf.int64), tf.range(v.shape[-1], dtype=tf.int64))
    return tf.reduce_sum(v * powers, axis=-1)


def empirical_distribution(v) -> tf.Tensor:
    """Relative frequency of each of the ``2**d`` states among the rows of ``v``: (2**d,)."""
    d = int(v.shape[-1])
    counts = tf.math.bincount(state_codes(v), minlength=2**d, maxlength=2**d, dtype=tf.float64)
    return counts / tf.reduce_sum(counts)


def total_variation(p, q) -> float:
    """Total-variation distance ``0.5 * sum |p - q|`` between two distributions."""
    return 0.5 * float(tf.reduce_sum(tf.abs(tf.cast(p, tf.float64) - tf.cast(q, tf.float64))))


def exact_model_statistics(rbm: BernoulliRBM) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """Exact ``<v h^T>``, ``<v>`` and ``<h>`` under the model, by enumeration.

    Enumerates the smaller layer (at most 24 units) and uses the other
    layer's conditional means, e.g. ``<v h^T> = sum_h p(h) sigmoid(b + W h) h^T``.

    Returns:
        ``(vh (n_visible, n_hidden), v (n_visible,), h (n_hidden,))``.
    """
    log_z = exact_log_partition(rbm)
    if rbm.n_hidden <= rbm.n_visible:
        h = all_binary_states(rbm.n_hidden, rbm.dtype)
        p = tf.exp(-rbm.hidden_free_energy(h) - log_z)
        v = rbm.visible_probs(h)
    else:
        v = all_binary_states(rbm.n_visible, rbm.dtype)
        p = tf.exp(-rbm.free_energy(v) - log_z)
        h = rbm.hidden_probs(v)
    weighted = v * p[:, None]
    return tf.matmul(weighted, h, transpose_a=True), tf.reduce_sum(weighted, 0), tf.linalg.matvec(h, p, transpose_a=True)


class AISResult(NamedTuple):
    """An AIS estimate of ``log Z``.

    Attributes:
        log_z: the estimate ``log Z_A + log mean(w)``.
        std_err: its standard error in log space,
            ``std(w) / (sqrt(M) * mean(w))`` for ``M`` runs.
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

    def log_z_lower_bound(self, confidence: float = 0.99) -> float:
        """A lower bound on the true ``log Z`` that holds with probability ``confidence``.

        ``Z_hat`` is unbiased and non-negative, so Markov's inequality gives
        ``P(Z_hat >= Z / (1 - confidence)) <= 1 - confidence``, whatever the
        variance of the weights: ``log Z >= log Z_hat + log(1 - confidence)``.
        Unlike ``log_z_low`` it needs no normal approximation and stays
        finite when the runs disagree; the price is a wider margin
        (``log 100 = 4.6`` nats at 99%).  A log-likelihood computed with the
        true ``log Z`` is then at most the estimate plus that margin.
        """
        if isinstance(confidence, bool) or not isinstance(confidence, (int, float)) \
                or not 0 < confidence < 1:
            raise ValueError(f"confidence must be a probability in (0, 1); got {confidence!r}.")
        return self.log_z + math.log1p(-confidence)


def ais_schedule(kind: str = "salakhutdinov-murray", n: int | None = None) -> np.ndarray:
    """Inverse temperatures ``0 = beta_0 < ... < beta_K = 1``.

    Args:
        kind: ``"salakhutdinov-murray"``: steps of 1e-3 on [0, 0.5], 1e-4 on
            [0.5, 0.9] and 1e-5 on [0.9, 1] (14,500 intermediate
            distributions, as in the paper); ``"linear"``: ``n`` equal steps.
        n: number of steps for ``"linear"``.

    Returns:
        float64 array (K + 1,).
    """
    if kind == "salakhutdinov-murray":
        parts = [np.arange(500) * 1e-3, 0.5 + np.arange(4000) * 1e-4, 0.9 + np.arange(10000) * 1e-5]
        return np.concatenate(parts + [[1.0]])
    if kind == "linear":
        if not n or n < 1:
            raise ValueError("a linear schedule needs n >= 1 steps.")
        return np.linspace(0.0, 1.0, n + 1)
    raise ValueError(f"unknown schedule {kind!r}; use 'salakhutdinov-murray' or 'linear'.")


def base_rate_bias(x, *, pseudo_count: float = 1.0) -> np.ndarray:
    """Visible biases of the base-rate model: smoothed pixel log-odds.

    ``p_i = (sum_n x_ni + pseudo_count) / (N + 2 pseudo_count)``, ``b_i =
    log(p_i / (1 - p_i))``.  A base model close to the data makes AIS's first
    steps cheap.

    Args:
        x: training data (N, n_visible) in [0, 1].
        pseudo_count: additive smoothing.

    Returns:
        float64 array (n_visible,).
    """
    x = np.asarray(x, dtype=np.float64)
    p = (x.sum(axis=0) + pseudo_count) / (len(x) + 2 * pseudo_count)
    return np.log(p) - np.log1p(-p)


@tf.function(reduce_retracing=True)
def _ais_log_weights(W, b, c, base_b, betas, n_runs, rng):
    """Anneal from the base-rate model (beta=0) to the RBM (beta=1)."""
    dtype = W.dtype

    def log_unnorm(a, v, beta):
        # log p*_beta(v) with hidden units summed out, a = v W + c.
        return (
            tf.linalg.matvec(v, (1.0 - beta) * base_b + beta * b)
            + tf.reduce_sum(tf.nn.softplus(beta * a), axis=-1)
        )

    p0 = tf.sigmoid(base_b)
    v = sample_bernoulli(tf.broadcast_to(p0, [n_runs, tf.shape(base_b)[0]]), rng)
    log_w = tf.zeros([n_runs], tf.float64)
    n_steps = tf.shape(betas)[0]

    def body(k, v, log_w):
        beta_prev, beta = betas[k - 1], betas[k]
        a = tf.matmul(v, W) + c
        step = log_unnorm(a, v, beta) - log_unnorm(a, v, beta_prev)
        log_w += tf.cast(step, tf.float64)
        # A Gibbs transition that leaves p_beta invariant (reuses a).
        h = sample_bernoulli(tf.sigmoid(beta * a), rng)
        v_logits = (1.0 - beta) * base_b + beta * (b + tf.matmul(h, W, transpose_b=True))
        v = sample_bernoulli(tf.sigmoid(v_logits), rng)
        return k + 1, v, log_w

    _, _, log_w = tf.while_loop(
        lambda k, *_: k < n_steps, body, (tf.constant(1), tf.cast(v, dtype), log_w)
    )
    return log_w


_AIS_GENERATOR: list = []  # at most one tf.random.Generator, reused by every seeded AIS call


def _seeded_generator(seed: int) -> tf.random.Generator:
    """A generator in the state ``tf.random.Generator.from_seed(seed)`` starts in.

    ``_ais_log_weights`` is a ``tf.function`` that captures the generator it
    is given, so a new generator per call would trace it again every call
    (about half a second).  Outside ``tf.distribute`` scopes, one generator is
    therefore kept and reset to ``seed`` before each use: the same random
    numbers, traced once.  Not for concurrent calls from several threads.
    """
    if tf.distribute.has_strategy():
        return tf.random.Generator.from_seed(seed)
    if not _AIS_GENERATOR:
        with tf.init_scope():
            _AIS_GENERATOR.append(tf.random.Generator.from_seed(seed))
    else:
        _AIS_GENERATOR[0].reset_from_seed(seed)
    return _AIS_GENERATOR[0]


def ais_log_partition(
    rbm: BernoulliRBM,
    *,
    n_runs: int = 100,
    betas=None,
    base_bias=None,
    seed: int | tf.random.Generator = 0,
) -> AISResult:
    """Estimate ``log Z`` by annealed importance sampling.

    The path runs from a base-rate model ``A`` (independent visibles with
    biases ``base_bias``, no weights; ``log Z_A = sum_i softplus(base_bias_i)
    + n_hidden log 2``)
    to the RBM through ``p*_beta(v) = exp((1-beta) v.b_A + beta v.b)
    prod_j (1 + exp(beta (c + v W)_j))``, with one block Gibbs transition
    at each inverse temperature.  Runs are independent chains in parallel.

    Args:
        rbm: the model.
        n_runs: number of independent AIS runs ``M``.
        betas: inverse temperatures (K + 1,) from 0 to 1; default
            :func:`ais_schedule` (14,500 steps).
        base_bias: base-rate visible biases (n_visible,), e.g.
            :func:`base_rate_bias` of the training data; default zeros.
        seed: int seed or a ``tf.random.Generator``.

    Returns:
        An :class:`AISResult`.
    """
    betas = ais_schedule() if betas is None else np.asarray(betas, dtype=np.float64)
    if betas.ndim != 1 or len(betas) < 2 or betas[0] != 0 or betas[-1] != 1:
        raise ValueError("betas must be a 1-D increasing schedule from 0 to 1.")
    if np.any(np.diff(betas) <= 0):
        raise ValueError("betas must be strictly increasing.")
    if n_runs < 2:
        raise ValueError("n_runs must be at least 2 to give a standard error.")
    base_bias = np.zeros(rbm.n_visible) if base_bias is None else np.asarray(base_bias)
    if base_bias.shape != (rbm.n_visible,):
        raise ValueError(f"base_bias must have shape ({rbm.n_visible},); got {base_bias.shape}.")
    rng = seed if isinstance(seed, tf.random.Generator) else _seeded_generator(seed)
    base_b = tf.constant(base_bias, rbm.dtype)
    log_w = _ais_log_weights(
        rbm.W, rbm.b, rbm.c, base_b, tf.constant(betas, rbm.dtype), tf.constant(n_runs), rng
    ).numpy()
    # At beta = 0 every hidden unit contributes a factor (1 + e^0) = 2.
    log_z_base = float(tf.reduce_sum(tf.nn.softplus(tf.cast(base_b, tf.float64))))
    log_z_base += rbm.n_hidden * math.log(2.0)
    shift = log_w.max()
    w = np.exp(log_w - shift)
    mean_w = w.mean()
    rel_se = w.std(ddof=1) / (math.sqrt(n_runs) * mean_w)
    log_z = log_z_base + shift + math.log(mean_w)
    low = log_z + math.log(1 - 3 * rel_se) if rel_se < 1 / 3 else -math.inf
    return AISResult(log_z, rel_se, low, log_z + math.log1p(3 * rel_se), log_w)


def log_likelihood(rbm: BernoulliRBM, v, log_z) -> tf.Tensor:
    """Average ``log p(v) = -F(v) - log Z`` over the rows of ``v``, in nats.

    Args:
        rbm: the model.
        v: data (n, n_visible), binary for a true likelihood.
        log_z: ``log Z`` (exact or an AIS estimate).

    Returns:
        Scalar tensor.
    """
    check_binary_input(v, rbm.n_visible)
    return -tf.reduce_mean(rbm.free_energy(tf.cast(v, rbm.dtype))) - tf.cast(log_z, rbm.dtype)
