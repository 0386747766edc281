"""Likelihoods of the Gaussian-unit RBMs: exact log Z, AIS, and the honest baseline.

A :class:`rbmtut.gaussian.GaussianBernoulliRBM` with few hidden units has an
exact ``log Z``: enumerate ``h`` and integrate ``v`` analytically (the
hidden free energy).  For a :class:`rbmtut.gaussian.BernoulliGaussianRBM` the
binary layer is the visible one, and ``log Z`` sums ``exp(-F(v))`` over it.
Larger Gaussian-Bernoulli models are estimated by AIS from independent
Gaussians fitted to the data, with Gibbs transitions that stay exact because
every intermediate ``p_beta(v | h)`` is still Gaussian.

Densities of real-valued data are in nats per example, and they depend on
the data's units: if the model saw ``x' = (x - m) A``, then ``log p(x) =
log p'(x') + log |det A|`` (the Jacobian of the map), which
:class:`Preprocessing` applies.  The baseline any density model of real data
must beat is a full-covariance Gaussian (:func:`gaussian_log_likelihood`).
Chapter 2d (``02d_real_valued_data``) uses all of it.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import tensorflow as tf

from ._seeding import SeededFunction
from ._validation import check_int, check_matrix, check_real
from .exact import all_binary_states
from .gaussian import BernoulliGaussianRBM, GaussianBernoulliRBM
from .likelihood import AISResult, annealing_path
from .nn import sample_bernoulli

__all__ = ["MAX_EXACT_GAUSSIAN_UNITS", "exact_log_partition", "ais_log_partition",
           "Preprocessing", "log_likelihood", "gaussian_log_likelihood"]

#: Largest binary layer enumerated for an exact log Z (2**20 states).
MAX_EXACT_GAUSSIAN_UNITS = 20


def exact_log_partition(model) -> tf.Tensor:
    """Exact ``log Z`` of a model with at most 20 binary units.

    Gaussian-Bernoulli: ``log Z = logsumexp_h(-F_h(h))`` over the ``2**n_hidden``
    hidden states, where ``F_h`` integrates ``v`` out (it holds the Gaussians'
    normalisers ``log(2 pi sigma^2) / 2``).  Bernoulli-Gaussian:
    ``logsumexp_v(-F(v))`` over the visible states.

    Returns a scalar tensor in the model's dtype.
    """
    if isinstance(model, GaussianBernoulliRBM):
        n_binary, free_energy = model.n_hidden, model.hidden_free_energy
    elif isinstance(model, BernoulliGaussianRBM):
        n_binary, free_energy = model.n_visible, model.free_energy
    else:
        raise TypeError("model must be a GaussianBernoulliRBM or a "
                        f"BernoulliGaussianRBM; got {type(model).__name__} (for a "
                        "BernoulliRBM use rbmtut.exact.exact_log_partition).")
    if n_binary > MAX_EXACT_GAUSSIAN_UNITS:
        raise ValueError(
            f"exact log Z enumerates 2**{n_binary} binary states; it supports at most "
            f"{MAX_EXACT_GAUSSIAN_UNITS} binary units. Use ais_log_partition.")
    states = all_binary_states(n_binary, model.dtype)
    parts = [tf.reduce_logsumexp(-free_energy(chunk))
             for chunk in tf.split(states, max(1, 2 ** (n_binary - 16)))]
    return tf.reduce_logsumexp(tf.stack(parts))


@tf.function(reduce_retracing=True)
def _annealed_log_weights(W, b, c, log_variance, base_mean, base_log_variance,
                          betas, n_runs, rng):
    """Forward AIS from independent Gaussians ``A = N(base_mean, base_variance)``
    to the Gaussian-Bernoulli RBM ``B``: log-weights (n_runs,).

    ``p*_beta(v, h) = exp(-(1 - beta) E_A(v) - beta E_B(v, h))``.  With ``h``
    summed out, ``log p*_beta(v) = -(1 - beta) q_A(v) - beta q_B(v) + sum_j
    softplus(beta a_j)``, ``q`` the quadratic terms and ``a = c + (v /
    sigma^2) W``.  Its conditionals are ``h ~ sigmoid(beta a)`` and a
    Gaussian ``v | h`` whose precision is the mixture of both precisions.
    """
    precision, base_precision = tf.exp(-log_variance), tf.exp(-base_log_variance)
    n_visible = tf.shape(b)[0]
    v = base_mean + tf.exp(0.5 * base_log_variance) * rng.normal(
        tf.stack([n_runs, n_visible]), dtype=b.dtype)
    n_steps = tf.shape(betas)[0]

    def parts(v):
        q_a = 0.5 * tf.linalg.matvec(tf.square(v - base_mean), base_precision)
        q_b = 0.5 * tf.linalg.matvec(tf.square(v - b), precision)
        return q_a, q_b, tf.matmul(v * precision, W) + c

    def body(t, v, log_w):
        beta_prev, beta = betas[t - 1], betas[t]
        q_a, q_b, a = parts(v)
        step = ((beta - beta_prev) * (q_a - q_b)
                + tf.reduce_sum(tf.nn.softplus(beta * a)
                                - tf.nn.softplus(beta_prev * a), axis=-1))
        log_w += tf.cast(step, tf.float64)
        # A Gibbs transition that leaves p_beta invariant.
        h = sample_bernoulli(tf.sigmoid(beta * a), rng)
        mix = (1 - beta) * base_precision + beta * precision
        mean = ((1 - beta) * base_precision * base_mean
                + beta * precision * (b + tf.matmul(h, W, transpose_b=True))) / mix
        v = mean + tf.math.rsqrt(mix) * rng.normal(tf.shape(v), dtype=v.dtype)
        return t + 1, v, log_w

    _, _, log_w = tf.while_loop(
        lambda t, *_: t < n_steps, body,
        (tf.constant(1), v, tf.zeros([n_runs], tf.float64)))
    return log_w


_SEEDED_AIS = SeededFunction(_annealed_log_weights, compile=False)


def ais_log_partition(model: GaussianBernoulliRBM, base_data, *, n_runs: int = 100,
                      betas=None, seed: int = 0) -> AISResult:
    """Estimate ``log Z`` of a Gaussian-Bernoulli RBM by annealed importance sampling.

    The base model is a product of independent Gaussians with the means and
    variances of ``base_data`` (the training data, as the model saw them),
    with ``log Z_A = sum_i log(2 pi s_i^2) / 2 + n_hidden log 2`` (each
    hidden unit, unconnected at beta = 0, adds a factor 2).  ``E[Z_hat] = Z``,
    so the estimate of ``log Z`` is low on average and the log-likelihood it
    gives optimistic.

    Args:
        model: the RBM.
        base_data: data (n, n_visible), n >= 2, for the base model's moments.
        n_runs: independent AIS runs, >= 2.
        betas: inverse temperatures from 0 to 1 (default: the 14,500-step
            schedule of :func:`rbmtut.likelihood.ais_schedule`).
        seed: seeds the runs.

    Returns an :class:`rbmtut.likelihood.AISResult`.
    """
    if not isinstance(model, GaussianBernoulliRBM):
        raise TypeError(f"model must be a GaussianBernoulliRBM; got "
                        f"{type(model).__name__}.")
    n_runs = check_int(n_runs, "n_runs", low=2)
    x = np.asarray(model.visible_input(base_data, "base_data"), np.float64)
    if x.shape[0] < 2 or np.any(x.var(axis=0) <= 0):
        raise ValueError("base_data needs at least two rows and no constant column "
                         "(the base model is fitted to its means and variances).")
    betas = annealing_path(model, betas)[0]  # checked: increasing from 0 to 1
    base_log_variance = np.log(x.var(axis=0))
    log_z_base = (0.5 * float(np.sum(base_log_variance + math.log(2 * math.pi)))
                  + model.n_hidden * math.log(2.0))
    as_tensor = lambda a: tf.constant(a, model.dtype)  # noqa: E731
    log_w = _SEEDED_AIS(seed, model.W, model.b, model.c, model.log_variance,
                        as_tensor(x.mean(axis=0)), as_tensor(base_log_variance),
                        as_tensor(betas), tf.constant(n_runs)).numpy()
    return AISResult.from_log_weights(log_w, log_z_base)


class Preprocessing(NamedTuple):
    """A linear map of real-valued data, ``x' = (x - mean) @ matrix``.

    Attributes:
        mean: (d,); matrix: (d, d), invertible.

    A model of ``x'`` is a model of ``x`` with density ``p(x) = p'(x') |det
    matrix|``: :attr:`log_jacobian` converts nats per example between the two.
    """

    mean: np.ndarray
    matrix: np.ndarray

    @classmethod
    def standardize(cls, x) -> Preprocessing:
        """Each pixel of the data ``x`` (n, d) to mean 0 and variance 1."""
        x = check_matrix(x, "x", min_rows=2).astype(np.float64)
        scale = x.std(axis=0)
        if np.any(scale <= 0):
            raise ValueError("x has a constant column; it cannot be scaled to unit "
                             "variance (drop it).")
        return cls(x.mean(axis=0), np.diag(1.0 / scale))

    @classmethod
    def whiten(cls, x, *, epsilon: float = 0.01) -> Preprocessing:
        """ZCA whitening of ``x`` (n, d): ``matrix = U diag((lambda + epsilon
        lambda_mean)^-1/2) U^T`` from the covariance's eigenvectors ``U`` and
        eigenvalues ``lambda``.  The regulariser ``epsilon`` (relative to the
        mean eigenvalue) keeps the smallest, noisiest directions from being
        amplified without bound.  The result is symmetric: whitened patches
        still look like patches.
        """
        x = check_matrix(x, "x", min_rows=2).astype(np.float64)
        epsilon = check_real(epsilon, "epsilon", low=0.0)
        eigenvalues, vectors = np.linalg.eigh(np.cov(x, rowvar=False, bias=True)
                                              .reshape(x.shape[1], -1))
        damped = eigenvalues + epsilon * eigenvalues.mean()
        if np.any(damped <= 0):
            raise ValueError("x has a singular covariance; pass epsilon > 0.")
        return cls(x.mean(axis=0), (vectors / np.sqrt(damped)) @ vectors.T)

    def apply(self, x) -> np.ndarray:
        """``(x - mean) @ matrix`` of ``x`` (n, d), float32."""
        x = check_matrix(x, "x", width=len(self.mean))
        return ((x - self.mean) @ self.matrix).astype(np.float32)

    def invert(self, z) -> np.ndarray:
        """The data ``x`` (n, d) whose preprocessed form is ``z``, float32."""
        z = check_matrix(z, "z", width=len(self.mean))
        return (np.linalg.solve(self.matrix.T, z.T).T + self.mean).astype(np.float32)

    @property
    def log_jacobian(self) -> float:
        """``log |det matrix|``: add it to a log-density of preprocessed data to
        get the density of the data in their own units."""
        return float(np.linalg.slogdet(self.matrix)[1])


def log_likelihood(model, x, log_z, *,
                   preprocessing: Preprocessing | None = None) -> float:
    """Average ``log p(x) = -F(x) - log Z`` over the rows of ``x``, in nats.

    Args:
        model: a Gaussian-unit RBM.
        x: data (n, n_visible) as the model sees them (preprocessed, if it
            was trained on preprocessed data).
        log_z: its ``log Z`` (exact or estimated).
        preprocessing: the :class:`Preprocessing` the data went through, to
            report nats per example of the original data (adds its Jacobian).
    """
    x = model.visible_input(x, "x")
    mean_free_energy = float(tf.reduce_mean(tf.cast(model.free_energy(x), tf.float64)))
    value = -mean_free_energy - float(log_z)
    return value + (preprocessing.log_jacobian if preprocessing is not None else 0.0)


def gaussian_log_likelihood(train, test, *, ridge: float = 1e-6) -> float:
    """Average log-density of ``test`` under one full-covariance Gaussian fitted
    to ``train`` (maximum likelihood, plus ``ridge`` times the mean variance
    on the diagonal so that the covariance is invertible), in nats per row.

    The baseline a density model of real-valued data must beat: it captures
    every second-order statistic, all that whitening removes.
    """
    train = check_matrix(train, "train", min_rows=2).astype(np.float64)
    test = check_matrix(test, "test", width=train.shape[1]).astype(np.float64)
    mean = train.mean(axis=0)
    cov = np.cov(train, rowvar=False, bias=True).reshape(train.shape[1], -1)
    cov += ridge * np.trace(cov) / len(cov) * np.eye(len(cov))
    chol = np.linalg.cholesky(cov)
    z = np.linalg.solve(chol, (test - mean).T)
    log_det = 2 * np.sum(np.log(np.diag(chol)))
    return float(np.mean(-0.5 * np.sum(z**2, axis=0))
                 - 0.5 * (log_det + len(cov) * math.log(2 * math.pi)))
