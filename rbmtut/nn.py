"""Small neural-network pieces every model shares: units, weights, passes and a loss.

- :func:`sample_bernoulli`: binary units, one uniform number per entry;
- :data:`ACTIVATIONS` and :func:`activation`: the deterministic units by name;
- :func:`glorot_uniform` and :func:`dense_variables`: seeded initial weights;
- :func:`dense_forward`: a stack of dense layers;
- :func:`logistic_pass`: a stack of logistic layers, mean-field or sampled (the
  recognition and generative passes of a deep belief net);
- :func:`bernoulli_cross_entropy`: the loss of Bernoulli outputs, from logits.

Logits first: probabilities are only formed where a sample or a picture
needs them, and losses take logits (``sigmoid_cross_entropy_with_logits``
never takes ``log(0)``).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from ._validation import check_choice

__all__ = ["sample_bernoulli", "ACTIVATIONS", "activation", "glorot_uniform",
           "dense_variables", "dense_forward", "logistic_pass",
           "bernoulli_cross_entropy"]


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


#: The deterministic activations a model may name.
ACTIVATIONS = {
    "linear": tf.identity,
    "sigmoid": tf.sigmoid,
    "elu": tf.nn.elu,
    "relu": tf.nn.relu,
}


def activation(name: str, what: str = "activation"):
    """The function :data:`ACTIVATIONS` names ``name``;
    ``what`` names the argument in errors."""
    return ACTIVATIONS[check_choice(name, what, tuple(sorted(ACTIVATIONS)))]


def glorot_uniform(rng: tf.random.Generator, n_in: int, n_out: int, dtype) -> tf.Tensor:
    """Glorot-uniform weights (n_in, n_out): Keras's default,
    from an explicit generator."""
    limit = np.sqrt(6.0 / (n_in + n_out))
    return rng.uniform([n_in, n_out], -limit, limit, dtype=dtype)


def dense_variables(sizes, rng: tf.random.Generator, dtype, prefix: str):
    """Weights (Glorot-uniform) and zero biases of dense layers
    ``sizes[0] -> sizes[1] -> ...``.

    Returns:
        ``(weights, biases)``: lists of ``tf.Variable`` (n_l, n_{l+1}) and (n_{l+1},),
        named ``<prefix>_W<l>`` and ``<prefix>_b<l>``.
    """
    pairs = list(zip(sizes, sizes[1:]))
    weights = [tf.Variable(glorot_uniform(rng, a, b, dtype), name=f"{prefix}_W{i}")
               for i, (a, b) in enumerate(pairs)]
    biases = [tf.Variable(tf.zeros([b], dtype), name=f"{prefix}_b{i}")
              for i, (_, b) in enumerate(pairs)]
    return weights, biases


def dense_forward(h, weights, biases, hidden, output=tf.identity):
    """``h <- hidden(h W_l + b_l)`` for every layer but the last, which uses ``output``.

    Args:
        h: input (n, n_0).
        weights, biases: the layers' parameters, first layer first.
        hidden: the hidden layers' activation function.
        output: the last layer's (default linear: the result is pre-activation).

    Returns:
        The last layer's output (n, n_L).
    """
    for i, (W, b) in enumerate(zip(weights, biases)):
        h = tf.matmul(h, W) + b
        h = hidden(h) if i < len(weights) - 1 else output(h)
    return h


def logistic_pass(x, layers, rng: tf.random.Generator | None = None, *,
                  sample_last: bool = True):
    """Logistic layers ``x <- sigmoid(x W + bias)`` for each ``(W, bias)`` in turn.

    Without ``rng`` every layer passes its probabilities on (mean field);
    with it, each passes a Bernoulli sample of them (the last layer too, unless
    ``sample_last`` is False).

    Args:
        x: input (n, n_0).
        layers: ``[(W_0, bias_0), ...]`` with ``W_l`` (n_l, n_{l+1}).
        rng: the sampling noise, or None for mean field.
        sample_last: whether the last layer's output is sampled too.

    Returns:
        ``(probs, states)``: one (n, n_{l+1}) tensor per layer each; ``states``
        are what each layer passed on.
    """
    probs, states = [], []
    for i, (W, bias) in enumerate(layers):
        p = tf.sigmoid(tf.matmul(x, W) + bias)
        last = i == len(layers) - 1
        x = p if rng is None or (last and not sample_last) else sample_bernoulli(p, rng)
        probs.append(p)
        states.append(x)
    return probs, states


def bernoulli_cross_entropy(targets, logits) -> tf.Tensor:
    """Cross-entropy of ``targets`` under Bernoulli units with ``logits``,
    in nats per example.

    ``-sum_i [t_i log sigmoid(a_i) + (1 - t_i) log sigmoid(-a_i)]`` summed over
    the units and averaged over the rows.  For binary targets it is the
    negative log-likelihood; for grey levels it is a cross-entropy only.

    Args:
        targets: (n, d) in [0, 1].
        logits: (n, d), the units' total inputs.

    Returns:
        Scalar tensor.
    """
    per_unit = tf.nn.sigmoid_cross_entropy_with_logits(labels=targets, logits=logits)
    return tf.reduce_mean(tf.reduce_sum(per_unit, axis=-1))
