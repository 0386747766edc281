"""Data parallelism: MirroredStrategy over two logical CPUs gives one device's result.

conftest.py splits the CPU into two logical devices before TensorFlow starts.

Tolerances.  One device and two replicas add the same numbers in different
orders (a batch's statistics as one matrix product, or as two half-products
summed), so an update's gradient differs by a few units of roundoff u
(float32 6e-8, float64 1.1e-16) of the statistics, which are means of
products of numbers in [0, 1] and so at most 1.  Momentum SGD (built in or
Keras SGD) with rate 0.1 and momentum 0.5 turns a gradient error e into at
most 0.1 e / (1 - 0.5) of parameter error per update, so after U = 9 updates
the runs differ by at most about 2 U 0.1 c u; with a generous c = 10 that is
1.1e-6 in float32 and 2e-15 in float64.  Adam divides each gradient by its
running RMS, so a component whose two phases nearly cancel turns the same
rounding into a larger relative change; it is compared in float64 with 1e-10.
The samples themselves agree exactly (persistent chains are compared with
``==``): a unit flips only if its uniform lands within about u of its
probability, which no run here does.
"""

import contextlib

import keras
import numpy as np
import pytest
import tensorflow as tf

from rbmtut import distribute, fitting, learning
from rbmtut.distribute import DistributedRBMTrainer
from rbmtut.data import bars_and_stripes
from rbmtut.gibbs import gibbs_chain
from rbmtut.keras_rbm import RBMModel
from rbmtut.rbm import BernoulliRBM

X = bars_and_stripes(4)  # 30 patterns of 16 pixels: 3 updates of 10 rows an epoch
EPOCHS = 3
RULES = {
    "builtin": lambda: {"learning_rate": 0.1, "momentum": 0.5},
    "sgd": lambda: {"optimizer": keras.optimizers.SGD(0.1, momentum=0.5)},
    "adam": lambda: {"optimizer": keras.optimizers.Adam(1e-2),
                     "bias_optimizer": keras.optimizers.Adam(1e-3)},
}
# id: method, k, update rule, dtype, tolerance (see the module docstring)
CASES = {
    "cd1-builtin-float32": ("cd", 1, "builtin", tf.float32, 1.1e-6),
    "pcd2-builtin-float64": ("pcd", 2, "builtin", tf.float64, 2e-15),
    "cd2-sgd-float32": ("cd", 2, "sgd", tf.float32, 1.1e-6),
    "pcd3-adam-float64": ("pcd", 3, "adam", tf.float64, 1e-10),
}


@pytest.fixture(scope="module")
def strategy():
    if len(tf.config.list_logical_devices("CPU")) < 2:  # fail loudly: never skip the acceptance test
        pytest.fail("needs the two logical CPUs that conftest.py configures before TensorFlow "
                    "starts; something started TensorFlow's runtime before conftest was imported")
    return tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])


def _trainer(case, strategy=None, seed=3):
    """A trainer for ``case``; with a strategy, built (with its RBM) inside its scope."""
    method, k, rule, dtype, _ = CASES[case]
    make = DistributedRBMTrainer if strategy else learning.RBMTrainer
    with strategy.scope() if strategy else contextlib.nullcontext():
        return make(
            BernoulliRBM(16, 8, weight_std=0.1, seed=1, dtype=dtype), method=method, k=k,
            n_chains=10 if method == "pcd" else None, weight_decay=1e-3, seed=seed,
            **RULES[rule]())


def _train(case, strategy=None, seed=3):
    trainer = _trainer(case, strategy, seed)
    history = fitting.train_epochs(trainer, X, epochs=EPOCHS, batch_size=10, progress=False)
    return trainer, history


def _gap(a, b):
    """Largest absolute difference between two trainers' parameters."""
    return max(np.abs(p.numpy() - q.numpy()).max() for p, q in zip(a.rbm.parameters, b.rbm.parameters))


@pytest.mark.parametrize("case", list(CASES))
def test_two_replicas_equal_one_device(case, strategy):
    tolerance = CASES[case][-1]
    one, one_history = _train(case)
    two, two_history = _train(case, strategy)
    assert isinstance(two.rbm.W, tf.distribute.DistributedValues)
    gap = _gap(one, two)
    print(f"{case}: max |one device - two replicas| = {gap:.3g}")
    assert gap <= tolerance, gap
    if one.chains is not None:
        np.testing.assert_array_equal(one.chains.v.numpy(), two.chains.v.numpy())
    np.testing.assert_allclose(two_history["surrogate"], one_history["surrogate"], rtol=1e-5)
    # The control: another seed moves the parameters far more than the tolerance.
    other, _ = _train(case, seed=4)
    assert _gap(one, other) > max(1e-3, 1e4 * tolerance), _gap(one, other)


def test_fit_rbm_takes_a_strategy(strategy):
    kwargs = dict(epochs=2, batch_size=10, method="pcd", k=2, seed=5, progress=False)
    one = BernoulliRBM(16, 8, seed=1, dtype=tf.float64)
    fitting.fit_rbm(one, X, **kwargs)
    with strategy.scope():
        two = BernoulliRBM(16, 8, seed=1, dtype=tf.float64)
    fitting.fit_rbm(two, X, strategy=strategy, **kwargs)
    for p, q in zip(one.parameters, two.parameters):
        np.testing.assert_allclose(q.numpy(), p.numpy(), rtol=0, atol=2e-15)


@pytest.mark.parametrize("case", ["pcd2-builtin-float64", "pcd3-adam-float64"])
def test_keras_fit_under_the_strategy_equals_one_device(case, strategy):
    one, one_history = _train(case)
    trainer = _trainer(case, strategy)
    with strategy.scope():
        model = RBMModel(trainer)
    history = model.fit(X, batch_size=10, epochs=EPOCHS, verbose=0)  # Keras splits each batch
    assert int(trainer.completed_epochs.numpy()) == EPOCHS
    gap = _gap(one, trainer)
    print(f"Keras {case}: max |one device - two replicas| = {gap:.3g}")
    assert gap <= CASES[case][-1], gap
    np.testing.assert_array_equal(one.chains.v.numpy(), trainer.chains.v.numpy())
    # Keras averages the metric in float32: a few roundoffs of per-batch values below 0.2.
    np.testing.assert_allclose(history.history["surrogate"], one_history["surrogate"], atol=1e-7)


def test_a_dataset_that_splits_unevenly_stops_keras_fit(strategy):
    with strategy.scope():
        model = RBMModel(DistributedRBMTrainer(BernoulliRBM(16, 8)))
    batches = tf.data.Dataset.from_tensor_slices(X[:25].astype(np.float32)).batch(10)  # 10, 10, 5
    with pytest.raises(tf.errors.InvalidArgumentError, match="split evenly over the replicas"):
        model.fit(batches, shuffle=False, verbose=0)


def test_a_distributed_checkpoint_resumes_on_one_device(strategy, tmp_path):
    case = "pcd3-adam-float64"
    straight, _ = _train(case)
    first = _trainer(case, strategy)
    manager = fitting.checkpoint_manager(first, str(tmp_path))
    fitting.train_epochs(first, X, epochs=1, batch_size=10, checkpoint=manager, progress=False)
    resumed = _trainer(case)  # one device
    fitting.checkpoint_manager(resumed, str(tmp_path)).restore_or_initialize()
    assert int(resumed.optimizer.iterations.numpy()) == 3
    fitting.train_epochs(resumed, X, epochs=EPOCHS - 1, batch_size=10, progress=False)
    assert _gap(resumed, straight) <= CASES[case][-1]
    np.testing.assert_array_equal(resumed.chains.v.numpy(), straight.chains.v.numpy())


def test_noise_is_drawn_as_one_device_draws_it():
    # A chain on given noise equals gibbs_chain on the generator the noise came from.
    rbm = BernoulliRBM(16, 8, weight_std=1.0, seed=2, dtype=tf.float64)
    v0 = tf.constant(X[:6], tf.float64)
    noise = distribute.draw_noise(tf.random.Generator.from_seed(9), 3, 6, 16, 8, tf.float64)
    assert noise.hidden.shape == (3, 6, 8) and noise.visible.shape == (3, 6, 16)
    v, a = distribute.gibbs_chain_from_noise(rbm, v0, rbm.hidden_logits(v0), noise)
    want = gibbs_chain(rbm, v0, 3, tf.random.Generator.from_seed(9)).v
    np.testing.assert_array_equal(v.numpy(), want.numpy())
    np.testing.assert_array_equal(a.numpy(), rbm.hidden_logits(want).numpy())


def test_uneven_splits_and_misplaced_variables_are_refused(strategy):
    outside, lone = BernoulliRBM(16, 8), learning.RBMTrainer(BernoulliRBM(16, 8))
    outside_optimizer = keras.optimizers.Adam()
    with strategy.scope():
        rbm = BernoulliRBM(16, 8)
        with pytest.raises(ValueError, match="n_chains=9 does not split evenly over 2"):
            DistributedRBMTrainer(rbm, method="pcd", n_chains=9)
        with pytest.raises(ValueError, match="without a strategy"):
            DistributedRBMTrainer(BernoulliRBM(4, 3), method="exact")
        with pytest.raises(ValueError, match="parallel tempering"):
            DistributedRBMTrainer(BernoulliRBM(4, 3), method="pt", n_chains=4)
        with pytest.raises(ValueError, match="fast weights"):
            DistributedRBMTrainer(BernoulliRBM(4, 3), method="fpcd", n_chains=4)
        with pytest.raises(ValueError, match="centering runs on one device"):
            DistributedRBMTrainer(BernoulliRBM(4, 3), centering=0.01)
        with pytest.raises(ValueError, match="jit_compile"):
            DistributedRBMTrainer(rbm, jit_compile=True)
        with pytest.raises(ValueError, match="build the RBM inside"):
            DistributedRBMTrainer(outside)
        with pytest.raises(ValueError, match="create it inside"):
            DistributedRBMTrainer(BernoulliRBM(16, 8), optimizer=outside_optimizer)
        with pytest.raises(ValueError, match="same strategy.scope"):
            RBMModel(lone)
        with pytest.raises(ValueError, match="DistributedRBMTrainer"):
            learning.RBMTrainer(rbm)  # the one-device trainer refuses a strategy's scope
        trainer = DistributedRBMTrainer(rbm)
        model = RBMModel(trainer)
    with pytest.raises(ValueError, match="DistributedRBMTrainer"):
        learning.RBMTrainer(rbm)  # the RBM's variables are mirrored
    with pytest.raises(ValueError, match="inside `with strategy.scope"):
        DistributedRBMTrainer(rbm)  # the scope's RBM, but the trainer built outside it
    with pytest.raises(ValueError, match="build the RBM inside"):
        fitting.fit_rbm(outside, X, batch_size=10, strategy=strategy, progress=False)
    with pytest.raises(ValueError, match="does not split evenly over 2 replicas"):
        fitting.train_epochs(trainer, X, epochs=1, batch_size=7, progress=False)
    with pytest.raises(ValueError, match="does not split evenly"):
        trainer.step(X[:5])
    with pytest.raises(ValueError, match="does not split evenly"):
        model.fit(X, batch_size=7, verbose=0)
