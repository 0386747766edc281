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
brute-force enumeration.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

__all__ = ["BernoulliRBM", "check_binary_input", "sample_bernoulli"]


def sample_bernoulli(probs: tf.Tensor, rng: tf.random.Generator) -> tf.Tensor:
    """Draw independent Bernoulli samples, one uniform number per entry.

    Args:
        probs: probabilities, any shape.
        rng: the generator that supplies the uniform noise.

    Returns:
        A tensor like ``probs`` holding 0.0 and 1.0.
    """
    # One uniform per unit *and* per example: sharing noise across a batch
    # would correlate the samples of different examples.
    noise = rng.uniform(tf.shape(probs), dtype=probs.dtype)
    return tf.cast(noise < probs, probs.dtype)


def check_binary_input(x, width: int, *, name: str = "v") -> None:
    """Raise a clear error unless ``x`` is a finite (n, width) array in [0, 1].

    Values strictly between 0 and 1 are allowed: they are read as
    probabilities (mean-field inputs or grey-level pixels).  Symbolic tensors
    (inside ``tf.function``) are only checked for their static shape.

    Args:
        x: array-like of shape (n, width).
        width: the expected number of columns.
        name: the argument name used in error messages.

    Raises:
        ValueError: wrong rank or width, NaN/inf, or values outside [0, 1].
        TypeError: non-numeric input.
    """
    shape = tuple(x.shape) if hasattr(x, "shape") else np.shape(x)
    if len(shape) != 2:
        raise ValueError(
            f"{name} must be a 2-D batch of shape (n, {width}); got shape "
            f"{shape}. Flatten images first, e.g. x.reshape(len(x), -1)."
        )
    if shape[1] is not None and shape[1] != width:
        raise ValueError(
            f"{name} has {shape[1]} columns but the model has {width} "
            "visible units; build the RBM with n_visible equal to the "
            "number of input features."
        )
    if isinstance(x, tf.Tensor) and not hasattr(x, "numpy"):
        return  # symbolic: values are unknown while tracing
    values = x.numpy() if hasattr(x, "numpy") else np.asarray(x)
    if not np.issubdtype(values.dtype, np.number) and values.dtype != bool:
        raise TypeError(f"{name} must be numeric; got dtype {values.dtype}.")
    if values.size == 0:
        return
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{name} contains NaN or infinite values; clean the data first.")
    lo, hi = values.min(), values.max()
    if lo < 0 or hi > 1:
        raise ValueError(
            f"{name} must lie in [0, 1] for Bernoulli units; found values in "
            f"[{lo}, {hi}]. Scale pixels with rbmtut.data.to_unit_interval "
            "or binarise them first."
        )


class BernoulliRBM(tf.Module):
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
    """

    def __init__(
        self,
        n_visible: int,
        n_hidden: int,
        *,
        weight_std: float = 0.01,
        seed: int = 0,
        visible_bias=None,
        dtype=tf.float32,
        name: str | None = None,
    ):
        super().__init__(name=name)
        for label, value in (("n_visible", n_visible), ("n_hidden", n_hidden)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise TypeError(f"{label} must be an int; got {type(value).__name__}.")
            if value <= 0:
                raise ValueError(f"{label} must be positive; got {value}.")
        if weight_std < 0:
            raise ValueError(f"weight_std must be >= 0; got {weight_std}.")
        self.n_visible, self.n_hidden = int(n_visible), int(n_hidden)
        self.dtype = tf.as_dtype(dtype)
        init = tf.random.Generator.from_seed(seed).normal(
            (self.n_visible, self.n_hidden), stddev=weight_std, dtype=self.dtype
        )
        self.W = tf.Variable(init, name="W")
        self.b = tf.Variable(tf.zeros(self.n_visible, self.dtype), name="b")
        self.c = tf.Variable(tf.zeros(self.n_hidden, self.dtype), name="c")
        if visible_bias is not None:
            self.b.assign(self._as_tensor(visible_bias, (self.n_visible,), "visible_bias"))

    # -- construction helpers -------------------------------------------------
    def _as_tensor(self, value, shape, name):
        value = tf.convert_to_tensor(value, dtype=self.dtype)
        if tuple(value.shape) != tuple(shape):
            raise ValueError(f"{name} must have shape {shape}; got {tuple(value.shape)}.")
        return value

    def init_visible_bias_from_data(self, x, *, eps: float = 1e-3) -> None:
        """Set ``b_i = log(p_i / (1 - p_i))`` from the data's pixel means.

        With zero weights this makes the model's visible marginals equal the
        data's, so learning starts from the best independent-pixel model.

        Args:
            x: training data (n, n_visible) in [0, 1].
            eps: clipping of the means away from 0 and 1 (avoids infinite
                biases for pixels that are always off).
        """
        check_binary_input(x, self.n_visible, name="x")
        p = np.clip(np.mean(np.asarray(x, dtype=np.float64), axis=0), eps, 1 - eps)
        self.b.assign(tf.constant(np.log(p) - np.log1p(-p), self.dtype))

    @property
    def parameters(self) -> tuple[tf.Variable, tf.Variable, tf.Variable]:
        """The trainable variables in a fixed order: ``(W, b, c)``."""
        return (self.W, self.b, self.c)

    def copy(self) -> "BernoulliRBM":
        """A new RBM with the same sizes and a copy of the current parameters."""
        clone = BernoulliRBM(self.n_visible, self.n_hidden, dtype=self.dtype, name=self.name)
        for dst, src in zip(clone.parameters, self.parameters):
            dst.assign(src)
        return clone

    # -- conditionals -------------------------------------------------------
    def hidden_logits(self, v: tf.Tensor) -> tf.Tensor:
        """Pre-sigmoid activations of the hidden units, ``c + v W``: (n, n_hidden)."""
        return tf.matmul(v, self.W) + self.c

    def visible_logits(self, h: tf.Tensor) -> tf.Tensor:
        """Pre-sigmoid activations of the visible units, ``b + h W^T``: (n, n_visible)."""
        return tf.matmul(h, self.W, transpose_b=True) + self.b

    def hidden_probs(self, v: tf.Tensor) -> tf.Tensor:
        """``p(h_j = 1 | v) = sigmoid(c_j + (v W)_j)``: (n, n_hidden)."""
        return tf.sigmoid(self.hidden_logits(v))

    def visible_probs(self, h: tf.Tensor) -> tf.Tensor:
        """``p(v_i = 1 | h) = sigmoid(b_i + (W h)_i)``: (n, n_visible)."""
        return tf.sigmoid(self.visible_logits(h))

    def sample_hidden(self, v: tf.Tensor, rng: tf.random.Generator) -> tf.Tensor:
        """Sample ``h ~ p(h | v)``: (n, n_hidden) of 0/1."""
        return sample_bernoulli(self.hidden_probs(v), rng)

    def sample_visible(self, h: tf.Tensor, rng: tf.random.Generator) -> tf.Tensor:
        """Sample ``v ~ p(v | h)``: (n, n_visible) of 0/1."""
        return sample_bernoulli(self.visible_probs(h), rng)

    # -- energies -------------------------------------------------------------
    def energy(self, v: tf.Tensor, h: tf.Tensor) -> tf.Tensor:
        """Joint energy ``E(v, h) = -v.b - h.c - v W h`` for each row: (n,)."""
        v, h = self._cast(v), self._cast(h)
        return -(
            tf.linalg.matvec(v, self.b)
            + tf.linalg.matvec(h, self.c)
            + tf.reduce_sum(tf.matmul(v, self.W) * h, axis=-1)
        )

    def free_energy(self, v: tf.Tensor) -> tf.Tensor:
        """Free energy ``F(v) = -v.b - sum_j softplus(c_j + (v W)_j)``: (n,).

        ``p(v) = exp(-F(v)) / Z``.  Softplus, not ``log(1 + exp(x))``, which
        overflows for large activations.
        """
        v = self._cast(v)
        return -tf.linalg.matvec(v, self.b) - tf.reduce_sum(
            tf.nn.softplus(self.hidden_logits(v)), axis=-1
        )

    def hidden_free_energy(self, h: tf.Tensor) -> tf.Tensor:
        """Free energy of the hidden layer, visibles summed out: (n,).

        ``F_h(h) = -h.c - sum_i softplus(b_i + (W h)_i)`` and
        ``p(h) = exp(-F_h(h)) / Z``.
        """
        h = self._cast(h)
        return -tf.linalg.matvec(h, self.c) - tf.reduce_sum(
            tf.nn.softplus(self.visible_logits(h)), axis=-1
        )

    def _cast(self, x):
        return tf.cast(x, self.dtype)

    def __repr__(self) -> str:
        return (
            f"BernoulliRBM(n_visible={self.n_visible}, n_hidden={self.n_hidden}, "
            f"dtype={self.dtype.name})"
        )
