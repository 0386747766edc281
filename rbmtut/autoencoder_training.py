"""Training dense autoencoders: mini-batch gradient descent on the reconstruction loss.

:class:`AutoencoderTrainer` makes one gradient step on a batch's reconstruction loss —
the batch optionally corrupted (a denoising autoencoder), plus an optional sparsity
penalty on the code units (:mod:`rbmtut.regularizers`) and optional per-example code
noise — and :func:`fit_autoencoder` runs it for whole epochs in the loop every model
family shares (:func:`rbmtut.fitting.train_epochs`).  The model and its losses are in
:mod:`rbmtut.autoencoders`; chapter 5 (``05a_autoencoders``) uses both.
"""

from __future__ import annotations

import tensorflow as tf

from ._loop import History, Trainer, check_optimizer, train_epochs
from ._validation import (as_model_input, check_callable, check_choice, check_instance,
                          check_real)
from .autoencoders import Autoencoder, loss_kind, output_loss
from .regularizers import SPARSITY_PENALTIES

__all__ = ["AutoencoderTrainer", "fit_autoencoder"]


class AutoencoderTrainer(Trainer):
    """Mini-batch gradient descent on an autoencoder's reconstruction loss
    (+ regularisers).

    The loss of a batch ``v`` is ``output_loss(model, decode(encode(corruption(v))),
    v)`` plus ``sparsity_weight * penalty(mean code activation, sparsity_target)``.
    The arguments are those of :func:`fit_autoencoder`.
    """

    def __init__(self, model: Autoencoder, *, optimizer=None, kind: str | None = None,
                 corruption=None, sparsity_weight: float = 0.0,
                 sparsity_target: float = 0.05, sparsity_penalty: str = "kl",
                 variables=None, depth: int | None = None, code_noise=None,
                 seed: int = 0, name: str | None = None):
        super().__init__(seed=seed, name=name)
        self.autoencoder = check_instance(model, "model", Autoencoder)
        self.kind = loss_kind(model, kind)
        self.depth = model.check_depth(depth)
        self.sparsity_weight = check_real(sparsity_weight, "sparsity_weight", low=0.0)
        self.sparsity_target = check_real(sparsity_target, "sparsity_target", low=0.0,
                                          high=1.0, low_open=True, high_open=True)
        sparsity_penalty = check_choice(sparsity_penalty, "sparsity_penalty",
                                        tuple(sorted(SPARSITY_PENALTIES)))
        self.penalty = SPARSITY_PENALTIES[sparsity_penalty]
        if corruption is not None:
            check_callable(corruption, "corruption",
                           "(batch, rng) -> corrupted batch, e.g. "
                           "rbmtut.regularizers.Corruption('masking', 0.5)")
        self.corruption = corruption
        self.optimizer = check_optimizer(optimizer)
        self.trained_variables = list(model.trainable_variables if variables is None
                                      else variables)
        if not self.trained_variables or not all(
                isinstance(v, tf.Variable) for v in self.trained_variables):
            raise TypeError(
                "variables must be a non-empty list of the model's tf.Variables.")
        if code_noise is not None and self.depth != model.n_layers:
            raise ValueError(
                "code_noise is added at the code layer; it needs the full depth.")
        self.code_noise = None if code_noise is None else as_model_input(
            code_noise, model.sizes[-1], model.dtype, name="code_noise", values="real",
            what="code units")

    model = property(lambda self: self.autoencoder,
                     doc="The autoencoder being trained.")

    def prepare(self, x, name: str = "x"):
        """The training inputs (N, n_0), with the per-example code noise if there
        is any."""
        values = "unit" if self.kind == "cross_entropy" else "real"
        data = as_model_input(x, self.autoencoder.sizes[0], self.autoencoder.dtype,
                              name=name, values=values)
        if self.code_noise is None:
            return data
        if self.code_noise.shape[0] != data.shape[0]:
            raise ValueError(
                f"code_noise has {self.code_noise.shape[0]} rows for {data.shape[0]} "
                "examples; give one row per training example.")
        return (data, self.code_noise)  # gathered with the same batch indices

    def update_step(self, batch) -> tf.Tensor:
        """One optimizer step on ``batch`` (or ``(batch, code_noise rows)``);
        returns the loss."""
        model, depth = self.autoencoder, self.depth
        batch, noise = batch if self.code_noise is not None else (batch, None)
        with tf.GradientTape() as tape:
            inputs = (batch if self.corruption is None
                      else self.corruption(batch, self.rng))
            code = model.encode(inputs, depth=depth, code_noise=noise)
            out = model.decode_output(code, depth=depth)
            loss = output_loss(model, out, batch, self.kind)
            if self.sparsity_weight > 0:
                loss += self.sparsity_weight * self.penalty(
                    tf.reduce_mean(code, axis=0), self.sparsity_target)
        grads = tape.gradient(loss, self.trained_variables)
        self.optimizer.apply_gradients(zip(grads, self.trained_variables))
        return loss


def fit_autoencoder(model: Autoencoder, x, *, epochs: int, batch_size: int = 100,
                    optimizer=None, kind: str | None = None, corruption=None,
                    sparsity_weight: float = 0.0, sparsity_target: float = 0.05,
                    sparsity_penalty: str = "kl", variables=None,
                    depth: int | None = None, code_noise=None, seed: int = 0,
                    monitors=None, callback=None, progress: bool = True) -> History:
    """Train ``model`` on ``x`` by mini-batch gradient descent;
    return its :class:`~rbmtut.History`.

    Each epoch is one compiled ``tf.while_loop`` over seeded shuffles
    (:func:`rbmtut.fitting.train_epochs`).

    Args:
        model: the autoencoder, updated in place.
        x: training data (N, n_0): in [0, 1] for cross-entropy, any finite
            values for squared error.
        epochs, batch_size: passes over the data; rows per update.
        optimizer: a Keras optimizer (default ``keras.optimizers.Adam(1e-3)``).
        kind: the loss, see :func:`~rbmtut.autoencoders.loss_kind`.
        corruption: ``f(batch, rng) -> corrupted batch``, e.g.
            ``rbmtut.regularizers.Corruption("gaussian", 0.3)``; the clean
            batch is the target.
        sparsity_weight, sparsity_target: the sparsity penalty on the units
            of encoder layer ``depth`` (0 turns it off).
        sparsity_penalty: ``"kl"`` or ``"squared"`` (see :mod:`rbmtut.regularizers`).
        variables: the variables to train (default: all); the others stay
            frozen, e.g. for layer-wise training in phases.
        depth: train the outer ``depth`` layers only (default: all).
        code_noise: optional (N, n_code), one row per training example, added
            to the code units' total input (see
            :meth:`~rbmtut.autoencoders.Autoencoder.encode`); example ``i`` gets
            row ``i`` in every epoch ("deterministic noise", Salakhutdinov &
            Hinton 2009).
        seed: seeds the shuffles and the corruption noise.
        monitors, callback, progress: as for :func:`rbmtut.fitting.train_epochs`.

    Returns:
        A :class:`~rbmtut.History`; ``history["loss"]`` is each epoch's mean loss.
    """
    trainer = AutoencoderTrainer(
        model, optimizer=optimizer, kind=kind, corruption=corruption,
        sparsity_weight=sparsity_weight, sparsity_target=sparsity_target,
        sparsity_penalty=sparsity_penalty, variables=variables, depth=depth,
        code_noise=code_noise, seed=seed)
    return train_epochs(trainer, x, epochs=epochs, batch_size=batch_size,
                        monitors=monitors, callback=callback, progress=progress)
