"""The epoch loop: seeded shuffles, resuming from checkpoints, the Keras path."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from rbmtut import fitting, learning
from rbmtut.data import bars_and_stripes
from rbmtut.keras_rbm import RBMModel
from rbmtut.rbm import BernoulliRBM

X = bars_and_stripes(4)  # 30 patterns of 16 pixels


def test_epoch_orders_are_seeded_permutations_that_can_start_anywhere():
    orders = list(fitting.epoch_orders(30, 7, seed=5, epochs=4))
    assert [o.shape for o in orders] == [(4, 7)] * 4
    for order in orders:
        assert len(set(order.ravel())) == 28  # no repeats; two rows dropped
    later = list(fitting.epoch_orders(30, 7, seed=5, first_epoch=2, epochs=2))
    np.testing.assert_array_equal(np.stack(later), np.stack(orders[2:]))
    other = next(fitting.epoch_orders(30, 7, seed=6))
    assert not np.array_equal(other, orders[0])
    with pytest.raises(ValueError, match="batch_size"):
        next(fitting.epoch_orders(30, 31, seed=0))


def test_batch_dataset_serves_the_same_batches():
    dataset = list(fitting.batch_dataset(X, 7, seed=5, first_epoch=1, epochs=2))
    orders = np.concatenate(list(fitting.epoch_orders(30, 7, seed=5, first_epoch=1, epochs=2)))
    assert len(dataset) == len(orders) == 8
    for batch, rows in zip(dataset, orders):
        np.testing.assert_array_equal(batch.numpy(), X[rows])


def _make(kind, seed=3):
    """A trainer that exercises every piece of state a checkpoint must carry."""
    rbm = BernoulliRBM(16, 8, seed=1, dtype=tf.float64)
    if kind == "fast":  # fast weights
        return learning.RBMTrainer(rbm, method="fpcd", k=1, n_chains=10,
                                   learning_rate=0.1, seed=seed)
    if kind == "tempering":  # tempered chains and their swap counters
        return learning.RBMTrainer(rbm, method="pt", k=1, n_chains=10, ladder=4,
                                   learning_rate=0.1, seed=seed)
    if kind == "builtin":  # velocities, a learning-rate schedule, persistent chains
        return learning.RBMTrainer(
            rbm, method="pcd", k=2, n_chains=10, learning_rate=lambda e: 0.1 / (1 + e),
            momentum=0.5, weight_decay=1e-3, seed=seed)
    return learning.RBMTrainer(  # optimizer slots for two optimizers
        rbm, method="pcd", k=2, n_chains=10, optimizer=keras.optimizers.Adam(1e-2),
        bias_optimizer=keras.optimizers.Adam(1e-3), weight_decay=1e-3, seed=seed)


def kind_of(trainer):
    return trainer.method


def _state(trainer):
    variables = list(trainer.rbm.parameters) + [trainer.chains.v, trainer.rng.state]
    if kind_of(trainer) == "pt":
        variables += [trainer.chains.proposed, trainer.chains.accepted]
    if kind_of(trainer) == "fpcd":
        variables += list(trainer.fast.parameters)
    return [v.numpy() for v in variables]


@pytest.mark.parametrize("kind", ["builtin", "adam", "tempering", "fast"])
def test_resuming_from_a_checkpoint_equals_training_straight_through(kind, tmp_path):
    straight = _make(kind)
    fitting.train_epochs(straight, X, epochs=5, batch_size=10, progress=False)

    first = _make(kind)
    manager = fitting.checkpoint_manager(first, str(tmp_path))
    fitting.train_epochs(first, X, epochs=2, batch_size=10, checkpoint=manager, progress=False)
    assert manager.latest_checkpoint.endswith("-2")

    resumed = _make(kind)  # a fresh process would build exactly this
    fitting.checkpoint_manager(resumed, str(tmp_path)).restore_or_initialize()
    assert int(resumed.completed_epochs) == 2
    history = fitting.train_epochs(resumed, X, epochs=3, batch_size=10, progress=False)
    assert history.epoch == [3, 4, 5]
    for got, want in zip(_state(resumed), _state(straight)):
        np.testing.assert_array_equal(got, want)
    if kind == "adam":
        assert int(resumed.optimizer.iterations) == int(straight.optimizer.iterations) == 15


def test_restoring_without_the_checkpoint_would_not_match(tmp_path):
    # The test above can fail: a fresh trainer that skips the restore diverges.
    straight = _make("adam")
    fitting.train_epochs(straight, X, epochs=3, batch_size=10, progress=False)
    fresh = _make("adam")
    fitting.train_epochs(fresh, X, epochs=1, batch_size=10, progress=False)
    assert not np.array_equal(fresh.rbm.W.numpy(), straight.rbm.W.numpy())


@pytest.mark.parametrize("kind", ["builtin", "adam"])
def test_keras_fit_matches_fit_rbm(kind):
    reference = _make(kind)
    ref_history = fitting.train_epochs(reference, X, epochs=3, batch_size=10, progress=False)
    trainer = _make(kind)
    model = RBMModel(trainer)
    model.fit(X, batch_size=10, epochs=2, verbose=0)
    keras_history = model.fit(X, batch_size=10, epochs=1, verbose=0)  # continues at epoch 3
    assert keras_history.epoch == [2]  # Keras counts from 0
    assert int(trainer.completed_epochs) == 3
    for got, want in zip(_state(trainer), _state(reference)):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
    np.testing.assert_allclose(
        keras_history.history["surrogate"][-1], ref_history["surrogate"][-1], atol=1e-10)
    assert keras_history.history["reconstruction"][-1] > 0


def test_keras_validation_reports_held_out_reconstruction():
    model = RBMModel(learning.RBMTrainer(BernoulliRBM(16, 8), seed=0))
    history = model.fit(X[:20], batch_size=10, epochs=2, validation_data=X[20:], verbose=0)
    assert sorted(history.history) == ["reconstruction", "surrogate", "val_reconstruction"]
    logits = model.rbm.visible_logits(model.rbm.hidden_probs(X[20:]))
    expected = tf.reduce_mean(tf.reduce_sum(
        tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.constant(X[20:], tf.float32), logits=logits), -1))
    np.testing.assert_allclose(history.history["val_reconstruction"][-1], expected.numpy(), rtol=1e-5)
    np.testing.assert_allclose(model.evaluate(X[20:], verbose=0), expected.numpy(), rtol=1e-5)


def test_keras_model_predicts_features_and_refuses_what_it_cannot_do(tmp_path):
    model = RBMModel(learning.RBMTrainer(BernoulliRBM(16, 8), seed=0))
    features = model.predict(X, verbose=0)
    np.testing.assert_allclose(features, model.rbm.hidden_probs(X).numpy(), atol=1e-6)
    with pytest.raises(ValueError, match="no optimizer"):
        model.compile(optimizer="adam")
    with pytest.raises(ValueError, match="y=None"):
        model.fit(X, X)
    with pytest.raises(ValueError, match="initial_epoch"):
        model.fit(X, initial_epoch=3)
    with pytest.raises(ValueError, match="columns"):
        model.fit(X[:, :5])
    # Keras weight files hold the whole trainer: a fresh model loads them and agrees.
    # Train first, or a fresh model with the same seed would agree without loading.
    model.fit(X, batch_size=10, epochs=2, verbose=0)
    model.save_weights(str(tmp_path / "w.weights.h5"))
    fresh = RBMModel(learning.RBMTrainer(BernoulliRBM(16, 8), seed=0))
    assert not np.array_equal(fresh.rbm.W.numpy(), model.rbm.W.numpy())  # the check can fail
    fresh.load_weights(str(tmp_path / "w.weights.h5"))
    for got, want in zip(fresh.rbm.parameters, model.rbm.parameters):
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    np.testing.assert_array_equal(fresh.predict(X, verbose=0), model.predict(X, verbose=0))
    with pytest.raises(TypeError, match="RBMTrainer"):
        RBMModel(BernoulliRBM(16, 8))


def test_train_epochs_rejects_bad_arguments():
    trainer = learning.RBMTrainer(BernoulliRBM(16, 8), seed=0)
    with pytest.raises(TypeError, match="RBMTrainer"):
        fitting.train_epochs(BernoulliRBM(16, 8), X, epochs=1)
    with pytest.raises(TypeError, match="epochs"):
        fitting.train_epochs(trainer, X, epochs=1.5)
    with pytest.raises(TypeError, match="CheckpointManager"):
        fitting.train_epochs(trainer, X, epochs=1, checkpoint="ckpt/")
    bad = learning.RBMTrainer(BernoulliRBM(16, 8), learning_rate=lambda e: 0.1 - e, seed=0)
    with pytest.raises(ValueError, match="schedule"):
        fitting.train_epochs(bad, X, epochs=2, batch_size=10, progress=False)


def test_a_momentum_schedule_sets_each_epoch_s_momentum():
    # The practical guide's schedule: 0.5 for the first epochs, then 0.9.
    schedule = lambda epoch: 0.5 if epoch < 2 else 0.9
    trainer = learning.RBMTrainer(BernoulliRBM(16, 8), momentum=schedule, seed=0)
    assert float(trainer.momentum.numpy()) == pytest.approx(0.5)
    seen = []
    fitting.train_epochs(trainer, X, epochs=4, batch_size=10, progress=False,
                         callback=lambda e, m, v: seen.append(float(trainer.momentum.numpy())))
    assert seen == pytest.approx([0.5, 0.5, 0.9, 0.9])
    # The same as switching by hand between two runs.
    by_hand = learning.RBMTrainer(BernoulliRBM(16, 8), momentum=0.5, seed=0)
    fitting.train_epochs(by_hand, X, epochs=2, batch_size=10, progress=False)
    by_hand.momentum.assign(0.9)
    fitting.train_epochs(by_hand, X, epochs=2, batch_size=10, progress=False)
    np.testing.assert_allclose(trainer.rbm.W.numpy(), by_hand.rbm.W.numpy(), atol=1e-6)
    bad = learning.RBMTrainer(BernoulliRBM(16, 8), momentum=lambda e: 0.5 + 0.3 * e, seed=0)
    with pytest.raises(ValueError, match=r"momentum schedule returned 1.1 for epoch 2"):
        fitting.train_epochs(bad, X, epochs=3, batch_size=10, progress=False)
    with pytest.raises(ValueError, match="momentum schedule"):
        learning.RBMTrainer(BernoulliRBM(16, 8), momentum=lambda e: 1.0)
