"""An RBM with softmax label units: the top of Hinton, Osindero & Teh's (2006)
labelled deep belief net.

The visible layer is ``n_features`` binary units *and* one group of
``n_labels`` softmax units, exactly one of which is on (the label, one-hot).
With ``x`` the features, ``y`` the one-hot label and ``W = [W_x; W_y]``,
``b = [b_x; b_y]`` split the same way::

    E(x, y, h) = -x.b_x - y.b_y - h.c - x W_x h - y W_y h
    p(h_j = 1 | x, y) = sigmoid(c_j + (x W_x + y W_y)_j)
    p(x_i = 1 | h) = sigmoid(b_x + W_x h)_i,   p(y | h) = softmax(b_y + W_y h)
    F(x, y) = -x.b_x - y.b_y - sum_j softplus(c_j + (x W_x + y W_y)_j)

so ``p(y | x) = softmax_y(-F(x, e_y))`` is exact: one free energy per label
classifies (:meth:`LabelledRBM.label_probabilities`).  "Letting the top
settle" estimates the same distribution by Gibbs sampling with ``x`` clamped
(:meth:`LabelledRBM.settle`); clamping ``y`` instead generates from one class
(:meth:`LabelledRBM.sample_features`).  :class:`rbmtut.labelled_dbn.LabelledDBN`
puts one on directed layers.  Chapter 4 (``04_stacked_pretraining``) trains one
on MNIST.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from ._seeding import SeededFunction
from ._validation import as_model_input, check_int, check_seed
from .nn import sample_bernoulli
from .rbm import BernoulliRBM

__all__ = ["LabelledRBM", "draw_categorical"]


def draw_categorical(probs, rng: tf.random.Generator) -> tf.Tensor:
    """One-hot samples of the rows of ``probs`` (n, k) (each a distribution):
    (n, k)."""
    u = rng.uniform(tf.stack([tf.shape(probs)[0], 1]), dtype=probs.dtype)
    cdf = tf.cumsum(probs, axis=1)
    # The first index whose cumulative probability exceeds u (rounding-safe).
    index = tf.reduce_sum(tf.cast(cdf <= u * cdf[:, -1:], tf.int32), axis=1)
    return tf.one_hot(tf.minimum(index, tf.shape(probs)[1] - 1), tf.shape(probs)[1],
                      dtype=probs.dtype)


class LabelledRBM(BernoulliRBM):
    """An RBM whose visible layer is ``n_features`` binary units followed by
    ``n_labels`` softmax label units.

    Its visible vectors are ``[x, y]`` (n, n_features + n_labels) with ``y``
    one-hot (or, for mean-field inputs, a distribution over labels); build
    them with :meth:`join`.  It trains like any binary RBM, with
    :func:`rbmtut.fit_rbm` and CD or PCD on joined data: the chains draw
    labels from their softmax.

    Args:
        n_features: binary visible units (the penultimate layer of a DBN).
        n_labels: label units, >= 2.
        n_hidden: hidden units.
        weight_std, seed, dtype, name: as for :class:`~rbmtut.rbm.BernoulliRBM`.
    """

    def __init__(self, n_features: int, n_labels: int, n_hidden: int, *,
                 weight_std: float = 0.01, seed: int = 0, dtype=tf.float32,
                 name: str | None = None):
        n_features = check_int(n_features, "n_features", low=1)
        n_labels = check_int(n_labels, "n_labels", low=2)
        super().__init__(n_features + n_labels, n_hidden, weight_std=weight_std,
                         seed=seed, dtype=dtype, name=name)
        self.n_features, self.n_labels = n_features, n_labels
        self._feature_sampler = SeededFunction(self._clamped_label_chain)
        self._settler = SeededFunction(self._clamped_feature_chain)

    def get_config(self) -> dict:
        """The arguments that rebuild a model of this shape."""
        return {"n_features": self.n_features, "n_labels": self.n_labels,
                "n_hidden": self.n_hidden, "dtype": self.dtype.name, "name": self.name}

    def init_visible_bias_from_data(self, x, *, eps: float = 1e-3) -> None:
        """Set the biases so that, with zero weights, the model's marginals are
        the data's: ``b_x = logit(mean of x)`` for the features and ``b_y =
        log(label frequency)`` for the softmax labels.

        Args:
            x: joined rows ``[x, y]`` (n, n_features + n_labels), see :meth:`join`.
            eps: clipping of the means away from 0 and 1, in (0, 0.5).
        """
        super().init_visible_bias_from_data(x, eps=eps)
        v = np.asarray(self.visible_input(x), np.float64)
        frequency = np.clip(v[:, self.n_features:].mean(axis=0), eps, 1.0)
        b = self.b.numpy()
        b[self.n_features:] = np.log(frequency)
        self.b.assign(b)

    # -- inputs -----------------------------------------------------------------
    def visible_input(self, v, name: str = "v", values: str = "unit") -> tf.Tensor:
        """``[x, y]`` (n, n_features + n_labels) checked: entries as ``values``
        says, and each row's label block summing to 1."""
        v = super().visible_input(v, name, values)
        if hasattr(v, "numpy"):  # eager: the values are known
            sums = np.sum(v.numpy()[:, self.n_features:], axis=1)
            if sums.size and not np.allclose(sums, 1.0, atol=1e-5):
                raise ValueError(
                    f"{name}: the last {self.n_labels} columns are the label units, "
                    "and in each row they must sum to 1 (one-hot, or a distribution "
                    "over labels); build the rows with LabelledRBM.join(x, labels).")
        return v

    def label_input(self, labels, name: str = "labels") -> tf.Tensor:
        """Integer labels (n,) in ``[0, n_labels)`` as one-hot rows (n, n_labels)."""
        array = np.asarray(labels.numpy() if hasattr(labels, "numpy") else labels)
        if array.ndim != 1 or not np.issubdtype(array.dtype, np.integer):
            raise TypeError(f"{name} must be a 1-D array of integer labels; got "
                            f"shape {array.shape} and dtype {array.dtype}.")
        if array.size and (array.min() < 0 or array.max() >= self.n_labels):
            raise ValueError(f"{name} must lie in [0, {self.n_labels}); found values "
                             f"in [{array.min()}, {array.max()}].")
        return tf.one_hot(array, self.n_labels, dtype=self.dtype)

    def feature_input(self, x, name: str = "x") -> tf.Tensor:
        """Features (n, n_features) in [0, 1], checked and cast."""
        return as_model_input(x, self.n_features, self.dtype, name=name,
                              what="feature units")

    def join(self, x, labels) -> tf.Tensor:
        """Visible vectors ``[x, one_hot(labels)]``: (n, n_features + n_labels)."""
        x, y = self.feature_input(x), self.label_input(labels)
        if x.shape[0] != y.shape[0]:
            raise ValueError(f"x has {x.shape[0]} rows but labels has {y.shape[0]}; "
                             "pass one label per row.")
        return tf.concat([x, y], axis=1)

    # -- the unit types: binary features, one softmax group ------------------------
    def _split_softmax(self, logits) -> tf.Tensor:
        f = self.n_features
        return tf.concat([tf.sigmoid(logits[:, :f]), tf.nn.softmax(logits[:, f:])],
                         axis=1)

    def visible_probs(self, h) -> tf.Tensor:
        """``p(x_i = 1 | h)`` and ``p(y | h)``: (n, n_features + n_labels)."""
        return self._split_softmax(self.visible_logits(h))

    def draw_visible(self, mean, rng: tf.random.Generator) -> tf.Tensor:
        """Bernoulli features and a one-hot label drawn from ``mean``'s blocks."""
        f = self.n_features
        return tf.concat([sample_bernoulli(mean[:, :f], rng),
                          draw_categorical(mean[:, f:], rng)], axis=1)

    def sample_visible(self, h, rng: tf.random.Generator) -> tf.Tensor:
        """Sample ``[x, y] ~ p(x, y | h)``."""
        return self.draw_visible(self.visible_probs(h), rng)

    def hidden_free_energy(self, h) -> tf.Tensor:
        """``F_h(h) = -h.c - sum_i softplus((b_x + W_x h)_i)
        - logsumexp(b_y + W_y h)``: (n,)."""
        h = self.hidden_input(h)
        logits = tf.matmul(h, self.W, transpose_b=True) + self.b
        f = self.n_features
        return (-tf.linalg.matvec(h, self.c)
                - tf.reduce_sum(tf.nn.softplus(logits[:, :f]), axis=-1)
                - tf.reduce_logsumexp(logits[:, f:], axis=-1))

    def noise(self, n, rng) -> tf.Tensor:
        """Chain starts: features on with probability 1/2, a uniform label."""
        features = sample_bernoulli(tf.fill(tf.stack([n, self.n_features]),
                                            tf.constant(0.5, self.dtype)), rng)
        uniform = tf.fill(tf.stack([n, self.n_labels]),
                          tf.constant(1.0 / self.n_labels, self.dtype))
        return tf.concat([features, draw_categorical(uniform, rng)], axis=1)

    # -- classification -----------------------------------------------------------
    def label_free_energies(self, x) -> tf.Tensor:
        """``F(x, e_y)`` for every label ``y``: (n, n_labels)."""
        x, f = self.feature_input(x), self.n_features
        a = tf.matmul(x, self.W[:f]) + self.c  # the hidden input of the features
        shared = -tf.linalg.matvec(x, self.b[:f])
        return tf.stack([shared - self.b[f + y] - tf.reduce_sum(
            tf.nn.softplus(a + self.W[f + y]), axis=-1) for y in range(self.n_labels)],
            axis=1)

    def label_probabilities(self, x) -> tf.Tensor:
        """The exact ``p(y | x) = softmax(-F(x, e_y))``: (n, n_labels)."""
        return tf.nn.softmax(-self.label_free_energies(x))

    def _clamped_feature_chain(self, x, k, rng):
        f = self.n_features
        a = tf.matmul(x, self.W[:f]) + self.c
        W_y, b_y = self.W[f:], self.b[f:]
        y = tf.fill(tf.stack([tf.shape(x)[0], self.n_labels]),
                    tf.constant(1.0 / self.n_labels, self.dtype))  # no label yet

        def body(i, y, total):
            h = sample_bernoulli(tf.sigmoid(a + tf.matmul(y, W_y)), rng)
            probs = tf.nn.softmax(tf.matmul(h, W_y, transpose_b=True) + b_y)
            return i + 1, draw_categorical(probs, rng), total + probs

        _, _, total = tf.while_loop(lambda i, *_: i < k, body,
                                    (tf.constant(0), y, tf.zeros_like(y)))
        return total / tf.cast(k, self.dtype)

    def settle(self, x, *, k: int = 100, seed: int = 0) -> tf.Tensor:
        """Let the top settle: ``k`` Gibbs steps of ``(h, y)`` with ``x`` clamped.

        The chain starts with the labels at 1/n_labels each, draws
        ``h ~ p(h | x, y)`` then ``y ~ p(y | h)``, and returns the average of
        ``p(y | h)`` over the ``k`` steps: a Monte Carlo estimate of
        :meth:`label_probabilities` (the chain's stationary distribution is
        ``p(y, h | x)``).

        Args:
            x: features (n, n_features) in [0, 1].
            k: Gibbs steps, >= 1.
            seed: seed of the chain.

        Returns:
            (n, n_labels), rows summing to 1.
        """
        x, k = self.feature_input(x), check_int(k, "k", low=1)
        return self._settler(check_seed(seed), x, tf.constant(k))

    # -- class-conditional generation --------------------------------------------
    def _clamped_label_chain(self, y, k, rng):
        f = self.n_features
        c = self.c + tf.matmul(y, self.W[f:])  # the label's hidden input, per row
        W_x, b_x = self.W[:f], self.b[:f]
        x = sample_bernoulli(tf.fill(tf.stack([tf.shape(y)[0], f]),
                                     tf.constant(0.5, self.dtype)), rng)

        def body(i, x, probs):
            h = sample_bernoulli(tf.sigmoid(tf.matmul(x, W_x) + c), rng)
            probs = tf.sigmoid(tf.matmul(h, W_x, transpose_b=True) + b_x)
            return i + 1, sample_bernoulli(probs, rng), probs

        _, x, probs = tf.while_loop(lambda i, *_: i < k, body,
                                    (tf.constant(0), x, tf.zeros_like(x)))
        return x, probs

    def sample_features(self, labels, *, k: int = 1000, seed: int = 0):
        """Generate features of given classes: ``k`` Gibbs steps of ``(x, h)``
        from noise with ``y`` clamped.

        Args:
            labels: integer labels (n,), one chain per entry.
            k: Gibbs steps, >= 1.
            seed: seed of the chains.

        Returns:
            ``(x, probs)``: the binary features after the last step and the
            ``p(x = 1 | h)`` they were drawn from, each (n, n_features).
        """
        y, k = self.label_input(labels), check_int(k, "k", low=1)
        if y.shape[0] == 0:
            raise ValueError("labels is empty; pass at least one label.")
        return self._feature_sampler(check_seed(seed), y, tf.constant(k))

    def __repr__(self) -> str:
        return (f"LabelledRBM(n_features={self.n_features}, n_labels={self.n_labels}, "
                f"n_hidden={self.n_hidden}, dtype={self.dtype.name})")
