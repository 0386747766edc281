"""Exact answers for tiny RBMs, by enumerating a layer: log Z, p(v), model statistics.

For a model with at most ~24 units on one side, ``log Z`` is an exact sum
over the ``2**m`` states of that side (the other side is summed analytically
through the free energy).  These are the references every estimator and
sampler in the book is checked against (chapter 1, ``01_energy_models``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import tensorflow as tf

from ._validation import (as_model_input, check_float_dtype, check_int,
                          check_no_label_units)

if TYPE_CHECKING:
    from .rbm import BernoulliRBM

__all__ = [
    "MAX_EXACT_UNITS",
    "all_binary_states",
    "exact_log_partition",
    "exact_visible_distribution",
    "exact_model_statistics",
    "exact_samples",
    "visible_transition_matrix",
    "expected_cd_update",
    "parameter_jacobian",
    "state_codes",
    "empirical_distribution",
    "total_variation",
]

#: Largest layer that is enumerated (2**24 states).
MAX_EXACT_UNITS = 24
#: Largest layers of a transition matrix over visible states (4096 x 4096).
MAX_TRANSITION_UNITS = 12


def all_binary_states(n_units: int, dtype=tf.float32) -> tf.Tensor:
    """Every binary vector of length ``n_units``: (2**n_units, n_units).

    Row ``k`` holds the bits of ``k``, least significant first.
    """
    n_units = check_int(n_units, "n_units", low=1, high=MAX_EXACT_UNITS)
    codes = tf.range(2**n_units, dtype=tf.int64)
    return _bits(codes, n_units, check_float_dtype(dtype))


def _bits(codes, n_units, dtype):
    shifts = tf.range(n_units, dtype=tf.int64)
    shifted = tf.bitwise.right_shift(codes[:, None], shifts[None, :])
    bits = tf.bitwise.bitwise_and(shifted, tf.constant(1, tf.int64))
    return tf.cast(bits, dtype)


def _smaller_layer(rbm) -> int:
    m = min(rbm.n_visible, rbm.n_hidden)
    if rbm.n_hidden > rbm.n_visible:  # the visible layer is enumerated, bit by bit
        check_no_label_units(rbm, "enumerating the visible layer")
    if m > MAX_EXACT_UNITS:
        raise ValueError(
            f"exact log Z enumerates 2**{m} states, too many; it supports a layer of "
            f"at most {MAX_EXACT_UNITS} units. Estimate log Z with "
            "rbmtut.likelihood.ais_log_partition.")
    return m


def exact_log_partition(rbm: BernoulliRBM, *, chunk_bits: int = 16) -> tf.Tensor:
    """Exact ``log Z`` by enumerating the smaller layer.

    With ``m = min(n_visible, n_hidden) <= 24`` it sums ``exp(-F)`` over the
    ``2**m`` states of that layer, the other layer summed out analytically.
    Cost: ``2**m * n_visible * n_hidden``.

    Args:
        rbm: the model.
        chunk_bits: states are processed ``2**chunk_bits`` at a time, in [1, 24].

    Returns:
        Scalar tensor in the model's dtype.

    Raises:
        ValueError: if both layers have more than 24 units (use AIS).
    """
    chunk_bits = check_int(chunk_bits, "chunk_bits", low=1, high=MAX_EXACT_UNITS)
    parts = [tf.reduce_logsumexp(chunk)
             for chunk in _negative_free_energies(rbm, chunk_bits)]
    return tf.reduce_logsumexp(tf.stack(parts))


def _negative_free_energies(rbm, chunk_bits: int):
    """``-F`` of every state of the smaller layer, in order, ``2**chunk_bits``
    states at a time (the other layer summed out)."""
    m = _smaller_layer(rbm)
    free_energy = (rbm.hidden_free_energy if rbm.n_hidden <= rbm.n_visible
                   else rbm.free_energy)
    step = 2 ** min(chunk_bits, m)
    for start in range(0, 2**m, step):
        codes = tf.range(start, start + step, dtype=tf.int64)
        yield -free_energy(_bits(codes, m, rbm.dtype))


def exact_visible_distribution(rbm: BernoulliRBM) -> tf.Tensor:
    """Exact ``p(v)`` for every visible state: (2**n_visible,).

    Entry ``k`` is the probability of the state whose bits are those of ``k``
    (see :func:`all_binary_states` and :func:`state_codes`).
    """
    states = all_binary_states(rbm.n_visible, rbm.dtype)
    return tf.exp(-rbm.free_energy(states) - exact_log_partition(rbm))


def exact_model_statistics(rbm: BernoulliRBM, *,
                           log_z=None) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """Exact ``<v h^T>``, ``<v>`` and ``<h>`` under the model, by enumeration.

    Enumerates the smaller layer (at most 24 units) and uses the other
    layer's conditional means, e.g. ``<v h^T> = sum_h p(h) sigmoid(b + W h) h^T``.
    ``log_z``: :func:`exact_log_partition` of the model, if already computed.

    Returns:
        ``(vh (n_visible, n_hidden), v (n_visible,), h (n_hidden,))``.
    """
    log_z = exact_log_partition(rbm) if log_z is None else log_z
    if rbm.n_hidden <= rbm.n_visible:
        h = all_binary_states(rbm.n_hidden, rbm.dtype)
        p = tf.exp(-rbm.hidden_free_energy(h) - log_z)
        v = rbm.visible_probs(h)
    else:
        v = all_binary_states(rbm.n_visible, rbm.dtype)
        p = tf.exp(-rbm.free_energy(v) - log_z)
        h = rbm.hidden_probs(v)
    weighted = v * p[:, None]
    return (tf.matmul(weighted, h, transpose_a=True), tf.reduce_sum(weighted, 0),
            tf.linalg.matvec(h, p, transpose_a=True))


def exact_samples(rbm: BernoulliRBM, n: int, *, seed: int = 0) -> tf.Tensor:
    """``n`` independent samples of ``v`` drawn exactly from the model: (n, n_visible).

    Enumerates the smaller layer (at most 24 units).  Over the hidden layer it
    draws each ``h`` from its exact marginal ``p(h) = exp(-F(h)) / Z`` and then
    ``v ~ p(v | h)``; over the visible layer it draws ``v`` from ``p(v)``
    directly.  No Markov chain is involved, so the samples are exact — the
    start states reverse AIS needs (:mod:`rbmtut.conservative`), which long
    Gibbs chains only approximate.

    Args:
        rbm: the model.
        n: number of samples, >= 1.
        seed: seeds the draws (NumPy), so the same seed gives the same samples.

    Returns:
        Binary tensor (n, n_visible) in the model's dtype.
    """
    n = check_int(n, "n", low=1)
    check_no_label_units(rbm, "exact_samples")
    m = _smaller_layer(rbm)
    rng = np.random.default_rng(seed)
    log_p = np.concatenate([tf.cast(chunk, tf.float64).numpy()
                            for chunk in _negative_free_energies(rbm, 16)])
    p = np.exp(log_p - log_p.max())
    codes = rng.choice(len(p), size=n, p=p / p.sum())
    picked = _bits(tf.constant(codes, tf.int64), m, rbm.dtype)
    if rbm.n_hidden > rbm.n_visible:  # the enumerated layer is the visible one
        return picked
    means = tf.cast(rbm.visible_probs(picked), tf.float64).numpy()
    return tf.constant(rng.random(means.shape) < means, rbm.dtype)


def _layer_probabilities(logits, states) -> tf.Tensor:
    """``P[r, s] = prod_j p_j^s_j (1 - p_j)^(1 - s_j)`` with ``p = sigmoid(logits[r])``:
    the probability of each enumerated state ``s`` given each conditioning row."""
    on = tf.matmul(tf.math.log_sigmoid(logits), states, transpose_b=True)
    off = tf.matmul(tf.math.log_sigmoid(-logits), 1 - states, transpose_b=True)
    return tf.exp(on + off)


def visible_transition_matrix(rbm: BernoulliRBM) -> tf.Tensor:
    """The block Gibbs step on the visible states: ``T[v, v'] = sum_h p(h|v) p(v'|h)``.

    Both layers are enumerated (at most 12 units each).  Row ``k`` belongs to
    the state with the bits of ``k`` (:func:`all_binary_states`); every row
    sums to 1, and ``p(v)`` is the left eigenvector of eigenvalue 1.  Built
    from TensorFlow ops, so it can be differentiated with respect to the
    parameters.

    Returns:
        (2**n_visible, 2**n_visible) tensor in the model's dtype.
    """
    if max(rbm.n_visible, rbm.n_hidden) > MAX_TRANSITION_UNITS:
        raise ValueError(
            f"the transition matrix enumerates both layers; each may have at most "
            f"{MAX_TRANSITION_UNITS} units, got {rbm.n_visible} visible and "
            f"{rbm.n_hidden} hidden. Sample chains with rbmtut.gibbs instead.")
    v = all_binary_states(rbm.n_visible, rbm.dtype)
    h = all_binary_states(rbm.n_hidden, rbm.dtype)
    return tf.matmul(_layer_probabilities(rbm.hidden_logits(v), h),
                     _layer_probabilities(rbm.visible_logits(h), v))


def expected_cd_update(rbm: BernoulliRBM, data_probs, k: int | None
                       ) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """The CD-k update averaged exactly over the data and the Gibbs chains.

    With the data distribution ``q`` over the visible states and ``T`` the
    :func:`visible_transition_matrix`, the chains started at the data are
    distributed as ``q T^k`` after ``k`` steps, so the expected CD-k ascent
    direction is ``S(q) - S(q T^k)`` with ``S(r) = (<v p(h|v)^T>_r, <v>_r,
    <p(h|v)>_r)``.  As ``k`` grows it tends to the log-likelihood gradient,
    ``S(q) - S(p)``, which ``k=None`` gives (the chains at equilibrium).
    Differentiable in the parameters: its Jacobian shows whether CD-k is the
    gradient of any function (chapter 1, ``01_energy_models``).

    Args:
        rbm: the model (at most 12 units per layer).
        data_probs: (2**n_visible,) probabilities of the visible states (sum 1).
        k: Gibbs steps, >= 1, or None for the exact log-likelihood gradient.

    Returns:
        ``(W (n_visible, n_hidden), b (n_visible,), c (n_hidden,))``, the
        ascent direction (the negative of :func:`rbmtut.learning.cd_gradients`).
    """
    k = None if k is None else check_int(k, "k", low=1)
    q = tf.convert_to_tensor(data_probs, rbm.dtype)
    if q.shape != (2**rbm.n_visible,) or not np.isclose(float(tf.reduce_sum(q)), 1):
        raise ValueError(
            f"data_probs must be probabilities of shape ({2**rbm.n_visible},) that "
            "sum to 1, e.g. rbmtut.exact.empirical_distribution(x).")
    if k is None:
        q_k = exact_visible_distribution(rbm)
    else:
        transition, q_k = visible_transition_matrix(rbm), q
        for _ in range(k):
            q_k = tf.linalg.matvec(transition, q_k, transpose_a=True)
    v = all_binary_states(rbm.n_visible, rbm.dtype)
    p_h = rbm.hidden_probs(v)
    diff = q - q_k
    return (tf.matmul(v * diff[:, None], p_h, transpose_a=True),
            tf.linalg.matvec(v, diff, transpose_a=True),
            tf.linalg.matvec(p_h, diff, transpose_a=True))


def parameter_jacobian(rbm: BernoulliRBM, update) -> np.ndarray:
    """Jacobian of a parameter update with respect to the parameters: (P, P).

    ``update()`` returns a ``(W, b, c)``-shaped triple computed from the
    model's variables (e.g. ``lambda: expected_cd_update(rbm, q, 1)``); both
    it and the parameters are flattened in the order ``(W, b, c)``, ``P =
    n_visible * n_hidden + n_visible + n_hidden``.  A field is the gradient of
    some function only where this matrix is symmetric.
    """
    with tf.GradientTape(persistent=True) as tape:
        flat = tf.concat([tf.reshape(part, [-1]) for part in update()], axis=0)
    return np.concatenate(
        [tape.jacobian(flat, param, experimental_use_pfor=False).numpy()
         .reshape(len(flat), -1)
         for param in rbm.parameters], axis=1)


def _bit_rows(v) -> tf.Tensor:
    shape = tuple(v.shape) if hasattr(v, "shape") else np.shape(v)
    width = shape[1] if len(shape) == 2 else None
    v = as_model_input(v, width, tf.float64, name="v", values="binary", min_rows=0,
                       what="bits")
    if v.shape[-1] > 62:
        raise ValueError(
            f"state codes need at most 62 bits per row; got {v.shape[-1]}.")
    return v


def state_codes(v) -> tf.Tensor:
    """Integer code ``sum_i v_i 2**i`` of each binary row of ``v`` (n, d <= 62):
    (n,) int64.
    """
    v = tf.cast(_bit_rows(v) > 0.5, tf.int64)
    powers = tf.bitwise.left_shift(tf.constant(1, tf.int64),
                                   tf.range(v.shape[-1], dtype=tf.int64))
    return tf.reduce_sum(v * powers, axis=-1)


def empirical_distribution(v) -> tf.Tensor:
    """Relative frequency of each of the ``2**d`` states among the rows of ``v``:
    (2**d,).
    """
    v = _bit_rows(v)
    d = check_int(int(v.shape[-1]), "the number of bits per row",
                  high=MAX_EXACT_UNITS)
    counts = tf.math.bincount(state_codes(v), minlength=2**d, maxlength=2**d,
                              dtype=tf.float64)
    return counts / tf.reduce_sum(counts)


def total_variation(p, q) -> float:
    """Total-variation distance ``0.5 * sum |p - q|`` between two distributions
    (same shape).
    """
    p, q = tf.cast(p, tf.float64), tf.cast(q, tf.float64)
    if p.shape != q.shape:
        raise ValueError(
            f"p and q must have the same shape; got {p.shape} and {q.shape}.")
    return 0.5 * float(tf.reduce_sum(tf.abs(p - q)))
