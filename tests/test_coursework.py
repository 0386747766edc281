"""What coursework needs: save/load, checkpoints that refuse other settings, Keras
learning-rate callbacks, scikit-learn transformers, and help() that leads with the docs."""

from __future__ import annotations

import functools
import pydoc

import keras
import numpy as np
import pytest
import tensorflow as tf
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.utils.estimator_checks import check_estimator

import rbmtut
from rbmtut.autoencoders import Autoencoder
from rbmtut.data import bars_and_stripes
from rbmtut.features import DBNFeatures, RBMFeatures
from rbmtut.fitting import checkpoint_manager
from rbmtut.keras_rbm import MonitorCallback, RBMModel
from rbmtut.learning import RBMTrainer
from rbmtut.rbm import BernoulliRBM
from rbmtut.updown import UntiedDBN
from rbmtut.vae import VAE

X = bars_and_stripes(4)  # 30 binary patterns of 16 pixels


@functools.lru_cache(maxsize=1)
def _trained_models():
    rbm = BernoulliRBM(16, 8, seed=1)
    rbmtut.fit_rbm(rbm, X, epochs=2, batch_size=10, progress=False)
    dbn = rbmtut.DBN([16, 8, 4], seed=2)
    rbmtut.fit_dbn(dbn, X, epochs=1, batch_size=10, progress=False)
    untied = UntiedDBN.from_dbn(dbn)
    rbmtut.fit_updown(untied, X, epochs=1, batch_size=10, progress=False)
    ae = Autoencoder([16, 8, 4], activation="elu", tied=True, seed=3, dtype=tf.float64)
    rbmtut.fit_autoencoder(ae, X, epochs=2, batch_size=10, progress=False)
    vae = VAE(16, hidden=(8,), n_latent=2, seed=4)
    rbmtut.fit_vae(vae, X, epochs=2, batch_size=10, progress=False)
    return [rbm, dbn, untied, ae, vae]


def _outputs(model):
    """Everything a model computes from X, deterministically."""
    if isinstance(model, BernoulliRBM):
        return [model.free_energy(X), model.hidden_probs(X), model.sample(4, seed=0, k=5)]
    if isinstance(model, (rbmtut.DBN, UntiedDBN)):
        return [*model.up(X), model.reconstruction_cross_entropy(X), model.sample(4, seed=0, k=5)]
    if isinstance(model, Autoencoder):
        return [model(X), model.encode(X)]
    return [*model.encode(X), model.sample(4, seed=0),
            model.elbo_terms(X, tf.random.Generator.from_seed(1)).elbo]


@pytest.mark.parametrize("index", range(5), ids=["rbm", "dbn", "untied", "autoencoder", "vae"])
def test_a_reloaded_model_computes_exactly_what_the_saved_one_did(index, tmp_path):
    model = _trained_models()[index]
    path = model.save(tmp_path / "model")
    assert path.endswith(".npz")
    for loaded in (type(model).load(path), rbmtut.load_model(path)):
        assert type(loaded) is type(model) and loaded.get_config() == model.get_config()
        for got, want in zip(_outputs(loaded), _outputs(model)):
            np.testing.assert_array_equal(got.numpy(), want.numpy())
    other = rbmtut.VAE if not isinstance(model, VAE) else BernoulliRBM
    with pytest.raises(ValueError, match="load it with"):
        other.load(path)


def test_a_damaged_model_file_is_refused(tmp_path):
    path = tmp_path / "junk.npz"
    np.savez(path, a=np.zeros(3))
    with pytest.raises(ValueError, match="not a model file"):
        rbmtut.load_model(path)


def test_a_checkpoint_restores_only_into_a_trainer_with_the_same_settings(tmp_path):
    def trainer(**settings):
        rule = dict(method="pcd", k=2, n_chains=10, learning_rate=0.1, seed=3)
        rule.update(settings)
        return RBMTrainer(BernoulliRBM(16, 8, seed=1), **rule)

    first = trainer()
    manager = checkpoint_manager(first, str(tmp_path))
    rbmtut.train_epochs(first, X, epochs=2, batch_size=10, checkpoint=manager, progress=False)
    same = trainer()
    checkpoint_manager(same, str(tmp_path)).restore_or_initialize()
    np.testing.assert_array_equal(same.rbm.W.numpy(), first.rbm.W.numpy())
    assert int(same.completed_epochs) == 2
    for changed in (dict(k=3), dict(learning_rate=0.05), dict(seed=4), dict(n_chains=20),
                    dict(method="cd", n_chains=None),
                    dict(learning_rate=None, optimizer=keras.optimizers.SGD(0.1))):
        other = trainer(**changed)
        before = other.rbm.W.numpy().copy()
        with pytest.raises(ValueError, match="other settings"):
            checkpoint_manager(other, str(tmp_path)).restore_or_initialize()
        np.testing.assert_array_equal(other.rbm.W.numpy(), before)  # nothing was restored


def test_keras_learning_rate_callbacks_reach_the_built_in_rule():
    rates = []
    model = RBMModel(RBMTrainer(BernoulliRBM(16, 8, seed=1), learning_rate=0.1, seed=0))
    record = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: rates.append(float(model.trainer.learning_rate.numpy())))
    halve = keras.callbacks.LearningRateScheduler(lambda epoch, rate: 0.1 / 2**epoch)
    model.fit(X, batch_size=10, epochs=3, verbose=0, callbacks=[halve, record])
    np.testing.assert_allclose(rates, [0.1, 0.05, 0.025], rtol=1e-6)
    # The same updates as the trainer with that schedule, run by the rbmtut loop.
    reference = RBMTrainer(BernoulliRBM(16, 8, seed=1), learning_rate=lambda e: 0.1 / 2**e, seed=0)
    rbmtut.train_epochs(reference, X, epochs=3, batch_size=10, progress=False)
    np.testing.assert_allclose(model.rbm.W.numpy(), reference.rbm.W.numpy(), rtol=0, atol=1e-6)


def test_a_monitor_callback_feeds_history_tensorboard_and_early_stopping(tmp_path):
    from rbmtut.likelihood import pseudo_log_likelihood
    model = RBMModel(RBMTrainer(BernoulliRBM(16, 8, seed=1), learning_rate=0.1, seed=0))
    seen = []
    monitor = MonitorCallback({"pl": lambda rbm: pseudo_log_likelihood(rbm, X)})
    # A pseudo-log-likelihood never beats a baseline of 0: the stopper, watching
    # "pl", stops after its patience of two epochs.
    stop = keras.callbacks.EarlyStopping(monitor="pl", mode="max", baseline=0.0,
                                         patience=2)
    spy = keras.callbacks.LambdaCallback(on_epoch_end=lambda e, logs: seen.append(logs["pl"]))
    history = model.fit(X, batch_size=10, epochs=6, verbose=0, callbacks=[
        monitor, spy, stop, keras.callbacks.TensorBoard(log_dir=str(tmp_path))])
    assert history.history["pl"] == pytest.approx(seen)
    assert seen[-1] == pytest.approx(float(pseudo_log_likelihood(model.rbm, X)))
    assert len(seen) == 2
    events = list(tmp_path.rglob("events.out.tfevents.*"))
    tags = {value.tag for path in events for record in tf.data.TFRecordDataset(str(path))
            for value in tf.compat.v1.Event.FromString(record.numpy()).summary.value}
    assert "epoch_pl" in tags
    with pytest.raises(TypeError, match="monitors"):
        MonitorCallback({"pl": 3.0})


def test_keras_learning_rate_callbacks_reach_a_keras_optimizer():
    model = RBMModel(RBMTrainer(BernoulliRBM(16, 8), optimizer=keras.optimizers.SGD(0.1), seed=0))
    halve = keras.callbacks.LearningRateScheduler(lambda epoch, rate: 0.1 / 2**epoch)
    model.fit(X, batch_size=10, epochs=2, verbose=0, callbacks=[halve])
    assert model.optimizer is model.trainer.optimizer
    np.testing.assert_allclose(float(model.trainer.optimizer.learning_rate.numpy()), 0.05)


@pytest.mark.parametrize("optimizer", [None, "adam"])
def test_keras_model_files_hold_the_whole_trainer(optimizer, tmp_path):
    def make():
        extra = {} if optimizer is None else {"optimizer": keras.optimizers.Adam(1e-2)}
        return RBMModel(RBMTrainer(BernoulliRBM(16, 8, seed=1), method="pcd", n_chains=10,
                                   seed=0, **extra))

    model = make()
    model.fit(X, batch_size=10, epochs=2, verbose=0)
    model.save_weights(str(tmp_path / "m.weights.h5"))
    model.save(str(tmp_path / "m.keras"))
    fresh = make()
    fresh.load_weights(str(tmp_path / "m.weights.h5"))
    reloaded = keras.models.load_model(str(tmp_path / "m.keras"))
    for other in (fresh, reloaded):
        for got, want in zip(other.trainer.variables, model.trainer.variables):
            if want.dtype != tf.string:
                np.testing.assert_array_equal(got.numpy(), want.numpy())
        np.testing.assert_array_equal(other.predict(X, verbose=0), model.predict(X, verbose=0))
    # Both continue exactly as the original does.
    for other in (fresh, model):
        other.fit(X, batch_size=10, epochs=1, verbose=0)
    np.testing.assert_array_equal(fresh.rbm.W.numpy(), model.rbm.W.numpy())


def test_rbm_and_dbn_features_in_a_scikit_learn_pipeline():
    x, y = rbmtut.data.small_digits()
    x, y = x[:600], y[:600]
    for features in (RBMFeatures(64, epochs=30, batch_size=10, learning_rate=0.1, seed=0),
                     DBNFeatures((64, 32), epochs=30, batch_size=10, learning_rate=0.1, seed=0)):
        pipe = Pipeline([("features", features), ("clf", LogisticRegression(max_iter=1000))])
        pipe.fit(x[:400], y[:400])
        # Chance is 0.1; seen: 0.70 (RBM, 64 units) and 0.75 (DBN) on these 200 digits.
        assert pipe.score(x[400:], y[400:]) > 0.6
        out = pipe.named_steps["features"].transform(x[400:])
        assert out.shape[0] == 200 and np.all((out >= 0) & (out <= 1))
        again = type(features)(**features.get_params()).fit(x[:400]).transform(x[400:])
        np.testing.assert_array_equal(out, again)  # same seed, same features




@pytest.mark.parametrize("estimator", [RBMFeatures(4, epochs=1, batch_size=10),
                                       DBNFeatures((4, 3), epochs=1, batch_size=10)],
                         ids=["RBMFeatures", "DBNFeatures"])
def test_scikit_learn_estimator_checks(estimator):
    results = check_estimator(estimator, on_fail=None)
    failed = {r["check_name"]: str(r["exception"]) for r in results if r["status"] == "failed"}
    # The checks that fail are those that feed data outside [0, 1] (scikit-learn has no tag
    # for bounded inputs), and each fails on our message saying so; all the others pass.
    assert failed and all("must lie in [0, 1]" in message for message in failed.values()), failed
    passed = {r["check_name"] for r in results if r["status"] == "passed"}
    assert {"check_estimator_cloneable", "check_no_attributes_set_in_init", "check_get_params_invariance",
            "check_set_params", "check_dont_overwrite_parameters", "check_fit2d_1sample",
            "check_transformer_n_iter", "check_fit_check_is_fitted"} & passed, passed
    assert len(passed) >= 20, passed


@pytest.mark.parametrize("cls", [BernoulliRBM, RBMTrainer, rbmtut.DBN, UntiedDBN, Autoencoder,
                                 VAE, RBMModel, rbmtut.History, rbmtut.LearningRule,
                                 RBMFeatures])
def test_help_leads_with_the_class_own_docs(cls):
    text = pydoc.render_doc(cls, renderer=pydoc.plaintext)
    first_line = cls.__doc__.strip().splitlines()[0]
    assert first_line in "\n".join(text.splitlines()[:12]), text[:800]
