"""Fine-tuning a pretrained DBN: generatively (up-down) or as a classifier.

Two ways to improve a greedily pretrained stack (chapter 4,
``04_stacked_pretraining``):

- :class:`UpDownFineTuner`: the up-down (contrastive wake-sleep) algorithm of
  Hinton, Osindero & Teh (2006), which unties the recognition and generative
  weights below the top RBM and improves the stack as a generative model;
- :func:`to_keras_classifier`: a Keras classifier initialised from the stack,
  for supervised fine-tuning by backpropagation.
"""

from __future__ import annotations

import time
from typing import NamedTuple

import numpy as np
import tensorflow as tf
from tqdm.auto import tqdm

from .autoencoders import dense_classifier
from .dbn import DBN, _check_int, _check_layer_input, _propagate
from .fitting import epoch_orders
from .training import compile_step, mean_over_batches

__all__ = ["UpDownStep", "UpDownHistory", "UpDownFineTuner", "to_keras_classifier"]


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
    """

    wake: list
    wake_top: tf.Tensor
    negative_pen: tf.Tensor
    negative_top: tf.Tensor
    sleep: list
    reconstruction: tf.Tensor


class UpDownHistory(NamedTuple):
    """Per-epoch mean ``reconstruction`` (see :class:`UpDownStep`) and wall-clock ``seconds``."""

    reconstruction: list
    seconds: list


class UpDownFineTuner(tf.Module):
    """Generative fine-tuning of a DBN by the up-down algorithm (contrastive wake-sleep).

    Hinton, Osindero & Teh (2006), "A fast learning algorithm for deep belief
    nets", section 5 and appendix B; labels are left out.  Below the top RBM
    the weights are untied: recognition ``R_l`` (n_l, n_{l+1}) and ``r_l``
    start as copies of RBM l's ``W_l, c_l``; generative ``G_l`` (n_{l+1}, n_l)
    and ``g_l`` as copies of ``W_l^T, b_l``.  The top RBM is a copy too, so
    the DBN is left unchanged.  With learning rate ``eps``, a batch of ``n``
    and ``<.>`` the batch mean, one update is:

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

    All predictions use the parameters from before the update.  The wake
    phase teaches the generative weights to reproduce what recognition
    sees; the sleep phase teaches the recognition weights to invert what the
    generative model dreams.  The step is one ``tf.function``.

    Args:
        dbn: a pretrained DBN with at least two RBMs.
        learning_rate: ``eps``; a variable, change it with ``.assign``.
        k: Gibbs steps in the top RBM; a variable (the paper raised it
            from 3 to 6 to 10 during training).
        seed: seed of the update's ``tf.random.Generator`` (``rng``).
        compile: compile the update.
        name: module name.
    """

    def __init__(self, dbn: DBN, *, learning_rate: float = 0.01, k: int = 3, seed: int = 0,
                 compile: bool = True, name: str | None = None):
        super().__init__(name=name)
        if len(dbn.rbms) < 2:
            raise ValueError("the up-down algorithm needs at least two RBMs; train one with fit_rbm.")
        if not learning_rate > 0:
            raise ValueError(f"learning_rate must be > 0; got {learning_rate}.")
        lower = dbn.rbms[:-1]
        self.recognition_weights = [tf.Variable(tf.identity(r.W), name=f"R{i}") for i, r in enumerate(lower)]
        self.recognition_biases = [tf.Variable(tf.identity(r.c), name=f"r{i}") for i, r in enumerate(lower)]
        self.generative_weights = [tf.Variable(tf.transpose(r.W), name=f"G{i}") for i, r in enumerate(lower)]
        self.generative_biases = [tf.Variable(tf.identity(r.b), name=f"g{i}") for i, r in enumerate(lower)]
        self.top = dbn.top.copy()
        self.layer_sizes = dbn.layer_sizes
        self.learning_rate = tf.Variable(learning_rate, dtype=dbn.dtype, trainable=False)
        self.k = tf.Variable(_check_int(k, "k", 1), dtype=tf.int32, trainable=False)
        self.rng = tf.random.Generator.from_seed(_check_int(seed, "seed", 0))
        self._step = compile_step(self._update) if compile else self._update
        self._run_epoch = compile_step(self._epoch) if compile else self._epoch
        self._sampling_rng = tf.random.Generator.from_seed(0)
        self._compiled_sample = compile_step(self._sample_graph)

    # The fine-tuned model generates exactly as a DBN does, through its own
    # (now untied) generative weights and top RBM.
    _sample_graph = DBN._sample_graph
    sample = DBN.sample
    reconstruction_cross_entropy = DBN.reconstruction_cross_entropy

    def _recognition_layers(self):
        return list(zip(self.recognition_weights, self.recognition_biases))

    def _generative_layers(self):
        return list(zip(self.generative_weights, self.generative_biases))[::-1]

    def _update(self, v) -> UpDownStep:
        rng, top, eps = self.rng, self.top, self.learning_rate
        # Batch means as products with 1/n, so eager and compiled runs round alike.
        inv_n = 1.0 / tf.cast(tf.shape(v)[0], v.dtype)
        R, r = self.recognition_weights, self.recognition_biases
        G, g = self.generative_weights, self.generative_biases
        n_lower = len(R)

        # Wake phase: sample the layers bottom-up with the recognition weights.
        wake = [v] + _propagate(v, self._recognition_layers(), rng)[1]
        # Generative predictions of each layer from the sampled layer above.
        wake_logits = [tf.matmul(wake[l + 1], G[l]) + g[l] for l in range(n_lower)]
        wake_errors = [wake[l] - tf.sigmoid(wake_logits[l]) for l in range(n_lower)]

        # Top RBM: CD-k from the wake state of the penultimate layer.
        pen = wake[-1]
        wake_top = top.sample_hidden(pen, rng)

        def gibbs(i, neg_pen, neg_top):
            neg_pen = top.sample_visible(neg_top, rng)
            return i + 1, neg_pen, top.sample_hidden(neg_pen, rng)

        _, neg_pen, neg_top = tf.while_loop(
            lambda i, *_: i < self.k, gibbs, (tf.constant(0), tf.zeros_like(pen), wake_top))

        # Sleep phase: from the chain's end, sample top-down with the generative
        # weights (visible units as probabilities); recognition predicts upwards.
        dream = _propagate(neg_pen, self._generative_layers(), rng, sample_last=False)[1]
        sleep = dream[::-1] + [neg_pen]
        sleep_errors = [sleep[l + 1] - tf.sigmoid(tf.matmul(sleep[l], R[l]) + r[l])
                        for l in range(n_lower)]

        # Delta-rule updates, all computed above from the old parameters.
        for l in range(n_lower):
            G[l].assign_add(eps * inv_n * tf.matmul(wake[l + 1], wake_errors[l], transpose_a=True))
            g[l].assign_add(eps * tf.reduce_mean(wake_errors[l], axis=0))
            R[l].assign_add(eps * inv_n * tf.matmul(sleep[l], sleep_errors[l], transpose_a=True))
            r[l].assign_add(eps * tf.reduce_mean(sleep_errors[l], axis=0))
        top.W.assign_add(eps * inv_n * (tf.matmul(pen, wake_top, transpose_a=True)
                                        - tf.matmul(neg_pen, neg_top, transpose_a=True)))
        top.b.assign_add(eps * tf.reduce_mean(pen - neg_pen, axis=0))
        top.c.assign_add(eps * tf.reduce_mean(wake_top - neg_top, axis=0))

        cross_entropy = tf.nn.sigmoid_cross_entropy_with_logits(labels=v, logits=wake_logits[0])
        return UpDownStep(wake, wake_top, neg_pen, neg_top, sleep,
                          tf.reduce_mean(tf.reduce_sum(cross_entropy, axis=1)))

    def step(self, v) -> UpDownStep:
        """One up-down update on the batch ``v`` (n, n_0) in [0, 1]; returns its states."""
        _check_layer_input(v, self.layer_sizes[0], "v", "the visible layer")
        return self._step(tf.cast(tf.convert_to_tensor(v), self.top.dtype))

    def _epoch(self, data, order):
        """Up-down updates on ``data[order[i]]`` for every row ``i``; mean reconstruction."""
        return mean_over_batches(lambda batch: self._update(batch).reconstruction, data, order)

    def fit(self, x, *, epochs: int = 1, batch_size: int = 100, seed: int = 0,
            progress: bool = True) -> UpDownHistory:
        """Up-down updates over ``x`` (N, n_0) for ``epochs`` seeded shuffles.

        The last partial batch of each epoch is dropped.

        Args:
            x: training data (N, n_0) in [0, 1].
            epochs: passes over the data.
            batch_size: examples per update.
            seed: seeds the shuffles (the sampling noise comes from ``rng``).
            progress: show a progress bar over the epochs.

        Returns:
            An :class:`UpDownHistory`.
        """
        _check_layer_input(x, self.layer_sizes[0], "x", "the visible layer")
        epochs = _check_int(epochs, "epochs", 0)
        if _check_int(batch_size, "batch_size", 1) > len(x):
            raise ValueError(f"batch_size must be at most len(x) = {len(x)}.")
        data = tf.constant(np.asarray(x, dtype=self.top.dtype.as_numpy_dtype))
        orders = epoch_orders(len(x), batch_size, _check_int(seed, "seed", 0), epochs=epochs)
        history = UpDownHistory([], [])
        for order in tqdm(orders, total=epochs, disable=not progress, unit="epoch", desc="up-down"):
            started = time.perf_counter()
            history.reconstruction.append(float(self._run_epoch(data, tf.constant(order))))
            history.seconds.append(time.perf_counter() - started)
        return history


def to_keras_classifier(dbn: DBN, n_classes: int, *, pretrained: bool = True, seed: int = 0,
                        name: str = "dbn_classifier"):
    """A Keras ``Sequential`` classifier with the DBN's architecture.

    One ``Dense`` sigmoid layer per RBM (weights ``W_l``, biases ``c_l`` when
    ``pretrained``; Keras' seeded Glorot-uniform weights and zero biases
    otherwise), then a ``Dense`` softmax layer that is initialised the same
    way in both cases, so a pretrained-vs-random comparison differs only in
    the hidden layers.  The model is built but not compiled.

    Args:
        dbn: the (pretrained) DBN.
        n_classes: number of classes, at least 2.
        pretrained: copy the DBN's weights into the hidden layers.
        seed: seeds the Keras initialisers.
        name: model name.

    Returns:
        A ``keras.Sequential`` mapping (n, n_0) inputs to (n, n_classes) probabilities.
    """
    weights = [(rbm.W.numpy(), rbm.c.numpy()) for rbm in dbn.rbms] if pretrained else None
    return dense_classifier(dbn.layer_sizes, _check_int(n_classes, "n_classes", 2),
                            activations="sigmoid", weights=weights, seed=seed,
                            dtype=dbn.dtype.name, name=name)
