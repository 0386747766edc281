"""Greedy pretraining of a DBN: what each layer learns from, schedules, seeds and bad input."""

import numpy as np
import pytest
import tensorflow as tf

import rbmtut
from rbmtut import pretraining
from rbmtut._loop import derive_seeds
from rbmtut.dbn import DBN
from rbmtut.nn import sample_bernoulli
from rbmtut.pretraining import fit_dbn
from stack_helpers import X, random_dbn


@pytest.mark.parametrize("pass_up", ["probs", "samples", "samples_to_top"])
def test_each_layer_is_trained_on_the_previous_layers_output(monkeypatch, pass_up):
    real_train, calls = pretraining.train_epochs, []

    def recording_train(trainer, x, **kwargs):
        calls.append((np.array(x), trainer, kwargs))
        return real_train(trainer, x, **kwargs)

    monkeypatch.setattr(pretraining, "train_epochs", recording_train)
    model = DBN([16, 10, 8, 6], seed=1)
    history = fit_dbn(model, X, epochs=[2, 1, 1], batch_size=10, learning_rate=[0.1, 0.05, 0.02],
                      pass_up=pass_up, seed=5, progress=False)
    assert len(calls) == 3
    np.testing.assert_array_equal(calls[0][0], X)
    for layer in (1, 2):
        # Layer l-1 is final once trained, so its output can be recomputed now.
        expected = model.rbms[layer - 1].hidden_probs(tf.constant(calls[layer - 1][0]))
        sampled = pass_up == "samples" or (pass_up == "samples_to_top" and layer == 2)
        if sampled:
            expected = sample_bernoulli(
                expected, tf.random.Generator.from_seed(history.info["sample_seeds"][layer - 1]))
        got = calls[layer][0]
        np.testing.assert_array_equal(got, expected.numpy())
        assert sampled == bool(np.all((got == 0) | (got == 1)))
    assert [t.rbm for _, t, _ in calls] == model.rbms
    np.testing.assert_allclose([float(t.learning_rate) for _, t, _ in calls], [0.1, 0.05, 0.02])
    assert [kw["epochs"] for _, _, kw in calls] == [2, 1, 1]
    assert [t.seed for _, t, _ in calls] == history.info["seeds"] == derive_seeds(5, 6)[:3]
    assert [len(h.epoch) for h in history.layers] == [2, 1, 1]
    seconds = [h.wall_seconds for h in history.layers]
    assert len(seconds) == 3 and all(s > 0 for s in seconds)
    assert history.total_seconds >= sum(seconds)


def test_layer_two_equals_fit_rbm_on_layer_ones_samples():
    model = DBN([16, 10, 6], seed=3)
    initial = model.rbms[1].copy()
    history = fit_dbn(model, X, epochs=2, batch_size=8, learning_rate=[0.1, 0.05], k=[1, 2],
                      pass_up="samples", seed=11, monitors={}, progress=False)
    sample_seeds, seeds = history.info["sample_seeds"], history.info["seeds"]
    assert sample_seeds == [derive_seeds(11, 4)[2], None]
    probs = model.rbms[0].hidden_probs(tf.constant(X))
    inputs = sample_bernoulli(probs, tf.random.Generator.from_seed(sample_seeds[0]))
    rbmtut.fit_rbm(initial, inputs.numpy(), epochs=2, batch_size=8, method="cd", k=2,
                   learning_rate=0.05, momentum=0.5, weight_decay=0.0, seed=seeds[1],
                   monitors={}, progress=False)
    for a, b in zip(initial.parameters, model.rbms[1].parameters):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert not np.array_equal(initial.W.numpy(), DBN([16, 10, 6], seed=3).rbms[1].W.numpy())


def test_same_seed_same_stack_and_per_layer_epochs():
    def train(seed):
        model = DBN([16, 8, 4], seed=0)
        fit_dbn(model, X, epochs=[1, 0], batch_size=10, pass_up="samples", seed=seed,
                monitors={}, progress=False)
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
    history = fit_dbn(model, X, epochs=2, batch_size=8, learning_rate=[0.1, 0.05],
                      schedule="simultaneous", pass_up=pass_up, seed=9, progress=False)
    seeds, sample_seeds = history.info["seeds"], history.info["sample_seeds"]
    assert [h.wall_seconds for h in history.layers] == [None, None] and history.total_seconds > 0
    assert [h.epoch for h in history.layers] == [[1, 2], [1, 2]]

    # By hand: each batch goes up through layer 0 as it is *before* its
    # update, then both layers take one update.
    from rbmtut.fitting import epoch_orders
    from rbmtut.learning import RBMTrainer
    trainers = [RBMTrainer(rbm, learning_rate=rate, seed=s, compile=False)
                for rbm, rate, s in zip(twin.rbms, [0.1, 0.05], seeds)]
    sampler = (tf.random.Generator.from_seed(sample_seeds[0])
               if pass_up == "samples" else None)
    assert (sample_seeds[0] is None) == (pass_up == "probs")
    for order in epoch_orders(len(X), 8, seeds[0], epochs=2):
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
    fit_dbn(layerwise, X, **kwargs)
    fit_dbn(simultaneous, X, schedule="simultaneous", **kwargs)
    for a, b in zip(layerwise.rbms[0].parameters, simultaneous.rbms[0].parameters):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    # The layer above learnt from a moving input, so it differs.
    assert not np.allclose(layerwise.rbms[1].W.numpy(), simultaneous.rbms[1].W.numpy())


@pytest.mark.parametrize(
    "x, kwargs, match",
    [
        (X[:, :10], {}, "10 columns but the model has 16 visible units"),
        (X * 2.0, {}, r"\[0, 1\]"),
        (X, {"pass_up": "mean"}, "pass_up must be one of"),
        (X, {"epochs": [1, 1]}, "epochs has 2 entries for 3 RBMs"),
        (X, {"method": ["cd", "cd", "pdc"]}, "method must be"),
        (X, {"batch_size": 500}, "batch_size"),
        (X, {"k": 0}, "k must be an int >= 1"),
        (X, {"schedule": "together"}, "schedule must be one of"),
        (X, {"schedule": "simultaneous", "epochs": [1, 2, 1]}, "same batches"),
        (X, {"learning_rate": [0.1, 0.1, -0.1]}, "learning_rate must be a finite number > 0"),
    ],
)
def test_pretrain_rejects_bad_input_before_training(x, kwargs, match):
    model = DBN([16, 8, 6, 4])
    initial = model.rbms[0].W.numpy()
    with pytest.raises(ValueError, match=match):
        fit_dbn(model, x, **{"epochs": 1, "batch_size": 10, "progress": False, **kwargs})
    np.testing.assert_array_equal(model.rbms[0].W.numpy(), initial)


def test_pretrain_rejects_a_non_int_seed_and_lists_its_options():
    model = DBN([16, 8, 4])
    with pytest.raises(TypeError, match="seed must be an int"):
        fit_dbn(model, X, seed=1.5, progress=False)
    assert pretraining.PASS_UP_OPTIONS == ("probs", "samples", "samples_to_top")
