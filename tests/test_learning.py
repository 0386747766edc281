"""CD/PCD gradients, the surrogate loss, the trainer and fit_rbm."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from rbmtut import exact, fitting, learning, likelihood
from rbmtut.data import bars_and_stripes
from rbmtut.rbm import BernoulliRBM
from conftest import random_rbm


def test_analytic_statistics_equal_autodiff_of_the_surrogate():
    rbm = random_rbm(7, 5, 1.5, seed=4)
    rng = np.random.default_rng(0)
    v_data = tf.constant((rng.random((9, 7)) < 0.4).astype(np.float64))
    v_model = tf.constant((rng.random((6, 7)) < 0.6).astype(np.float64))
    with tf.GradientTape() as tape:
        loss = learning.cd_loss(rbm, v_data, v_model)
    autodiff = tape.gradient(loss, rbm.parameters)
    analytic = learning.cd_gradients(
        rbm, v_data, rbm.hidden_probs(v_data), v_model, rbm.hidden_probs(v_model)
    )
    for a, b in zip(autodiff, analytic):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-5)


def test_exact_gradient_is_the_log_likelihood_gradient():
    rbm = random_rbm(6, 4, 1.0, seed=8)
    v = tf.constant(bars_and_stripes(2)[:, :4].astype(np.float64))  # any binary rows
    v = tf.concat([v, tf.zeros([len(v), 2], tf.float64)], axis=1)
    with tf.GradientTape() as tape:
        nll = -likelihood.log_likelihood(rbm, v, exact.exact_log_partition(rbm))
    autodiff = tape.gradient(nll, rbm.parameters)
    vh, vm, hm = exact.exact_model_statistics(rbm)
    h = rbm.hidden_probs(v)
    n = float(len(v))
    expected = [vh - tf.matmul(v, h, transpose_a=True) / n, vm - tf.reduce_mean(v, 0),
                hm - tf.reduce_mean(h, 0)]
    for a, b in zip(autodiff, expected):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-6)


def _fit(compile, seed=0, method="pcd"):
    x = bars_and_stripes(4)
    rbm = BernoulliRBM(16, 8, seed=1)
    history = fitting.fit_rbm(
        rbm, x, epochs=3, batch_size=10, method=method, k=2, learning_rate=0.1,
        momentum=0.5, weight_decay=1e-4, seed=seed, compile=compile, progress=False,
    )
    return rbm, history


@pytest.mark.parametrize("method", ["cd", "pcd"])
def test_same_seed_same_parameters_eager_and_compiled(method):
    compiled, _ = _fit(True, method=method)
    again, _ = _fit(True, method=method)
    eager, _ = _fit(False, method=method)
    other, _ = _fit(True, seed=1, method=method)
    for a, b, c, d in zip(compiled.parameters, again.parameters, eager.parameters, other.parameters):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
        np.testing.assert_array_equal(a.numpy(), c.numpy())
    assert not np.array_equal(compiled.W.numpy(), other.W.numpy())


@pytest.mark.parametrize("method, k", [("exact", 1), ("cd", 1), ("pcd", 5)])
def test_learning_raises_the_exact_log_likelihood(method, k):
    x = bars_and_stripes(3)  # 14 patterns of 9 pixels
    rbm = BernoulliRBM(9, 6, weight_std=0.1, seed=0, dtype=tf.float64)
    before = likelihood.log_likelihood(rbm, x, exact.exact_log_partition(rbm)).numpy()
    history = fitting.fit_rbm(
        rbm, x, epochs=100, batch_size=2, method=method, k=k, learning_rate=0.2,
        momentum=0.5, seed=0, progress=False,
        monitors={"ll": lambda m: likelihood.log_likelihood(m, x, exact.exact_log_partition(m))},
    )
    after = history["ll"][-1]
    # Uniform over 2**9 states gives -6.24 nats; perfect is log(1/14) = -2.64.
    assert before < -6.0
    assert after > before + 0.5, (method, before, after)
    assert len(history.epoch) == 100 and len(history.seconds) == 100


def test_history_records_monitors_and_calls_back():
    x = bars_and_stripes(3)
    seen = []
    history = fitting.fit_rbm(
        BernoulliRBM(9, 4), x, epochs=2, batch_size=7, progress=False,
        monitors={"recon": lambda m: likelihood.reconstruction_cross_entropy(m, x)},
        callback=lambda epoch, rbm, values: seen.append((epoch, sorted(values))),
    )
    assert seen == [(1, ["recon", "surrogate"]), (2, ["recon", "surrogate"])]
    assert len(history["recon"]) == 2


def test_pcd_chains_persist_across_updates():
    rbm = BernoulliRBM(9, 4, seed=0)
    trainer = learning.RBMTrainer(rbm, method="pcd", k=1, n_chains=30, seed=0)
    trainer.step(bars_and_stripes(3))
    first = trainer.chains.v.numpy().copy()
    assert first.shape == (30, 9)
    trainer.step(bars_and_stripes(3))
    assert not np.array_equal(first, trainer.chains.v.numpy())


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"epochs": -1}, ValueError, "epochs"),
        ({"batch_size": 0}, ValueError, "batch_size"),
        ({"batch_size": 1000}, ValueError, "batch_size"),
        ({"method": "gibbs"}, ValueError, "method"),
        ({"k": 0}, ValueError, "k must"),
        ({"momentum": 1.0}, ValueError, "momentum"),
    ],
)
def test_fit_rbm_rejects_bad_settings(kwargs, error, match):
    with pytest.raises(error, match=match):
        fitting.fit_rbm(
            BernoulliRBM(9, 4), bars_and_stripes(3), progress=False, **{"batch_size": 7, **kwargs}
        )


def test_fit_rbm_rejects_bad_data():
    with pytest.raises(ValueError, match="columns"):
        fitting.fit_rbm(BernoulliRBM(10, 4), bars_and_stripes(3), progress=False)
    with pytest.raises(ValueError, match="NaN"):
        fitting.fit_rbm(BernoulliRBM(9, 4), np.full((5, 9), np.nan), progress=False)
    with pytest.raises(ValueError, match="exact"):
        learning.RBMTrainer(BernoulliRBM(784, 500), method="exact")


def test_without_stop_gradient_the_surrogate_gradient_is_wrong():
    # Mean-field chain ends depend on the parameters; only the stop-gradient
    # keeps autodiff from differentiating through the chain.
    rbm = random_rbm(7, 5, 1.5, seed=5)
    v_data = tf.constant((np.random.default_rng(1).random((9, 7)) < 0.4).astype(np.float64))
    with tf.GradientTape(persistent=True) as tape:
        v_model = rbm.visible_probs(rbm.hidden_probs(v_data))
        with_stop = learning.cd_loss(rbm, v_data, v_model)
        without = tf.reduce_mean(rbm.free_energy(v_data)) - tf.reduce_mean(rbm.free_energy(v_model))
    analytic = learning.cd_gradients(
        rbm, v_data, rbm.hidden_probs(v_data), v_model, rbm.hidden_probs(v_model)
    )
    for got, want in zip(tape.gradient(with_stop, rbm.parameters), analytic):
        np.testing.assert_allclose(got.numpy(), want.numpy(), atol=1e-5)
    wrong = tape.gradient(without, rbm.parameters)
    gap = max(np.abs(a.numpy() - b.numpy()).max() for a, b in zip(wrong, analytic))
    assert gap > 0.05, gap
    np.testing.assert_allclose(with_stop.numpy(), without.numpy())  # same value, other gradient


def _trainer(rbm, optimizer=None, bias_optimizer=None, compile=True, method="pcd", seed=3):
    return learning.RBMTrainer(
        rbm, method=method, k=2, optimizer=optimizer, bias_optimizer=bias_optimizer,
        weight_decay=1e-3, n_chains=10 if method == "pcd" else None, seed=seed, compile=compile,
    )


@pytest.mark.parametrize("dtype", [tf.float32, tf.float64])
def test_keras_optimizers_train_plain_variables_eager_and_compiled(dtype):
    x = bars_and_stripes(4)
    results = []
    for compile in (True, False):
        rbm = BernoulliRBM(16, 8, seed=1, dtype=dtype)
        start = rbm.W.numpy().copy()
        trainer = _trainer(rbm, keras.optimizers.Adam(1e-2), keras.optimizers.Adam(1e-3),
                           compile=compile)
        fitting.train_epochs(trainer, x, epochs=2, batch_size=10, progress=False)
        assert int(trainer.optimizer.iterations) == 2 * 3
        assert not np.allclose(rbm.W.numpy(), start)
        results.append(rbm)
    tol = 1e-5 if dtype == tf.float32 else 1e-12
    for a, b in zip(results[0].parameters, results[1].parameters):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=tol)


def test_keras_sgd_on_the_surrogate_equals_the_builtin_rule():
    # Autodiff of cd_loss + a Keras SGD optimizer with momentum must reproduce the
    # classic update on the analytic statistics, step for step.  The rate 0.125
    # is exact in float32, the precision in which Keras keeps learning rates.
    x = bars_and_stripes(4)
    models = []
    for optimizer in (None, keras.optimizers.SGD(0.125, momentum=0.5)):
        rbm = BernoulliRBM(16, 8, seed=1, dtype=tf.float64)
        trainer = learning.RBMTrainer(
            rbm, method="pcd", k=2, n_chains=10, weight_decay=1e-3, seed=0, optimizer=optimizer,
            **({} if optimizer else {"learning_rate": 0.125, "momentum": 0.5}),
        )
        fitting.train_epochs(trainer, x, epochs=3, batch_size=10, progress=False)
        models.append(rbm)
    for a, b in zip(models[0].parameters, models[1].parameters):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-10)


def test_bias_optimizer_updates_only_the_biases():
    rbm = BernoulliRBM(16, 8, seed=1)
    trainer = _trainer(rbm, keras.optimizers.SGD(0.0), keras.optimizers.SGD(0.1), method="cd")
    W, b = rbm.W.numpy().copy(), rbm.b.numpy().copy()
    trainer.step(bars_and_stripes(4))
    np.testing.assert_array_equal(rbm.W.numpy(), W)
    assert not np.allclose(rbm.b.numpy(), b)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"method": "pcd"}, ValueError, "n_chains"),
        ({"method": "cd", "n_chains": 10}, ValueError, "only used"),
        ({"optimizer": keras.optimizers.SGD(0.1), "learning_rate": 0.1}, ValueError, "built-in"),
        ({"optimizer": keras.optimizers.SGD(0.1), "momentum": 0.9}, ValueError, "built-in"),
        ({"optimizer": "adam"}, TypeError, "keras.optimizers.Optimizer"),
        ({"bias_optimizer": keras.optimizers.SGD(0.1)}, ValueError, "weights as well"),
        ({"learning_rate": -1.0}, ValueError, "learning_rate"),
        ({"weight_decay": -1.0}, ValueError, "weight_decay"),
        ({"seed": 1.5}, TypeError, "seed"),
    ],
)
def test_trainer_rejects_bad_settings(kwargs, error, match):
    with pytest.raises(error, match=match):
        learning.RBMTrainer(BernoulliRBM(9, 4), **kwargs)


def test_trainer_refuses_an_optimizer_built_elsewhere():
    optimizer = keras.optimizers.Adam()
    learning.RBMTrainer(BernoulliRBM(9, 4), optimizer=optimizer)
    with pytest.raises(ValueError, match="fresh optimizer"):
        learning.RBMTrainer(BernoulliRBM(9, 4), optimizer=optimizer)
