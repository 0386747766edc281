"""Dense autoencoders as ``tf.Module`` s: tied or untied, stacked, denoising, sparse.

An autoencoder maps ``x`` (n, n_0) through encoder layers of sizes
``n_1, ..., n_code`` to a code and back through a mirrored decoder.  With
*tied* weights the decoder's layer ``l`` uses the transpose of the encoder's
weight matrix ``l`` — the same ``tf.Variable``, so a tied stack has half the
weights.  Linear units and squared error give PCA's subspace
(:mod:`rbmtut.pca`); corruption of the input gives a denoising autoencoder
(Vincent et al. 2008); a penalty on the code units' mean activation gives a
sparse one.  Chapter 5 (``05a_autoencoders``) explains them;
:mod:`rbmtut.vae` holds the variational autoencoder, and
:meth:`rbmtut.dbn.DBN.unroll` builds a deep autoencoder from an RBM stack.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import tensorflow as tf

__all__ = [
    "ACTIVATIONS", "Autoencoder", "stack", "reconstruction_loss", "fit_autoencoder",
    "Corruption", "gaussian_corruption", "masking_corruption", "kl_sparsity_penalty", "squared_sparsity_penalty",
    "SPARSITY_PENALTIES",
    "dense_classifier", "to_keras_classifier",
]

#: Activation names accepted by :class:`Autoencoder`.
ACTIVATIONS = {
    "linear": tf.identity,
    "sigmoid": tf.sigmoid,
    "elu": tf.nn.elu,
    "relu": tf.nn.relu,
}


def _activation(name: str, what: str):
    if name not in ACTIVATIONS:
        raise ValueError(f"{what} must be one of {sorted(ACTIVATIONS)}; got {name!r}.")
    return ACTIVATIONS[name]


def _glorot(rng: tf.random.Generator, n_in: int, n_out: int, dtype) -> tf.Tensor:
    """Glorot-uniform weights (n_in, n_out): Keras's default, from an explicit generator."""
    limit = np.sqrt(6.0 / (n_in + n_out))
    return rng.uniform([n_in, n_out], -limit, limit, dtype=dtype)


class Autoencoder(tf.Module):
    """A dense autoencoder ``x -> code -> reconstruction`` with mirrored layer sizes.

    Args:
        sizes: ``[n_0, n_1, ..., n_code]``, e.g. ``[784, 300, 150]`` for
            784-300-150-300-784.
        activation: hidden-layer activation (see :data:`ACTIVATIONS`).
        code_activation: the code layer's activation (default: ``activation``).
        output: the output layer's activation: ``"sigmoid"`` (outputs are
            probabilities; train on the logits with cross-entropy), or any
            other name in :data:`ACTIVATIONS` (train with squared error;
            ``"linear"`` for real-valued data, the hidden activation for an
            autoencoder of another one's codes).
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

    def __init__(self, sizes, *, activation: str = "sigmoid", code_activation: str | None = None,
                 output: str = "sigmoid", tied: bool = False, seed: int = 0, dtype=tf.float32,
                 name: str | None = None):
        super().__init__(name=name)
        sizes = [int(s) if isinstance(s, (int, np.integer)) and not isinstance(s, bool) else s
                 for s in sizes]
        if len(sizes) < 2 or not all(isinstance(s, int) and s > 0 for s in sizes):
            raise ValueError(f"sizes must be at least two positive ints; got {sizes}.")
        self.sizes, self.tied, self.output = tuple(sizes), bool(tied), output
        self.activation = activation
        self.code_activation = activation if code_activation is None else code_activation
        self._hidden = _activation(self.activation, "activation")
        self._code = _activation(self.code_activation, "code_activation")
        self._output = _activation(output, "output")
        rng = tf.random.Generator.from_seed(seed)
        pairs = list(zip(sizes, sizes[1:]))
        self.encoder_weights = [tf.Variable(_glorot(rng, a, b, dtype), name=f"encoder_W{i}")
                                for i, (a, b) in enumerate(pairs)]
        self.encoder_biases = [tf.Variable(tf.zeros([b], dtype), name=f"encoder_b{i}")
                               for i, (_, b) in enumerate(pairs)]
        self.decoder_weights = [] if tied else [
            tf.Variable(_glorot(rng, b, a, dtype), name=f"decoder_W{i}")
            for i, (a, b) in enumerate(reversed(pairs))]
        self.decoder_biases = [tf.Variable(tf.zeros([a], dtype), name=f"decoder_b{i}")
                               for i, (a, _) in enumerate(reversed(pairs))]

    @property
    def n_layers(self) -> int:
        """Number of encoder layers (the decoder has as many)."""
        return len(self.encoder_weights)

    @property
    def dtype(self) -> tf.DType:
        return self.encoder_weights[0].dtype

    def _decoder_weight(self, i: int):
        """Decoder weight ``i`` (top-down): its own variable, or an encoder weight transposed."""
        if self.tied:
            return tf.transpose(self.encoder_weights[self.n_layers - 1 - i])
        return self.decoder_weights[i]

    def _check_depth(self, depth):
        depth = self.n_layers if depth is None else depth
        if isinstance(depth, bool) or not isinstance(depth, (int, np.integer)) \
                or not 1 <= depth <= self.n_layers:
            raise ValueError(f"depth must be an int in [1, {self.n_layers}]; got {depth!r}.")
        return int(depth)

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
        depth = self._check_depth(depth)
        h = tf.convert_to_tensor(x, self.dtype)
        if h.shape.rank != 2 or h.shape[1] != self.sizes[0]:
            raise ValueError(f"x must have shape (n, {self.sizes[0]}); got {h.shape}.")
        if code_noise is not None and depth != self.n_layers:
            raise ValueError("code_noise is added at the code layer; it needs the full depth.")
        for i in range(depth):
            a = tf.matmul(h, self.encoder_weights[i]) + self.encoder_biases[i]
            if i == self.n_layers - 1:
                h = self._code(a if code_noise is None else a + tf.cast(code_noise, self.dtype))
            else:
                h = self._hidden(a)
        return h

    def decode_output(self, code, *, depth: int | None = None) -> tf.Tensor:
        """Pre-activation output (n, n_0) from layer ``depth``'s activations (default: the code).

        Uses the last ``depth`` decoder layers; for ``output="sigmoid"`` these
        are the logits (use them with ``sigmoid_cross_entropy_with_logits``).
        With ``depth`` below the full depth, the outermost decoder layer
        used is still the network's output layer.
        """
        depth = self._check_depth(depth)
        h = tf.convert_to_tensor(code, self.dtype)
        width = self.sizes[depth]
        if h.shape.rank != 2 or h.shape[1] != width:
            raise ValueError(f"the input to the decoder must have shape (n, {width}); got {h.shape}.")
        first = self.n_layers - depth
        for i in range(first, self.n_layers):
            a = tf.matmul(h, self._decoder_weight(i)) + self.decoder_biases[i]
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

    ``models[l + 1]`` must have been trained on the codes of ``models[l]``, so
    its input width is ``models[l]``'s code width.  The result encodes
    through every encoder in turn and decodes through the decoders in the
    reverse order, with copies of the weights (the models are not changed):
    for ``[784-300-784, 300-150-300]`` it is 784-300-150-300-784.  Every
    layer must keep the activation it was trained with, so the inner models'
    outputs and all but the last model's codes must use the hidden activation.

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
            raise ValueError(f"models[{i + 1}] takes {inner.sizes[0]} inputs but models[{i}] "
                             f"has {outer.sizes[-1]} code units.")
        if {inner.activation, inner.output, outer.code_activation} != {activation}:
            raise ValueError(
                f"models[{i + 1}] must use activation={activation!r} for its hidden and output "
                f"units and models[{i}] for its codes, so that the stack computes what they "
                "learned; train the inner autoencoders with output=<the hidden activation>.")
    if len({m.dtype for m in models}) > 1:
        raise ValueError("all models must have the same dtype.")
    sizes = list(models[0].sizes) + [s for m in models[1:] for s in m.sizes[1:]]
    tied = all(m.tied for m in models)
    result = Autoencoder(sizes, activation=activation, code_activation=models[-1].code_activation,
                         output=models[0].output, tied=tied, dtype=models[0].dtype, name=name)
    pairs = [(W, b) for m in models for W, b in zip(m.encoder_weights, m.encoder_biases)]
    for (W, b), (W_new, b_new) in zip(pairs, zip(result.encoder_weights, result.encoder_biases)):
        W_new.assign(W)
        b_new.assign(b)
    inner_first = [(m._decoder_weight(i), b) for m in reversed(models)
                   for i, b in enumerate(m.decoder_biases)]
    for i, (W, b) in enumerate(inner_first):
        if not tied:
            result.decoder_weights[i].assign(W)
        result.decoder_biases[i].assign(b)
    return result


def _output_loss(model: Autoencoder, out, target, kind: str | None) -> tf.Tensor:
    """Loss of pre-activation outputs ``out`` against ``target``: sum over units, mean over rows."""
    kind = kind or ("cross_entropy" if model.output == "sigmoid" else "squared")
    if kind == "cross_entropy":
        if model.output != "sigmoid":
            raise ValueError("cross_entropy needs output='sigmoid'; use kind='squared'.")
        per_unit = tf.nn.sigmoid_cross_entropy_with_logits(labels=target, logits=out)
    elif kind == "squared":
        per_unit = tf.square(model._output(out) - target)
    else:
        raise ValueError(f"kind must be 'cross_entropy' or 'squared'; got {kind!r}.")
    return tf.reduce_mean(tf.reduce_sum(per_unit, axis=-1))


def reconstruction_loss(model: Autoencoder, x, *, target=None, depth: int | None = None,
                        kind: str | None = None) -> tf.Tensor:
    """Per-example reconstruction loss summed over units, averaged over examples.

    Args:
        model: the autoencoder.
        x: its input (n, n_0), e.g. a corrupted batch.
        target: what the output should reproduce (default ``x``; the clean
            batch for a denoising autoencoder).
        depth: use the outer ``depth`` layers only.
        kind: ``"cross_entropy"`` (Bernoulli, in nats; needs ``output="sigmoid"``)
            or ``"squared"`` (sum of squared errors); default follows ``model.output``.

    Returns:
        Scalar tensor.
    """
    target = tf.convert_to_tensor(x if target is None else target, model.dtype)
    return _output_loss(model, model.decode_output(model.encode(x, depth=depth), depth=depth),
                        target, kind)


def fit_autoencoder(model: Autoencoder, x, *, epochs: int, batch_size: int = 100,
                    optimizer=None, kind: str | None = None, corruption=None,
                    sparsity_weight: float = 0.0, sparsity_target: float = 0.05,
                    sparsity_penalty: str = "kl",
                    variables=None, depth: int | None = None, code_noise=None, seed: int = 0,
                    progress: bool = True) -> list[float]:
    """Train ``model`` on ``x`` by mini-batch gradient descent; return per-epoch mean losses.

    Each epoch is one compiled ``tf.while_loop`` over seeded shuffles
    (:func:`rbmtut.fitting.epoch_orders`).  The loss of a batch ``v`` is
    ``reconstruction_loss(model, corruption(v), target=v, depth=depth)``
    plus ``sparsity_weight * kl_sparsity_penalty(mean code activation, sparsity_target)``
    (or the squared penalty).

    Args:
        model: the autoencoder, updated in place.
        x: training data (N, n_0).
        epochs: passes over the data.
        batch_size: rows per update (the last partial batch is dropped).
        optimizer: a Keras optimizer (default ``keras.optimizers.Adam(1e-3)``).
        kind: loss kind, see :func:`reconstruction_loss`.
        corruption: ``f(batch, rng) -> corrupted batch``, e.g.
            ``Corruption("gaussian", 0.3)``; the clean batch is the target.
        sparsity_weight, sparsity_target: the sparsity penalty on the units
            of encoder layer ``depth`` (0 turns it off).
        sparsity_penalty: ``"kl"`` (:func:`kl_sparsity_penalty`) or
            ``"squared"`` (:func:`squared_sparsity_penalty`).
        variables: the variables to train (default: all); the others stay
            frozen, e.g. for layer-wise training in phases.
        depth: train the outer ``depth`` layers only (default: all).
        code_noise: optional (N, n_code), one row per training example, added
            to the code units' total input (see :meth:`Autoencoder.encode`);
            example ``i`` gets row ``i`` in every epoch ("deterministic
            noise", Salakhutdinov & Hinton 2009).
        seed: seeds the shuffles and the corruption noise.
        progress: show a progress bar over the epochs.

    Returns:
        The mean training loss of each epoch.
    """
    import keras  # deferred: only training needs Keras

    from .fitting import compiled_epochs

    data = tf.constant(np.asarray(x, dtype=model.dtype.as_numpy_dtype))
    if data.shape.rank != 2 or data.shape[1] != model.sizes[0]:
        raise ValueError(f"x must have shape (N, {model.sizes[0]}); got {data.shape}.")
    if not sparsity_weight >= 0:
        raise ValueError(f"sparsity_weight must be >= 0; got {sparsity_weight}.")
    if sparsity_penalty not in SPARSITY_PENALTIES:
        raise ValueError(f"sparsity_penalty must be one of {sorted(SPARSITY_PENALTIES)}; "
                         f"got {sparsity_penalty!r}.")
    penalty = SPARSITY_PENALTIES[sparsity_penalty]
    if code_noise is not None:
        code_noise = tf.constant(np.asarray(code_noise, dtype=model.dtype.as_numpy_dtype))
        if code_noise.shape != (data.shape[0], model.sizes[-1]):
            raise ValueError(f"code_noise must have shape ({data.shape[0]}, {model.sizes[-1]}): "
                             f"one row per training example; got {code_noise.shape}.")
        data = (data, code_noise)  # gathered with the same batch indices
    optimizer = keras.optimizers.Adam(1e-3) if optimizer is None else optimizer
    variables = list(model.trainable_variables if variables is None else variables)
    rng = tf.random.Generator.from_seed(seed)

    def update(batch):
        batch, noise = batch if code_noise is not None else (batch, None)
        with tf.GradientTape() as tape:
            inputs = batch if corruption is None else corruption(batch, rng)
            code = model.encode(inputs, depth=depth, code_noise=noise)
            loss = _output_loss(model, model.decode_output(code, depth=depth), batch, kind)
            if sparsity_weight > 0:
                loss += sparsity_weight * penalty(tf.reduce_mean(code, axis=0), sparsity_target)
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss

    return [float(loss) for loss in compiled_epochs(
        update, data, epochs=epochs, batch_size=batch_size, seed=seed, progress=progress)]


def gaussian_corruption(x, stddev: float, rng: tf.random.Generator) -> tf.Tensor:
    """``x + stddev * N(0, 1)``, fresh noise for every entry (denoising autoencoders)."""
    if not stddev >= 0:
        raise ValueError(f"stddev must be >= 0; got {stddev}.")
    x = tf.convert_to_tensor(x)
    return x + stddev * rng.normal(tf.shape(x), dtype=x.dtype)


def masking_corruption(x, rate: float, rng: tf.random.Generator) -> tf.Tensor:
    """Set each entry of ``x`` to 0 with probability ``rate`` (masking noise).

    Unlike ``keras.layers.Dropout``, the kept entries are *not* rescaled by
    ``1 / (1 - rate)``: the corrupted input must stay in the data's range,
    and the autoencoder learns to restore the clean value (Vincent et al. 2008).
    """
    if not 0 <= rate < 1:
        raise ValueError(f"rate must be in [0, 1); got {rate}.")
    x = tf.convert_to_tensor(x)
    keep = rng.uniform(tf.shape(x), dtype=x.dtype) >= rate
    return tf.where(keep, x, tf.zeros_like(x))


@dataclasses.dataclass(frozen=True)
class Corruption:
    """An input corruption for :func:`fit_autoencoder`: ``corruption(x, rng)``.

    Attributes:
        kind: ``"gaussian"`` (:func:`gaussian_corruption`, ``level`` is the
            standard deviation) or ``"masking"`` (:func:`masking_corruption`,
            ``level`` is the fraction of entries set to 0).
        level: the amount of noise.
    """

    kind: str
    level: float

    def __post_init__(self):
        if self.kind not in ("gaussian", "masking"):
            raise ValueError(f"kind must be 'gaussian' or 'masking'; got {self.kind!r}.")
        if not (self.level >= 0 if self.kind == "gaussian" else 0 <= self.level < 1):
            raise ValueError(f"level {self.level!r} is out of range for {self.kind} corruption: "
                             "a standard deviation >= 0, or a rate in [0, 1).")

    def __call__(self, x, rng: tf.random.Generator) -> tf.Tensor:
        """The corrupted ``x`` (same shape), drawing the noise from ``rng``."""
        if self.kind == "gaussian":
            return gaussian_corruption(x, self.level, rng)
        return masking_corruption(x, self.level, rng)


def kl_sparsity_penalty(mean_activation, target: float, *, per_unit: bool = False) -> tf.Tensor:
    """``sum_j KL(Bernoulli(target) || Bernoulli(mean_activation_j))``, in nats.

    Args:
        mean_activation: each code unit's mean activation over a batch
            (n_units,), in (0, 1) (sigmoid units); clipped to [1e-7, 1 - 1e-7].
        target: the desired mean activation, in (0, 1).
        per_unit: return the (n_units,) terms instead of their sum.

    Returns:
        Scalar tensor (or (n_units,)); 0 exactly when every unit's mean equals ``target``.
    """
    if not 0 < target < 1:
        raise ValueError(f"target must be in (0, 1); got {target}.")
    q = tf.convert_to_tensor(mean_activation)
    q = tf.clip_by_value(q, 1e-7, 1 - 1e-7)
    p = tf.constant(target, q.dtype)  # tf.cast(0.1) would round through float32
    terms = p * tf.math.log(p / q) + (1 - p) * tf.math.log((1 - p) / (1 - q))
    return terms if per_unit else tf.reduce_sum(terms)


def squared_sparsity_penalty(mean_activation, target: float, *, per_unit: bool = False) -> tf.Tensor:
    """``sum_j (mean_activation_j - target)^2``: the simpler penalty, for comparison."""
    q = tf.convert_to_tensor(mean_activation)
    terms = tf.square(q - tf.constant(target, q.dtype))
    return terms if per_unit else tf.reduce_sum(terms)


#: The sparsity penalties :func:`fit_autoencoder` knows, by name.
SPARSITY_PENALTIES = {"kl": kl_sparsity_penalty, "squared": squared_sparsity_penalty}


def dense_classifier(sizes, n_classes: int, *, activations="sigmoid", weights=None, seed: int = 0,
                     dtype: str = "float32", name: str = "classifier"):
    """A Keras ``Sequential`` classifier: ``Dense`` layers of ``sizes[1:]``, then softmax.

    Hidden layer ``l`` starts from ``weights[l] = (W (n_l, n_{l+1}), b
    (n_{l+1},))`` when given, and from Keras's Glorot-uniform weights seeded
    with seed ``l`` of ``np.random.SeedSequence(seed)`` otherwise; the
    softmax layer is initialised the same way in both cases, so a
    pretrained-versus-random comparison differs only in the hidden layers.
    The model is built but not compiled.

    Args:
        sizes: ``[n_0, n_1, ..., n_L]``: inputs, then the hidden layers.
        n_classes: number of classes, at least 2.
        activations: one Keras activation name, or one per hidden layer.
        weights: ``None`` or a list of ``(W, b)`` pairs, one per hidden layer.
        seed: seeds the initialisers.
        dtype: the layers' dtype name.
        name: model name.

    Returns:
        A ``keras.Sequential`` mapping (n, n_0) inputs to (n, n_classes) probabilities.
    """
    import keras  # deferred: only this bridge needs Keras

    sizes = list(sizes)
    if isinstance(n_classes, bool) or not isinstance(n_classes, (int, np.integer)) or n_classes < 2:
        raise ValueError(f"n_classes must be an int >= 2; got {n_classes!r}.")
    n_hidden = len(sizes) - 1
    activations = [activations] * n_hidden if isinstance(activations, str) else list(activations)
    if len(activations) != n_hidden or (weights is not None and len(weights) != n_hidden):
        raise ValueError(f"need one activation (and one (W, b) pair) per hidden layer: {n_hidden}.")
    seeds = [int(s) for s in np.random.SeedSequence(seed).generate_state(n_hidden + 1)]
    model = keras.Sequential([keras.Input((sizes[0],), dtype=dtype)], name=name)
    for l, (width, activation) in enumerate(zip(sizes[1:], activations)):
        layer = keras.layers.Dense(width, activation=activation, dtype=dtype, name=f"hidden{l + 1}",
                                   kernel_initializer=keras.initializers.GlorotUniform(seed=seeds[l]))
        model.add(layer)
        if weights is not None:
            layer.set_weights([np.asarray(w) for w in weights[l]])
    model.add(keras.layers.Dense(n_classes, activation="softmax", dtype=dtype, name="softmax",
                                 kernel_initializer=keras.initializers.GlorotUniform(seed=seeds[-1])))
    return model


def to_keras_classifier(model: Autoencoder, n_classes: int, *, pretrained: bool = True,
                        seed: int = 0, name: str = "encoder_classifier"):
    """A Keras classifier made of ``model``'s encoder and a softmax layer.

    With ``pretrained`` the hidden layers start from the encoder's weights;
    otherwise from seeded Glorot-uniform weights (see :func:`dense_classifier`).

    Returns:
        An uncompiled ``keras.Sequential`` (n, n_0) -> (n, n_classes).
    """
    activations = [model.activation] * (model.n_layers - 1) + [model.code_activation]
    weights = None
    if pretrained:
        weights = [(W.numpy(), b.numpy()) for W, b in zip(model.encoder_weights, model.encoder_biases)]
    return dense_classifier(model.sizes, n_classes, activations=activations, weights=weights,
                            seed=seed, dtype=model.dtype.name, name=name)
