"""Centering: the RBM's units measured from offsets, for a better-conditioned gradient.

A *centered* RBM (Montavon & Müller 2012; Melchior, Fischer & Wiskott 2016)
writes the energy with every unit measured from an offset, ``mu`` for the
visible units and ``lambda`` for the hidden ones:

    ``E(v, h) = -(v - mu).b_c - c_c.(h - lambda) - (v - mu)^T W (h - lambda)``.

Expanded, that is a plain RBM's energy plus a constant, with the same ``W``
and biases ``b = b_c - W lambda``, ``c = c_c - W^T mu``
(:func:`uncentered_parameters`): centering changes no model, only the
coordinates the gradient is taken in.  In those coordinates the weight
gradient is the covariance ``<(v - mu)(h - lambda)^T>`` instead of the raw
second moment, so it no longer carries the means ``<v>`` and ``<h>`` into
every weight, and the Hessian is better conditioned.  Mapped back to the
plain parameters that :class:`rbmtut.rbm.BernoulliRBM` stores, the centered
step is the transformation of the plain gradient in
:func:`centered_gradients`.  The offsets follow the data means with a moving
average (:class:`Offsets`); moving an offset changes nothing in the plain
parameters, because the model stays the same.

:class:`rbmtut.learning.RBMTrainer` uses it with ``centering=`` the moving
average's rate (e.g. 0.01).  Chapter 2c (``02c_training_well``) trains a
500-hidden MNIST RBM with and without it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import tensorflow as tf

from ._validation import check_matrix

if TYPE_CHECKING:
    from .learning import Gradients

__all__ = ["uncentered_parameters", "centered_gradients", "Offsets"]


def uncentered_parameters(W, b_c, c_c, visible_offset, hidden_offset):
    """The plain RBM ``(W, b, c)`` with the distribution of a centered one.

    Args:
        W: weights (n_visible, n_hidden); b_c, c_c: the centered biases.
        visible_offset: ``mu`` (n_visible,); hidden_offset: ``lambda`` (n_hidden,).

    Returns:
        ``(W, b_c - W lambda, c_c - W^T mu)``.
    """
    return (W, b_c - tf.linalg.matvec(W, hidden_offset),
            c_c - tf.linalg.matvec(W, visible_offset, transpose_a=True))


def centered_gradients(grads: Gradients, visible_offset, hidden_offset) -> Gradients:
    """The centered gradient step, expressed on the plain parameters.

    With ``(dW, db, dc)`` the plain descent directions (:func:`cd_gradients`:
    ``dW = -(<v h^T>_data - <v h^T>_model)``, ...), the centered ones are
    ``dW_c = dW - mu dc^T - db lambda^T`` (the difference of the covariances
    ``<(v - mu)(h - lambda)^T>``) and ``db_c = db``, ``dc_c = dc``.  A step
    along them in the centered coordinates moves the plain parameters by

        ``dW_c``, ``db_c - dW_c lambda``, ``dc_c - dW_c^T mu``

    (:func:`uncentered_parameters` applied to the step), which is what this
    returns.
    """
    mu = tf.cast(visible_offset, grads.dW.dtype)
    lam = tf.cast(hidden_offset, grads.dW.dtype)
    dW = grads.dW - mu[:, None] * grads.dc[None, :] - grads.db[:, None] * lam[None, :]
    return type(grads)(dW, grads.db - tf.linalg.matvec(dW, lam),
                       grads.dc - tf.linalg.matvec(dW, mu, transpose_a=True))


class Offsets(tf.Module):
    """The offsets ``mu`` and ``lambda``, moving averages of the data means.

    Args:
        n_visible, n_hidden: sizes.
        rate: the moving average's rate ``nu`` in (0, 1]: after each batch
            ``offset <- (1 - nu) offset + nu batch mean`` (Melchior et al.
            recommend about 0.01, and offsets from the data's means).
        dtype: the model's dtype.
        name: module name.

    Attributes:
        visible, hidden: the offsets (n_visible,), (n_hidden,), variables that
            start at 0.5 (:meth:`start_at_data_means` starts ``visible`` at the
            data's means).
    """

    def __init__(self, n_visible: int, n_hidden: int, rate: float, dtype=tf.float32,
                 name: str | None = None):
        super().__init__(name=name)
        self.rate = float(rate)
        self.visible = tf.Variable(tf.fill([n_visible], tf.constant(0.5, dtype)),
                                   trainable=False, name="visible_offset")
        self.hidden = tf.Variable(tf.fill([n_hidden], tf.constant(0.5, dtype)),
                                  trainable=False, name="hidden_offset")

    def start_at_data_means(self, x) -> None:
        """Set the visible offset to the pixel means of ``x`` (n, n_visible),
        n >= 1, where Melchior et al. start it; the hidden offset keeps its 0.5
        until the data move it.

        :func:`rbmtut.fit_rbm` does this for a centered rule; call it yourself
        on an :class:`rbmtut.learning.RBMTrainer`'s ``offsets`` before training.
        """
        values = check_matrix(x, "x", width=int(self.visible.shape[0]),
                              what="visible units")
        self.visible.assign(tf.constant(values.mean(axis=0), self.visible.dtype))

    def center(self, grads: Gradients) -> Gradients:
        """:func:`centered_gradients` at the current offsets."""
        return centered_gradients(grads, self.visible, self.hidden)

    def follow(self, v_data, h_data) -> None:
        """Move the offsets towards the batch means of ``v_data`` (n, n_visible)
        and ``p(h | v_data)`` (n, n_hidden)."""
        for offset, x in ((self.visible, v_data), (self.hidden, h_data)):
            offset.assign_add(self.rate * (tf.reduce_mean(x, axis=0) - offset))
