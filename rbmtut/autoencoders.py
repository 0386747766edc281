"""Dense autoencoders as ``tf.Module`` s: tied or untied, stacked, trained by gradient
descent.

An autoencoder maps ``x`` (n, n_0) through encoder layers of sizes
``n_1, ..., n_code`` to a code and back through a mirrored decoder.  With
*tied* weights the decoder's layer ``l`` uses the transpose of the encoder's
weight matrix ``l`` — the same ``tf.Variable``, so a tied stack has half the
weights.  Linear units and squared error give PCA's subspace
(:mod:`rbmtut.pca`); corruption of the input gives a denoising autoencoder
and a penalty on the code units' mean activation a sparse one
(:mod:`rbmtut.regularizers`).  Chapter 5 (``05a_autoencoders``) explains them;
:mod:`rbmtut.vae` holds the variational autoencoder, and
:meth:`rbmtut.dbn.DBN.unroll` builds a deep autoencoder from an RBM stack.
This module holds the model and its losses; :mod:`rbmtut.autoencoder_training`
trains it.
"""

from __future__ import annotations

import tensorflow as tf

from ._validation import (as_model_input, check_bool, check_choice, check_float_dtype,
                          check_instance, check_int, check_seed)
from .nn import (ACTIVATIONS, activation as named_activation, bernoulli_cross_entropy,
                 dense_variables)
from .saving import Saveable

__all__ = ["ACTIVATIONS", "Autoencoder", "stack", "loss_kind", "output_loss",
           "reconstruction_loss"]


class Autoencoder(Saveable, tf.Module):
    """A dense autoencoder ``x -> code -> reconstruction`` with mirrored layer sizes.

    Args:
        sizes: ``[n_0, n_1, ..., n_code]``, e.g. ``[784, 300, 150]`` for
            784-300-150-300-784.
        activation: hidden-layer activation (see :data:`ACTIVATIONS`).
        code_activation: the code layer's activation (default: ``activation``).
        output: the output units: ``"sigmoid"`` (probabilities, trained by
            cross-entropy on the logits) or another activation (squared error;
            ``"linear"`` for real-valued data).
        tied: use ``W_l^T`` as decoder weight ``l`` (one shared variable).
        seed: seeds the Glorot-uniform initial weights (biases start at 0).
        dtype: ``tf.float32`` or ``tf.float64``.
        name: module name.

    Attributes:
        encoder_weights: ``tf.Variable`` (n_l, n_{l+1}) for each layer, bottom-up.
        encoder_biases: ``tf.Variable`` (n_{l+1},).
        decoder_weights: ``tf.Variable`` (n_{l+1}, n_l), top-down; empty when tied.
        decoder_biases: ``tf.Variable`` (n_l,), top-down.
    """

    def __init__(self, sizes, *, activation: str = "sigmoid",
                 code_activation: str | None = None, output: str = "sigmoid",
                 tied: bool = False, seed: int = 0, dtype=tf.float32,
                 name: str | None = None):
        super().__init__(name=name)
        if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__iter__"):
            raise TypeError(
                f"sizes must be a list of ints, e.g. [784, 300, 150]; got {sizes!r}.")
        sizes = [check_int(s, "each size", low=1) for s in sizes]
        if len(sizes) < 2:
            raise ValueError(
                f"sizes must hold at least two ints (input and code); got {sizes}.")
        self.sizes = tuple(sizes)
        self.tied = check_bool(tied, "tied")
        self.output = output
        self.activation = activation
        self.code_activation = (activation if code_activation is None
                                else code_activation)
        self._hidden = named_activation(self.activation, "activation")
        self._code = named_activation(self.code_activation, "code_activation")
        self._output = named_activation(output, "output")
        dtype = check_float_dtype(dtype)
        rng = tf.random.Generator.from_seed(check_seed(seed))
        self.encoder_weights, self.encoder_biases = dense_variables(
            sizes, rng, dtype, "encoder")
        if tied:
            self.decoder_weights = []
            self.decoder_biases = [
                tf.Variable(tf.zeros([a], dtype), name=f"decoder_b{i}")
                for i, a in enumerate(sizes[-2::-1])]
        else:
            self.decoder_weights, self.decoder_biases = dense_variables(
                sizes[::-1], rng, dtype, "decoder")

    def get_config(self) -> dict:
        """The arguments that rebuild an autoencoder of this shape
        (see :mod:`rbmtut.saving`)."""
        return {"sizes": list(self.sizes), "activation": self.activation,
                "code_activation": self.code_activation, "output": self.output,
                "tied": self.tied, "dtype": self.dtype.name, "name": self.name}

    n_layers = property(lambda self: len(self.encoder_weights),
                        doc="Number of encoder layers (the decoder has as many).")

    dtype = property(lambda self: self.encoder_weights[0].dtype,
                     doc="The parameters' dtype.")

    def decoder_weight(self, i: int):
        """Decoder weight ``i`` (top-down): its own variable, or
        an encoder weight transposed."""
        if self.tied:
            return tf.transpose(self.encoder_weights[self.n_layers - 1 - i])
        return self.decoder_weights[i]

    def check_depth(self, depth) -> int:
        """``depth`` checked against this network (``None`` means every layer)."""
        if depth is None:
            return self.n_layers
        return check_int(depth, "depth", low=1, high=self.n_layers)

    def encode(self, x, *, depth: int | None = None, code_noise=None) -> tf.Tensor:
        """The activations (n, n_depth) of encoder layer ``depth`` (default: the code).

        With ``depth < n_layers`` the last layer used takes the hidden
        activation: it is an inner layer of the full network.

        Args:
            x: input (n, n_0).
            depth: how many encoder layers to apply.
            code_noise: optional (n, n_code) added to the code units' total
                input before their activation (semantic hashing pushes
                logistic codes towards 0/1 this way); needs the full depth.
        """
        depth = self.check_depth(depth)
        h = as_model_input(x, self.sizes[0], self.dtype, values="real", what="inputs")
        if code_noise is not None and depth != self.n_layers:
            raise ValueError(
                "code_noise is added at the code layer; it needs the full depth.")
        for i in range(depth):
            a = tf.matmul(h, self.encoder_weights[i]) + self.encoder_biases[i]
            if i == self.n_layers - 1:
                h = self._code(a if code_noise is None
                               else a + tf.cast(code_noise, self.dtype))
            else:
                h = self._hidden(a)
        return h

    def decode_output(self, code, *, depth: int | None = None) -> tf.Tensor:
        """Pre-activation output (n, n_0) from layer ``depth``'s activations
        (default: the code).

        Uses the last ``depth`` decoder layers, the outermost being the output
        layer; for ``output="sigmoid"`` the result is the logits.
        """
        depth = self.check_depth(depth)
        h = as_model_input(code, self.sizes[depth], self.dtype, name="code",
                           values="real", what=f"units in layer {depth}")
        first = self.n_layers - depth
        for i in range(first, self.n_layers):
            a = tf.matmul(h, self.decoder_weight(i)) + self.decoder_biases[i]
            h = self._hidden(a)
        return a

    def decode(self, code, *, depth: int | None = None) -> tf.Tensor:
        """Reconstruction (n, n_0) from layer ``depth``'s activations."""
        return self._output(self.decode_output(code, depth=depth))

    def __call__(self, x, *, depth: int | None = None) -> tf.Tensor:
        """Reconstruction (n, n_0) of ``x`` through the outer ``depth`` layers."""
        return self.decode(self.encode(x, depth=depth), depth=depth)


def stack(models, *, name: str | None = None) -> Autoencoder:
    """One deep autoencoder from autoencoders trained layer-wise, outermost first.

    ``models[l + 1]`` must have been trained on the codes of ``models[l]``.  The
    result encodes through every encoder in turn and decodes through the
    decoders in reverse, with copies of the weights: ``[784-300-784,
    300-150-300]`` gives 784-300-150-300-784.  Every layer keeps the activation
    it was trained with, so the inner models' outputs and all but the last
    model's codes must use the hidden activation.

    Args:
        models: a list of :class:`Autoencoder`, outermost first.
        name: module name of the result.

    Returns:
        An :class:`Autoencoder`, tied if every model is tied.
    """
    models = list(models)
    if not models or not all(isinstance(m, Autoencoder) for m in models):
        raise TypeError("models must be a non-empty list of Autoencoder.")
    activation = models[0].activation
    for i, (outer, inner) in enumerate(zip(models, models[1:])):
        if inner.sizes[0] != outer.sizes[-1]:
            raise ValueError(
                f"models[{i + 1}] takes {inner.sizes[0]} inputs but models[{i}] "
                f"has {outer.sizes[-1]} code units.")
        if {inner.activation, inner.output, outer.code_activation} != {activation}:
            raise ValueError(
                f"models[{i + 1}] must use activation={activation!r} for its hidden "
                f"and output units and models[{i}] for its codes, so that the stack "
                "computes what they learned; train the inner autoencoders with "
                "output=<the hidden activation>.")
    if len({m.dtype for m in models}) > 1:
        raise ValueError("all models must have the same dtype.")
    sizes = list(models[0].sizes) + [s for m in models[1:] for s in m.sizes[1:]]
    tied = all(m.tied for m in models)
    result = Autoencoder(
        sizes, activation=activation, code_activation=models[-1].code_activation,
        output=models[0].output, tied=tied, dtype=models[0].dtype, name=name)
    pairs = [(W, b) for m in models
             for W, b in zip(m.encoder_weights, m.encoder_biases)]
    new_pairs = zip(result.encoder_weights, result.encoder_biases)
    for (W, b), (W_new, b_new) in zip(pairs, new_pairs):
        W_new.assign(W)
        b_new.assign(b)
    inner_first = [(m.decoder_weight(i), b) for m in reversed(models)
                   for i, b in enumerate(m.decoder_biases)]
    for i, (W, b) in enumerate(inner_first):
        if not tied:
            result.decoder_weights[i].assign(W)
        result.decoder_biases[i].assign(b)
    return result


def loss_kind(model: Autoencoder, kind: str | None = None) -> str:
    """``"cross_entropy"`` (Bernoulli outputs, in nats; needs ``output="sigmoid"``) or
    ``"squared"`` (sum of squared errors): ``kind`` checked, or the default for
    ``model.output``."""
    kind = check_choice(
        kind or ("cross_entropy" if model.output == "sigmoid" else "squared"),
        "kind", ("cross_entropy", "squared"))
    if kind == "cross_entropy" and model.output != "sigmoid":
        raise ValueError("cross_entropy needs output='sigmoid'; use kind='squared'.")
    return kind


def output_loss(model: Autoencoder, out, target, kind: str | None = None) -> tf.Tensor:
    """Loss (see :func:`loss_kind`) of pre-activation outputs ``out`` against
    ``target``: summed over units, averaged over rows."""
    if loss_kind(model, kind) == "cross_entropy":
        return bernoulli_cross_entropy(target, out)
    squared_errors = tf.square(model._output(out) - target)
    return tf.reduce_mean(tf.reduce_sum(squared_errors, axis=-1))


def reconstruction_loss(model: Autoencoder, x, *, target=None, depth: int | None = None,
                        kind: str | None = None) -> tf.Tensor:
    """Per-example reconstruction loss summed over units, averaged over examples.

    Args:
        model: the autoencoder.
        x: its input (n, n_0), e.g. a corrupted batch.
        target: what the output should reproduce (default ``x``; the clean
            batch for a denoising autoencoder), (n, n_0).
        depth: use the outer ``depth`` layers only.
        kind: see :func:`loss_kind` (cross-entropy needs targets in [0, 1]).

    Returns:
        Scalar tensor.
    """
    kind = loss_kind(check_instance(model, "model", Autoencoder), kind)
    values = "unit" if kind == "cross_entropy" else "real"
    target = as_model_input(
        x if target is None else target, model.sizes[0], model.dtype,
        name="x" if target is None else "target", values=values, what="inputs")
    out = model.decode_output(model.encode(x, depth=depth), depth=depth)
    return output_loss(model, out, target, kind)
