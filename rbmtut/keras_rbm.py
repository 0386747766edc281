"""An RBM that trains with Keras ``model.fit``.

:class:`RBMModel` wraps an :class:`~rbmtut.training.RBMTrainer`: every Keras
training step is one trainer update, so ``model.fit`` brings Keras's progress
bar, callbacks, ``History`` and TensorBoard logs while computing exactly what
:func:`rbmtut.fitting.fit_rbm` computes for the same seed and settings
(chapter 3, ``03_tf2_surrogate_loss``).
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from . import distribute, estimators
from .fitting import batch_dataset
from .rbm import BernoulliRBM, check_binary_input
from .training import RBMTrainer

__all__ = ["RBMModel"]


class _TrainerEpochs(keras.callbacks.Callback):
    """Keeps the trainer's learning-rate schedule and epoch counter in step with Keras."""

    def __init__(self, trainer: RBMTrainer):
        super().__init__()
        self.trainer = trainer

    def on_epoch_begin(self, epoch, logs=None):
        self.trainer.begin_epoch()

    def on_epoch_end(self, epoch, logs=None):
        self.trainer.end_epoch()


class RBMModel(keras.Model):
    """A Keras model whose ``fit`` trains an RBM with an :class:`RBMTrainer`.

    ``model(v)`` returns the hidden probabilities p(h=1|v) (n, n_hidden), so
    ``model.predict`` extracts features.  The optimizer (if any) belongs to
    the trainer, so ``compile`` takes no optimizer or loss.

    The RBM's variables live in the trainer, a ``tf.Module`` that Keras's
    own weight files do not see: save with ``tf.train.Checkpoint`` (see
    :func:`rbmtut.fitting.checkpoint_manager`); ``save``/``save_weights``
    raise instead of writing an empty file.

    Under a ``tf.distribute`` strategy, build the RBM, its trainer and the
    model inside ``with strategy.scope():``; ``model.fit`` then hands each
    replica its rows of every batch and the trainer applies one update from
    their summed statistics (:mod:`rbmtut.distribute`).

    Args:
        trainer: how to update the RBM (method, k, learning rule, seed).
        track_reconstruction: also report the mean reconstruction
            cross-entropy of each batch (costs two matrix products per step).
        name: model name.
    """

    def __init__(self, trainer: RBMTrainer, *, track_reconstruction: bool = True, name=None):
        super().__init__(name=name)
        if not isinstance(trainer, RBMTrainer):
            raise TypeError(f"trainer must be an RBMTrainer; got {type(trainer).__name__}.")
        if distribute.active_strategy() not in (None, trainer.strategy):
            raise ValueError(
                "this model is built under a tf.distribute strategy, so Keras will split "
                "every batch across replicas; build its trainer in the same strategy.scope()."
            )
        self.trainer = trainer
        self.track_reconstruction = track_reconstruction
        self._surrogate = keras.metrics.Mean(name="surrogate")
        self._reconstruction = keras.metrics.Mean(name="reconstruction")

    @property
    def rbm(self) -> BernoulliRBM:
        """The model being trained."""
        return self.trainer.rbm

    @property
    def metrics(self):
        # Listing the trackers here makes Keras reset them at every epoch.
        return [self._surrogate, self._reconstruction]

    def call(self, v):
        """Hidden probabilities p(h=1|v) (n, n_hidden) of visible vectors (n, n_visible)."""
        return self.rbm.hidden_probs(tf.cast(v, self.rbm.dtype))

    def compile(self, *, jit_compile=False, **kwargs):
        """Prepare for ``fit``; ``jit_compile`` defaults to False (XLA was slower on CPU)."""
        for key in ("optimizer", "loss"):
            if kwargs.get(key) is not None:
                raise ValueError(
                    f"RBMModel.compile takes no {key}: the update rule is the trainer's "
                    "(RBMTrainer(..., optimizer=...))."
                )
        super().compile(jit_compile=jit_compile, **kwargs)

    def _track_reconstruction(self, v):
        """Add the batch's mean-field reconstruction cross-entropy to the epoch mean."""
        error = estimators.reconstruction_cross_entropy(self.rbm, v)
        self._reconstruction.update_state(error, sample_weight=tf.shape(v)[0])

    def train_step(self, data):
        """One trainer update on a batch; returns the epoch means so far."""
        v = tf.cast(data[0] if isinstance(data, tuple) else data, self.rbm.dtype)
        self._surrogate.update_state(self.trainer._update(v))
        if not self.track_reconstruction:
            return {"surrogate": self._surrogate.result()}
        self._track_reconstruction(v)
        return {tracker.name: tracker.result() for tracker in self.metrics}

    def test_step(self, data):
        """Reconstruction cross-entropy of held-out data (``validation_data``, ``evaluate``)."""
        v = tf.cast(data[0] if isinstance(data, tuple) else data, self.rbm.dtype)
        self._track_reconstruction(v)
        return {"reconstruction": self._reconstruction.result()}

    def fit(self, x=None, y=None, *, batch_size=None, epochs=1, callbacks=None, **kwargs):
        """Train for ``epochs`` more epochs; the arguments are those of ``keras.Model.fit``.

        An array ``x`` (N, n_visible) is served in the seeded shuffles of
        :func:`rbmtut.fitting.batch_dataset` (default batch size 100, last
        partial batch dropped), continuing from the trainer's epoch counter,
        so the updates equal those of ``fit_rbm``.  A ``tf.data.Dataset`` is
        used as given.
        """
        if y is not None:
            raise ValueError("an RBM learns from x alone; pass y=None.")
        if not self.compiled:
            self.compile()
        done = int(self.trainer.completed_epochs.numpy())
        if not isinstance(x, tf.data.Dataset):
            if "initial_epoch" in kwargs or "steps_per_epoch" in kwargs:
                raise ValueError(
                    "with array input the trainer keeps the epoch count and batch plan; "
                    "do not pass initial_epoch or steps_per_epoch."
                )
            check_binary_input(x, self.rbm.n_visible, name="x")
            x = np.asarray(x, dtype=self.rbm.dtype.as_numpy_dtype)
            batch_size = 100 if batch_size is None else batch_size
            if self.trainer.strategy is not None:
                distribute.check_batch_size(self.trainer.strategy, batch_size)
            kwargs.update(steps_per_epoch=len(x) // batch_size, shuffle=False, initial_epoch=done)
            x = batch_dataset(x, batch_size, self.trainer.seed, first_epoch=done, epochs=epochs)
            epochs = done + epochs  # Keras counts epochs from initial_epoch
        elif batch_size is not None:
            raise ValueError("a tf.data.Dataset is already batched; do not pass batch_size.")
        callbacks = [_TrainerEpochs(self.trainer), *(callbacks or [])]
        return super().fit(x, epochs=epochs, callbacks=callbacks, **kwargs)

    def save(self, *args, **kwargs):
        """Refused: Keras model files would not contain the RBM (see the class notes)."""
        raise NotImplementedError(_SAVE_HINT)

    def save_weights(self, *args, **kwargs):
        """Refused: Keras weight files would not contain the RBM (see the class notes)."""
        raise NotImplementedError(_SAVE_HINT)


_SAVE_HINT = (
    "Keras weight files do not see the RBM's tf.Variables; save with "
    "rbmtut.fitting.checkpoint_manager(model.trainer, directory).save()."
)
