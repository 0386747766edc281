"""Dense autoencoders as ``tf.Module`` s: tied or untied, corruption, sparsity, PCA.

An autoencoder maps ``x`` (n, n_0) through encoder layers of sizes
``n_1, ..., n_code`` to a code and back through a mirrored decoder.  With
*tied* weights the decoder's layer ``l`` uses the transpose of the encoder's
weight matrix ``l`` — the same ``tf.Variable``, so a tied stack has half the
weights.  Linear units and squared error give PCA's subspace; corruption of
the input gives a denoising autoencoder (Vincent et al. 2008); a penalty on
the code units' mean activation gives a sparse one.  Chapter 5
(``05_autoencoders``) explains them; :mod:`rbmtut.vae` holds the variational
autoencoder.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

__all__ = [
    "ACTIVATIONS", "Autoencoder", "reconstruction_loss", "fit_autoencoder", "gaussian_corruption",
    "masking_corruption", "kl_sparsity_penalty", "squared_sparsity_penalty", "pca",
    "principal_angles",
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
        output: ``"sigmoid"`` (outputs are probabilities; train on the logits
            with cross-entropy) or ``"linear"`` (train with squared error).
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
        if output not in ("sigmoid", "linear"):
            raise ValueError(f"output must be 'sigmoid' or 'linear'; got {output!r}.")
        self.sizes, self.tied, self.output = tuple(sizes), bool(tied), output
        self.activation = activation
        self.code_activation = activation if code_activation is None else code_activation
        self._hidden = _activation(self.activation, "activation")
        self._code = _activation(self.code_activation, "code_activation")
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

    def encode(self, x, *, depth: int | None = None) -> tf.Tensor:
        """The activations (n, n_depth) of encoder layer ``depth`` (default: the code).

        With ``depth < n_layers`` the last layer used takes the hidden
        activation: it is an inner layer of the full network.
        """
        depth = self._check_depth(depth)
        h = tf.convert_to_tensor(x, self.dtype)
        if h.shape.rank != 2 or h.shape[1] != self.sizes[0]:
            raise ValueError(f"x must have shape (n, {self.sizes[0]}); got {h.shape}.")
        for i in range(depth):
            a = tf.matmul(h, self.encoder_weights[i]) + self.encoder_biases[i]
            h = self._code(a) if i == self.n_layers - 1 else self._hidden(a)
        return h

    def decode_output(self, code, *, depth: int | None = None) -> tf.Tensor:
        """Pre-activation output (n, n_0) from layer ``depth``'s activations (default: the code).

        Uses the last ``depth`` decoder layers; for ``output="sigmoid"`` these
        are the logits (use them with ``sigmoid_cross_entropy_with_logits``).
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
        out = self.decode_output(code, depth=depth)
        return tf.sigmoid(out) if self.output == "sigmoid" else out

    def __call__(self, x, *, depth: int | None = None) -> tf.Tensor:
        """Reconstruction (n, n_0) of ``x`` through the outer ``depth`` layers."""
        return self.decode(self.encode(x, depth=depth), depth=depth)


def _output_loss(model: Autoencoder, out, target, kind: str | None) -> tf.Tensor:
    """Loss of pre-activation outputs ``out`` against ``target``: sum over units, mean over rows."""
    kind = kind or ("cross_entropy" if model.output == "sigmoid" else "squared")
    if kind == "cross_entropy":
        if model.output != "sigmoid":
            raise ValueError("cross_entropy needs output='sigmoid'; use kind='squared'.")
        per_unit = tf.nn.sigmoid_cross_entropy_with_logits(labels=target, logits=out)
    elif kind == "squared":
        recon = tf.sigmoid(out) if model.output == "sigmoid" else out
        per_unit = tf.square(recon - target)
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
                    variables=None, depth: int | None = None, seed: int = 0,
                    progress: bool = True) -> list[float]:
    """Train ``model`` on ``x`` by mini-batch gradient descent; return per-epoch mean losses.

    Each epoch is one compiled ``tf.while_loop`` over seeded shuffles
    (:func:`rbmtut.fitting.epoch_orders`).  The loss of a batch ``v`` is
    ``reconstruction_loss(model, corruption(v), target=v, depth=depth)``
    plus ``sparsity_weight * kl_sparsity_penalty(mean code activation, sparsity_target)``.

    Args:
        model: the autoencoder, updated in place.
        x: training data (N, n_0).
        epochs: passes over the data.
        batch_size: rows per update (the last partial batch is dropped).
        optimizer: a Keras optimizer (default ``keras.optimizers.Adam(1e-3)``).
        kind: loss kind, see :func:`reconstruction_loss`.
        corruption: ``f(batch, rng) -> corrupted batch``, e.g.
            ``lambda v, rng: gaussian_corruption(v, 0.3, rng)``; the clean batch is the target.
        sparsity_weight, sparsity_target: the KL sparsity penalty on the units
            of encoder layer ``depth`` (0 turns it off).
        variables: the variables to train (default: all); the others stay
            frozen, e.g. for layer-wise training in phases.
        depth: train the outer ``depth`` layers only (default: all).
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
    optimizer = keras.optimizers.Adam(1e-3) if optimizer is None else optimizer
    variables = list(model.trainable_variables if variables is None else variables)
    rng = tf.random.Generator.from_seed(seed)

    def update(batch):
        with tf.GradientTape() as tape:
            inputs = batch if corruption is None else corruption(batch, rng)
            code = model.encode(inputs, depth=depth)
            loss = _output_loss(model, model.decode_output(code, depth=depth), batch, kind)
            if sparsity_weight > 0:
                loss += sparsity_weight * kl_sparsity_penalty(
                    tf.reduce_mean(code, axis=0), sparsity_target)
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


def kl_sparsity_penalty(mean_activation, target: float) -> tf.Tensor:
    """``sum_j KL(Bernoulli(target) || Bernoulli(mean_activation_j))``, in nats.

    Args:
        mean_activation: each code unit's mean activation over a batch
            (n_units,), in (0, 1) (sigmoid units); clipped to [1e-7, 1 - 1e-7].
        target: the desired mean activation, in (0, 1).

    Returns:
        Scalar tensor; 0 exactly when every unit's mean equals ``target``.
    """
    if not 0 < target < 1:
        raise ValueError(f"target must be in (0, 1); got {target}.")
    q = tf.convert_to_tensor(mean_activation)
    q = tf.clip_by_value(q, 1e-7, 1 - 1e-7)
    p = tf.constant(target, q.dtype)  # tf.cast(0.1) would round through float32
    return tf.reduce_sum(p * tf.math.log(p / q) + (1 - p) * tf.math.log((1 - p) / (1 - q)))


def squared_sparsity_penalty(mean_activation, target: float) -> tf.Tensor:
    """``sum_j (mean_activation_j - target)^2``: the simpler penalty, for comparison."""
    q = tf.convert_to_tensor(mean_activation)
    return tf.reduce_sum(tf.square(q - tf.constant(target, q.dtype)))


def pca(x, n_components: int, *, method: str = "auto") -> tuple[np.ndarray, np.ndarray]:
    """Principal components of ``x`` (n, d), from the centred data ``xc = x - mean``.

    Two exact routes to the same subspace: ``"svd"`` takes the right singular
    vectors of ``xc`` (n, d); ``"covariance"`` takes the eigenvectors of the
    d x d scatter matrix ``xc^T xc``, which is far cheaper when n >> d (60,000
    MNIST digits: a few seconds instead of about a minute) and accurate for
    the leading components.  ``"auto"`` uses the covariance when n >= 2 d.
    Each component's sign is fixed so that its largest-magnitude entry is
    positive, so both routes return the same rows.

    Returns:
        ``(mean (d,), components (n_components, d))``, components orthonormal
        rows in order of decreasing variance.  The reconstruction of ``x`` is
        ``mean + (x - mean) @ components.T @ components``.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"x must be 2-D (n, d); got shape {x.shape}.")
    if isinstance(n_components, bool) or not isinstance(n_components, (int, np.integer)) \
            or not 1 <= n_components <= min(x.shape):
        raise ValueError(f"n_components must be an int in [1, {min(x.shape)}]; got {n_components!r}.")
    if method not in ("auto", "svd", "covariance"):
        raise ValueError(f"method must be 'auto', 'svd' or 'covariance'; got {method!r}.")
    if method == "auto":
        method = "covariance" if x.shape[0] >= 2 * x.shape[1] else "svd"
    mean = x.mean(axis=0)
    centred = x - mean
    if method == "svd":
        components = np.linalg.svd(centred, full_matrices=False)[2][:n_components]
    else:  # eigh sorts eigenvalues in ascending order
        components = np.linalg.eigh(centred.T @ centred)[1][:, ::-1][:, :n_components].T
    largest = np.argmax(np.abs(components), axis=1)
    signs = np.sign(components[np.arange(n_components), largest])
    return mean, components * signs[:, None]


def principal_angles(a, b) -> np.ndarray:
    """Principal angles (radians, ascending) between the column spaces of ``a`` and ``b``.

    Args:
        a: (d, k) matrix; b: (d, m) matrix, each of full column rank.

    Returns:
        ``min(k, m)`` angles in [0, pi/2]; all zero when one space contains the other.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[0] != b.shape[0]:
        raise ValueError(f"need two matrices with the same number of rows; got {a.shape}, {b.shape}.")
    qa, _ = np.linalg.qr(a)
    qb, _ = np.linalg.qr(b)
    cosines = np.linalg.svd(qa.T @ qb, compute_uv=False)
    return np.sort(np.arccos(np.clip(cosines, -1.0, 1.0)))
