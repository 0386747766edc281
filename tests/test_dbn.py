"""Deep belief nets: construction, passes, sampling, unrolling, Keras bridge."""

import numpy as np
import pytest
import tensorflow as tf

import rbmtut
from rbmtut._loop import derive_seeds
from rbmtut.classifiers import keras_classifier
from rbmtut.dbn import DBN
from rbmtut.nn import sample_bernoulli
from rbmtut.pretraining import fit_dbn
from rbmtut.rbm import BernoulliRBM
from rbmtut.updown import UntiedDBN
from conftest import random_rbm
from stack_helpers import X, numpy_params, random_dbn, sigmoid, uniforms


# -- construction ----------------------------------------------------------------------
def test_sizes_seeds_and_stacking():
    model = DBN([16, 10, 6, 4], seed=7)
    assert model.layer_sizes == (16, 10, 6, 4)
    assert [(r.n_visible, r.n_hidden) for r in model.rbms] == [(16, 10), (10, 6), (6, 4)]
    assert model.top is model.rbms[-1]
    again, other = DBN([16, 10, 6, 4], seed=7), DBN([16, 10, 6, 4], seed=8)
    for a, b in zip(model.trainable_variables, again.trainable_variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert not np.array_equal(model.rbms[0].W.numpy(), other.rbms[0].W.numpy())
    # Layers get distinct seeds: two equal-sized RBMs are initialised differently.
    square = DBN([8, 8, 8], seed=0)
    assert not np.array_equal(square.rbms[0].W.numpy(), square.rbms[1].W.numpy())
    seeds = derive_seeds(3, 5)
    assert seeds == derive_seeds(3, 5) and len(set(seeds)) == 5 and seeds != derive_seeds(4, 5)
    # Existing RBMs are stacked as they are, not copied.
    rbms = [BernoulliRBM(6, 4), BernoulliRBM(4, 3)]
    assert DBN(rbms).rbms[1] is rbms[1]


# -- passes and sampling ---------------------------------------------------------------
def test_up_and_down_passes_match_numpy():
    model = random_dbn([7, 5, 4, 3], seed=20)
    (W0, b0, c0), (W1, b1, c1), (W2, b2, c2) = numpy_params(model)
    v = (np.random.default_rng(0).random((6, 7)) < 0.5).astype(np.float64)
    h1 = sigmoid(v @ W0 + c0)
    h2 = sigmoid(h1 @ W1 + c1)
    for got, want in zip(model.up(v), [h1, h2, sigmoid(h2 @ W2 + c2)]):
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-12)
    down = model.down(h2)  # default: from the penultimate layer
    np.testing.assert_allclose(down[0].numpy(), sigmoid(h2 @ W1.T + b1), rtol=1e-12)
    np.testing.assert_allclose(down[1].numpy(), sigmoid(down[0].numpy() @ W0.T + b0), rtol=1e-12)
    assert [d.shape for d in model.down(sigmoid(h2 @ W2 + c2), from_layer=3)] == [(6, 4), (6, 5), (6, 7)]
    # Sampled up-pass: each layer is a Bernoulli sample given the sampled layer below.
    u = uniforms(tf.random.Generator.from_seed(4))
    s1 = (u((6, 5)) < sigmoid(v @ W0 + c0)).astype(float)
    s2 = (u((6, 4)) < sigmoid(s1 @ W1 + c1)).astype(float)
    s3 = (u((6, 3)) < sigmoid(s2 @ W2 + c2)).astype(float)
    got = model.sample_up(v, seed=4)
    for g, want in zip(got, [s1, s2, s3]):
        np.testing.assert_array_equal(g.numpy(), want)
    down = model.sample_down(s2, seed=9)
    assert [d.shape for d in down] == [(6, 5), (6, 7)]
    assert all(np.isin(d.numpy(), [0.0, 1.0]).all() for d in down)


def test_stack_reconstruction_cross_entropy_matches_numpy():
    model = random_dbn([12, 7, 5, 3], scale=0.8, seed=6)
    v = X[:20, :12]
    params = numpy_params(model)
    h = v
    for W, _, c in params:  # up to the top
        h = sigmoid(h @ W + c)
    for W, b, _ in reversed(params):  # and back down to the pixels
        h = sigmoid(h @ W.T + b)
    expected = -np.mean(np.sum(v * np.log(h) + (1 - v) * np.log(1 - h), axis=1))
    np.testing.assert_allclose(float(model.reconstruction_cross_entropy(v)), expected, rtol=1e-10)
    single = DBN([model.rbms[0]])
    np.testing.assert_allclose(float(single.reconstruction_cross_entropy(v)),
                               float(rbmtut.likelihood.reconstruction_cross_entropy(
                                   model.rbms[0], v)), rtol=1e-12)
    # Fine-tuning starts from the stack: same loss before any update, then its own weights.
    untied = UntiedDBN.from_dbn(model)
    np.testing.assert_allclose(float(untied.reconstruction_cross_entropy(v)), expected, rtol=1e-10)
    untied.generative_weights[0].assign(untied.generative_weights[0] * 0.5)
    assert abs(float(untied.reconstruction_cross_entropy(v)) - expected) > 1e-3


@pytest.mark.parametrize("from_data", [False, True])
def test_sample_is_top_gibbs_then_one_down_pass(from_data):
    model = random_dbn([6, 5, 4, 3], scale=1.5, seed=30)
    (W0, b0, c0), (W1, b1, c1), (W2, b2, c2) = numpy_params(model)
    n, k = 5, 3
    u = uniforms(tf.random.Generator.from_seed(12))
    start = (np.random.default_rng(3).random((n, 6)) < 0.5).astype(np.float64)
    if from_data:  # the chains start at the mean-field up-pass of the data
        pen = sigmoid(sigmoid(start @ W0 + c0) @ W1 + c1)
    else:  # or from noise
        pen = (u((n, 4)) < 0.5).astype(float)
    for _ in range(k):
        top = (u((n, 3)) < sigmoid(pen @ W2 + c2)).astype(float)
        pen = (u((n, 4)) < sigmoid(top @ W2.T + b2)).astype(float)
    h1 = (u((n, 5)) < sigmoid(pen @ W1.T + b1)).astype(float)
    expected = sigmoid(h1 @ W0.T + b0)
    for compile in (True, False):
        got = model.sample(n, seed=12, k=k, compile=compile, start=start if from_data else None)
        got = got.numpy()
        np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_sampling_shapes_and_seeds():
    model = DBN([16, 10, 6], seed=0)
    fit_dbn(model, X, epochs=1, batch_size=10, monitors={}, progress=False)
    a = model.sample(9, seed=1, k=20)
    assert a.shape == (9, 16) and a.dtype == tf.float32
    assert np.all((a.numpy() >= 0) & (a.numpy() <= 1))
    np.testing.assert_array_equal(a.numpy(), model.sample(9, seed=1, k=20).numpy())
    # Eager equals compiled: bit for bit with TensorFlow's Eigen kernels; oneDNN
    # (TensorFlow's default on x86) fuses a graph's ops and may round the last bit.
    np.testing.assert_allclose(a.numpy(), model.sample(9, seed=1, k=20, compile=False).numpy(),
                               rtol=0, atol=1e-6)
    assert not np.array_equal(a.numpy(), model.sample(9, seed=2, k=20).numpy())
    from_data = model.sample(4, seed=1, k=2, start=X[:4])
    assert from_data.shape == (4, 16)
    np.testing.assert_allclose(
        from_data.numpy(), model.sample(4, seed=1, k=2, start=X[:4], compile=False).numpy(),
        rtol=0, atol=1e-6)


def test_a_single_rbm_samples_by_gibbs_alone():
    model = DBN([random_rbm(6, 4, 1.5, seed=80)])
    assert model.down(np.zeros((2, 6))) == []  # no directed layers below the top RBM
    rng = tf.random.Generator.from_seed(3)
    noise = sample_bernoulli(tf.fill([5, 6], tf.constant(0.5, tf.float64)), rng)
    expected = rbmtut.gibbs.gibbs_chain(model.top, noise, 4, rng).v_probs
    np.testing.assert_array_equal(model.sample(5, seed=3, k=4).numpy(), expected.numpy())


# -- unrolling -----------------------------------------------------------------------------
def test_unrolled_autoencoder_reproduces_the_passes_exactly():
    model = random_dbn([9, 7, 5, 3], seed=40, dtype=tf.float32)
    ae = model.unroll()
    x = (np.random.default_rng(1).random((8, 9)) < 0.5).astype(np.float32)
    code = ae.encode(x)
    np.testing.assert_array_equal(code.numpy(), model.up(x)[-1].numpy())
    np.testing.assert_array_equal(ae.decode(code).numpy(), model.down(code, from_layer=3)[-1].numpy())
    np.testing.assert_array_equal(ae(x).numpy(), ae.decode(code).numpy())
    np.testing.assert_allclose(tf.sigmoid(ae.decode_output(code)).numpy(), ae(x).numpy())
    assert ae.sizes == (9, 7, 5, 3) and not ae.tied
    assert [tuple(w.shape) for w in ae.decoder_weights] == [(3, 5), (5, 7), (7, 9)]
    # A linear code layer: the top layer's pre-sigmoid input.
    linear = model.unroll(code="linear")
    W2, c2 = model.rbms[2].W, model.rbms[2].c
    np.testing.assert_allclose(linear.encode(x).numpy(), (model.up(x)[1] @ W2 + c2).numpy(), rtol=1e-6)


def test_unrolled_variables_are_independent_copies():
    model = random_dbn([6, 4, 3], seed=50)
    before = numpy_params(model)
    ae = model.unroll()
    assert len(ae.trainable_variables) == 8
    assert len({id(v) for v in ae.trainable_variables}) == 8
    model_ids = {id(v) for v in model.trainable_variables}
    assert not model_ids & {id(v) for v in ae.trainable_variables}
    for var in ae.trainable_variables:
        var.assign_add(tf.ones_like(var))
    for old, new in zip(before, numpy_params(model)):
        for a, b in zip(old, new):
            np.testing.assert_array_equal(a, b)
    # Changing the DBN leaves the autoencoder alone.
    snapshot = [v.numpy() for v in ae.trainable_variables]
    model.rbms[0].W.assign(tf.zeros_like(model.rbms[0].W))
    for var, old in zip(ae.trainable_variables, snapshot):
        np.testing.assert_array_equal(var.numpy(), old)
    # Encoder and decoder are untied: changing W_0 in the encoder leaves W_0^T in the decoder.
    ae.encoder_weights[0].assign(tf.zeros_like(ae.encoder_weights[0]))
    np.testing.assert_array_equal(ae.decoder_weights[-1].numpy(), before[0][0].T + 1)


# -- Keras bridge --------------------------------------------------------------------------
def test_keras_classifier_copies_weights_and_random_twin_has_same_architecture():
    model = random_dbn([9, 6, 4], seed=70, dtype=tf.float32)
    pretrained = keras_classifier(model, 3, seed=1)
    random = keras_classifier(model, 3, pretrained=False, seed=1)
    assert [layer.name for layer in pretrained.layers] == ["hidden1", "hidden2", "softmax"]
    for layer, rbm in zip(pretrained.layers, model.rbms):
        np.testing.assert_array_equal(layer.kernel.numpy(), rbm.W.numpy())
        np.testing.assert_array_equal(layer.bias.numpy(), rbm.c.numpy())
    x = (np.random.default_rng(0).random((5, 9)) < 0.5).astype(np.float32)
    np.testing.assert_allclose(pretrained.layers[1](pretrained.layers[0](x)).numpy(),
                               model.up(x)[1].numpy(), rtol=1e-6)
    probs = pretrained(x).numpy()
    assert probs.shape == (5, 3)
    np.testing.assert_allclose(probs.sum(1), 1.0, rtol=1e-5)

    def describe(m):
        return [(l.name, type(l).__name__, l.get_config()["activation"], l.kernel.shape,
                 l.bias.shape) for l in m.layers]

    assert describe(random) == describe(pretrained)
    assert not np.array_equal(random.layers[0].kernel.numpy(), model.rbms[0].W.numpy())
    # Same seed, same output layer: the comparison differs only in the hidden layers.
    np.testing.assert_array_equal(random.layers[-1].kernel.numpy(), pretrained.layers[-1].kernel.numpy())
    twin = keras_classifier(model, 3, pretrained=False, seed=1)
    np.testing.assert_array_equal(twin.layers[0].kernel.numpy(), random.layers[0].kernel.numpy())


# -- bad input -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "layers, error, match",
    [
        ([BernoulliRBM(6, 4), BernoulliRBM(5, 3)], ValueError, "do not chain"),
        ([BernoulliRBM(6, 4), BernoulliRBM(4, 3, dtype=tf.float64)], ValueError, "dtypes"),
        ([784], ValueError, "at least 2"),
        ([784, 0, 10], ValueError, "each layer size must be an int >= 1"),
        ([784, 50.0], TypeError, "each layer size must be an int"),
        ([784, BernoulliRBM(6, 4)], TypeError, "each layer size must be an int"),
    ],
)
def test_bad_stacks_are_rejected(layers, error, match):
    with pytest.raises(error, match=match):
        DBN(layers)


def test_passes_and_models_reject_bad_input():
    model = DBN([16, 8, 4])
    with pytest.raises(ValueError, match="15 columns but the model has 16 visible units"):
        model.up(np.zeros((2, 15)))
    with pytest.raises(ValueError, match="NaN"):
        model.up(np.full((2, 16), np.nan))
    with pytest.raises(ValueError, match="4 columns but the model has 8 units in layer 1"):
        model.down(np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"from_layer must be an int in \[0, 2\]"):
        model.down(np.zeros((2, 4)), from_layer=3)
    with pytest.raises(ValueError, match="k must be an int >= 1"):
        model.sample(3, k=0)
    with pytest.raises(ValueError, match="n = 3"):
        model.sample(3, k=1, start=X[:2])
    with pytest.raises(ValueError, match="code must be"):
        model.unroll(code="tanh")
    with pytest.raises(ValueError, match=r"code has 3 columns .* pass data of shape \(n, 4\)"):
        model.unroll().decode(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="n_classes"):
        keras_classifier(model, 1)
    with pytest.raises(ValueError, match=r"seed must be an int in \[0, "):
        model.sample(3, k=1, seed=-1)
