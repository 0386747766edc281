"""Dense autoencoders: tied weights, passes, losses, corruption, sparsity and PCA."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from rbmtut import autoencoders as ae
from rbmtut.autoencoders import Autoencoder


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def test_tied_weights_share_one_variable():
    tied = Autoencoder([6, 4, 3], tied=True, seed=1, dtype=tf.float64)
    untied = Autoencoder([6, 4, 3], tied=False, seed=1, dtype=tf.float64)
    assert len(tied.trainable_variables) == 2 + 4 and len(untied.trainable_variables) == 4 + 4
    assert tied.decoder_weights == []
    # Changing the encoder's variable changes the decoder: they are one variable.
    x = np.random.default_rng(0).random((5, 6))
    before = tied(x).numpy()
    tied.encoder_weights[1].assign_add(tf.ones_like(tied.encoder_weights[1]))
    assert not np.allclose(tied(x).numpy(), before)
    # The tied gradient is the sum of the encoder and (transposed) decoder gradients
    # of the untied network with the same weights.
    for i in range(2):
        untied.encoder_weights[i].assign(tied.encoder_weights[i])
        untied.decoder_weights[1 - i].assign(tf.transpose(tied.encoder_weights[i]))
    with tf.GradientTape(persistent=True) as tape:
        loss_tied = ae.reconstruction_loss(tied, x)
        loss_untied = ae.reconstruction_loss(untied, x)
    np.testing.assert_allclose(loss_tied.numpy(), loss_untied.numpy(), rtol=1e-12)
    for i in range(2):
        g_tied = tape.gradient(loss_tied, tied.encoder_weights[i])
        g_enc = tape.gradient(loss_untied, untied.encoder_weights[i])
        g_dec = tape.gradient(loss_untied, untied.decoder_weights[1 - i])
        np.testing.assert_allclose(g_tied.numpy(), (g_enc + tf.transpose(g_dec)).numpy(), atol=1e-12)


def test_passes_match_numpy_and_depth_uses_the_outer_layers():
    model = Autoencoder([5, 4, 2], activation="elu", code_activation="linear", output="sigmoid",
                        seed=3, dtype=tf.float64)
    for v in model.trainable_variables:  # non-zero biases too
        v.assign(np.random.default_rng(len(v.name)).normal(0, 0.7, v.shape))
    x = np.random.default_rng(1).random((3, 5))
    We = [w.numpy() for w in model.encoder_weights]; be = [b.numpy() for b in model.encoder_biases]
    Wd = [w.numpy() for w in model.decoder_weights]; bd = [b.numpy() for b in model.decoder_biases]
    elu = lambda a: np.where(a > 0, a, np.expm1(a))  # noqa: E731
    h1 = elu(x @ We[0] + be[0])
    code = h1 @ We[1] + be[1]
    out = sigmoid(elu(code @ Wd[0] + bd[0]) @ Wd[1] + bd[1])
    np.testing.assert_allclose(model.encode(x).numpy(), code, rtol=1e-12)
    np.testing.assert_allclose(model(x).numpy(), out, rtol=1e-12)
    # depth=1: x -> h1 -> (last decoder layer) -> x_hat, skipping the inner pair.
    np.testing.assert_allclose(model.encode(x, depth=1).numpy(), h1, rtol=1e-12)
    np.testing.assert_allclose(model(x, depth=1).numpy(), sigmoid(h1 @ Wd[1] + bd[1]), rtol=1e-12)
    expected = -np.mean(np.sum(x * np.log(out) + (1 - x) * np.log(1 - out), axis=1))
    np.testing.assert_allclose(ae.reconstruction_loss(model, x).numpy(), expected, rtol=1e-10)
    np.testing.assert_allclose(ae.reconstruction_loss(model, x, kind="squared").numpy(),
                               np.mean(np.sum((out - x) ** 2, axis=1)), rtol=1e-10)


@pytest.mark.parametrize("tied", [False, True])
def test_linear_autoencoder_finds_the_pca_subspace(tied):
    rng = np.random.default_rng(0)
    basis = np.linalg.qr(rng.normal(size=(12, 3)))[0]  # a 3-D subspace of R^12
    x = (rng.normal(size=(2000, 3)) * [3.0, 2.0, 1.5]) @ basis.T + 0.05 * rng.normal(size=(2000, 12))
    x = x + 1.0  # an offset the biases must learn
    model = Autoencoder([12, 3], activation="linear", output="linear", tied=tied, seed=0,
                        dtype=tf.float64)
    decay = keras.optimizers.schedules.PolynomialDecay(0.005, 100 * 20, end_learning_rate=1e-4)
    losses = ae.fit_autoencoder(model, x, epochs=100, batch_size=100, seed=0, progress=False,
                                optimizer=keras.optimizers.SGD(decay, momentum=0.9))
    assert losses[-1] < losses[0] / 10
    mean, components = ae.pca(x, 3)
    assert np.max(ae.principal_angles(components.T, basis)) < 0.02  # PCA finds the plane
    decoder = model.encoder_weights[0].numpy() if tied else model.decoder_weights[0].numpy().T
    assert np.max(ae.principal_angles(decoder, components.T)) < 0.005  # radians
    pca_error = np.mean(np.sum((x - mean - (x - mean) @ components.T @ components) ** 2, axis=1))
    ae_error = float(ae.reconstruction_loss(model, x))
    assert pca_error <= ae_error * (1 + 1e-9)  # PCA is the optimum
    if tied:
        # Tied weights make the map an orthogonal projection, so the error matches too.
        assert ae_error < 1.02 * pca_error


def test_pca_svd_and_covariance_routes_agree():
    rng = np.random.default_rng(4)
    scales = np.array([5.0, 4.0, 3.0, 2.0, 1.5, 1.0, 0.5, 0.25])
    x = rng.normal(size=(500, 8)) * scales @ np.linalg.qr(rng.normal(size=(8, 8)))[0] + 2.0
    mean_svd, svd = ae.pca(x, 5, method="svd")
    mean_cov, cov = ae.pca(x, 5, method="covariance")
    np.testing.assert_allclose(mean_svd, mean_cov, rtol=1e-12)
    np.testing.assert_allclose(svd, cov, atol=1e-9)  # same rows, signs included
    np.testing.assert_allclose(cov @ cov.T, np.eye(5), atol=1e-12)
    _, auto = ae.pca(x, 5)  # n >= 2 d: the covariance route
    np.testing.assert_array_equal(auto, cov)
    assert np.all(np.max(np.abs(svd), axis=1) == np.max(svd, axis=1))  # largest entry positive
    with pytest.raises(ValueError, match="method must be"):
        ae.pca(x, 2, method="eig")


def test_principal_angles_on_a_hand_checked_case():
    a = np.array([[1.0], [0.0], [0.0]])
    b = np.array([[np.cos(0.3)], [np.sin(0.3)], [0.0]])
    np.testing.assert_allclose(ae.principal_angles(a, b), [0.3], atol=1e-12)
    plane = np.eye(3)[:, :2]
    np.testing.assert_allclose(ae.principal_angles(plane, 5 * b), [0.0], atol=1e-7)
    with pytest.raises(ValueError, match="same number of rows"):
        ae.principal_angles(a, np.ones((2, 1)))


def test_sparsity_penalties_on_hand_computed_values():
    q, p = np.array([0.1, 0.5]), 0.1
    expected = (0.0 + p * np.log(p / 0.5) + (1 - p) * np.log((1 - p) / 0.5))
    np.testing.assert_allclose(ae.kl_sparsity_penalty(tf.constant(q), p).numpy(), expected, rtol=1e-12)
    assert float(ae.kl_sparsity_penalty(tf.constant([0.2, 0.2, 0.2], tf.float64), 0.2)) == 0.0
    np.testing.assert_allclose(ae.squared_sparsity_penalty(tf.constant(q), p).numpy(), 0.16, rtol=1e-12)
    assert np.isfinite(float(ae.kl_sparsity_penalty(tf.constant([0.0, 1.0], tf.float64), 0.05)))
    with pytest.raises(ValueError, match=r"target must be in \(0, 1\)"):
        ae.kl_sparsity_penalty(tf.constant(q), 1.0)


def test_corruptions_are_seeded_and_have_the_stated_statistics():
    x = tf.fill([200, 500], tf.constant(0.8, tf.float64))
    masked = ae.masking_corruption(x, 0.3, tf.random.Generator.from_seed(1)).numpy()
    again = ae.masking_corruption(x, 0.3, tf.random.Generator.from_seed(1)).numpy()
    np.testing.assert_array_equal(masked, again)
    assert set(np.unique(masked)) == {0.0, 0.8}  # kept entries are not rescaled
    n = masked.size
    dropped = np.mean(masked == 0.0)
    assert abs(dropped - 0.3) < 5 * np.sqrt(0.3 * 0.7 / n)
    noisy = ae.gaussian_corruption(x, 0.5, tf.random.Generator.from_seed(2)).numpy() - 0.8
    assert abs(noisy.mean()) < 5 * 0.5 / np.sqrt(n)
    assert abs(noisy.std() - 0.5) < 5 * 0.5 / np.sqrt(2 * n)
    with pytest.raises(ValueError, match=r"rate must be in \[0, 1\)"):
        ae.masking_corruption(x, 1.0, tf.random.Generator.from_seed(0))


def test_frozen_variables_stay_put_and_sparsity_lowers_the_mean_activation():
    x = np.random.default_rng(0).random((400, 8)).astype(np.float32)
    model = Autoencoder([8, 6, 4], seed=0)
    inner = [model.encoder_weights[1], model.encoder_biases[1], model.decoder_weights[0],
             model.decoder_biases[0]]
    frozen = [v.numpy() for v in inner]
    outer = [model.encoder_weights[0], model.encoder_biases[0], model.decoder_weights[1],
             model.decoder_biases[1]]
    ae.fit_autoencoder(model, x, epochs=2, batch_size=20, variables=outer, depth=1, progress=False)
    for v, f in zip(inner, frozen):
        np.testing.assert_array_equal(v.numpy(), f)
    means = {}
    for weight in (0.0, 1.0):
        m = Autoencoder([8, 6], seed=0)
        ae.fit_autoencoder(m, x, epochs=20, batch_size=20, sparsity_weight=weight,
                           sparsity_target=0.05, optimizer=keras.optimizers.Adam(0.01), progress=False)
        means[weight] = float(tf.reduce_mean(m.encode(x)))
    assert means[1.0] < 0.15 < means[0.0]


def test_bad_arguments_are_rejected():
    with pytest.raises(ValueError, match="sizes must be at least two positive ints"):
        Autoencoder([784])
    with pytest.raises(ValueError, match="activation must be one of"):
        Autoencoder([4, 2], activation="tanh")
    with pytest.raises(ValueError, match="output must be"):
        Autoencoder([4, 2], output="softmax")
    model = Autoencoder([4, 3, 2])
    with pytest.raises(ValueError, match=r"x must have shape \(n, 4\)"):
        model.encode(np.zeros((2, 5)))
    with pytest.raises(ValueError, match=r"depth must be an int in \[1, 2\]"):
        model.encode(np.zeros((2, 4)), depth=3)
    with pytest.raises(ValueError, match="cross_entropy needs output='sigmoid'"):
        ae.reconstruction_loss(Autoencoder([4, 2], output="linear"), np.zeros((2, 4)),
                               kind="cross_entropy")
    with pytest.raises(ValueError, match="n_components must be an int"):
        ae.pca(np.zeros((5, 3)), 4)
