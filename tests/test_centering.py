"""Centering: the same distribution in other coordinates, and the gradient it gives."""

import numpy as np
import pytest
import tensorflow as tf

from rbmtut import LearningRule, fit_rbm, learning
from rbmtut.centering import Offsets, centered_gradients, uncentered_parameters
from rbmtut.data import bars_and_stripes
from rbmtut.exact import exact_log_partition
from rbmtut.learning import Gradients
from conftest import binary_states, random_rbm


def _centered_energy(v, h, W, b_c, c_c, mu, lam):
    return -(v - mu) @ b_c - (h - lam) @ c_c - np.einsum("ni,ij,nj->n", v - mu, W, h - lam)


def _joint(energy):
    p = np.exp(-(energy - energy.min()))
    return p / p.sum()


def test_a_centered_rbm_is_the_plain_rbm_with_transformed_biases():
    rng = np.random.default_rng(0)
    W, b_c, c_c = rng.normal(size=(5, 3)), rng.normal(size=5), rng.normal(size=3)
    mu, lam = rng.random(5), rng.random(3)
    V, H = binary_states(5), binary_states(3)
    v, h = np.repeat(V, len(H), axis=0), np.tile(H, (len(V), 1))  # every (v, h)
    _, b, c = (np.asarray(x) for x in uncentered_parameters(W, b_c, c_c, mu, lam))
    plain = -v @ b - h @ c - np.einsum("ni,ij,nj->n", v, W, h)
    centered = _centered_energy(v, h, W, b_c, c_c, mu, lam)
    # energies differ by one constant, so the distributions are equal
    np.testing.assert_allclose(centered - plain, (centered - plain)[0], atol=1e-12)
    np.testing.assert_allclose(_joint(centered), _joint(plain), atol=1e-15)
    assert np.ptp(centered - plain) < 1e-12 and abs((centered - plain)[0]) > 0.1


def test_the_centered_step_is_the_plain_step_in_centered_coordinates():
    """Exact gradients of the log-likelihood in both parameterisations, by enumeration."""
    rng = np.random.default_rng(1)
    W, b_c, c_c = rng.normal(size=(4, 3)), rng.normal(size=4), rng.normal(size=3)
    mu, lam = rng.random(4), rng.random(3)
    data = binary_states(4)[[1, 5, 6, 11, 14]]
    V, H = binary_states(4), binary_states(3)
    v, h = np.repeat(V, len(H), axis=0), np.tile(H, (len(V), 1))

    def mean_log_likelihood(W, b_c, c_c):  # of the centered model, by enumeration
        e = _centered_energy(v, h, W, b_c, c_c, mu, lam)
        log_z = np.logaddexp.reduce(-e)
        codes = [int(np.dot(x, 2 ** np.arange(4))) for x in data]
        marg = np.logaddexp.reduce(-e.reshape(len(V), len(H)), axis=1)
        return np.mean(marg[codes]) - log_z

    def numeric_gradient(f, x, eps=1e-6):
        g = np.zeros_like(x)
        for i in np.ndindex(x.shape):
            d = np.zeros_like(x)
            d[i] = eps
            g[i] = (f(x + d) - f(x - d)) / (2 * eps)
        return g

    # plain descent directions at the same model, from exact statistics
    W_p, b_p, c_p = (np.asarray(x) for x in uncentered_parameters(W, b_c, c_c, mu, lam))
    gW = -numeric_gradient(lambda w: mean_log_likelihood(
        w, b_p + w @ lam, c_p + w.T @ mu), W)  # moving W with b, c of the plain model fixed
    gb = -numeric_gradient(lambda x: mean_log_likelihood(W, x + W @ lam, c_c), b_p)
    gc = -numeric_gradient(lambda x: mean_log_likelihood(W, b_c, x + W.T @ mu), c_p)
    plain = Gradients(*(tf.constant(g) for g in (gW, gb, gc)))
    # centered descent directions, and the plain-parameter step they make
    gW_c = -numeric_gradient(lambda w: mean_log_likelihood(w, b_c, c_c), W)
    gb_c = -numeric_gradient(lambda x: mean_log_likelihood(W, x, c_c), b_c)
    gc_c = -numeric_gradient(lambda x: mean_log_likelihood(W, b_c, x), c_c)
    step = centered_gradients(plain, mu, lam)
    np.testing.assert_allclose(step.dW.numpy(), gW_c, atol=1e-6)
    np.testing.assert_allclose(step.db.numpy(), gb_c - gW_c @ lam, atol=1e-6)
    np.testing.assert_allclose(step.dc.numpy(), gc_c - gW_c.T @ mu, atol=1e-6)
    assert np.abs(step.dW.numpy() - gW).max() > 1e-3  # centering changed the step


def test_offsets_follow_the_data_means():
    offsets = Offsets(3, 2, rate=0.5, dtype=tf.float64)
    np.testing.assert_array_equal(offsets.visible.numpy(), [0.5] * 3)
    offsets.follow(tf.constant([[1.0, 0.0, 1.0], [1.0, 0.0, 0.0]], tf.float64),
                   tf.constant([[0.9, 0.1]], tf.float64))
    np.testing.assert_allclose(offsets.visible.numpy(), [0.75, 0.25, 0.5])
    np.testing.assert_allclose(offsets.hidden.numpy(), [0.7, 0.3])


def test_offsets_start_at_the_data_means():
    offsets = Offsets(3, 2, rate=0.01, dtype=tf.float64)
    offsets.start_at_data_means(np.array([[1, 0, 1], [1, 0, 0]], np.float32))
    np.testing.assert_allclose(offsets.visible.numpy(), [1.0, 0.0, 0.5])
    np.testing.assert_array_equal(offsets.hidden.numpy(), [0.5, 0.5])
    with pytest.raises(ValueError, match="x"):
        offsets.start_at_data_means(np.zeros((0, 3)))  # empty: no mean to take
    with pytest.raises(ValueError, match="x"):
        offsets.start_at_data_means(np.zeros((4, 5)))  # the wrong width


def test_the_trainer_takes_the_centered_step_and_moves_the_offsets():
    x = bars_and_stripes(4)[:10]
    plain_rbm, centered_rbm = random_rbm(16, 6, 0.1, seed=3), random_rbm(16, 6, 0.1, seed=3)
    plain = learning.RBMTrainer(plain_rbm, method="exact", momentum=0.0, seed=0)
    centered = learning.RBMTrainer(centered_rbm, method="exact", momentum=0.0, seed=0,
                                   centering=0.1)
    mu, lam = centered.offsets.visible.numpy(), centered.offsets.hidden.numpy()
    W0, b0, c0 = (p.numpy() for p in plain_rbm.parameters)
    plain.step(x)
    centered.step(x)
    lr = 0.05
    dW, db, dc = ((p0 - p.numpy()) / lr for p0, p in zip((W0, b0, c0), plain_rbm.parameters))
    want = centered_gradients(Gradients(*(tf.constant(g) for g in (dW, db, dc))), mu, lam)
    for p0, p, g in zip((W0, b0, c0), centered_rbm.parameters, want):
        np.testing.assert_allclose(p.numpy(), p0 - lr * g.numpy(), atol=1e-10)
    h_data = tf.sigmoid(random_rbm(16, 6, 0.1, seed=3).hidden_logits(x)).numpy()
    np.testing.assert_allclose(centered.offsets.visible.numpy(),
                               0.9 * mu + 0.1 * x.mean(axis=0), atol=1e-12)
    np.testing.assert_allclose(centered.offsets.hidden.numpy(),
                               0.9 * lam + 0.1 * h_data.mean(axis=0), atol=1e-12)


def test_fit_rbm_trains_a_centered_rbm():
    x = bars_and_stripes(4)
    rbm = random_rbm(16, 8, 0.01, seed=4)
    log_z0 = float(exact_log_partition(rbm))
    ll0 = -float(np.mean(rbm.free_energy(x))) - log_z0
    fit_rbm(rbm, np.repeat(x, 10, axis=0), method="cd", k=1, centering=0.01,
            learning_rate=0.5, epochs=5, batch_size=10, progress=False, monitors={})
    ll = -float(np.mean(rbm.free_energy(x))) - float(exact_log_partition(rbm))
    assert ll > ll0 + 3  # from -11.09 (uniform) to about -6.7


def test_centering_settings_are_checked():
    import keras

    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError, match="centering"):
            LearningRule(centering=bad)
    with pytest.raises(ValueError, match="built-in momentum rule"):
        LearningRule(centering=0.01, optimizer=keras.optimizers.SGD(0.1))
    assert learning.RBMTrainer(random_rbm(4, 3, 0.1, seed=0)).offsets is None
