"""Semantic hashing's fine-tuning: the noise it adds, reproducibility, refusals."""

import numpy as np
import pytest

from rbmtut import hashing
from rbmtut.autoencoder_training import fit_autoencoder
from rbmtut.autoencoders import Autoencoder
from rbmtut.dbn import DBN

import keras


def small_data(n=200, d=12, seed=0):
    return (np.random.default_rng(seed).random((n, d)) < 0.3).astype(np.float32)


def weights(model):
    return [v.numpy() for v in model.encoder_weights + model.decoder_weights]


def test_noise_rows_are_fixed_and_scaled():
    a = hashing.deterministic_code_noise(5000, 8, 4.0, seed=3)
    assert a.shape == (5000, 8) and a.dtype == np.float32
    np.testing.assert_array_equal(a, hashing.deterministic_code_noise(5000, 8, 4.0, 3))
    # the sample standard deviation of 40,000 draws is within 1% of s
    assert abs(a.std() / 4.0 - 1) < 0.01 and abs(a.mean()) < 4.0 * 4 / 200
    assert not np.array_equal(a, hashing.deterministic_code_noise(5000, 8, 4.0, 4))
    assert np.all(hashing.deterministic_code_noise(10, 3, 0.0) == 0)


def test_fine_tuning_is_fit_autoencoder_with_those_rows():
    x = small_data()
    stack = DBN([12, 6, 4], seed=1)
    first, second = stack.unroll(code="logistic"), stack.unroll(code="logistic")
    history = hashing.fit_semantic_hashing(first, x, noise_std=4.0, epochs=2,
                                           learning_rate=1e-3, seed=5, progress=False)
    noise = hashing.deterministic_code_noise(len(x), 4, 4.0, seed=5)
    expected = fit_autoencoder(second, x, epochs=2, batch_size=100,
                               optimizer=keras.optimizers.Adam(1e-3), code_noise=noise,
                               seed=5, progress=False)
    np.testing.assert_allclose(history["loss"], expected["loss"], rtol=1e-6)
    for a, b in zip(weights(first), weights(second)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    # the noise changed the run: without it the weights differ
    plain = stack.unroll(code="logistic")
    hashing.fit_semantic_hashing(plain, x, noise_std=0.0, epochs=2, learning_rate=1e-3,
                                 seed=5, progress=False)
    assert not np.allclose(weights(plain)[0], weights(first)[0])
    bits = hashing.semantic_codes(first, x)
    assert bits.dtype == bool and bits.shape == (len(x), 4)
    np.testing.assert_array_equal(bits, first.encode(x).numpy() > 0.5)


def test_monitors_run_after_every_epoch():
    x = small_data()
    model = DBN([12, 4], seed=0).unroll(code="logistic")
    history = hashing.fit_semantic_hashing(
        model, x, noise_std=2.0, epochs=3, seed=0, progress=False,
        monitors={"ones": lambda m: float(hashing.semantic_codes(m, x).mean())})
    assert len(history["ones"]) == 3
    # the last value is the finished model's: monitors run after each epoch
    assert history["ones"][-1] == float(hashing.semantic_codes(model, x).mean())


def test_refusals_name_the_argument():
    x = small_data()
    with pytest.raises(ValueError, match="logistic code units"):
        hashing.fit_semantic_hashing(Autoencoder([12, 4], code_activation="linear"), x,
                                     noise_std=1.0, epochs=1)
    with pytest.raises(TypeError, match="model must be an rbmtut Autoencoder"):
        hashing.semantic_codes(DBN([12, 4]), x)
    with pytest.raises(ValueError, match="logistic code units"):
        hashing.semantic_codes(Autoencoder([12, 4], code_activation="linear"), x)
    for args, name in [((0, 4, 1.0), "n_examples"), ((5, 0, 1.0), "n_bits"),
                       ((5, 4, -1.0), "noise_std")]:
        with pytest.raises(ValueError, match=name):
            hashing.deterministic_code_noise(*args)
    model = Autoencoder([12, 4])
    with pytest.raises(ValueError, match="noise_std"):
        hashing.fit_semantic_hashing(model, x, noise_std=-1.0, epochs=1)
    with pytest.raises(ValueError, match="learning_rate"):
        hashing.fit_semantic_hashing(model, x, noise_std=1.0, epochs=1, learning_rate=0)
    with pytest.raises(ValueError, match="x has 5 columns"):
        hashing.fit_semantic_hashing(model, x[:, :5], noise_std=1.0, epochs=1)
