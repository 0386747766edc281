"""The variational autoencoder (Kingma & Welling 2014) with TFP distributions.

Generative model ``p(z) = N(0, I)``, ``p(x | z) = prod_i Bernoulli(x_i;
sigmoid(decoder(z)_i))``; recognition model ``q(z | x) = N(mu(x),
diag(sigma(x)^2))``.  Training maximises the evidence lower bound

    ELBO(x) = E_q[log p(x | z)] - KL(q(z | x) || p(z))  <=  log p(x),

whose two terms :meth:`VAE.elbo_terms` reports separately (the KL is
analytic).  :meth:`VAE.iwae_bound` is the importance-weighted bound of Burda
et al. (2016), which tightens towards ``log p(x)`` as the number of samples
``k`` grows and is the usual estimate of test log-likelihood.  Chapter 5
(``05_autoencoders``) uses it.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from .autoencoders import _activation, _glorot
from .rbm import check_binary_input, sample_bernoulli
from .training import compile_step

tfd = tfp.distributions

__all__ = ["ELBOTerms", "VAE", "gaussian_kl", "LogLikelihoodEstimate", "estimate_log_likelihood",
           "fit_vae"]


class ELBOTerms(NamedTuple):
    """Per-example terms of the ELBO, each (n,), in nats.

    Attributes:
        reconstruction: ``log p(x | z)`` for one sample ``z ~ q(z | x)``
            (an unbiased estimate of ``E_q[log p(x | z)]``).
        kl: ``KL(q(z | x) || p(z))``, analytic.
    """

    reconstruction: tf.Tensor
    kl: tf.Tensor

    @property
    def elbo(self) -> tf.Tensor:
        """``reconstruction - kl``, (n,)."""
        return self.reconstruction - self.kl


def gaussian_kl(mean, log_std) -> tf.Tensor:
    """``KL(N(mean, diag(exp(log_std)^2)) || N(0, I))`` per row, (n,).

    ``0.5 * sum_j (mean_j^2 + sigma_j^2 - 1 - 2 log sigma_j)``.
    """
    return 0.5 * tf.reduce_sum(tf.square(mean) + tf.exp(2.0 * log_std) - 1.0 - 2.0 * log_std,
                               axis=-1)


def _mlp_variables(sizes, rng, dtype, prefix):
    weights = [tf.Variable(_glorot(rng, a, b, dtype), name=f"{prefix}_W{i}")
               for i, (a, b) in enumerate(zip(sizes, sizes[1:]))]
    biases = [tf.Variable(tf.zeros([b], dtype), name=f"{prefix}_b{i}")
              for i, b in enumerate(sizes[1:])]
    return weights, biases


class VAE(tf.Module):
    """A VAE with Bernoulli pixels and a diagonal Gaussian posterior.

    Args:
        n_visible: pixels per example (784 for MNIST).
        hidden: hidden-layer sizes of the encoder; the decoder mirrors them
            (Burda et al.'s one-layer model: ``(200, 200)`` with 50 latents).
        n_latent: dimension of ``z``.
        activation: hidden activation (see ``rbmtut.autoencoders.ACTIVATIONS``).
        seed: seeds the Glorot-uniform initial weights.
        dtype: ``tf.float32`` or ``tf.float64``.
        name: module name.
    """

    def __init__(self, n_visible: int = 784, hidden=(200, 200), n_latent: int = 50, *,
                 activation: str = "elu", seed: int = 0, dtype=tf.float32,
                 name: str | None = None):
        super().__init__(name=name)
        sizes = [n_visible, *hidden, n_latent]
        if not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s > 0
                   for s in sizes):
            raise ValueError(f"layer sizes must be positive ints; got {sizes}.")
        self.n_visible, self.n_latent = int(n_visible), int(n_latent)
        self.activation = activation
        self._hidden = _activation(activation, "activation")
        rng = tf.random.Generator.from_seed(seed)
        # The encoder's last layer outputs the mean and the log standard deviation.
        enc_sizes = [n_visible, *hidden, 2 * n_latent]
        self.encoder_weights, self.encoder_biases = _mlp_variables(enc_sizes, rng, dtype, "encoder")
        dec_sizes = [n_latent, *reversed(hidden), n_visible]
        self.decoder_weights, self.decoder_biases = _mlp_variables(dec_sizes, rng, dtype, "decoder")

    @property
    def dtype(self) -> tf.DType:
        return self.encoder_weights[0].dtype

    def _mlp(self, h, weights, biases):
        for i, (W, b) in enumerate(zip(weights, biases)):
            h = tf.matmul(h, W) + b
            if i < len(weights) - 1:
                h = self._hidden(h)
        return h

    def _check_x(self, x) -> tf.Tensor:
        x = tf.convert_to_tensor(x, self.dtype)
        if x.shape.rank != 2 or x.shape[1] != self.n_visible:
            raise ValueError(f"x must have shape (n, {self.n_visible}); got {x.shape}.")
        return x

    def encode(self, x) -> tuple[tf.Tensor, tf.Tensor]:
        """``(mean, log_std)`` of ``q(z | x)``, each (n, n_latent)."""
        out = self._mlp(self._check_x(x), self.encoder_weights, self.encoder_biases)
        return out[:, : self.n_latent], out[:, self.n_latent:]

    def posterior(self, x) -> tfd.Distribution:
        """``q(z | x)`` as a TFP distribution with batch shape (n,) and event shape (n_latent,)."""
        mean, log_std = self.encode(x)
        return tfd.MultivariateNormalDiag(loc=mean, scale_diag=tf.exp(log_std))

    def prior(self) -> tfd.Distribution:
        """``p(z) = N(0, I)``."""
        zeros = tf.zeros([self.n_latent], self.dtype)
        return tfd.MultivariateNormalDiag(loc=zeros, scale_diag=tf.ones_like(zeros))

    def decode_logits(self, z) -> tf.Tensor:
        """Pixel logits (..., n_visible) of ``p(x | z)`` for ``z`` (..., n_latent)."""
        z = tf.convert_to_tensor(z, self.dtype)
        flat = tf.reshape(z, [-1, self.n_latent])
        logits = self._mlp(flat, self.decoder_weights, self.decoder_biases)
        return tf.reshape(logits, tf.concat([tf.shape(z)[:-1], [self.n_visible]], axis=0))

    def likelihood(self, z) -> tfd.Distribution:
        """``p(x | z)``: independent Bernoulli pixels, event shape (n_visible,)."""
        return tfd.Independent(tfd.Bernoulli(logits=self.decode_logits(z), dtype=self.dtype), 1)

    def elbo_terms(self, x, rng: tf.random.Generator) -> ELBOTerms:
        """One-sample reparameterised reconstruction term and the analytic KL, each (n,)."""
        x = self._check_x(x)
        mean, log_std = self.encode(x)
        z = mean + tf.exp(log_std) * rng.normal(tf.shape(mean), dtype=self.dtype)
        return ELBOTerms(self.likelihood(z).log_prob(x), gaussian_kl(mean, log_std))

    def log_importance_weights(self, x, k: int, rng: tf.random.Generator) -> tf.Tensor:
        """``log p(x, z_s) - log q(z_s | x)`` for ``k`` samples ``z_s ~ q(z | x)``, (k, n)."""
        _check_k(k)
        x = self._check_x(x)
        mean, log_std = self.encode(x)
        eps = rng.normal(tf.concat([[k], tf.shape(mean)], axis=0), dtype=self.dtype)
        z = mean + tf.exp(log_std) * eps  # (k, n, n_latent)
        q = tfd.MultivariateNormalDiag(loc=mean, scale_diag=tf.exp(log_std))
        return self.likelihood(z).log_prob(x) + self.prior().log_prob(z) - q.log_prob(z)

    def iwae_bound(self, x, k: int, rng: tf.random.Generator) -> tf.Tensor:
        """The importance-weighted bound ``log (1/k) sum_s p(x, z_s) / q(z_s | x)``, (n,).

        ``k = 1`` is a one-sample ELBO estimate; the expected bound rises
        towards ``log p(x)`` as ``k`` grows (Burda et al. 2016).
        """
        log_w = self.log_importance_weights(x, k, rng)
        # tf.constant, not tf.cast: casting a Python float rounds it through float32.
        return tf.reduce_logsumexp(log_w, axis=0) - tf.constant(math.log(k), self.dtype)

    def sample(self, n: int, rng: tf.random.Generator) -> tf.Tensor:
        """Pixel probabilities (n, n_visible) of ``p(x | z)`` for ``z ~ p(z)``."""
        z = rng.normal([n, self.n_latent], dtype=self.dtype)
        return tf.sigmoid(self.decode_logits(z))


def _check_k(k) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive int; got {k!r}.")
    return int(k)


class LogLikelihoodEstimate(NamedTuple):
    """Importance-weighted estimates of ``log p(x)`` for several numbers of samples.

    Attributes:
        ks: the numbers of samples ``k``, ascending.
        bounds: (len(ks), n): row ``i`` is each example's IWAE bound with the
            first ``ks[i]`` of the same importance samples.
    """

    ks: tuple
    bounds: np.ndarray

    def mean(self, k: int) -> float:
        """The average bound over the examples with ``k`` samples, in nats."""
        return float(self.bounds[self.ks.index(k)].mean())

    def std_err(self, k: int) -> float:
        """Standard error of :meth:`mean` from the spread over examples."""
        row = self.bounds[self.ks.index(k)]
        return float(row.std(ddof=1) / math.sqrt(len(row)))


def estimate_log_likelihood(model: VAE, x, *, k: int = 5000, ks=None, batch_size: int = 20,
                            seed: int = 0, progress: bool = True) -> LogLikelihoodEstimate:
    """Estimate test ``log p(x)`` with the IWAE bound, as Burda et al. (2016) do with k = 5000.

    Draws ``k`` importance samples per example once and evaluates the bound
    with the first ``k'`` of them for every ``k'`` in ``ks``, so the curve
    over ``k'`` costs no more than the largest ``k``.  Each bound is a
    stochastic lower bound on ``log p(x)`` whose expectation rises with ``k'``.

    Args:
        model: the VAE.
        x: binary data (n, n_visible).
        k: importance samples per example.
        ks: the sample counts to report (default ``1, 10, 100, ..., k``).
        batch_size: examples per compiled call (memory grows as ``k * batch_size``).
        seed: seeds the samples.
        progress: a progress bar over the batches.

    Returns:
        A :class:`LogLikelihoodEstimate`.
    """
    from tqdm.auto import tqdm

    k = _check_k(k)
    ks = tuple(sorted({*(10 ** np.arange(int(math.log10(k)) + 1)), k} if ks is None else ks))
    if not all(1 <= int(j) <= k for j in ks):
        raise ValueError(f"every entry of ks must be in [1, k = {k}]; got {ks}.")
    x = np.asarray(x, dtype=model.dtype.as_numpy_dtype)
    check_binary_input(x, model.n_visible, name="x")
    if not np.all((x == 0) | (x == 1)):
        raise ValueError("x must be binary: p(x) of grey levels is not a likelihood; binarise "
                         "first, e.g. rbmtut.data.binarize_stochastic(images, seed=0).")
    rng = tf.random.Generator.from_seed(seed)

    def bounds(batch):
        log_w = model.log_importance_weights(batch, k, rng)  # (k, batch)
        # log mean of the first j weights for each j (a few exact reductions:
        # a running log-sum-exp over thousands of samples loses digits).
        return tf.stack([tf.reduce_logsumexp(log_w[:j], axis=0) - math.log(j) for j in ks])

    bounds = compile_step(bounds)
    starts = range(0, len(x), batch_size)
    parts = [bounds(tf.constant(x[i:i + batch_size])).numpy()
             for i in tqdm(starts, disable=not progress, unit="batch", desc=f"IWAE, k={k}")]
    return LogLikelihoodEstimate(tuple(int(j) for j in ks), np.concatenate(parts, axis=1))


def fit_vae(model: VAE, x, *, epochs: int, batch_size: int = 100, optimizer=None,
            binarize: bool = True, seed: int = 0, progress: bool = True) -> dict[str, list]:
    """Maximise the ELBO on ``x`` (N, n_visible) in [0, 1]; return per-epoch mean terms.

    Args:
        model: the VAE, updated in place.
        x: training images with intensities in [0, 1].
        epochs: passes over the data.
        batch_size: rows per update (the last partial batch is dropped).
        optimizer: a Keras optimizer (default ``keras.optimizers.Adam(1e-3)``).
        binarize: draw a fresh binary image from the intensities for every
            batch ("dynamically binarised" MNIST, as in Burda et al.).
        seed: seeds the shuffles, the binarisation and the ELBO's noise.
        progress: show a progress bar over the epochs.

    Returns:
        ``{"reconstruction": [...], "kl": [...], "elbo": [...]}``, epoch means in nats.
    """
    import keras  # deferred: only training needs Keras

    from .fitting import compiled_epochs

    data = tf.constant(np.asarray(x, dtype=model.dtype.as_numpy_dtype))
    if data.shape.rank != 2 or data.shape[1] != model.n_visible:
        raise ValueError(f"x must have shape (N, {model.n_visible}); got {data.shape}.")
    if not bool(tf.reduce_all((data >= 0) & (data <= 1))):
        raise ValueError("x must hold intensities in [0, 1] (Bernoulli pixels).")
    optimizer = keras.optimizers.Adam(1e-3) if optimizer is None else optimizer
    rng = tf.random.Generator.from_seed(seed)
    variables = list(model.trainable_variables)

    def update(batch):
        if binarize:
            batch = sample_bernoulli(batch, rng)
        with tf.GradientTape() as tape:
            terms = model.elbo_terms(batch, rng)
            loss = -tf.reduce_mean(terms.elbo)
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return tf.stack([tf.reduce_mean(terms.reconstruction), tf.reduce_mean(terms.kl)])

    history = {"reconstruction": [], "kl": [], "elbo": []}
    for means in compiled_epochs(update, data, epochs=epochs, batch_size=batch_size, seed=seed,
                                 shape=[2], progress=progress):
        reconstruction, kl = (float(v) for v in means)
        history["reconstruction"].append(reconstruction)
        history["kl"].append(kl)
        history["elbo"].append(reconstruction - kl)
    return history
