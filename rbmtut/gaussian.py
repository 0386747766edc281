"""RBMs with Gaussian units: real-valued visibles, or linear hidden units.

**Gaussian visible units** (:class:`GaussianBernoulliRBM`) model real-valued
data such as image patches.  With a learned variance ``sigma_i^2`` per pixel
the energy is the one of Cho, Ilin & Raiko (2011),

    E(v, h) = sum_i (v_i - b_i)^2 / (2 sigma_i^2) - h.c
              - sum_ij v_i W_ij h_j / sigma_i^2,

so that ``p(v_i | h) = N(b_i + (W h)_i, sigma_i^2)`` and ``p(h_j = 1 | v) =
sigmoid(c_j + ((v / sigma^2) W)_j)``.  The variances are learned as ``z_i =
log sigma_i^2``: every value of ``z`` is a valid model, so no step can make
a variance negative.  Summing out ``h`` gives the free energy

    F(v) = sum_i (v_i - b_i)^2 / (2 sigma_i^2)
           - sum_j softplus(c_j + ((v / sigma^2) W)_j),

and integrating out ``v`` the hidden free energy ``F_h(h) = -h.c - sum_i
[((b_i + (W h)_i)^2 - b_i^2) / (2 sigma_i^2) + log(2 pi sigma_i^2) / 2]``.

**Linear hidden units** (:class:`BernoulliGaussianRBM`), with unit variance,
turn the top RBM of a stack into the real-valued code layer of Hinton &
Salakhutdinov (2006):

    E(v, h) = -v.b - h.c + h.h / 2 - v W h,

so ``p(h | v) = N(c + v W, I)``, ``p(v_i = 1 | h) = sigmoid(b_i + (W h)_i)``
and ``F(v) = -v.b - |c + v W|^2 / 2 - n_hidden log(2 pi) / 2``.

Both models speak the samplers' language (:mod:`rbmtut.gibbs`): a layer's
*mean* given the other layer, and a *draw* around that mean — a Gaussian draw,
not the mean itself.  They train with :class:`rbmtut.RBMTrainer` (CD-k or
PCD-k, through autodiff of the surrogate ``F(v_data) - F(v_model)``); their
likelihoods are in :mod:`rbmtut.gaussian_likelihood`.  Chapter 2
(``02d_real_valued_data``) uses the first, chapter 5b the second.
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

from ._validation import as_model_input, check_bool
from .gibbs import gibbs_chain
from .nn import sample_bernoulli
from .rbm import RBMBase

__all__ = ["GaussianBernoulliRBM", "BernoulliGaussianRBM"]


class _GaussianUnitsRBM(RBMBase):
    """The conditionals and generation both Gaussian-unit models share, written
    through their unit types."""

    def hidden_probs(self, v) -> tf.Tensor:
        """The hidden layer's mean given ``v``, ``E[h | v]``: (n, n_hidden)."""
        return self.hidden_mean(self.hidden_logits(v))

    def sample_hidden(self, v, rng: tf.random.Generator) -> tf.Tensor:
        """Draw ``h ~ p(h | v)``: (n, n_hidden)."""
        return self.draw_hidden(self.hidden_probs(v), rng)

    def sample_visible(self, h, rng: tf.random.Generator) -> tf.Tensor:
        """Draw ``v ~ p(v | h)``: (n, n_visible)."""
        return self.draw_visible(self.visible_mean(h), rng)

    def energy(self, v, h) -> tf.Tensor:
        """Joint energy ``E(v, h)`` of each row: (n,)."""
        return self._energy(*self.paired_input(v, h))

    def generate(self, start, n, k, rng):
        """The whole generation run in tensors; :meth:`sample` calls it.  Returns
        the last step's visible draws, not their means."""
        if start is None:
            start = self.noise(n, rng)
        return gibbs_chain(self, start, k, rng).v


class GaussianBernoulliRBM(_GaussianUnitsRBM):
    """Real-valued (Gaussian) visible units with learned variances, binary hidden units.

    The energy is in the module docstring.  Parameters: ``W`` (n_visible,
    n_hidden), ``b`` (n_visible,), the visible means' biases; ``c``
    (n_hidden,); and ``log_variance`` (n_visible,), ``z_i = log sigma_i^2``.

    Scale the data first (each pixel to mean 0 and variance 1 is the usual
    choice, :meth:`init_from_data` then starts at the right variances):
    with raw pixel values of large variance the learning rate that suits
    ``W`` is far too large for ``z``.

    Args:
        n_visible, n_hidden: layer sizes.
        weight_std: standard deviation of the initial weights.
        seed: seed of the weight initialisation.
        learn_variance: learn ``log_variance`` (True), or keep it where it is
            set (its start is 0: unit variances).
        dtype: ``tf.float32`` or ``tf.float64``.
        name: module name.
    """

    def __init__(self, n_visible: int, n_hidden: int, *, weight_std: float = 0.01,
                 seed: int = 0, learn_variance: bool = True, dtype=tf.float32,
                 name: str | None = None):
        super().__init__(n_visible, n_hidden, weight_std, seed, dtype, name)
        self.learn_variance = check_bool(learn_variance, "learn_variance")
        self.log_variance = tf.Variable(tf.zeros(self.n_visible, self.dtype),
                                        trainable=self.learn_variance,
                                        name="log_variance")

    def get_config(self) -> dict:
        return {**super().get_config(), "learn_variance": self.learn_variance}

    @property
    def parameters(self) -> tuple:
        """The trained variables: ``(W, b, c, log_variance)``, or ``(W, b, c)``
        when the variances are fixed."""
        base = (self.W, self.b, self.c)
        return base + (self.log_variance,) if self.learn_variance else base

    @property
    def variance(self) -> tf.Tensor:
        """``sigma^2 = exp(log_variance)``: (n_visible,)."""
        return tf.exp(self.log_variance)

    def init_from_data(self, x) -> None:
        """Set ``b`` to the data's means and ``sigma^2`` to their variances.

        With ``W = 0`` that is the maximum-likelihood model (independent
        Gaussians), so learning starts from the best model without hidden units.

        Args:
            x: data (n, n_visible), at least two rows.
        """
        x = np.asarray(self.visible_input(x, "x"), np.float64)
        if x.shape[0] < 2:
            raise ValueError("x needs at least two rows to have a variance.")
        variance = x.var(axis=0)
        if np.any(variance <= 0):
            raise ValueError("x has a constant column; a Gaussian unit needs data "
                             "that vary (drop the column or add it to b).")
        self.b.assign(tf.constant(x.mean(axis=0), self.dtype))
        self.log_variance.assign(tf.constant(np.log(variance), self.dtype))

    # -- inputs and unit types --------------------------------------------------
    def visible_input(self, v, name: str = "v", values: str = "real") -> tf.Tensor:
        """``v`` (n, n_visible) of finite reals, in the model's dtype."""
        return as_model_input(v, self.n_visible, self.dtype, name=name, values=values)

    def hidden_input(self, h, name: str = "h") -> tf.Tensor:
        """``h`` (n, n_hidden) in [0, 1], in the model's dtype."""
        return as_model_input(h, self.n_hidden, self.dtype, name=name,
                              what="hidden units")

    def noise(self, n, rng):
        """Chains' start: ``v`` drawn from ``p(v | h)`` with random binary ``h``."""
        h = sample_bernoulli(tf.fill(tf.stack([n, self.n_hidden]),
                                     tf.constant(0.5, self.dtype)), rng)
        return self.sample_visible(h, rng)

    def hidden_logits(self, v) -> tf.Tensor:
        """``c + (v / sigma^2) W``: (n, n_hidden)."""
        v = self.visible_input(v)
        return tf.matmul(v * tf.exp(-self.log_variance), self.W) + self.c

    @staticmethod
    def hidden_mean(hidden_logits) -> tf.Tensor:
        """``p(h = 1 | v) = sigmoid(logits)``."""
        return tf.sigmoid(hidden_logits)

    draw_hidden = staticmethod(sample_bernoulli)

    def visible_mean(self, h) -> tf.Tensor:
        """``E[v | h] = b + h W^T``: (n, n_visible)."""
        return tf.matmul(self.hidden_input(h), self.W, transpose_b=True) + self.b

    def draw_visible(self, mean, rng: tf.random.Generator) -> tf.Tensor:
        """``v = mean + sigma * epsilon``, one standard normal per entry."""
        noise = rng.normal(tf.shape(mean), dtype=mean.dtype)
        return mean + tf.exp(0.5 * self.log_variance) * noise

    # -- energies -----------------------------------------------------------------
    def _energy(self, v, h):
        precision = tf.exp(-self.log_variance)
        return (0.5 * tf.linalg.matvec(tf.square(v - self.b), precision)
                - tf.linalg.matvec(h, self.c)
                - tf.reduce_sum(tf.matmul(v * precision, self.W) * h, axis=-1))

    def free_energy(self, v) -> tf.Tensor:
        """``F(v)`` (module docstring), ``p(v) = exp(-F(v)) / Z``: (n,)."""
        v = self.visible_input(v)
        quadratic = 0.5 * tf.linalg.matvec(tf.square(v - self.b),
                                           tf.exp(-self.log_variance))
        return quadratic - tf.reduce_sum(tf.nn.softplus(self.hidden_logits(v)), -1)

    def hidden_free_energy(self, h) -> tf.Tensor:
        """``F_h(h)``, the visibles integrated out: (n,); ``p(h) = exp(-F_h) / Z``."""
        h = self.hidden_input(h)
        mean = self.visible_mean(h)
        precision = tf.exp(-self.log_variance)
        gain = 0.5 * tf.linalg.matvec(tf.square(mean) - tf.square(self.b), precision)
        normaliser = 0.5 * tf.reduce_sum(self.log_variance + math.log(2 * math.pi))
        return -tf.linalg.matvec(h, self.c) - gain - normaliser


class BernoulliGaussianRBM(_GaussianUnitsRBM):
    """Binary visible units, linear (unit-variance Gaussian) hidden units.

    The energy is in the module docstring; parameters ``W``, ``b``, ``c`` as
    in :class:`rbmtut.BernoulliRBM`.  The hidden mean ``c + v W`` is linear in
    ``v``, which is why it makes the code layer of an unrolled deep autoencoder
    (:meth:`rbmtut.DBN.unroll`) linear.  Keep the weights small: the hidden
    units are unbounded, and large weights make Gibbs chains wander far.

    Args:
        n_visible, n_hidden: layer sizes.
        weight_std: standard deviation of the initial weights.
        seed: seed of the weight initialisation.
        dtype: ``tf.float32`` or ``tf.float64``.
        name: module name.
    """

    def __init__(self, n_visible: int, n_hidden: int, *, weight_std: float = 0.01,
                 seed: int = 0, dtype=tf.float32, name: str | None = None):
        super().__init__(n_visible, n_hidden, weight_std, seed, dtype, name)

    @property
    def parameters(self) -> tuple:
        """The trained variables: ``(W, b, c)``."""
        return (self.W, self.b, self.c)

    # -- inputs and unit types --------------------------------------------------
    def visible_input(self, v, name: str = "v", values: str = "unit") -> tf.Tensor:
        """``v`` (n, n_visible) in [0, 1], in the model's dtype."""
        return as_model_input(v, self.n_visible, self.dtype, name=name, values=values)

    def hidden_input(self, h, name: str = "h") -> tf.Tensor:
        """``h`` (n, n_hidden) of finite reals, in the model's dtype."""
        return as_model_input(h, self.n_hidden, self.dtype, name=name, values="real",
                              what="hidden units")

    def noise(self, n, rng):
        """Chains' start: every visible unit on with probability 1/2."""
        return sample_bernoulli(tf.fill(tf.stack([n, self.n_visible]),
                                        tf.constant(0.5, self.dtype)), rng)

    def hidden_logits(self, v) -> tf.Tensor:
        """``c + v W``: (n, n_hidden), the hidden means."""
        return tf.matmul(self.visible_input(v), self.W) + self.c

    @staticmethod
    def hidden_mean(hidden_logits) -> tf.Tensor:
        """Linear units: the mean is the input itself."""
        return hidden_logits

    @staticmethod
    def draw_hidden(mean, rng: tf.random.Generator) -> tf.Tensor:
        """``h = mean + epsilon``, unit variance."""
        return mean + rng.normal(tf.shape(mean), dtype=mean.dtype)

    def visible_logits(self, h) -> tf.Tensor:
        """``b + h W^T``: (n, n_visible)."""
        return tf.matmul(self.hidden_input(h), self.W, transpose_b=True) + self.b

    def visible_mean(self, h) -> tf.Tensor:
        """``p(v = 1 | h) = sigmoid(b + h W^T)``: (n, n_visible)."""
        return tf.sigmoid(self.visible_logits(h))

    visible_probs = visible_mean
    draw_visible = staticmethod(sample_bernoulli)

    # -- energies -----------------------------------------------------------------
    def _energy(self, v, h):
        return (-tf.linalg.matvec(v, self.b) - tf.linalg.matvec(h, self.c)
                + 0.5 * tf.reduce_sum(tf.square(h), -1)
                - tf.reduce_sum(tf.matmul(v, self.W) * h, axis=-1))

    def free_energy(self, v) -> tf.Tensor:
        """``F(v) = -v.b - |c + v W|^2 / 2 - n_hidden log(2 pi) / 2``: (n,)."""
        v = self.visible_input(v)
        return (-tf.linalg.matvec(v, self.b)
                - 0.5 * tf.reduce_sum(tf.square(self.hidden_logits(v)), -1)
                - 0.5 * self.n_hidden * math.log(2 * math.pi))

    def hidden_free_energy(self, h) -> tf.Tensor:
        """``F_h(h) = -h.c + |h|^2 / 2 - sum_i softplus(b_i + (W h)_i)``: (n,)."""
        h = self.hidden_input(h)
        return (-tf.linalg.matvec(h, self.c) + 0.5 * tf.reduce_sum(tf.square(h), -1)
                - tf.reduce_sum(tf.nn.softplus(self.visible_logits(h)), -1))
