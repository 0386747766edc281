"""Training an RBM for whole epochs: ``fit_rbm``, monitors, checkpoints,
Keras batches.

:class:`rbmtut.learning.RBMTrainer` knows how to make one update;
:func:`train_epochs` (the one epoch loop of the package) runs any trainer
for whole epochs, and :func:`fit_rbm` builds the trainer and runs it, with
held-out monitors on by default.  A run checkpointed with
:func:`checkpoint_manager` and resumed sees exactly the batches, and ends
with exactly the parameters, of a run straight through (chapter 3,
``03_tf2_surrogate_loss``).
"""

from __future__ import annotations

import contextlib
import os
from typing import Callable

import numpy as np
import tensorflow as tf

from ._loop import History, epoch_orders, train_epochs
from ._validation import check_bool, check_instance, check_int
from .distribute import DistributedRBMTrainer
from .learning import RBMTrainer
from .learning_rule import PERSISTENT_METHODS, LearningRule
from .likelihood import pseudo_log_likelihood, reconstruction_cross_entropy
from .rbm import BernoulliRBM

__all__ = ["History", "epoch_orders", "train_epochs", "default_monitors",
           "free_energy_gap", "training_histograms",
           "checkpoint_manager", "batch_dataset", "fit_rbm"]

#: Rows of the monitor data used by :func:`default_monitors`.
MONITOR_ROWS = {"reconstruction": 1000, "pseudo_log_likelihood": 100}


def default_monitors(data, *, prefix: str = "",
                     pseudo_likelihood: bool = True) -> dict[str, Callable]:
    """Reconstruction cross-entropy (and, for binary data, pseudo-log-likelihood)
    on ``data``.

    Uses the first 1,000 rows for the reconstruction and the first 100 for the
    exact pseudo-log-likelihood (a few hundred milliseconds an epoch for an
    MNIST-sized RBM; ``pseudo_likelihood=False`` leaves it out).  Keys are
    ``prefix + "reconstruction"`` and ``prefix + "pseudo_log_likelihood"``.
    """
    check_instance(prefix, "prefix", str)
    data = np.asarray(data)
    rows = data[:MONITOR_ROWS["reconstruction"]]
    monitors = {prefix + "reconstruction":
                lambda rbm, d=rows: reconstruction_cross_entropy(rbm, d)}
    few = data[:MONITOR_ROWS["pseudo_log_likelihood"]]
    if check_bool(pseudo_likelihood, "pseudo_likelihood") and few.size \
            and np.all((few == 0) | (few == 1)):  # pseudo-likelihood needs bits
        monitors[prefix + "pseudo_log_likelihood"] = (
            lambda rbm: pseudo_log_likelihood(rbm, few))
    return monitors


def free_energy_gap(train, validation, *, rows: int = 1000) -> Callable:
    """The overfitting monitor of Hinton's practical guide, as a monitor.

    ``mean F(validation) - mean F(train)`` over the first ``rows`` rows of
    each.  ``log Z`` cancels, so it is exactly the gap between the training
    and validation log-likelihoods; a gap that keeps growing says the model is
    fitting the training digits at the validation digits' expense.

    Args:
        train, validation: (n, n_visible) digits; use equally many rows of each
            from the same distribution, or the gap measures that difference too.
        rows: rows of each used, >= 1.

    Returns:
        ``f(rbm) -> float``, for ``fit_rbm(..., monitors={...})``; chapter 2c
        (``02c_training_well``) plots it for two runs at its final budget.
    """
    rows = check_int(rows, "rows", low=1)
    train, validation = np.asarray(train)[:rows], np.asarray(validation)[:rows]

    def gap(rbm: BernoulliRBM) -> float:
        f_train = rbm.free_energy(rbm.visible_input(train, "train"))
        f_validation = rbm.free_energy(rbm.visible_input(validation, "validation"))
        return float(tf.reduce_mean(f_validation) - tf.reduce_mean(f_train))

    return gap


def training_histograms(rbm: BernoulliRBM, v, *, previous: BernoulliRBM | None = None
                        ) -> dict[str, np.ndarray]:
    """What the practical guide says to look at in histograms while training.

    Args:
        rbm: the model now.
        v: (n, n_visible) digits whose hidden probabilities are shown.
        previous: the model one update (or epoch) earlier, e.g. ``rbm.copy()``
            taken then; adds the change of the weights.

    Returns:
        ``"weights"``, ``"visible biases"``, ``"hidden biases"``, ``"p(h|v)"``
        and, with ``previous``, ``"weight updates"``: flat arrays.  The guide
        suggests updates about 1e-3 times the weights' size, and hidden
        probabilities that are not all near 0 or 1;
        :func:`rbmtut.plotting.plot_histogram_panels` draws them (chapter 2c,
        ``02c_training_well``).
    """
    values = {"weights": rbm.W.numpy().ravel(), "visible biases": rbm.b.numpy(),
              "hidden biases": rbm.c.numpy(),
              "p(h|v)": rbm.hidden_probs(rbm.visible_input(v)).numpy().ravel()}
    if previous is not None:
        if (previous.n_visible, previous.n_hidden) != (rbm.n_visible, rbm.n_hidden):
            raise ValueError(
                f"previous has {previous.n_visible}x{previous.n_hidden} weights, the "
                f"model {rbm.n_visible}x{rbm.n_hidden}; pass a copy of the same model.")
        values["weight updates"] = (rbm.W - previous.W).numpy().ravel()
    return values


class CheckpointManager(tf.train.CheckpointManager):
    """A ``tf.train.CheckpointManager`` that refuses a checkpoint made with
    other settings.

    Before restoring, it compares the settings stored in the checkpoint (the
    trainer's learning rule, seed and model shape) with the trainer's own,
    and raises ``ValueError`` naming the difference instead of resuming a
    different run.
    """

    def __init__(self, trainer, directory: str, *, max_to_keep: int = 2):
        self.trainer = trainer
        super().__init__(tf.train.Checkpoint(trainer=trainer), directory,
                         max_to_keep=max_to_keep)

    def check(self, path: str) -> None:
        """Raise ValueError unless the checkpoint at ``path`` was made with this
        trainer's settings.
        """
        mine = getattr(self.trainer, "settings", None)
        if mine is None:
            return
        reader = tf.train.load_checkpoint(path)
        key = "trainer/settings/.ATTRIBUTES/VARIABLE_VALUE"
        if not reader.has_tensor(key):
            raise ValueError(
                f"{path} does not record its trainer's settings; it was not written by "
                "rbmtut.fitting.checkpoint_manager.")
        saved = reader.get_tensor(key)
        saved = saved.decode() if isinstance(saved, bytes) else str(saved)
        wanted = mine.numpy().decode()
        if saved != wanted:
            raise ValueError(
                f"the checkpoint in {self.directory} was made with other settings; "
                f"build the trainer as that run did.\n  checkpoint: {saved}\n"
                f"  this trainer: {wanted}")

    def restore_or_initialize(self):
        """Restore the latest checkpoint (after :meth:`check`), or do nothing if
        there is none.
        """
        if self.latest_checkpoint is not None:
            self.check(self.latest_checkpoint)
        return super().restore_or_initialize()


def checkpoint_manager(trainer, directory: str, *,
                       max_to_keep: int = 2) -> CheckpointManager:
    """A :class:`CheckpointManager` for everything ``trainer`` holds.

    The checkpoint stores the parameters, velocities or optimizer slots,
    persistent chains, the random generator, the epoch counter and the
    settings.  Call ``manager.restore_or_initialize()`` on a freshly built
    trainer to resume; a trainer built with other settings is refused.

    Args:
        trainer: the trainer to save (an ``RBMTrainer``, or any rbmtut trainer).
        directory: where checkpoints go.
        max_to_keep: how many recent checkpoints to keep, >= 1.
    """
    check_instance(directory, "directory", (str, os.PathLike))
    return CheckpointManager(trainer, os.fspath(directory),
                             max_to_keep=check_int(max_to_keep, "max_to_keep", low=1))


def batch_dataset(x, batch_size: int, seed: int, *, first_epoch: int = 0,
                  epochs: int = 1) -> tf.data.Dataset:
    """The batches :func:`train_epochs` would use, as a ``tf.data.Dataset``.

    Feed it to ``model.fit(..., steps_per_epoch=len(x) // batch_size)`` to
    train a Keras model on exactly the same sequence of batches.

    Args:
        x: training data (N, d).
        batch_size, seed, first_epoch, epochs: as in :func:`epoch_orders`.

    Returns:
        A dataset of ``epochs * (N // batch_size)`` batches (batch_size, d).
    """
    data = tf.convert_to_tensor(x)
    orders = list(epoch_orders(len(x), batch_size, seed, first_epoch=first_epoch,
                               epochs=epochs))
    indices = np.concatenate(orders) if orders else np.zeros((0, batch_size), np.int32)
    return tf.data.Dataset.from_tensor_slices(indices).map(
        lambda rows: tf.gather(data, rows))


def fit_rbm(rbm: BernoulliRBM, x, rule: LearningRule | None = None, *,
            epochs: int = 10, batch_size: int = 100, seed: int = 0,
            validation_data=None, monitors: dict[str, Callable] | None = None,
            callback: Callable | None = None, progress: bool = True,
            compile: bool = True, strategy: tf.distribute.Strategy | None = None,
            **rule_fields) -> History:
    """Train ``rbm`` on ``x`` with CD-k, PCD-k or the exact gradient; return
    the history.

    A shortcut for ``train_epochs(RBMTrainer(rbm, rule, ...), x, ...)``;
    build the trainer yourself to checkpoint it or to continue training later.

    Args:
        rbm: the model, updated in place.
        x: training data (N, n_visible) in [0, 1] (binary for a likelihood).
        rule: a :class:`~rbmtut.learning_rule.LearningRule` (default: CD-1,
            learning rate 0.05, momentum 0.5); ``n_chains`` defaults to
            ``batch_size`` for PCD.
        epochs: passes over the data.
        batch_size: examples per update.
        seed: seeds the trainer (Gibbs noise, chains) and the shuffles.
        validation_data: held-out data (n, n_visible) for the default monitors.
        monitors: name -> ``f(rbm) -> number`` after each epoch.  Default
            (None): :func:`default_monitors` of ``validation_data`` (keys
            ``validation_reconstruction``, ``validation_pseudo_log_likelihood``)
            or, without it, of the first training rows (keys ``training_...``:
            not held out); none for an RBM with label units.  ``{}`` turns
            monitoring off.
        callback: ``f(epoch, rbm, values)`` after each epoch.
        progress: show a progress bar over the epochs.
        compile: compile the updates (same numbers, faster).
        strategy: a ``tf.distribute`` strategy (e.g. ``MirroredStrategy``) to
            split every update across its replicas (see :mod:`rbmtut.distribute`).
        **rule_fields: fields of ``LearningRule`` that replace the rule's,
            e.g. ``method="pcd", k=5, learning_rate=0.01``.

    Returns:
        A :class:`~rbmtut.History`.
    """
    check_instance(rbm, "rbm", BernoulliRBM)
    batch_size = check_int(batch_size, "batch_size", low=1)
    rule = LearningRule.build(rule, **rule_fields)
    if rule.method in PERSISTENT_METHODS and rule.n_chains is None:
        rule = LearningRule.build(rule, n_chains=batch_size)
    if monitors is None and rbm.n_labels:  # the default monitors score bits
        if validation_data is not None:
            raise ValueError("an RBM with label units has no default monitors to "
                             "use validation_data with; pass monitors= as well.")
        monitors = {}
    if monitors is None:
        if validation_data is not None:
            held_out = rbm.visible_input(validation_data, "validation_data").numpy()
            monitors = default_monitors(held_out, prefix="validation_")
        else:
            first_rows = rbm.visible_input(x[:MONITOR_ROWS["reconstruction"]]).numpy()
            monitors = default_monitors(first_rows, prefix="training_")
    if strategy is not None:
        check_instance(strategy, "strategy", tf.distribute.Strategy)
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        make = DistributedRBMTrainer if strategy is not None else RBMTrainer
        trainer = make(rbm, rule, seed=seed, compile=compile)
    if trainer.offsets is not None:  # centering starts at the data's means
        trainer.offsets.start_at_data_means(trainer.prepare(x))
    return train_epochs(trainer, x, epochs=epochs, batch_size=batch_size,
                        monitors=monitors, callback=callback, progress=progress)
