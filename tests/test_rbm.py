"""The RBM's energies, conditionals and exact partition function vs brute force."""

import numpy as np
import pytest
import tensorflow as tf

from rbmtut import exact, likelihood
from rbmtut._validation import as_model_input
from rbmtut.rbm import BernoulliRBM
from conftest import BruteForce, random_rbm


def test_free_energy_marginalises_the_joint(small_rbm):
    ref = BruteForce(small_rbm)
    got = small_rbm.free_energy(tf.constant(ref.V)).numpy()
    np.testing.assert_allclose(got, ref.free_energy(), rtol=0, atol=1e-5)


def test_hidden_free_energy_marginalises_the_joint(small_rbm):
    ref = BruteForce(small_rbm)
    got = small_rbm.hidden_free_energy(tf.constant(ref.H)).numpy()
    expected = -np.log(ref.p_h) - ref.log_z
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5)


def test_energy_matches_the_table(small_rbm):
    ref = BruteForce(small_rbm)
    v = np.repeat(ref.V, len(ref.H), axis=0)
    h = np.tile(ref.H, (len(ref.V), 1))
    got = small_rbm.energy(tf.constant(v), tf.constant(h)).numpy().reshape(ref.energy.shape)
    np.testing.assert_allclose(got, ref.energy, rtol=1e-12, atol=1e-9)


def test_factorised_conditionals_equal_those_of_the_joint(small_rbm):
    ref = BruteForce(small_rbm)
    # p(h_j = 1 | v) = sum_{h: h_j = 1} p(v, h) / p(v)
    p_h_given_v = (ref.joint @ ref.H) / ref.p_v[:, None]
    np.testing.assert_allclose(
        small_rbm.hidden_probs(tf.constant(ref.V)).numpy(), p_h_given_v, atol=1e-5
    )
    p_v_given_h = (ref.joint.T @ ref.V) / ref.p_h[:, None]
    np.testing.assert_allclose(
        small_rbm.visible_probs(tf.constant(ref.H)).numpy(), p_v_given_h, atol=1e-5
    )


def test_exact_log_partition_matches_brute_force(small_rbm):
    ref = BruteForce(small_rbm)
    assert abs(exact.exact_log_partition(small_rbm).numpy() - ref.log_z) < 1e-5
    # Chunked enumeration gives the same answer as one pass.
    chunked = exact.exact_log_partition(small_rbm, chunk_bits=1).numpy()
    assert abs(chunked - ref.log_z) < 1e-5


def test_exact_visible_distribution_and_log_likelihood(small_rbm):
    ref = BruteForce(small_rbm)
    p = exact.exact_visible_distribution(small_rbm).numpy()
    np.testing.assert_allclose(p, ref.p_v, atol=1e-7)
    log_z = exact.exact_log_partition(small_rbm)
    ll = likelihood.log_likelihood(small_rbm, ref.V[:3], log_z).numpy()
    assert abs(ll - np.log(ref.p_v[:3]).mean()) < 1e-5


def test_exact_model_statistics_match_brute_force(small_rbm):
    ref = BruteForce(small_rbm)
    vh, v, h = (t.numpy() for t in exact.exact_model_statistics(small_rbm))
    np.testing.assert_allclose(vh, ref.V.T @ ref.joint @ ref.H, atol=1e-6)
    np.testing.assert_allclose(v, ref.p_v @ ref.V, atol=1e-6)
    np.testing.assert_allclose(h, ref.p_h @ ref.H, atol=1e-6)


def test_free_energy_is_finite_for_huge_activations():
    rbm = random_rbm(4, 3, 1.0, seed=0)
    rbm.W.assign(tf.fill([4, 3], tf.constant(500.0, tf.float64)))
    f = rbm.free_energy(tf.ones([1, 4], tf.float64)).numpy()
    assert np.all(np.isfinite(f)) and f[0] < -5000  # log(1+exp(2000)) would overflow


def test_exact_log_partition_refuses_large_models():
    with pytest.raises(ValueError, match="ais_log_partition"):
        exact.exact_log_partition(BernoulliRBM(30, 25))


def test_init_visible_bias_from_data_matches_log_odds():
    x = np.array([[1, 0, 1], [1, 0, 0], [0, 0, 1], [1, 0, 1]], np.float32)
    rbm = BernoulliRBM(3, 2)
    rbm.init_visible_bias_from_data(x, eps=1e-3)
    p = np.clip(x.mean(0), 1e-3, 1 - 1e-3)
    np.testing.assert_allclose(rbm.b.numpy(), np.log(p / (1 - p)), rtol=1e-6)


def test_sampling_is_reproducible_and_has_the_right_mean():
    rbm = random_rbm(3, 4, 1.0, seed=1, dtype=tf.float32)
    v = tf.constant([[1.0, 0.0, 1.0]])
    v = tf.repeat(v, 20000, axis=0)
    a = rbm.sample_hidden(v, tf.random.Generator.from_seed(5)).numpy()
    b = rbm.sample_hidden(v, tf.random.Generator.from_seed(5)).numpy()
    np.testing.assert_array_equal(a, b)
    p = rbm.hidden_probs(v[:1]).numpy()[0]
    # 5 standard errors of a mean of 20000 Bernoulli draws
    assert np.all(np.abs(a.mean(0) - p) < 5 * np.sqrt(p * (1 - p) / len(a)))
    # Different rows get different noise (no noise shared across the batch).
    assert len(np.unique(a, axis=0)) > 1


@pytest.mark.parametrize(
    "bad, error, match",
    [
        (np.zeros((2, 5)), ValueError, "columns"),
        (np.zeros(4), ValueError, "2-D"),
        (np.full((2, 4), np.nan), ValueError, "NaN"),
        (np.full((2, 4), 2.0), ValueError, r"\[0, 1\]"),
        (np.full((2, 4), -0.5), ValueError, r"\[0, 1\]"),
        (np.array([["a"] * 4]), TypeError, "real numbers"),
    ],
)
def test_bad_input_is_rejected_with_a_clear_message(bad, error, match):
    with pytest.raises(error, match=match):
        as_model_input(bad, 4, tf.float32)
    rbm = BernoulliRBM(4, 2)
    if error is ValueError:
        with pytest.raises(error, match=match):
            likelihood.reconstruction_cross_entropy(rbm, bad)


@pytest.mark.parametrize("n_hidden", [0, -3])
def test_nonpositive_sizes_are_rejected(n_hidden):
    with pytest.raises(ValueError, match=">= 1"):
        BernoulliRBM(4, n_hidden)
    with pytest.raises(TypeError):
        BernoulliRBM(4, 2.5)


@pytest.mark.parametrize("n_visible, n_hidden", [(6, 3), (3, 6)])
def test_exact_samples_follow_the_exact_distribution(n_visible, n_hidden):
    # Over the hidden layer (6, 3) and over the visible layer (3, 6).
    rbm = random_rbm(n_visible, n_hidden, 1.5, seed=4)
    p = exact.exact_visible_distribution(rbm).numpy()
    n = 40_000
    noise_tv = 0.5 * np.sum(np.sqrt(2 * p * (1 - p) / (np.pi * n)))  # E[TV] of exact draws
    v = exact.exact_samples(rbm, n, seed=1)
    assert v.shape == (n, n_visible) and v.dtype == rbm.dtype
    assert exact.total_variation(exact.empirical_distribution(v), p) < 2 * noise_tv
    # Biased samples fail the same check: it can tell.
    biased = exact.empirical_distribution(tf.zeros([n, n_visible], tf.float64))
    assert exact.total_variation(biased, p) > 10 * noise_tv
    np.testing.assert_array_equal(v.numpy(), exact.exact_samples(rbm, n, seed=1).numpy())
    with pytest.raises(ValueError, match="n must"):
        exact.exact_samples(rbm, 0)


def test_visible_transition_matrix_is_the_gibbs_step():
    rbm = random_rbm(4, 3, 1.0, seed=6)
    t = exact.visible_transition_matrix(rbm).numpy()
    ref = BruteForce(rbm)
    # Brute force: T[v, v'] = sum_h p(h|v) p(v'|h), from the joint table.
    p_h_given_v = ref.joint / ref.joint.sum(axis=1, keepdims=True)  # (V, H)
    p_v_given_h = (ref.joint / ref.joint.sum(axis=0, keepdims=True)).T  # (H, V)
    np.testing.assert_allclose(t, p_h_given_v @ p_v_given_h, atol=1e-12)
    np.testing.assert_allclose(t.sum(axis=1), 1, atol=1e-12)
    np.testing.assert_allclose(ref.p_v @ t, ref.p_v, atol=1e-12)  # p is stationary
    with pytest.raises(ValueError, match="at most 12"):
        exact.visible_transition_matrix(BernoulliRBM(13, 2))


def test_expected_cd_update_matches_sampled_cd_and_tends_to_the_gradient():
    rbm = random_rbm(4, 3, 0.8, seed=2)
    ref = BruteForce(rbm)
    data = tf.constant(ref.V[[1, 5, 5, 12, 15]])
    q = exact.empirical_distribution(data).numpy()
    # k -> infinity: data statistics minus exact model statistics.
    vh, v, h = exact.exact_model_statistics(rbm)
    h_data = rbm.hidden_probs(data)
    gradient = (tf.matmul(data, h_data, transpose_a=True) / 5 - vh,
                tf.reduce_mean(data, 0) - v, tf.reduce_mean(h_data, 0) - h)
    far = exact.expected_cd_update(rbm, q, 300)
    for got, want in zip(far, gradient):
        np.testing.assert_allclose(got.numpy(), want.numpy(), atol=1e-9)
    # k = 1: the mean of many sampled CD-1 updates, within 5 standard errors.
    from rbmtut import gibbs, learning
    n = 200_000
    rng = tf.random.Generator.from_seed(0)
    v0 = tf.tile(data, [n // 5, 1])
    v1 = gibbs.gibbs_step(rbm, v0, rng).v
    h0, h1 = rbm.hidden_probs(v0), rbm.hidden_probs(v1)
    sampled = -learning.cd_gradients(rbm, v0, h0, v1, h1).dW.numpy()
    per_chain = (v0.numpy()[:, :, None] * h0.numpy()[:, None, :]
                 - v1.numpy()[:, :, None] * h1.numpy()[:, None, :])
    se = per_chain.std(axis=0) / np.sqrt(n)
    expected = exact.expected_cd_update(rbm, q, 1)[0].numpy()
    assert np.all(np.abs(sampled - expected) < 5 * se + 1e-12)
    assert np.abs(expected - far[0].numpy()).max() > 20 * se.max()  # CD-1 is biased
    with pytest.raises(ValueError, match="data_probs"):
        exact.expected_cd_update(rbm, q[:-1], 1)


def test_parameter_jacobian_of_the_gradient_is_the_symmetric_hessian():
    rbm = random_rbm(3, 2, 1.0, seed=8)
    q = exact.empirical_distribution(tf.constant([[1.0, 0, 1], [0, 1, 1]], tf.float64))
    jac = exact.parameter_jacobian(rbm, lambda: exact.expected_cd_update(rbm, q, None))
    assert jac.shape == (11, 11)
    np.testing.assert_allclose(jac, jac.T, atol=1e-12)
    # Finite differences of the first weight's update match the first column.
    step, unit = 1e-6, np.zeros((3, 2))
    unit[0, 0] = 1.0  # W[0, 0] is the first flattened parameter
    base = np.concatenate([t.numpy().ravel() for t in exact.expected_cd_update(rbm, q, None)])
    rbm.W.assign(rbm.W.numpy() + step * unit)
    moved = np.concatenate([t.numpy().ravel() for t in exact.expected_cd_update(rbm, q, None)])
    np.testing.assert_allclose((moved - base) / step, jac[:, 0], atol=1e-5)
