"""Generative fine-tuning of a DBN by the up-down algorithm (contrastive wake-sleep).

Hinton, Osindero & Teh (2006), "A fast learning algorithm for deep belief
nets", section 5 and appendix B.  With a labelled top RBM
(:class:`rbmtut.labelled_dbn.LabelledDBN`) the labels sit beside ``s^{L-1}``:
clamped in the positive phase, drawn one-hot from their softmax in the chain.
Below the top RBM the weights are untied (:class:`UntiedDBN`): recognition
``R_l`` (n_l, n_{l+1}) and ``r_l``, generative ``G_l`` (n_{l+1}, n_l) and
``g_l``.  With learning rate ``eps``, a batch of ``n`` and ``<.>`` the batch
mean, one update (:meth:`UpDownTrainer.update`) is:

    wake:   s^0 = v;  s^{l+1} ~ sigmoid(s^l R_l + r_l)          l = 0..L-2
            p^l = sigmoid(s^{l+1} G_l + g_l)
            G_l += eps <s^{l+1}^T (s^l - p^l)>,  g_l += eps <s^l - p^l>
    top:    t ~ p(h^L | s^{L-1});  k Gibbs steps from t give (pen-, top-)
            W += eps (<s^{L-1}^T t> - <pen-^T top->)
            b += eps <s^{L-1} - pen->,   c += eps <t - top->
    sleep:  z^{L-1} = pen-;  z^l ~ sigmoid(z^{l+1} G_l + g_l)    l = L-2..0
            (z^0 is kept as probabilities)
            q^{l+1} = sigmoid(z^l R_l + r_l)
            R_l += eps <z^l^T (z^{l+1} - q^{l+1})>,  r_l += eps <z^{l+1} - q^{l+1}>

Each delta rule is a stochastic gradient of a local log-likelihood: the wake
phase teaches the generative weights to reproduce what recognition sees, the
sleep phase teaches the recognition weights to invert what the generative
model dreams.  Chapter 4 (``04_stacked_pretraining``) runs it.
"""

from __future__ import annotations

from typing import NamedTuple

import tensorflow as tf

from ._loop import History, Trainer, compile_step, train_epochs
from ._validation import check_float_dtype, check_instance, check_int, check_real
from .dbn import DBN, StackModel
from .gibbs import gibbs_chain
from .nn import bernoulli_cross_entropy, logistic_pass
from .rbm import BernoulliRBM

__all__ = ["UntiedDBN", "UpDownStep", "UpDownTrainer", "fit_updown"]


class UntiedDBN(StackModel):
    """A DBN whose layers below the top RBM have separate recognition and
    generative weights.

    Build one from a pretrained DBN with :meth:`from_dbn` (the copies leave
    the DBN unchanged); the constructor makes one of the given shape with
    zero weights (for :meth:`load`).

    Args:
        layer_sizes: ``[n_0, ..., n_L]``, at least three layers.
        dtype: ``tf.float32`` or ``tf.float64``.
        name: module name.

    Attributes:
        recognition_weights, recognition_biases: ``R_l`` (n_l, n_{l+1}), ``r_l``.
        generative_weights, generative_biases: ``G_l`` (n_{l+1}, n_l), ``g_l``.
        top: the top RBM.
    """

    def __init__(self, layer_sizes, *, dtype=tf.float32, name: str | None = None):
        super().__init__(name=name)
        sizes = [check_int(s, "each layer size", low=1) for s in layer_sizes]
        if len(sizes) < 3:
            raise ValueError(
                "the up-down algorithm needs at least two RBMs (three layer sizes); "
                "train a single RBM with fit_rbm.")
        dtype = check_float_dtype(dtype)
        pairs = list(zip(sizes[:-2], sizes[1:-1]))
        self.recognition_weights = [tf.Variable(tf.zeros([a, b], dtype), name=f"R{i}")
                                    for i, (a, b) in enumerate(pairs)]
        self.recognition_biases = [tf.Variable(tf.zeros([b], dtype), name=f"r{i}")
                                   for i, (_, b) in enumerate(pairs)]
        self.generative_weights = [tf.Variable(tf.zeros([b, a], dtype), name=f"G{i}")
                                   for i, (a, b) in enumerate(pairs)]
        self.generative_biases = [tf.Variable(tf.zeros([a], dtype), name=f"g{i}")
                                  for i, (a, _) in enumerate(pairs)]
        self.top = BernoulliRBM(sizes[-2], sizes[-1], weight_std=0.0, dtype=dtype)
        self.layer_sizes = tuple(sizes)

    @classmethod
    def from_dbn(cls, dbn: DBN) -> UntiedDBN:
        """Copies of ``dbn``'s weights: ``R_l = W_l``, ``r_l = c_l``,
        ``G_l = W_l^T``, ``g_l = b_l``.
        """
        check_instance(dbn, "dbn", DBN)
        if dbn.top_units != "binary":
            raise ValueError("up-down fine-tuning needs a binary top RBM; this DBN's "
                             "top has linear hidden units.")
        model = cls(dbn.layer_sizes, dtype=dbn.dtype, name=f"{dbn.name}_untied")
        for rbm, R, r, G, g in zip(dbn.rbms[:-1], model.recognition_weights,
                                   model.recognition_biases, model.generative_weights,
                                   model.generative_biases):
            R.assign(rbm.W)
            r.assign(rbm.c)
            G.assign(tf.transpose(rbm.W))
            g.assign(rbm.b)
        for mine, theirs in zip(model.top.parameters, dbn.top.parameters):
            mine.assign(theirs)
        return model

    def get_config(self) -> dict:
        """The arguments that rebuild a model of this shape (see
        :mod:`rbmtut.saving`).
        """
        return {"layer_sizes": list(self.layer_sizes), "dtype": self.dtype.name,
                "name": self.name}

    def training_input(self, x, name: str = "x"):
        """Training data for up-down, checked: digits (N, n_0) in [0, 1]."""
        return self.layer_input(x, name=name)

    def recognition_layers(self) -> list:
        """``[(R_l, r_l)]`` bottom-up."""
        return list(zip(self.recognition_weights, self.recognition_biases))

    def generative_layers(self) -> list:
        """``[(G_l, g_l)]`` top-down."""
        return list(zip(self.generative_weights, self.generative_biases))[::-1]

    def __repr__(self) -> str:
        return (f"UntiedDBN(layer_sizes={list(self.layer_sizes)}, "
                f"dtype={self.dtype.name})")


class UpDownStep(NamedTuple):
    """The sampled states of one up-down update, indexed by layer.

    Attributes:
        wake: ``[v, s^1, ..., s^{L-1}]``: the data and the bottom-up samples.
        wake_top: top-layer sample given ``s^{L-1}``, (n, n_L).
        negative_pen, negative_top: end of the top RBM's Gibbs chain.
        sleep: ``[p^0, s^1, ..., s^{L-1}]``: top-down samples from
            ``negative_pen`` (``sleep[L-1]``), with visible probabilities ``p^0``.
        reconstruction: mean cross-entropy (nats per example) of the data
            under the generative prediction from ``s^1``: a diagnostic.
        negative_labels: with a labelled top RBM, the label units at the
            chain's end, (n, n_labels); otherwise None.
    """

    wake: list
    wake_top: tf.Tensor
    negative_pen: tf.Tensor
    negative_top: tf.Tensor
    sleep: list
    reconstruction: tf.Tensor
    negative_labels: tf.Tensor | None = None


class UpDownTrainer(Trainer):
    """Up-down updates of an :class:`UntiedDBN`, one mini-batch at a time.

    Args:
        model: the untied stack, updated in place.
        learning_rate: ``eps`` > 0; a variable, change it with ``.assign``.
        k: Gibbs steps in the top RBM; a variable (the paper raised it
            from 3 to 6 to 10 during training).
        seed: seeds the update's ``tf.random.Generator`` (``rng``) and the
            shuffles of ``train_epochs``.
        compile: compile the update.
        name: module name.
    """

    metric_names = ("reconstruction",)

    def __init__(self, model: UntiedDBN, *, learning_rate: float = 0.01, k: int = 3,
                 seed: int = 0, compile: bool = True, name: str | None = None):
        check_instance(model, "model", UntiedDBN,
                       "Untie a DBN with UntiedDBN.from_dbn(dbn).")
        learning_rate = check_real(learning_rate, "learning_rate", low=0.0,
                                   low_open=True)
        k = check_int(k, "k", low=1)
        super().__init__(seed=seed, compile=compile, name=name)
        self.untied = model
        self.learning_rate = tf.Variable(learning_rate, dtype=model.dtype,
                                         trainable=False)
        self.k = tf.Variable(k, dtype=tf.int32, trainable=False)
        self.compiled_update = compile_step(self.update) if compile else self.update

    @property
    def model(self) -> UntiedDBN:
        """The stack being fine-tuned."""
        return self.untied

    def prepare(self, x, name: str = "x"):
        """Training data (N, n_0) in [0, 1]; for a labelled stack the pair
        ``(digits, labels)`` (see :meth:`UntiedDBN.training_input`)."""
        return self.untied.training_input(x, name=name)

    def update(self, batch) -> UpDownStep:
        """One up-down update on the batch ``v`` (n, n_0), or ``(v, labels)``
        with one-hot labels (n, n_labels) for a labelled top RBM; returns its
        states."""
        v, labels = batch if isinstance(batch, tuple) else (batch, None)
        model, rng = self.untied, self.rng
        top, eps = self.untied.top, self.learning_rate
        # Batch means as products with 1/n, so eager and compiled runs round alike.
        inv_n = 1.0 / tf.cast(tf.shape(v)[0], v.dtype)
        R, r = model.recognition_weights, model.recognition_biases
        G, g = model.generative_weights, model.generative_biases
        n_lower = len(R)

        # Wake phase: sample the layers bottom-up with the recognition weights.
        wake = [v] + logistic_pass(v, model.recognition_layers(), rng)[1]
        # Generative predictions of each layer from the sampled layer above.
        wake_logits = [tf.matmul(wake[l + 1], G[l]) + g[l] for l in range(n_lower)]
        wake_errors = [wake[l] - tf.sigmoid(wake_logits[l]) for l in range(n_lower)]

        # Top RBM: CD-k from the wake state of the penultimate layer (with the
        # labels beside it: clamped in the positive phase, free in the chain.
        # The chain's labels are one-hot samples; Hinton et al. 2006, appendix
        # B, use their probabilities in the negative statistics, a variant
        # with less noise.)
        pen = wake[-1] if labels is None else tf.concat([wake[-1], labels], axis=1)
        wake_top = top.sample_hidden(pen, rng)
        neg_pen = gibbs_chain(top, pen, self.k, rng, h0=wake_top).v
        neg_top = top.sample_hidden(neg_pen, rng)
        neg_labels = None
        if labels is not None:
            neg_pen, neg_labels = neg_pen[:, :-top.n_labels], neg_pen[:, -top.n_labels:]

        # Sleep phase: from the chain's end, sample top-down with the generative
        # weights (visible units as probabilities); recognition predicts upwards.
        dream = logistic_pass(neg_pen, model.generative_layers(), rng,
                              sample_last=False)[1]
        sleep = dream[::-1] + [neg_pen]
        sleep_errors = [sleep[l + 1] - tf.sigmoid(tf.matmul(sleep[l], R[l]) + r[l])
                        for l in range(n_lower)]

        # Delta-rule updates, all computed above from the old parameters.
        for l in range(n_lower):
            G[l].assign_add(
                eps * inv_n * tf.matmul(wake[l + 1], wake_errors[l], transpose_a=True))
            g[l].assign_add(eps * tf.reduce_mean(wake_errors[l], axis=0))
            R[l].assign_add(
                eps * inv_n * tf.matmul(sleep[l], sleep_errors[l], transpose_a=True))
            r[l].assign_add(eps * tf.reduce_mean(sleep_errors[l], axis=0))
        neg_visible = (neg_pen if labels is None
                       else tf.concat([neg_pen, neg_labels], axis=1))
        top.W.assign_add(
            eps * inv_n * (tf.matmul(pen, wake_top, transpose_a=True)
                           - tf.matmul(neg_visible, neg_top, transpose_a=True)))
        top.b.assign_add(eps * tf.reduce_mean(pen - neg_visible, axis=0))
        top.c.assign_add(eps * tf.reduce_mean(wake_top - neg_top, axis=0))

        return UpDownStep(wake, wake_top, neg_pen, neg_top, sleep,
                          bernoulli_cross_entropy(v, wake_logits[0]), neg_labels)

    def update_step(self, batch) -> tf.Tensor:
        """:meth:`update`'s reconstruction diagnostic."""
        return self.update(batch).reconstruction

    def step(self, batch) -> UpDownStep:
        """One up-down update on the batch (digits (n, n_0) in [0, 1], or
        ``(digits, labels)`` for a labelled stack); returns its states.
        """
        return self.compiled_update(self.prepare(batch, "batch"))


def fit_updown(model: UntiedDBN, x, *, epochs: int = 1, batch_size: int = 100,
               learning_rate: float = 0.01, k: int = 3, seed: int = 0, monitors=None,
               callback=None, progress: bool = True) -> History:
    """Fine-tune ``model`` by up-down updates over ``x`` (N, n_0) in [0, 1] (for
    a labelled stack the pair ``(digits, labels)``); return the History.

    A shortcut for ``train_epochs(UpDownTrainer(model, ...), x, ...)``; build
    the trainer yourself to continue training with the same noise stream.

    Returns:
        A :class:`~rbmtut.History` with the key ``"reconstruction"`` (see
        :class:`UpDownStep`).
    """
    trainer = UpDownTrainer(model, learning_rate=learning_rate, k=k, seed=seed)
    return train_epochs(trainer, x, epochs=epochs, batch_size=batch_size,
                        monitors=monitors, callback=callback, progress=progress,
                        desc="up-down")
