"""An RBM that trains with Keras ``model.fit``.

:class:`RBMModel` wraps an :class:`~rbmtut.learning.RBMTrainer`: every Keras
training step is one trainer update, so ``model.fit`` brings Keras's progress
bar, callbacks (learning-rate schedulers included), ``History`` and
TensorBoard logs while computing exactly what :func:`rbmtut.fit_rbm` computes
for the same seed and settings (chapter 3, ``03_tf2_surrogate_loss``).
:class:`MonitorCallback` gives those callbacks a real monitor to watch.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from ._validation import (check_bool, check_instance, check_int, check_monitors,
                          check_no_label_units)
from .distribute import DistributedRBMTrainer, active_strategy, check_batch_size
from .fitting import batch_dataset
from .learning import RBMTrainer
from .learning_rule import LearningRule
from .likelihood import reconstruction_cross_entropy
from .rbm import BernoulliRBM

__all__ = ["RBMModel", "MonitorCallback"]

#: Keras callbacks that change ``model.optimizer.learning_rate``.
_RATE_CALLBACKS = (keras.callbacks.LearningRateScheduler,
                   keras.callbacks.ReduceLROnPlateau)


class _TrainerEpochs(keras.callbacks.Callback):
    """Keeps the trainer's learning rate and epoch counter in step with Keras.

    It runs after the user's callbacks at the start of an epoch, so a Keras
    learning-rate callback's new rate reaches the trainer's built-in rule
    before the epoch's first update.
    """

    def __init__(self, model: RBMModel):
        super().__init__()
        self.rbm_model = model

    def on_epoch_begin(self, epoch, logs=None):
        self.rbm_model.trainer.begin_epoch()
        self.rbm_model.sync_learning_rate()

    def on_epoch_end(self, epoch, logs=None):
        self.rbm_model.trainer.end_epoch()


class MonitorCallback(keras.callbacks.Callback):
    """Writes real monitors into the epoch logs of :meth:`RBMModel.fit`.

    After every epoch each monitor ``f(rbm) -> number`` is evaluated and its
    value stored in the logs under its name, where the callbacks after this
    one see it: ``keras.callbacks.TensorBoard`` logs it, ``EarlyStopping`` and
    ``ReduceLROnPlateau`` can watch it (``monitor=name``), and the returned
    ``History`` holds it.  Put it first in the list.  Those callbacks need it:
    the surrogate loss Keras reports is not a likelihood (its value is the
    negative log-likelihood minus the model's entropy), so stopping or
    decaying on it is meaningless.

    Args:
        monitors: name -> ``f(rbm) -> number``, e.g. a pseudo-log-likelihood
            of validation digits (:func:`rbmtut.likelihood.pseudo_log_likelihood`).
    """

    def __init__(self, monitors: dict):
        super().__init__()
        self.monitors = dict(check_monitors(monitors))
        if not self.monitors:
            raise ValueError("MonitorCallback needs at least one monitor.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        for name, monitor in self.monitors.items():
            logs[name] = float(monitor(self.model.rbm))


@keras.saving.register_keras_serializable(package="rbmtut")
class RBMModel(keras.Model):
    """A Keras model whose ``fit`` trains an RBM with an :class:`RBMTrainer`.

    ``model(v)`` returns the hidden probabilities p(h=1|v) (n, n_hidden), so
    ``model.predict`` extracts features.  The update rule belongs to the
    trainer, so ``compile`` takes no optimizer or loss; ``model.optimizer`` is
    the trainer's Keras optimizer, or, for the built-in rule, a stand-in whose
    ``learning_rate`` Keras callbacks (``LearningRateScheduler``,
    ``ReduceLROnPlateau``) may set: the new rate is the trainer's from the
    next epoch on.  ``save_weights``/``load_weights`` and ``save`` (``.keras``)
    store the whole trainer state (parameters, velocities, chains, generator,
    epoch counter); a Keras optimizer's slots are saved by Keras with it.

    Under a ``tf.distribute`` strategy, build the RBM, a
    :class:`~rbmtut.distribute.DistributedRBMTrainer` and the model inside
    ``with strategy.scope():``.

    Args:
        trainer: how to update the RBM (method, k, learning rule, seed).
        track_reconstruction: also report the mean reconstruction
            cross-entropy of each batch (costs two matrix products per step).
        name: model name.
    """

    def __init__(self, trainer: RBMTrainer, *, track_reconstruction: bool = True,
                 name=None):
        super().__init__(name=name)
        check_instance(trainer, "trainer", RBMTrainer,
                       "Build one with rbmtut.RBMTrainer(rbm).")
        check_instance(trainer.rbm, "trainer.rbm", BernoulliRBM,
                       "The Keras model wraps binary RBMs; train Gaussian units "
                       "with rbmtut.train_epochs.")
        check_no_label_units(trainer.rbm, "the Keras RBM model")
        if active_strategy() not in (None, trainer.strategy):
            raise ValueError(
                "this model is built under a tf.distribute strategy, so Keras will "
                "split every batch across replicas; build its trainer in the same "
                "strategy.scope().")
        self.trainer = trainer
        self.track_reconstruction = check_bool(track_reconstruction,
                                               "track_reconstruction")
        self._surrogate = keras.metrics.Mean(name=trainer.metric_names[0])
        self._reconstruction = keras.metrics.Mean(name="reconstruction")
        self._synced_rate = None
        # No Keras weights to create: the trainer holds every variable.
        self.built = True

    @property
    def rbm(self) -> BernoulliRBM:
        """The model being trained."""
        return self.trainer.rbm

    @property
    def metrics(self):
        # Listing the trackers here makes Keras reset them at every epoch.
        return [self._surrogate, self._reconstruction]

    def call(self, v):
        """Hidden probabilities p(h=1|v) (n, n_hidden) of visible vectors
        (n, n_visible)."""
        return self.rbm.hidden_probs(v)

    def compile(self, *, jit_compile=False, **kwargs):
        """Prepare for ``fit``; ``jit_compile`` defaults to False
        (XLA was slower on CPU)."""
        for key in ("optimizer", "loss"):
            if kwargs.get(key) is not None:
                raise ValueError(
                    f"RBMModel.compile takes no {key}: the update rule is the "
                    "trainer's (RBMTrainer(..., optimizer=...)).")
        trainer = self.trainer
        if trainer.optimizer is not None:
            optimizer = trainer.optimizer
        else:  # a stand-in that carries the built-in rule's rate for Keras callbacks
            optimizer = keras.optimizers.SGD(float(trainer.learning_rate.numpy()))
            self._synced_rate = float(optimizer.learning_rate.numpy())
        super().compile(optimizer=optimizer, jit_compile=jit_compile, **kwargs)

    def get_compile_config(self) -> dict:
        """Keras hook: nothing to record, ``compile`` takes no optimizer or loss."""
        return {}

    def compile_from_config(self, config) -> None:
        """Keras hook: compile a loaded model as a new one is compiled."""
        self.compile()

    def sync_learning_rate(self) -> None:
        """Give the built-in rule the rate a Keras callback set on
        ``model.optimizer``, if any."""
        if self.trainer.optimizer is not None or self._synced_rate is None:
            return
        rate = float(self.optimizer.learning_rate.numpy())
        if rate != self._synced_rate:  # a callback changed it
            if not rate >= 0:
                raise ValueError(
                    f"a callback set the learning rate to {rate}; need >= 0.")
            self.trainer.learning_rate.assign(rate)
        else:  # keep the stand-in showing the rate the trainer uses
            self.optimizer.learning_rate.assign(
                float(self.trainer.learning_rate.numpy()))
        self._synced_rate = float(self.optimizer.learning_rate.numpy())

    def _track_reconstruction(self, v):
        """Add the batch's mean-field reconstruction cross-entropy to the epoch mean."""
        error = reconstruction_cross_entropy(self.rbm, v)
        self._reconstruction.update_state(error, sample_weight=tf.shape(v)[0])

    def train_step(self, data):
        """One trainer update on a batch; returns the epoch means so far."""
        batch = data[0] if isinstance(data, tuple) else data
        v = self.rbm.visible_input(batch, "batch")
        self._surrogate.update_state(self.trainer.update_step(v))
        if not self.track_reconstruction:
            return {self._surrogate.name: self._surrogate.result()}
        self._track_reconstruction(v)
        return {tracker.name: tracker.result() for tracker in self.metrics}

    def test_step(self, data):
        """Reconstruction cross-entropy of held-out data
        (``validation_data``, ``evaluate``)."""
        batch = data[0] if isinstance(data, tuple) else data
        v = self.rbm.visible_input(batch, "batch")
        self._track_reconstruction(v)
        return {"reconstruction": self._reconstruction.result()}

    def fit(self, x=None, y=None, *, batch_size=None, epochs=1, callbacks=None,
            **kwargs):
        """Train for ``epochs`` more epochs; the arguments are those of
        ``keras.Model.fit``.

        An array ``x`` (N, n_visible) is served in the seeded shuffles of
        :func:`rbmtut.fitting.batch_dataset` (default batch size 100, last
        partial batch dropped), continuing from the trainer's epoch counter,
        so the updates equal those of ``fit_rbm``.  A ``tf.data.Dataset`` is
        used as given.
        """
        if y is not None:
            raise ValueError("an RBM learns from x alone; pass y=None.")
        epochs = check_int(epochs, "epochs", low=0)
        callbacks = list(callbacks or [])
        if self.trainer.learning_rate_schedule is not None and any(
                isinstance(c, _RATE_CALLBACKS) for c in callbacks):
            raise ValueError("the trainer has its own learning-rate schedule; give "
                             "either it or a Keras learning-rate callback, not both.")
        if not self.compiled:
            self.compile()
        done = int(self.trainer.completed_epochs.numpy())
        if not isinstance(x, tf.data.Dataset):
            if "initial_epoch" in kwargs or "steps_per_epoch" in kwargs:
                raise ValueError(
                    "with array input the trainer keeps the epoch count and batch "
                    "plan; do not pass initial_epoch or steps_per_epoch.")
            x = self.rbm.visible_input(x).numpy()
            batch_size = (100 if batch_size is None
                          else check_int(batch_size, "batch_size", low=1))
            if batch_size > len(x):
                raise ValueError(f"batch_size must be at most len(x) = {len(x)}; "
                                 f"got {batch_size}.")
            if self.trainer.strategy is not None:
                check_batch_size(self.trainer.strategy, batch_size)
            kwargs.update(steps_per_epoch=len(x) // batch_size, shuffle=False,
                          initial_epoch=done)
            x = batch_dataset(x, batch_size, self.trainer.seed, first_epoch=done,
                              epochs=epochs)
            epochs = done + epochs  # Keras counts epochs from initial_epoch
        elif batch_size is not None:
            raise ValueError(
                "a tf.data.Dataset is already batched; do not pass batch_size.")
        return super().fit(x, epochs=epochs,
                           callbacks=[*callbacks, _TrainerEpochs(self)], **kwargs)

    # --- saving: the trainer's state travels with Keras's files ----------------------

    def _state_variables(self):
        # tf.Module lists neither a generator's state nor a Keras optimizer's slots;
        # both are state, and a model loaded before it is compiled has no optimizer
        # for Keras to fill.
        trainer = self.trainer
        slots = [v for o in (trainer.optimizer, trainer.bias_optimizer) if o is not None
                 for v in o.variables]
        return ([v for v in trainer.variables if v.dtype != tf.string]
                + [trainer.rng.state] + slots)

    def save_own_variables(self, store):
        """Keras hook: store every numeric variable of the trainer
        (and so of the RBM)."""
        for i, variable in enumerate(self._state_variables()):
            store[str(i)] = variable.numpy()

    def load_own_variables(self, store):
        """Keras hook: restore what :meth:`save_own_variables` stored."""
        variables = self._state_variables()
        if len(store.keys()) != len(variables):
            raise ValueError(
                f"the weights file has {len(store.keys())} arrays but this model's "
                f"trainer has {len(variables)}; build it with the same settings.")
        for i, variable in enumerate(variables):
            value = np.asarray(store[str(i)])
            if value.shape != tuple(variable.shape):
                raise ValueError(
                    f"array {i} has shape {value.shape} but {variable.name} has "
                    f"{tuple(variable.shape)}; build the model with the same settings.")
            variable.assign(value)

    def get_config(self) -> dict:
        """What rebuilds this model (for ``model.save("....keras")``)."""
        rule = self.trainer.rule
        if callable(rule.learning_rate):
            raise ValueError(
                "a trainer with a learning-rate function cannot be saved as a .keras "
                "file; save_weights works, or use a float rate.")
        fields = {"method": rule.method, "k": rule.k,
                  "learning_rate": rule.learning_rate, "momentum": rule.momentum,
                  "weight_decay": rule.weight_decay, "n_chains": rule.n_chains}
        for key in ("optimizer", "bias_optimizer"):
            value = getattr(rule, key)
            fields[key] = None if value is None else keras.optimizers.serialize(value)
        return {"rbm": self.rbm.get_config(), "rule": fields, "seed": self.trainer.seed,
                "track_reconstruction": self.track_reconstruction, "name": self.name,
                "distributed": isinstance(self.trainer, DistributedRBMTrainer)}

    @classmethod
    def from_config(cls, config):
        """Rebuild an untrained model of the same shape and settings
        (weights load after)."""
        fields = dict(config["rule"])
        for key in ("optimizer", "bias_optimizer"):
            if fields[key] is not None:
                fields[key] = keras.optimizers.deserialize(fields[key])
        make = DistributedRBMTrainer if config.get("distributed") else RBMTrainer
        trainer = make(BernoulliRBM(**config["rbm"]), LearningRule(**fields),
                       seed=config["seed"])
        return cls(trainer, track_reconstruction=config["track_reconstruction"],
                   name=config["name"])
