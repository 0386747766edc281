"""The variational autoencoder (Kingma & Welling 2014) with TFP distributions.

Generative model ``p(z) = N(0, I)``, ``p(x | z) = prod_i Bernoulli(x_i;
sigmoid(decoder(z)_i))``; recognition model ``q(z | x) = N(mu(x),
diag(sigma(x)^2))``.  Training maximises the evidence lower bound

    ELBO(x) = E_q[log p(x | z)] - KL(q(z | x) || p(z))  <=  log p(x),

whose two terms :meth:`VAE.elbo_terms` reports separately (the KL is
analytic).  :meth:`VAE.iwae_bound` is the importance-weighted bound of Burda
et al. (2016), which tightens towards ``log p(x)`` as the number of samples
``n_samples`` grows and is the usual estimate of test log-likelihood.  Chapter
5b (``05b_vae_and_deep_autoencoders``) uses it.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from ._loop import History, Trainer, check_optimizer, compile_step, train_epochs
from ._validation import (as_model_input, check_bool, check_float_dtype, check_instance,
                          check_int, check_seed)
from .nn import (activation as named_activation, dense_forward, dense_variables,
                 sample_bernoulli)
from .saving import Saveable

tfd = tfp.distributions

__all__ = ["ELBOTerms", "VAE", "gaussian_kl", "LogLikelihoodEstimate",
           "estimate_log_likelihood", "VAETrainer", "fit_vae"]


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
    terms = tf.square(mean) + tf.exp(2.0 * log_std) - 1.0 - 2.0 * log_std
    return 0.5 * tf.reduce_sum(terms, axis=-1)


class VAE(Saveable, tf.Module):
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
        if isinstance(hidden, (str, bytes)) or not hasattr(hidden, "__iter__"):
            raise TypeError("hidden must be a sequence of layer sizes, "
                            f"e.g. (200, 200); got {hidden!r}.")
        self.n_visible = check_int(n_visible, "n_visible", low=1)
        self.n_latent = check_int(n_latent, "n_latent", low=1)
        self.hidden = tuple(check_int(s, "each hidden layer size", low=1)
                            for s in hidden)
        self.activation = activation
        self._hidden = named_activation(activation, "activation")
        dtype = check_float_dtype(dtype)
        rng = tf.random.Generator.from_seed(check_seed(seed))
        # The encoder's last layer outputs the mean and the log standard deviation.
        enc_sizes = [self.n_visible, *self.hidden, 2 * self.n_latent]
        self.encoder_weights, self.encoder_biases = dense_variables(
            enc_sizes, rng, dtype, "encoder")
        dec_sizes = [self.n_latent, *reversed(self.hidden), self.n_visible]
        self.decoder_weights, self.decoder_biases = dense_variables(
            dec_sizes, rng, dtype, "decoder")

    def get_config(self) -> dict:
        """The arguments that rebuild a VAE of this shape (see :mod:`rbmtut.saving`)."""
        return {"n_visible": self.n_visible, "hidden": list(self.hidden),
                "n_latent": self.n_latent, "activation": self.activation,
                "dtype": self.dtype.name, "name": self.name}

    @property
    def dtype(self) -> tf.DType:
        return self.encoder_weights[0].dtype

    def _check_x(self, x) -> tf.Tensor:
        return as_model_input(x, self.n_visible, self.dtype, what="pixels")

    def encode(self, x) -> tuple[tf.Tensor, tf.Tensor]:
        """``(mean, log_std)`` of ``q(z | x)``, each (n, n_latent)."""
        out = dense_forward(self._check_x(x), self.encoder_weights, self.encoder_biases,
                            self._hidden)
        return out[:, : self.n_latent], out[:, self.n_latent:]

    def posterior(self, x) -> tfd.Distribution:
        """``q(z | x)`` as a TFP distribution with batch shape (n,) and event shape
        (n_latent,)."""
        mean, log_std = self.encode(x)
        return tfd.MultivariateNormalDiag(loc=mean, scale_diag=tf.exp(log_std))

    def prior(self) -> tfd.Distribution:
        """``p(z) = N(0, I)``."""
        zeros = tf.zeros([self.n_latent], self.dtype)
        return tfd.MultivariateNormalDiag(loc=zeros, scale_diag=tf.ones_like(zeros))

    def decode_logits(self, z) -> tf.Tensor:
        """Pixel logits (..., n_visible) of ``p(x | z)`` for ``z`` (..., n_latent)."""
        z = tf.cast(z, self.dtype)
        rank = z.shape.rank
        if rank is not None and (rank < 1 or z.shape[-1] not in (None, self.n_latent)):
            raise ValueError(f"z must have shape (..., {self.n_latent}); "
                             f"got {tuple(z.shape)}.")
        flat = tf.reshape(z, [-1, self.n_latent])
        logits = dense_forward(flat, self.decoder_weights, self.decoder_biases,
                               self._hidden)
        shape = tf.concat([tf.shape(z)[:-1], [self.n_visible]], axis=0)
        return tf.reshape(logits, shape)

    def likelihood(self, z) -> tfd.Distribution:
        """``p(x | z)``: independent Bernoulli pixels, event shape (n_visible,)."""
        pixels = tfd.Bernoulli(logits=self.decode_logits(z), dtype=self.dtype)
        return tfd.Independent(pixels, 1)

    def elbo_terms(self, x, rng: tf.random.Generator) -> ELBOTerms:
        """One-sample reparameterised reconstruction term and the analytic KL,
        each (n,)."""
        x = self._check_x(x)
        mean, log_std = self.encode(x)
        z = mean + tf.exp(log_std) * rng.normal(tf.shape(mean), dtype=self.dtype)
        return ELBOTerms(self.likelihood(z).log_prob(x), gaussian_kl(mean, log_std))

    def log_importance_weights(self, x, n_samples: int,
                               rng: tf.random.Generator) -> tf.Tensor:
        """``log p(x, z_s) - log q(z_s | x)`` for ``n_samples`` draws
        ``z_s ~ q(z | x)``: (S, n)."""
        n_samples = check_int(n_samples, "n_samples", low=1)
        x = self._check_x(x)
        mean, log_std = self.encode(x)
        shape = tf.concat([[n_samples], tf.shape(mean)], axis=0)
        eps = rng.normal(shape, dtype=self.dtype)
        z = mean + tf.exp(log_std) * eps  # (S, n, n_latent)
        q = tfd.MultivariateNormalDiag(loc=mean, scale_diag=tf.exp(log_std))
        return self.likelihood(z).log_prob(x) + self.prior().log_prob(z) - q.log_prob(z)

    def iwae_bound(self, x, n_samples: int, rng: tf.random.Generator) -> tf.Tensor:
        """The importance-weighted bound ``log (1/S) sum_s p(x, z_s) / q(z_s | x)``,
        (n,).

        One sample (``S = 1``) is a one-sample ELBO estimate; the expected
        bound rises towards ``log p(x)`` as ``S`` grows (Burda et al. 2016).
        """
        log_w = self.log_importance_weights(x, n_samples, rng)
        # tf.constant, not tf.cast: casting a Python float rounds it through float32.
        log_s = tf.constant(math.log(n_samples), self.dtype)
        return tf.reduce_logsumexp(log_w, axis=0) - log_s

    def sample(self, n: int, *, seed: int = 0) -> tf.Tensor:
        """Pixel probabilities (n, n_visible) of ``p(x | z)`` for ``n`` draws
        ``z ~ p(z)``."""
        n = check_int(n, "n", low=1)
        rng = tf.random.Generator.from_seed(check_seed(seed))
        z = rng.normal([n, self.n_latent], dtype=self.dtype)
        return tf.sigmoid(self.decode_logits(z))


class LogLikelihoodEstimate(NamedTuple):
    """Importance-weighted estimates of ``log p(x)`` for several numbers of samples.

    Attributes:
        sample_counts: the numbers of importance samples, ascending.
        bounds: (len(sample_counts), n): row ``i`` is each example's IWAE bound
            with the first ``sample_counts[i]`` of the same importance samples.
    """

    sample_counts: tuple
    bounds: np.ndarray

    def _row(self, n_samples: int) -> np.ndarray:
        if n_samples not in self.sample_counts:
            raise ValueError(f"no bound for n_samples={n_samples!r}; this estimate has "
                             f"{self.sample_counts}.")
        return self.bounds[self.sample_counts.index(n_samples)]

    def mean(self, n_samples: int) -> float:
        """The average bound over the examples with ``n_samples`` samples, in nats."""
        return float(self._row(n_samples).mean())

    def std_err(self, n_samples: int) -> float:
        """Standard error of :meth:`mean` from the spread over examples."""
        row = self._row(n_samples)
        return float(row.std(ddof=1) / math.sqrt(len(row)))


def estimate_log_likelihood(model: VAE, x, *, n_samples: int = 5000, sample_counts=None,
                            batch_size: int = 20, seed: int = 0,
                            progress: bool = True) -> LogLikelihoodEstimate:
    """Estimate test ``log p(x)`` with the IWAE bound, as Burda et al. (2016) do
    with 5,000 samples.

    Draws ``n_samples`` importance samples per example once and evaluates the
    bound with the first ``s`` of them for every ``s`` in ``sample_counts``, so
    the curve over ``s`` costs no more than the largest.  Each bound is a
    stochastic lower bound on ``log p(x)`` whose expectation rises with ``s``.

    Args:
        model: the VAE.
        x: binary data (n, n_visible).
        n_samples: importance samples per example.
        sample_counts: the sample counts to report (default ``1, 10, 100, ...,
            n_samples``), each in [1, n_samples].
        batch_size: examples per compiled call (memory grows as
            ``n_samples * batch_size``).
        seed: seeds the samples.
        progress: a progress bar over the batches.

    Returns:
        A :class:`LogLikelihoodEstimate`.
    """
    from tqdm.auto import tqdm

    check_instance(model, "model", VAE)
    n_samples = check_int(n_samples, "n_samples", low=1)
    batch_size = check_int(batch_size, "batch_size", low=1)
    if sample_counts is None:
        sample_counts = {*(10 ** np.arange(int(math.log10(n_samples)) + 1)), n_samples}
    counts = tuple(sorted(
        check_int(s, "each entry of sample_counts", low=1, high=n_samples)
        for s in sample_counts))
    if not counts:
        raise ValueError("sample_counts is empty; give at least one count.")
    x = as_model_input(x, model.n_visible, model.dtype, values="binary",
                       what="pixels").numpy()
    rng = tf.random.Generator.from_seed(check_seed(seed))

    def bounds(batch):
        log_w = model.log_importance_weights(batch, n_samples, rng)  # (S, batch)
        # log mean of the first s weights for each s (a few exact reductions:
        # a running log-sum-exp over thousands of samples loses digits).
        return tf.stack([tf.reduce_logsumexp(log_w[:s], axis=0) - math.log(s)
                         for s in counts])

    bounds = compile_step(bounds)
    starts = range(0, len(x), batch_size)
    parts = [bounds(tf.constant(x[i:i + batch_size])).numpy()
             for i in tqdm(starts, disable=not progress, unit="batch",
                           desc=f"IWAE, {n_samples} samples")]
    return LogLikelihoodEstimate(tuple(int(s) for s in counts),
                                 np.concatenate(parts, axis=1))


class VAETrainer(Trainer):
    """Maximises a VAE's ELBO by a Keras optimizer; each update returns
    (reconstruction, kl).

    The arguments are those of :func:`fit_vae`.
    """

    metric_names = ("reconstruction", "kl")

    def __init__(self, model: VAE, *, optimizer=None, binarize: bool = True,
                 seed: int = 0, name: str | None = None):
        super().__init__(seed=seed, name=name)
        self.vae = check_instance(model, "model", VAE)
        self.binarize = check_bool(binarize, "binarize")
        self.optimizer = check_optimizer(optimizer)

    @property
    def model(self) -> VAE:
        """The VAE being trained."""
        return self.vae

    def prepare(self, x, name: str = "x") -> tf.Tensor:
        """Training images (N, n_visible) with intensities in [0, 1]
        (binary if not binarising)."""
        return as_model_input(x, self.vae.n_visible, self.vae.dtype, name=name,
                              values="unit" if self.binarize else "binary",
                              what="pixels")

    def update_step(self, batch) -> tf.Tensor:
        """One optimizer step on the negative ELBO of ``batch``; returns
        its two mean terms."""
        model, rng = self.vae, self.rng
        if self.binarize:
            batch = sample_bernoulli(batch, rng)
        variables = list(model.trainable_variables)
        with tf.GradientTape() as tape:
            terms = model.elbo_terms(batch, rng)
            loss = -tf.reduce_mean(terms.elbo)
        self.optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return tf.stack([tf.reduce_mean(terms.reconstruction),
                         tf.reduce_mean(terms.kl)])


def fit_vae(model: VAE, x, *, epochs: int, batch_size: int = 100, optimizer=None,
            binarize: bool = True, seed: int = 0, monitors=None, callback=None,
            progress: bool = True) -> History:
    """Maximise the ELBO on ``x`` (N, n_visible) in [0, 1]; return the per-epoch
    :class:`~rbmtut.History`.

    Args:
        model: the VAE, updated in place.
        x: training images with intensities in [0, 1].
        epochs: passes over the data.
        batch_size: rows per update (the last partial batch is dropped).
        optimizer: a Keras optimizer (default ``keras.optimizers.Adam(1e-3)``).
        binarize: draw a fresh binary image from the intensities for every
            batch ("dynamically binarised" MNIST, as in Burda et al.); without
            it, ``x`` must be binary.
        seed: seeds the shuffles, the binarisation and the ELBO's noise.
        monitors, callback: as for :func:`rbmtut.fitting.train_epochs`.
        progress: show a progress bar over the epochs.

    Returns:
        A History with the epoch means ``"reconstruction"``, ``"kl"`` and
        ``"elbo"`` (= reconstruction - kl), in nats.
    """
    trainer = VAETrainer(model, optimizer=optimizer, binarize=binarize, seed=seed)
    history = train_epochs(trainer, x, epochs=epochs, batch_size=batch_size,
                           monitors=monitors, callback=callback, progress=progress)
    pairs = zip(history["reconstruction"], history["kl"])
    history.metrics["elbo"] = [r - k for r, k in pairs]
    return history
