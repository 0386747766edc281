"""Fast-weights PCD (Tieleman & Hinton 2009): persistent chains that learning pushes on.

FPCD gives the model a second, *fast* copy of its parameters.  Every update
applies the gradient estimate to both: to the regular parameters as usual,
and to the fast ones with a larger learning rate, after which they decay by a
factor 19/20.  The persistent chains sample from the sum, regular plus fast;
the gradient itself is computed with the regular parameters only.

Why it mixes: the negative phase of each update raises the free energy where
the chains are, and with a large rate the fast parameters make that region
improbable *for the chains* within a few updates, so they move on, instead of
waiting for the slow learning to do it.  Because the fast parameters decay,
they stay small, and they are zero again soon after learning stops: the model
that is learned and kept is the regular one.

:class:`rbmtut.learning.RBMTrainer` uses it with ``method="fpcd"``.
Chapter 1 (``01_energy_models``) runs it on bars and stripes, chapter 2c
(``02c_training_well``) on MNIST at matched compute.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import tensorflow as tf

if TYPE_CHECKING:
    from .learning import Gradients
    from .rbm import BernoulliRBM

__all__ = ["FAST_DECAY", "FastWeights"]

#: The fast parameters' decay per update (Tieleman & Hinton 2009).
FAST_DECAY = 19 / 20


class FastWeights(tf.Module):
    """The fast parameters of FPCD and the model the chains sample from.

    Args:
        rbm: the model being trained (sizes and dtype).
        learning_rate: the fast parameters' learning rate, > 0 (Tieleman &
            Hinton used about the regular rate; it should not be smaller).
        name: module name.

    Attributes:
        W, b, c: the fast parameters, variables that start at zero.
        sampler: an RBM that holds regular plus fast parameters while the
            chains advance (:meth:`sampling_model`).
    """

    def __init__(self, rbm: BernoulliRBM, learning_rate: float,
                 name: str | None = None):
        super().__init__(name=name)
        self.W, self.b, self.c = (tf.Variable(tf.zeros_like(p), trainable=False,
                                              name=f"fast_{p.name.split(':')[0]}")
                                  for p in rbm.parameters)
        self.learning_rate = tf.Variable(learning_rate, dtype=rbm.dtype,
                                         trainable=False, name="fast_learning_rate")
        self.sampler = rbm.copy()

    @property
    def parameters(self) -> tuple[tf.Variable, tf.Variable, tf.Variable]:
        """The fast ``(W, b, c)``."""
        return self.W, self.b, self.c

    def sampling_model(self, rbm: BernoulliRBM) -> BernoulliRBM:
        """:attr:`sampler`, set to ``rbm``'s current parameters plus the fast ones."""
        for target, regular, fast in zip(self.sampler.parameters, rbm.parameters,
                                         self.parameters):
            target.assign(regular + fast)
        return self.sampler

    def step(self, grads: Gradients) -> None:
        """``fast <- 19/20 fast - learning_rate * grad`` for each parameter, with
        ``grads`` the descent directions the regular parameters followed."""
        for fast, grad in zip(self.parameters, grads):
            fast.assign(FAST_DECAY * fast - self.learning_rate * grad)
