"""Dense autoencoders: tied weights, passes, losses, corruption, sparsity and PCA."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from rbmtut import autoencoders as ae
from rbmtut import pca as pca_module
from rbmtut import regularizers as reg
from rbmtut.autoencoder_training import fit_autoencoder
from rbmtut.autoencoders import Autoencoder
from rbmtut.classifiers import keras_classifier


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
    history = fit_autoencoder(model, x, epochs=100, batch_size=100, seed=0, progress=False,
                              optimizer=keras.optimizers.SGD(decay, momentum=0.9))
    losses = history["loss"]
    assert losses[-1] < losses[0] / 10
    fit = pca_module.pca(x, 3)
    assert np.max(pca_module.principal_angles(fit.components.T, basis)) < 0.02  # PCA finds the plane
    decoder = model.encoder_weights[0].numpy() if tied else model.decoder_weights[0].numpy().T
    assert np.max(pca_module.principal_angles(decoder, fit.components.T)) < 0.005  # radians
    pca_error = fit.squared_error(x)
    ae_error = float(ae.reconstruction_loss(model, x))
    assert pca_error <= ae_error * (1 + 1e-9)  # PCA is the optimum
    if tied:
        # Tied weights make the map an orthogonal projection, so the error matches too.
        assert ae_error < 1.02 * pca_error


def test_sparsity_penalties_on_hand_computed_values():
    q, p = np.array([0.1, 0.5]), 0.1
    expected = (0.0 + p * np.log(p / 0.5) + (1 - p) * np.log((1 - p) / 0.5))
    np.testing.assert_allclose(reg.kl_sparsity_penalty(tf.constant(q), p).numpy(), expected, rtol=1e-12)
    assert float(reg.kl_sparsity_penalty(tf.constant([0.2, 0.2, 0.2], tf.float64), 0.2)) == 0.0
    np.testing.assert_allclose(reg.squared_sparsity_penalty(tf.constant(q), p).numpy(), 0.16, rtol=1e-12)
    np.testing.assert_allclose(reg.kl_sparsity_penalty(tf.constant(q), p, per_unit=True).numpy(),
                               [0.0, expected], atol=1e-15)
    np.testing.assert_allclose(reg.squared_sparsity_penalty(tf.constant(q), p, per_unit=True).numpy(),
                               [0.0, 0.16], atol=1e-15)
    assert np.isfinite(float(reg.kl_sparsity_penalty(tf.constant([0.0, 1.0], tf.float64), 0.05)))
    with pytest.raises(ValueError, match=r"target must be a finite number in \(0, 1\)"):
        reg.kl_sparsity_penalty(tf.constant(q), 1.0)


def test_corruptions_are_seeded_and_have_the_stated_statistics():
    x = tf.fill([200, 500], tf.constant(0.8, tf.float64))
    masked = reg.masking_corruption(x, 0.3, tf.random.Generator.from_seed(1)).numpy()
    again = reg.masking_corruption(x, 0.3, tf.random.Generator.from_seed(1)).numpy()
    np.testing.assert_array_equal(masked, again)
    assert set(np.unique(masked)) == {0.0, 0.8}  # kept entries are not rescaled
    n = masked.size
    dropped = np.mean(masked == 0.0)
    assert abs(dropped - 0.3) < 5 * np.sqrt(0.3 * 0.7 / n)
    noisy = reg.gaussian_corruption(x, 0.5, tf.random.Generator.from_seed(2)).numpy() - 0.8
    assert abs(noisy.mean()) < 5 * 0.5 / np.sqrt(n)
    assert abs(noisy.std() - 0.5) < 5 * 0.5 / np.sqrt(2 * n)
    with pytest.raises(ValueError, match=r"rate must be a finite number in \[0, 1\)"):
        reg.masking_corruption(x, 1.0, tf.random.Generator.from_seed(0))
    # Corruption objects call the same functions with the same generator.
    np.testing.assert_array_equal(
        reg.Corruption("masking", 0.3)(x, tf.random.Generator.from_seed(1)).numpy(), masked)
    np.testing.assert_array_equal(
        reg.Corruption("gaussian", 0.5)(x, tf.random.Generator.from_seed(2)).numpy() - 0.8, noisy)
    with pytest.raises(ValueError, match="out of range for masking"):
        reg.Corruption("masking", 1.5)
    with pytest.raises(ValueError, match=r"kind must be one of \('gaussian', 'masking'\)"):
        reg.Corruption("salt", 0.1)


def test_frozen_variables_stay_put_and_sparsity_lowers_the_mean_activation():
    x = np.random.default_rng(0).random((400, 8)).astype(np.float32)
    model = Autoencoder([8, 6, 4], seed=0)
    inner = [model.encoder_weights[1], model.encoder_biases[1], model.decoder_weights[0],
             model.decoder_biases[0]]
    frozen = [v.numpy() for v in inner]
    outer = [model.encoder_weights[0], model.encoder_biases[0], model.decoder_weights[1],
             model.decoder_biases[1]]
    fit_autoencoder(model, x, epochs=2, batch_size=20, variables=outer, depth=1, progress=False)
    for v, f in zip(inner, frozen):
        np.testing.assert_array_equal(v.numpy(), f)
    means = {}
    for weight, penalty in ((0.0, "kl"), (1.0, "kl"), (1.0, "squared")):
        m = Autoencoder([8, 6], seed=0)
        fit_autoencoder(m, x, epochs=20, batch_size=20, sparsity_weight=weight,
                        sparsity_target=0.05, sparsity_penalty=penalty,
                        optimizer=keras.optimizers.Adam(0.01), progress=False)
        means[weight, penalty] = float(tf.reduce_mean(m.encode(x)))
    assert means[1.0, "kl"] < 0.15 < means[0.0, "kl"]
    assert means[1.0, "kl"] < means[1.0, "squared"] < means[0.0, "kl"]
    with pytest.raises(ValueError, match="sparsity_penalty must be one of"):
        fit_autoencoder(m, x, epochs=1, sparsity_weight=1.0, sparsity_penalty="l1", progress=False)


def test_bad_arguments_are_rejected():
    with pytest.raises(ValueError, match="sizes must hold at least two ints"):
        Autoencoder([784])
    with pytest.raises(ValueError, match="activation must be one of"):
        Autoencoder([4, 2], activation="tanh")
    with pytest.raises(ValueError, match="output must be"):
        Autoencoder([4, 2], output="softmax")
    model = Autoencoder([4, 3, 2])
    with pytest.raises(ValueError, match=r"x has 5 columns .* pass data of shape \(n, 4\)"):
        model.encode(np.zeros((2, 5)))
    with pytest.raises(ValueError, match=r"depth must be an int in \[1, 2\]"):
        model.encode(np.zeros((2, 4)), depth=3)
    with pytest.raises(ValueError, match="cross_entropy needs output='sigmoid'"):
        ae.reconstruction_loss(Autoencoder([4, 2], output="linear"), np.zeros((2, 4)),
                               kind="cross_entropy")
    with pytest.raises(ValueError, match="output must be one of"):
        Autoencoder([4, 2], output="tanh")
    with pytest.raises(ValueError, match="code_noise is added at the code layer"):
        model.encode(np.zeros((2, 4)), depth=1, code_noise=np.zeros((2, 3)))


def test_non_sigmoid_outputs_train_with_squared_error():
    model = Autoencoder([3, 2], activation="elu", output="elu", seed=0, dtype=tf.float64)
    x = np.random.default_rng(0).normal(size=(4, 3))
    out = model.decode_output(model.encode(x)).numpy()
    elu = np.where(out > 0, out, np.expm1(out))
    np.testing.assert_allclose(model(x).numpy(), elu, rtol=1e-12)
    np.testing.assert_allclose(ae.reconstruction_loss(model, x).numpy(),
                               np.mean(np.sum((elu - x) ** 2, axis=1)), rtol=1e-12)


def test_code_noise_enters_before_the_code_activation_and_is_fixed_per_example():
    model = Autoencoder([5, 4, 3], seed=2, dtype=tf.float64)
    x = np.random.default_rng(0).random((6, 5))
    noise = np.random.default_rng(1).normal(0, 4, (6, 3))
    h1 = model.encode(x, depth=1).numpy()
    total_input = h1 @ model.encoder_weights[1].numpy() + model.encoder_biases[1].numpy()
    np.testing.assert_allclose(model.encode(x, code_noise=noise).numpy(),
                               1 / (1 + np.exp(-(total_input + noise))), rtol=1e-12)
    # Training with code noise: one row per example, the same in every epoch.
    # With a batch of one example per update and a permuted noise table, the
    # loss history changes, so the rows really are matched to their examples.
    runs = {}
    for label, table in (("noise", noise), ("same", noise), ("permuted", noise[::-1])):
        m = Autoencoder([5, 4, 3], seed=2, dtype=tf.float64)
        runs[label] = fit_autoencoder(m, x, epochs=3, batch_size=1, code_noise=table,
                                      seed=0, progress=False)
    assert runs["noise"].metrics == runs["same"].metrics
    assert runs["noise"].metrics != runs["permuted"].metrics
    # The first update's loss is that of the clean model on the first batch's
    # example with its own noise row.
    first = next(iter(__import__("rbmtut").fitting.epoch_orders(6, 1, 0)))[0, 0]
    fresh = Autoencoder([5, 4, 3], seed=2, dtype=tf.float64)
    out = fresh.decode_output(fresh.encode(x[first:first + 1], code_noise=noise[first:first + 1]))
    expected = tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(labels=x[first:first + 1],
                                                                    logits=out)).numpy()
    m = Autoencoder([5, 4, 3], seed=2, dtype=tf.float64)
    one_update = fit_autoencoder(m, x[[first]], epochs=1, batch_size=1,
                                 code_noise=noise[[first]], seed=0, progress=False)
    np.testing.assert_allclose(one_update["loss"][0], expected, rtol=1e-12)
    with pytest.raises(ValueError, match="code_noise has 5 rows for 6 examples"):
        fit_autoencoder(m, x, epochs=1, code_noise=noise[:5], progress=False)


@pytest.mark.parametrize("tied", [False, True])
def test_stacked_autoencoders_compute_what_their_parts_learned(tied):
    rng = np.random.default_rng(0)
    outer = Autoencoder([6, 4], activation="elu", output="sigmoid", tied=tied, seed=1,
                        dtype=tf.float64)
    inner = Autoencoder([4, 3], activation="elu", output="elu", tied=tied, seed=2, dtype=tf.float64)
    for v in outer.trainable_variables + inner.trainable_variables:
        v.assign(rng.normal(0, 0.5, v.shape))
    deep = ae.stack([outer, inner])
    assert deep.sizes == (6, 4, 3) and deep.tied == tied
    x = rng.random((5, 6))
    code = inner.encode(outer.encode(x))
    np.testing.assert_allclose(deep.encode(x).numpy(), code.numpy(), rtol=1e-12)
    np.testing.assert_allclose(deep(x).numpy(), outer.decode(inner.decode(code)).numpy(), rtol=1e-12)
    # The stack holds copies: training it leaves the parts alone.
    before = outer.encoder_weights[0].numpy()
    deep.encoder_weights[0].assign_add(tf.ones_like(deep.encoder_weights[0]))
    np.testing.assert_array_equal(outer.encoder_weights[0].numpy(), before)
    with pytest.raises(ValueError, match="takes 3 inputs but models\\[0\\] has 4 code units"):
        ae.stack([outer, Autoencoder([3, 2], activation="elu", output="elu")])
    with pytest.raises(ValueError, match="output=<the hidden activation>"):
        ae.stack([outer, Autoencoder([4, 3], activation="elu", output="sigmoid")])
    with pytest.raises(TypeError, match="non-empty list of Autoencoder"):
        ae.stack([])


def test_encoder_classifier_starts_from_the_encoder_or_from_seeded_glorot():
    model = Autoencoder([6, 5, 3], activation="elu", code_activation="linear", seed=0)
    x = np.random.default_rng(0).random((4, 6)).astype(np.float32)
    pretrained = keras_classifier(model, 4, seed=3)
    features = pretrained.layers[1](pretrained.layers[0](x))
    np.testing.assert_allclose(features.numpy(), model.encode(x).numpy(), rtol=1e-6)
    random = keras_classifier(model, 4, pretrained=False, seed=3)
    again = keras_classifier(model, 4, pretrained=False, seed=3)
    np.testing.assert_array_equal(random.layers[0].kernel.numpy(), again.layers[0].kernel.numpy())
    assert not np.allclose(random.layers[0].kernel.numpy(), model.encoder_weights[0].numpy())
    # Only the hidden layers differ: the softmax layer starts the same.
    np.testing.assert_array_equal(random.layers[-1].kernel.numpy(), pretrained.layers[-1].kernel.numpy())
    assert pretrained.predict(x, verbose=0).shape == (4, 4)
    with pytest.raises(ValueError, match="n_classes must be an int >= 2"):
        keras_classifier(model, 1)

