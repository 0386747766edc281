"""The VAE: analytic KL, the ELBO and IWAE bounds against quadrature, training."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from rbmtut.vae import VAE, estimate_log_likelihood, fit_vae, gaussian_kl

tfd = tfp.distributions


def tiny_vae(seed=0):
    """A VAE with one latent dimension, so log p(x) is a 1-D integral."""
    model = VAE(4, hidden=(3,), n_latent=1, activation="elu", seed=seed, dtype=tf.float64)
    rng = np.random.default_rng(seed)
    for v in model.trainable_variables:
        v.assign(rng.normal(0, 0.8, v.shape))
    return model


X = np.array([[1, 0, 1, 1], [0, 0, 1, 0], [1, 1, 1, 1]], dtype=np.float64)


def test_analytic_kl_equals_tfp_kl_divergence():
    model = VAE(6, hidden=(5,), n_latent=3, seed=1, dtype=tf.float64)
    for v in model.trainable_variables:
        v.assign(np.random.default_rng(2).normal(0, 1.0, v.shape))
    x = np.random.default_rng(3).random((7, 6))
    mean, log_std = model.encode(x)
    expected = tfd.kl_divergence(model.posterior(x), model.prior()).numpy()
    np.testing.assert_allclose(gaussian_kl(mean, log_std).numpy(), expected, rtol=1e-12)
    terms = model.elbo_terms(x, tf.random.Generator.from_seed(0))
    np.testing.assert_allclose(terms.kl.numpy(), expected, rtol=1e-12)
    assert terms.reconstruction.shape == (7,) and np.all(terms.reconstruction.numpy() < 0)


def _quadrature(model, x):
    """Exact log p(x) and exact ELBO by integrating over the 1-D latent on a fine grid."""
    z = np.linspace(-12, 12, 24001)[:, None]
    dz = z[1, 0] - z[0, 0]
    log_lik = model.likelihood(z[:, None, :]).log_prob(x).numpy()  # (grid, n)
    log_prior = -0.5 * z ** 2 - 0.5 * np.log(2 * np.pi)
    log_px = np.log(np.sum(np.exp(log_lik + log_prior), axis=0) * dz)
    mean, log_std = (t.numpy()[:, 0] for t in model.encode(x))
    q = np.exp(-0.5 * ((z - mean) / np.exp(log_std)) ** 2) / (np.exp(log_std) * np.sqrt(2 * np.pi))
    expected_log_lik = np.sum(q * log_lik, axis=0) * dz
    elbo = expected_log_lik - gaussian_kl(mean[:, None], log_std[:, None]).numpy()
    return log_px, elbo


def test_elbo_and_iwae_bracket_the_exact_log_likelihood():
    model = tiny_vae()
    log_px, elbo = _quadrature(model, X)
    assert np.all(elbo < log_px - 1e-3)  # a strict bound here: q is not the true posterior
    rng = tf.random.Generator.from_seed(0)
    n = 20_000
    # One call on n copies of each row (np.repeat keeps copies of a row together).
    draws = model.iwae_bound(np.repeat(X, n, axis=0), 1, rng).numpy().reshape(3, n).T
    # k = 1: an unbiased estimate of the ELBO (5 standard errors, 20,000 draws).
    se = draws.std(axis=0) / np.sqrt(n)
    assert np.all(np.abs(draws.mean(axis=0) - elbo) < 5 * se)
    # Large k: within 0.01 nats of log p(x), and never above it by more than noise.
    iwae = np.mean([model.iwae_bound(X, 20_000, rng).numpy() for _ in range(5)], axis=0)
    assert np.all(np.abs(iwae - log_px) < 0.01)
    iwae_small = model.iwae_bound(np.repeat(X, 2000, axis=0), 5, rng).numpy().reshape(3, 2000).mean(1)
    assert np.all(elbo < iwae_small) and np.all(iwae_small < iwae + 1e-3)


def test_log_likelihood_estimate_reuses_one_set_of_samples_for_every_k():
    model = tiny_vae()
    log_px, elbo = _quadrature(model, X)
    est = estimate_log_likelihood(model, X, n_samples=20_000, sample_counts=[1, 5, 20_000],
                                  batch_size=3, seed=4, progress=False)
    assert est.sample_counts == (1, 5, 20_000) and est.bounds.shape == (3, 3)
    # The largest k is the IWAE bound of the same draws, and is close to log p(x).
    same = model.iwae_bound(X, 20_000, tf.random.Generator.from_seed(4)).numpy()
    np.testing.assert_allclose(est.bounds[-1], same, rtol=1e-12)
    assert np.all(np.abs(est.bounds[-1] - log_px) < 0.02)
    # k = 1 is the first sample's log weight: an ELBO draw.
    first = model.log_importance_weights(X, 20_000, tf.random.Generator.from_seed(4)).numpy()[0]
    np.testing.assert_allclose(est.bounds[0], first, rtol=1e-12)
    # Batching changes nothing but which draws go to which example: still near log p(x).
    batched = estimate_log_likelihood(model, X, n_samples=20_000, batch_size=1, seed=4,
                                      progress=False)
    assert batched.sample_counts == (1, 10, 100, 1000, 10_000, 20_000)
    assert np.all(np.abs(batched.bounds[-1] - log_px) < 0.02)
    assert abs(est.mean(20_000) - log_px.mean()) < 0.02 and est.std_err(20_000) > 0
    with pytest.raises(ValueError, match="x must be binary"):
        estimate_log_likelihood(model, X * 0.5, n_samples=10, progress=False)
    with pytest.raises(ValueError, match=r"each entry of sample_counts must be an int in \[1, 10\]"):
        estimate_log_likelihood(model, X, n_samples=10, sample_counts=[20], progress=False)


def test_fit_improves_the_elbo_and_is_reproducible():
    x = np.random.default_rng(0).random((300, 10)) ** 3

    def run(seed):
        model = VAE(10, hidden=(8,), n_latent=2, seed=0)
        return model, fit_vae(model, x, epochs=15, batch_size=30, seed=seed, progress=False)

    (a, ha), (b, hb), (_, hc) = run(1), run(1), run(2)
    assert ha.metrics == hb.metrics and ha.metrics != hc.metrics
    assert ha["elbo"][-1] > ha["elbo"][0] + 0.5
    np.testing.assert_allclose(np.array(ha["elbo"]),
                               np.array(ha["reconstruction"]) - np.array(ha["kl"]), rtol=1e-12)
    for p, q in zip(a.trainable_variables, b.trainable_variables):
        np.testing.assert_array_equal(p.numpy(), q.numpy())
    assert a.sample(4, seed=0).shape == (4, 10)


def test_bad_input_is_rejected():
    model = VAE(4, hidden=(3,), n_latent=2)
    with pytest.raises(ValueError, match=r"x has 5 columns .* pass data of shape \(n, 4\)"):
        model.encode(np.zeros((2, 5)))
    with pytest.raises(ValueError, match="n_samples must be an int >= 1"):
        model.iwae_bound(np.zeros((2, 4)), 0, tf.random.Generator.from_seed(0))
    with pytest.raises(ValueError, match=r"x must lie in \[0, 1\]"):
        fit_vae(model, np.full((10, 4), 2.0), epochs=1, batch_size=5, progress=False)
    with pytest.raises(ValueError, match="each hidden layer size must be an int >= 1"):
        VAE(4, hidden=(0,))
