"""Deep belief nets: greedy pretraining, passes, sampling, unrolling, up-down, Keras bridge."""

import numpy as np
import pytest
import tensorflow as tf

import rbmtut
from rbmtut import dbn as dbn_module
from rbmtut.data import bars_and_stripes
from rbmtut.dbn import DBN, derive_seeds
from rbmtut.finetuning import UpDownFineTuner, to_keras_classifier
from rbmtut.rbm import BernoulliRBM, sample_bernoulli
from conftest import random_rbm


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def random_dbn(sizes, scale=1.0, seed=0, dtype=tf.float64):
    """A DBN of RBMs with Gaussian weights and biases (not trained)."""
    return DBN([random_rbm(a, b, scale, seed=seed + i, dtype=dtype)
                for i, (a, b) in enumerate(zip(sizes, sizes[1:]))])


def numpy_params(model):
    return [[p.numpy().astype(np.float64) for p in rbm.parameters] for rbm in model.rbms]


def uniforms(rng):
    """Draw uniforms exactly as ``sample_bernoulli`` does, one call per layer."""
    return lambda shape: rng.uniform(shape, dtype=tf.float64).numpy()


X = np.tile(bars_and_stripes(4), (4, 1))  # 120 binary rows of 16 pixels


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


# -- greedy pretraining ----------------------------------------------------------------
@pytest.mark.parametrize("pass_up", ["probs", "samples", "samples_to_top"])
def test_each_layer_is_trained_on_the_previous_layers_output(monkeypatch, pass_up):
    real_train, calls = dbn_module.train_epochs, []

    def recording_train(trainer, x, **kwargs):
        calls.append((np.array(x), trainer, kwargs))
        return real_train(trainer, x, **kwargs)

    monkeypatch.setattr(dbn_module, "train_epochs", recording_train)
    model = DBN([16, 10, 8, 6], seed=1)
    result = model.pretrain(X, epochs=[2, 1, 1], batch_size=10, learning_rate=[0.1, 0.05, 0.02],
                            pass_up=pass_up, seed=5, progress=False)
    assert len(calls) == 3
    np.testing.assert_array_equal(calls[0][0], X)
    for layer in (1, 2):
        # Layer l-1 is final once trained, so its output can be recomputed now.
        expected = model.rbms[layer - 1].hidden_probs(tf.constant(calls[layer - 1][0]))
        sampled = pass_up == "samples" or (pass_up == "samples_to_top" and layer == 2)
        if sampled:
            expected = sample_bernoulli(
                expected, tf.random.Generator.from_seed(result.sample_seeds[layer - 1]))
        got = calls[layer][0]
        np.testing.assert_array_equal(got, expected.numpy())
        assert sampled == bool(np.all((got == 0) | (got == 1)))
    assert [t.rbm for _, t, _ in calls] == model.rbms
    np.testing.assert_allclose([float(t.learning_rate) for _, t, _ in calls], [0.1, 0.05, 0.02])
    assert [kw["epochs"] for _, _, kw in calls] == [2, 1, 1]
    assert [t.seed for _, t, _ in calls] == result.seeds == derive_seeds(5, 6)[:3]
    assert [len(h.epoch) for h in result.histories] == [2, 1, 1]
    assert len(result.seconds) == 3 and all(s > 0 for s in result.seconds)
    assert result.total_seconds >= sum(result.seconds)


def test_layer_two_equals_fit_rbm_on_layer_ones_samples():
    model = DBN([16, 10, 6], seed=3)
    initial = model.rbms[1].copy()
    result = model.pretrain(X, epochs=2, batch_size=8, learning_rate=[0.1, 0.05], k=[1, 2],
                            pass_up="samples", seed=11, progress=False)
    assert result.sample_seeds == [derive_seeds(11, 4)[2], None]
    probs = model.rbms[0].hidden_probs(tf.constant(X))
    inputs = sample_bernoulli(probs, tf.random.Generator.from_seed(result.sample_seeds[0]))
    rbmtut.fit_rbm(initial, inputs.numpy(), epochs=2, batch_size=8, method="cd", k=2,
                   learning_rate=0.05, momentum=0.5, weight_decay=0.0, seed=result.seeds[1],
                   progress=False)
    for a, b in zip(initial.parameters, model.rbms[1].parameters):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert not np.array_equal(initial.W.numpy(), DBN([16, 10, 6], seed=3).rbms[1].W.numpy())


def test_same_seed_same_stack_and_per_layer_epochs():
    def train(seed):
        model = DBN([16, 8, 4], seed=0)
        model.pretrain(X, epochs=[1, 0], batch_size=10, pass_up="samples", seed=seed,
                       progress=False)
        return model

    a, b, c = train(2), train(2), train(3)
    for p, q in zip(a.trainable_variables, b.trainable_variables):
        np.testing.assert_array_equal(p.numpy(), q.numpy())
    assert not np.array_equal(a.rbms[0].W.numpy(), c.rbms[0].W.numpy())
    # epochs=0 for the top layer leaves it at its initial weights.
    np.testing.assert_array_equal(a.rbms[1].W.numpy(), DBN([16, 8, 4], seed=0).rbms[1].W.numpy())


@pytest.mark.parametrize("pass_up", ["probs", "samples"])
def test_simultaneous_schedule_updates_every_layer_on_the_current_output(pass_up):
    model = random_dbn([16, 10, 6], scale=0.1, seed=4)
    twin = DBN([r.copy() for r in model.rbms])
    result = model.pretrain(X, epochs=2, batch_size=8, learning_rate=[0.1, 0.05],
                            schedule="simultaneous", pass_up=pass_up, seed=9, progress=False)
    assert result.seconds == [None, None] and result.total_seconds > 0
    assert [h.epoch for h in result.histories] == [[1, 2], [1, 2]]

    # By hand: each batch goes up through layer 0 as it is *before* its
    # update, then both layers take one update.
    from rbmtut.fitting import epoch_orders
    from rbmtut.training import RBMTrainer
    trainers = [RBMTrainer(rbm, learning_rate=rate, seed=s, compile=False)
                for rbm, rate, s in zip(twin.rbms, [0.1, 0.05], result.seeds)]
    sampler = (tf.random.Generator.from_seed(result.sample_seeds[0])
               if pass_up == "samples" else None)
    assert (result.sample_seeds[0] is None) == (pass_up == "probs")
    for order in epoch_orders(len(X), 8, result.seeds[0], epochs=2):
        for rows in order:
            batch = tf.constant(X[rows], tf.float64)
            up = twin.rbms[0].hidden_probs(batch)
            if sampler is not None:
                up = sample_bernoulli(up, sampler)
            trainers[0].step(batch)
            trainers[1].step(up)
    for got, want in zip(model.trainable_variables, twin.trainable_variables):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=0, atol=1e-12)


def test_simultaneous_layer_zero_equals_layerwise_layer_zero():
    layerwise, simultaneous = DBN([16, 8, 4], seed=2), DBN([16, 8, 4], seed=2)
    kwargs = dict(epochs=2, batch_size=10, seed=3, progress=False)
    layerwise.pretrain(X, **kwargs)
    simultaneous.pretrain(X, schedule="simultaneous", **kwargs)
    for a, b in zip(layerwise.rbms[0].parameters, simultaneous.rbms[0].parameters):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    # The layer above learnt from a moving input, so it differs.
    assert not np.allclose(layerwise.rbms[1].W.numpy(), simultaneous.rbms[1].W.numpy())


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
    got = model.sample_up(v, tf.random.Generator.from_seed(4))
    for g, want in zip(got, [s1, s2, s3]):
        np.testing.assert_array_equal(g.numpy(), want)
    down = model.sample_down(s2, tf.random.Generator.from_seed(9))
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
                               float(rbmtut.estimators.reconstruction_cross_entropy(
                                   model.rbms[0], v)), rtol=1e-12)
    # Fine-tuning starts from the stack: same loss before any update, then its own weights.
    tuner = UpDownFineTuner(model, learning_rate=0.1, seed=0, compile=False)
    np.testing.assert_allclose(float(tuner.reconstruction_cross_entropy(v)), expected, rtol=1e-10)
    tuner.generative_weights[0].assign(tuner.generative_weights[0] * 0.5)
    assert abs(float(tuner.reconstruction_cross_entropy(v)) - expected) > 1e-3


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
        got = model.sample(n, k, seed=12, compile=compile, start=start if from_data else None)
        got = got.numpy()
        np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_sampling_shapes_and_seeds():
    model = DBN([16, 10, 6], seed=0)
    model.pretrain(X, epochs=1, batch_size=10, progress=False)
    a = model.sample(9, 20, seed=1)
    assert a.shape == (9, 16) and a.dtype == tf.float32
    assert np.all((a.numpy() >= 0) & (a.numpy() <= 1))
    np.testing.assert_array_equal(a.numpy(), model.sample(9, 20, seed=1).numpy())
    np.testing.assert_array_equal(a.numpy(), model.sample(9, 20, seed=1, compile=False).numpy())
    assert not np.array_equal(a.numpy(), model.sample(9, 20, seed=2).numpy())
    from_data = model.sample(4, 2, seed=1, start=X[:4])
    assert from_data.shape == (4, 16)
    np.testing.assert_array_equal(
        from_data.numpy(), model.sample(4, 2, seed=1, start=X[:4], compile=False).numpy())


def test_a_single_rbm_samples_by_gibbs_alone():
    model = DBN([random_rbm(6, 4, 1.5, seed=80)])
    assert model.down(np.zeros((2, 6))) == []  # no directed layers below the top RBM
    rng = tf.random.Generator.from_seed(3)
    noise = sample_bernoulli(tf.fill([5, 6], tf.constant(0.5, tf.float64)), rng)
    expected = rbmtut.gibbs.gibbs_chain(model.top, noise, 4, rng).v_probs
    np.testing.assert_array_equal(model.sample(5, 4, seed=3).numpy(), expected.numpy())


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


# -- up-down fine-tuning ---------------------------------------------------------------
def updown_reference(model, v, k, eps, seed):
    """One up-down update in NumPy float64, drawing the same uniforms in the same order."""
    params = numpy_params(model)
    lower, (W, b, c) = params[:-1], [p.copy() for p in params[-1]]
    R = [p[0].copy() for p in lower]
    r = [p[2].copy() for p in lower]
    G = [p[0].T.copy() for p in lower]
    g = [p[1].copy() for p in lower]
    u = uniforms(tf.random.Generator.from_seed(seed))
    bern = lambda p: (u(p.shape) < p).astype(np.float64)
    n = len(v)
    wake = [v]
    for l in range(len(R)):
        wake.append(bern(sigmoid(wake[l] @ R[l] + r[l])))
    pen = wake[-1]
    top = bern(sigmoid(pen @ W + c))
    neg_top = top
    for _ in range(k):
        neg_pen = bern(sigmoid(neg_top @ W.T + b))
        neg_top = bern(sigmoid(neg_pen @ W + c))
    sleep = [None] * len(wake)
    sleep[-1] = neg_pen
    for l in reversed(range(len(R))):
        p = sigmoid(sleep[l + 1] @ G[l] + g[l])
        sleep[l] = bern(p) if l > 0 else p
    new = {"G": [], "g": [], "R": [], "r": []}
    for l in range(len(R)):
        p_below = sigmoid(wake[l + 1] @ G[l] + g[l])   # generative prediction (wake)
        q_above = sigmoid(sleep[l] @ R[l] + r[l])      # recognition prediction (sleep)
        new["G"].append(G[l] + eps * wake[l + 1].T @ (wake[l] - p_below) / n)
        new["g"].append(g[l] + eps * (wake[l] - p_below).mean(0))
        new["R"].append(R[l] + eps * sleep[l].T @ (sleep[l + 1] - q_above) / n)
        new["r"].append(r[l] + eps * (sleep[l + 1] - q_above).mean(0))
    new["top"] = [W + eps * (pen.T @ top - neg_pen.T @ neg_top) / n,
                  b + eps * (pen - neg_pen).mean(0), c + eps * (top - neg_top).mean(0)]
    recon = -(v * np.log(sigmoid(wake[1] @ G[0] + g[0]))
              + (1 - v) * np.log(1 - sigmoid(wake[1] @ G[0] + g[0]))).sum(1).mean()
    return wake, top, neg_pen, neg_top, sleep, new, recon


@pytest.mark.parametrize("compile", [True, False])
def test_up_down_step_matches_a_numpy_step(compile):
    model = random_dbn([5, 4, 3, 2], scale=1.0, seed=60)
    before = numpy_params(model)
    v = np.array([[1, 0, 1, 1, 0], [0, 1, 1, 0, 1], [1, 1, 0, 0, 0]], dtype=np.float64)
    tuner = UpDownFineTuner(model, learning_rate=0.3, k=2, seed=23, compile=compile)
    step = tuner.step(v)
    wake, top, neg_pen, neg_top, sleep, new, recon = updown_reference(model, v, 2, 0.3, 23)
    # With this seed every parameter tensor moves, so no comparison below is vacuous.
    lower, top_params = before[:-1], before[-1]
    old = {"G": [p[0].T for p in lower], "g": [p[1] for p in lower],
           "R": [p[0] for p in lower], "r": [p[2] for p in lower], "top": top_params}
    for key in old:
        for a, b in zip(old[key], new[key]):
            assert not np.allclose(a, b), key
    for got, want in zip(step.wake + step.sleep[1:], wake + sleep[1:]):
        np.testing.assert_array_equal(got.numpy(), want)  # binary states: exactly
    np.testing.assert_allclose(step.sleep[0].numpy(), sleep[0], rtol=1e-12)  # probabilities
    for got, want in ((step.wake_top, top), (step.negative_pen, neg_pen), (step.negative_top, neg_top)):
        np.testing.assert_array_equal(got.numpy(), want)
    assert len(step.wake) == len(step.sleep) == 3
    attributes = {"G": tuner.generative_weights, "g": tuner.generative_biases,
                  "R": tuner.recognition_weights, "r": tuner.recognition_biases}
    for key, variables in attributes.items():
        for got, want in zip(variables, new[key]):
            np.testing.assert_allclose(got.numpy(), want, rtol=0, atol=1e-12, err_msg=key)
    for got, want in zip(tuner.top.parameters, new["top"]):
        np.testing.assert_allclose(got.numpy(), want, rtol=0, atol=1e-12)
    assert abs(float(step.reconstruction) - recon) < 1e-10
    # Something was learned, recognition and generation are now untied,
    # and the DBN itself is untouched.
    assert not np.allclose(tuner.generative_weights[0].numpy(), tuner.recognition_weights[0].numpy().T)
    for old, cur in zip(before, numpy_params(model)):
        for a, b in zip(old, cur):
            np.testing.assert_array_equal(a, b)


def test_up_down_fit_is_reproducible_and_samples():
    def run():
        model = DBN([16, 10, 6], seed=0)
        model.pretrain(X, epochs=1, batch_size=10, progress=False)
        tuner = UpDownFineTuner(model, learning_rate=0.05, k=1, seed=2)
        history = tuner.fit(X, epochs=2, batch_size=20, seed=3, progress=False)
        return tuner, history

    (a, ha), (b, hb) = run(), run()
    assert len(ha.reconstruction) == len(ha.seconds) == 2 and ha.reconstruction == hb.reconstruction
    for p, q in zip(a.trainable_variables, b.trainable_variables):
        np.testing.assert_array_equal(p.numpy(), q.numpy())
    samples = a.sample(6, 5, seed=0)
    assert samples.shape == (6, 16)
    np.testing.assert_array_equal(samples.numpy(), a.sample(6, 5, seed=0, compile=False).numpy())


# -- Keras bridge --------------------------------------------------------------------------
def test_keras_classifier_copies_weights_and_random_twin_has_same_architecture():
    model = random_dbn([9, 6, 4], seed=70, dtype=tf.float32)
    pretrained = to_keras_classifier(model, 3, seed=1)
    random = to_keras_classifier(model, 3, pretrained=False, seed=1)
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
    twin = to_keras_classifier(model, 3, pretrained=False, seed=1)
    np.testing.assert_array_equal(twin.layers[0].kernel.numpy(), random.layers[0].kernel.numpy())


# -- bad input -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "layers, match",
    [
        ([BernoulliRBM(6, 4), BernoulliRBM(5, 3)], "do not chain"),
        ([BernoulliRBM(6, 4), BernoulliRBM(4, 3, dtype=tf.float64)], "dtypes"),
        ([784], "at least 2"),
        ([784, 0, 10], "positive ints"),
        ([784, 50.0], "positive ints"),
        ([784, BernoulliRBM(6, 4)], "positive ints"),
    ],
)
def test_bad_stacks_are_rejected(layers, match):
    with pytest.raises(ValueError, match=match):
        DBN(layers)


@pytest.mark.parametrize(
    "x, kwargs, match",
    [
        (X[:, :10], {}, "10 columns but the visible layer has 16"),
        (X * 2.0, {}, r"\[0, 1\]"),
        (X, {"pass_up": "mean"}, "pass_up must be one of"),
        (X, {"epochs": [1, 1]}, "epochs has 2 entries for 3 RBMs"),
        (X, {"method": ["cd", "cd", "pdc"]}, "method must be"),
        (X, {"batch_size": 500}, "batch_size"),
        (X, {"k": 0}, "k must be at least 1"),
        (X, {"schedule": "together"}, "schedule must be one of"),
        (X, {"schedule": "simultaneous", "epochs": [1, 2, 1]}, "same batches"),
        (X, {"learning_rate": [0.1, 0.1, -0.1]}, "learning_rate must be > 0"),
    ],
)
def test_pretrain_rejects_bad_input_before_training(x, kwargs, match):
    model = DBN([16, 8, 6, 4])
    initial = model.rbms[0].W.numpy()
    with pytest.raises(ValueError, match=match):
        model.pretrain(x, **{"epochs": 1, "batch_size": 10, "progress": False, **kwargs})
    np.testing.assert_array_equal(model.rbms[0].W.numpy(), initial)


def test_passes_and_models_reject_bad_input():
    model = DBN([16, 8, 4])
    with pytest.raises(ValueError, match="15 columns but the visible layer has 16"):
        model.up(np.zeros((2, 15)))
    with pytest.raises(ValueError, match="NaN"):
        model.up(np.full((2, 16), np.nan))
    with pytest.raises(ValueError, match="4 columns but layer 1 has 8"):
        model.down(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="from_layer must be at most L = 2"):
        model.down(np.zeros((2, 4)), from_layer=3)
    with pytest.raises(ValueError, match="gibbs_steps"):
        model.sample(3, 0)
    with pytest.raises(ValueError, match="n = 3"):
        model.sample(3, 1, start=X[:2])
    with pytest.raises(ValueError, match="code must be"):
        model.unroll(code="tanh")
    with pytest.raises(ValueError, match=r"decoder must have shape \(n, 4\)"):
        model.unroll().decode(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="at least two RBMs"):
        UpDownFineTuner(DBN([16, 8]))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        UpDownFineTuner(model).step(np.full((2, 16), -1.0))
    with pytest.raises(ValueError, match="n_classes"):
        to_keras_classifier(model, 1)
    with pytest.raises(ValueError, match="seed must be at least 0"):
        model.sample(3, 1, seed=-1)
    with pytest.raises(TypeError, match="seed must be an int"):
        model.pretrain(X, seed=1.5, progress=False)
    assert dbn_module.PASS_UP_OPTIONS == ("probs", "samples", "samples_to_top")
