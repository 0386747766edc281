"""The Bernoulli-Bernoulli restricted Boltzmann machine.

An RBM with binary visible units ``v`` (n_visible,) and binary hidden units
``h`` (n_hidden,) defines the energy

    E(v, h) = -v.b - h.c - v W h

and the Boltzmann distribution p(v, h) = exp(-E(v, h)) / Z.  Because there are
no connections inside a layer, both conditionals factorise into independent
logistic units, and the hidden layer can be summed out in closed form, which
gives the free energy

    F(v) = -v.b - sum_j softplus(c_j + (v W)_j),   p(v) = exp(-F(v)) / Z.

Chapter 1 (``01_energy_models``) derives all of this and checks it against
brute-force enumeration.  Every method takes data of any float dtype and
casts it to the model's; values are checked where they are known (outside
``tf.function``).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from ._seeding import SeededFunction
from ._validation import (as_model_input, check_float_dtype, check_int, check_real,
                          check_seed)
from .gibbs import gibbs_chain
from .nn import sample_bernoulli
from .saving import Saveable

__all__ = ["RBMBase", "BernoulliRBM"]


class RBMBase(Saveable, tf.Module):
    """What every RBM of the package shares, whatever its unit types: the sizes,
    the weights ``W`` (n_visible, n_hidden) and biases ``b`` (n_visible,), ``c``
    (n_hidden,), copying, checked inputs of the energy, and seeded generation.

    A subclass names its unit types (``visible_input``, ``hidden_input``,
    means and draws, see :mod:`rbmtut.gibbs`), its energies and ``generate``.
    """

    def __init__(self, n_visible, n_hidden, weight_std, seed, dtype, name):
        super().__init__(name=name)
        self.n_visible = check_int(n_visible, "n_visible", low=1)
        self.n_hidden = check_int(n_hidden, "n_hidden", low=1)
        weight_std = check_real(weight_std, "weight_std", low=0.0)
        self.dtype = check_float_dtype(dtype)
        init = tf.random.Generator.from_seed(check_seed(seed)).normal(
            (self.n_visible, self.n_hidden), stddev=weight_std, dtype=self.dtype
        )
        self.W = tf.Variable(init, name="W")
        self.b = tf.Variable(tf.zeros(self.n_visible, self.dtype), name="b")
        self.c = tf.Variable(tf.zeros(self.n_hidden, self.dtype), name="c")
        self._sampler = SeededFunction(self.generate)

    def get_config(self) -> dict:
        """The arguments that rebuild an RBM of this shape (see
        :mod:`rbmtut.saving`).
        """
        return {"n_visible": self.n_visible, "n_hidden": self.n_hidden,
                "dtype": self.dtype.name, "name": self.name}

    def copy(self):
        """A new model with the same settings and a copy of the current parameters."""
        clone = type(self)(**self.get_config())
        for dst, src in zip(clone.variables, self.variables):
            dst.assign(src)
        return clone

    def paired_input(self, v, h) -> tuple[tf.Tensor, tf.Tensor]:
        """Checked ``v`` (n, n_visible) and ``h`` (n, n_hidden): one ``h`` per ``v``."""
        v, h = self.visible_input(v), self.hidden_input(h)
        if (v.shape[0] is not None and h.shape[0] is not None
                and v.shape[0] != h.shape[0]):
            raise ValueError(
                f"v has {v.shape[0]} rows but h has {h.shape[0]}; pass one h per v.")
        return v, h

    def sample(self, n: int, *, seed: int = 0, k: int = 1000, start=None) -> tf.Tensor:
        """Generate ``n`` fantasies: ``k`` block Gibbs steps from noise (or from
        ``start``).

        The whole chain is one compiled ``tf.while_loop``; the same seed gives
        the same samples.

        Args:
            n: number of samples (equal to ``len(start)`` when given), >= 1.
            seed: seed of the chains' noise.
            k: Gibbs steps, >= 1.
            start: optional visible states (n, n_visible) to start from.

        Returns:
            What :meth:`generate` gives for the last step, (n, n_visible): for
            binary visible units the pixels' probabilities ``p(v | h)`` (draw
            bits with :func:`rbmtut.nn.sample_bernoulli`), for Gaussian ones
            the draws themselves.
        """
        n = check_int(n, "n", low=1)
        k = check_int(k, "k", low=1)
        if start is not None:
            start = self.visible_input(start, "start")
            if start.shape[0] != n:
                raise ValueError(
                    f"start has {start.shape[0]} rows but n = {n}; pass n=len(start).")
        return self._sampler(seed, start, tf.constant(n), tf.constant(k))

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(n_visible={self.n_visible}, "
                f"n_hidden={self.n_hidden}, dtype={self.dtype.name})")


class BernoulliRBM(RBMBase):
    """A restricted Boltzmann machine with binary visible and hidden units.

    Parameters are raw ``tf.Variable``s so that other models can tie or
    transpose them: ``W`` (n_visible, n_hidden), visible biases ``b``
    (n_visible,) and hidden biases ``c`` (n_hidden,).

    Args:
        n_visible: number of visible units (e.g. 784 for MNIST).
        n_hidden: number of hidden units.
        weight_std: standard deviation of the initial Gaussian weights
            (0.01 as recommended by Hinton's practical guide).
        seed: seed of the weight initialisation.
        visible_bias: optional initial visible biases (n_visible,); see
            :meth:`init_visible_bias_from_data`.
        dtype: ``tf.float32`` (default) or ``tf.float64``.
        name: module name.

    Train it with :func:`rbmtut.fit_rbm`; save it with :meth:`save`.
    """

    #: Softmax label units at the end of the visible layer: none here (see
    #: :class:`rbmtut.labelled_rbm.LabelledRBM`).
    n_labels = 0

    def __init__(self, n_visible: int, n_hidden: int, *, weight_std: float = 0.01,
                 seed: int = 0, visible_bias=None, dtype=tf.float32,
                 name: str | None = None):
        super().__init__(n_visible, n_hidden, weight_std, seed, dtype, name)
        if visible_bias is not None:
            rows = (np.reshape(visible_bias, (1, -1)) if np.ndim(visible_bias) == 1
                    else visible_bias)
            bias = as_model_input(rows, self.n_visible, self.dtype,
                                  name="visible_bias", values="real")
            if bias.shape[0] != 1:
                raise ValueError(f"visible_bias must have shape ({self.n_visible},); "
                                 f"got {np.shape(visible_bias)}.")
            self.b.assign(bias[0])

    def init_visible_bias_from_data(self, x, *, eps: float = 1e-3) -> None:
        """Set ``b_i = log(p_i / (1 - p_i))`` from the data's pixel means.

        With zero weights this makes the model's visible marginals equal the
        data's, so learning starts from the best independent-pixel model.

        Args:
            x: training data (n, n_visible) in [0, 1], at least one row.
            eps: clipping of the means away from 0 and 1 (avoids infinite
                biases for pixels that are always off), in (0, 0.5).
        """
        eps = check_real(eps, "eps", low=0.0, high=0.5, low_open=True, high_open=True)
        x = self.visible_input(x)
        p = np.clip(np.mean(np.asarray(x, dtype=np.float64), axis=0), eps, 1 - eps)
        self.b.assign(tf.constant(np.log(p) - np.log1p(-p), self.dtype))

    @property
    def parameters(self) -> tuple[tf.Variable, tf.Variable, tf.Variable]:
        """The trainable variables in a fixed order: ``(W, b, c)``."""
        return (self.W, self.b, self.c)

    # -- inputs ---------------------------------------------------------------
    def visible_input(self, v, name: str = "v", values: str = "unit") -> tf.Tensor:
        """``v`` (n, n_visible) checked and cast to the model's dtype."""
        return as_model_input(v, self.n_visible, self.dtype, name=name, values=values)

    def hidden_input(self, h, name: str = "h") -> tf.Tensor:
        """``h`` (n, n_hidden) in [0, 1], checked and cast to the model's dtype."""
        return as_model_input(h, self.n_hidden, self.dtype, name=name,
                              what="hidden units")

    # -- conditionals ---------------------------------------------------------
    def hidden_logits(self, v) -> tf.Tensor:
        """Pre-sigmoid activations of the hidden units, ``c + v W``: (n, n_hidden)."""
        return tf.matmul(self.visible_input(v), self.W) + self.c

    def visible_logits(self, h) -> tf.Tensor:
        """Pre-sigmoid activations of the visible units, ``b + h W^T``:
        (n, n_visible).
        """
        return tf.matmul(self.hidden_input(h), self.W, transpose_b=True) + self.b

    def hidden_probs(self, v) -> tf.Tensor:
        """``p(h_j = 1 | v) = sigmoid(c_j + (v W)_j)``: (n, n_hidden)."""
        return tf.sigmoid(self.hidden_logits(v))

    def visible_probs(self, h) -> tf.Tensor:
        """``p(v_i = 1 | h) = sigmoid(b_i + (W h)_i)``: (n, n_visible)."""
        return tf.sigmoid(self.visible_logits(h))

    def sample_hidden(self, v, rng: tf.random.Generator) -> tf.Tensor:
        """Sample ``h ~ p(h | v)``: (n, n_hidden) of 0/1."""
        return sample_bernoulli(self.hidden_probs(v), rng)

    def sample_visible(self, h, rng: tf.random.Generator) -> tf.Tensor:
        """Sample ``v ~ p(v | h)``: (n, n_visible) of 0/1."""
        return sample_bernoulli(self.visible_probs(h), rng)

    # -- the unit types, as the samplers of rbmtut.gibbs see them -----------------
    # Binary units: a layer's mean given the other layer is its probability,
    # and a draw is one Bernoulli sample per unit.
    draw_visible = draw_hidden = staticmethod(sample_bernoulli)

    def visible_mean(self, h) -> tf.Tensor:
        """``p(v = 1 | h)``: :meth:`visible_probs`."""
        return self.visible_probs(h)

    @staticmethod
    def hidden_mean(hidden_logits) -> tf.Tensor:
        """``p(h = 1 | v)`` from the hidden logits: ``sigmoid(logits)``."""
        return tf.sigmoid(hidden_logits)

    # -- energies -------------------------------------------------------------
    def energy(self, v, h) -> tf.Tensor:
        """Joint energy ``E(v, h) = -v.b - h.c - v W h`` for each row: (n,)."""
        v, h = self.paired_input(v, h)
        return -(
            tf.linalg.matvec(v, self.b)
            + tf.linalg.matvec(h, self.c)
            + tf.reduce_sum(tf.matmul(v, self.W) * h, axis=-1)
        )

    def free_energy(self, v) -> tf.Tensor:
        """Free energy ``F(v) = -v.b - sum_j softplus(c_j + (v W)_j)``: (n,).

        ``p(v) = exp(-F(v)) / Z``.  Softplus, not ``log(1 + exp(x))``, which
        overflows for large activations.
        """
        v = self.visible_input(v)
        return -tf.linalg.matvec(v, self.b) - tf.reduce_sum(
            tf.nn.softplus(self.hidden_logits(v)), axis=-1
        )

    def hidden_free_energy(self, h) -> tf.Tensor:
        """Free energy of the hidden layer, visibles summed out: (n,).

        ``F_h(h) = -h.c - sum_i softplus(b_i + (W h)_i)`` and
        ``p(h) = exp(-F_h(h)) / Z``.
        """
        h = self.hidden_input(h)
        return -tf.linalg.matvec(h, self.c) - tf.reduce_sum(
            tf.nn.softplus(self.visible_logits(h)), axis=-1
        )

    # -- generation -------------------------------------------------------------
    def noise(self, n, rng) -> tf.Tensor:
        """Where chains start: ``n`` (a scalar int tensor) visible states with
        every unit on with probability 1/2, (n, n_visible)."""
        return sample_bernoulli(tf.fill(tf.stack([n, self.n_visible]),
                                        tf.constant(0.5, self.dtype)), rng)

    def generate(self, start, n, k, rng):
        """The whole generation run in tensors (``start`` None: from noise);
        :meth:`sample` calls it.

        ``n`` and ``k`` are scalar int tensors; ``rng`` supplies every random number.
        """
        if start is None:
            start = self.noise(n, rng)
        return gibbs_chain(self, start, k, rng).v_probs
