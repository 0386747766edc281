"""Deep belief nets: greedy stacks of RBMs, their passes, sampling and unrolling.

A DBN with layers ``h^0 = v, h^1, ..., h^L`` is a stack of ``L`` RBMs, RBM
``l`` joining layer ``l`` (its visible side) to layer ``l + 1`` (its hidden
side).  Trained greedily (Hinton, Osindero & Teh 2006) it is read as a
generative model whose top two layers form an undirected RBM and whose lower
layers are directed, top-down, logistic belief nets:

    p(h^{L-1}, h^L)            the top RBM
    p(h^l = 1 | h^{l+1})       = sigmoid(b_l + h^{l+1} W_l^T),   l < L - 1

while ``q(h^{l+1} = 1 | h^l) = sigmoid(c_l + h^l W_l)`` is the approximate
recognition (inference) pass.  This module holds the stack (:class:`DBN`),
greedy pretraining, the up- and down-passes, sampling, unrolling into a deep
autoencoder; :mod:`rbmtut.finetuning` fine-tunes a pretrained stack.
Chapter 4 (``04_stacked_pretraining``) explains them.
"""

from __future__ import annotations

import time
from typing import NamedTuple

import numpy as np
import tensorflow as tf
from tqdm.auto import tqdm

from .autoencoders import Autoencoder
from .fitting import History, epoch_orders, train_epochs
from .gibbs import gibbs_chain
from .rbm import BernoulliRBM, check_binary_input, sample_bernoulli
from .training import RBMTrainer, compile_step, mean_over_batches

__all__ = ["PASS_UP_OPTIONS", "PRETRAIN_SCHEDULES", "derive_seeds", "PretrainResult", "DBN"]

#: What greedy pretraining feeds to the next layer (see :meth:`DBN.pretrain`).
PASS_UP_OPTIONS = ("probs", "samples", "samples_to_top")

#: How :meth:`DBN.pretrain` orders the layers' training.
PRETRAIN_SCHEDULES = ("layerwise", "simultaneous")


def _check_int(value, name: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int; got {value!r}.")
    if value < low:
        raise ValueError(f"{name} must be at least {low}; got {value}.")
    return int(value)


def derive_seeds(seed: int, n: int) -> list[int]:
    """``n`` distinct, well-mixed seeds from one (NumPy ``SeedSequence``); same seed, same list."""
    return [int(s) for s in np.random.SeedSequence(_check_int(seed, "seed", 0)).generate_state(n)]


def _propagate(x, layers, rng=None, *, sample_last=True):
    """Logistic layers ``x <- sigmoid(x W + bias)`` for each ``(W, bias)`` in turn.

    Returns ``(probs, states)``, one entry per layer.  Without ``rng`` the
    states are the probabilities (mean field); with it they are Bernoulli
    samples, each feeding the next layer (the last one only if ``sample_last``).
    """
    probs, states = [], []
    for i, (W, bias) in enumerate(layers):
        p = tf.sigmoid(tf.matmul(x, W) + bias)
        last = i == len(layers) - 1
        x = p if rng is None or (last and not sample_last) else sample_bernoulli(p, rng)
        probs.append(p)
        states.append(x)
    return probs, states


def _check_layer_input(x, width: int, name: str, layer: str) -> None:
    shape = tuple(x.shape) if hasattr(x, "shape") else np.shape(x)
    if len(shape) == 2 and shape[1] is not None and shape[1] != width:
        raise ValueError(f"{name} has {shape[1]} columns but {layer} has {width} units.")
    check_binary_input(x, width, name=name)


class PretrainResult(NamedTuple):
    """What :meth:`DBN.pretrain` did, one entry per RBM (bottom first).

    Attributes:
        histories: each layer's ``rbmtut.fitting.History`` (per-epoch
            surrogate, monitors and seconds).
        seconds: wall-clock seconds spent training each layer; ``None`` for
            every layer under ``schedule="simultaneous"``, where the layers
            share each batch and the time cannot be split between them.
        total_seconds: wall-clock seconds of the whole pretraining.
        seeds: each layer's trainer seed (its shuffles and Gibbs noise).
        sample_seeds: seed of the generator that sampled each layer's output
            for the next layer (``None`` where probabilities were passed up).
    """

    histories: list
    seconds: list
    total_seconds: float
    seeds: list
    sample_seeds: list


class DBN(tf.Module):
    """A deep belief net: a stack of Bernoulli RBMs trained one at a time.

    Args:
        layers: layer sizes ``[n_0, n_1, ..., n_L]`` (e.g. ``[784, 500, 500,
            2000]``), or a list of :class:`BernoulliRBM` to stack as they are
            (not copied); RBM ``l``'s ``n_hidden`` must equal RBM ``l+1``'s
            ``n_visible``.
        weight_std: initial weight scale when sizes are given.
        seed: seeds the weights; RBM ``l`` gets ``derive_seeds(seed, L)[l]``.
        dtype: ``tf.float32`` or ``tf.float64`` when sizes are given.
        name: module name.

    Attributes:
        rbms: the RBMs, bottom first; ``top`` is the last one.
    """

    def __init__(self, layers, *, weight_std: float = 0.01, seed: int = 0,
                 dtype=tf.float32, name: str | None = None):
        super().__init__(name=name)
        layers = list(layers)
        if len(layers) >= 1 and all(isinstance(x, BernoulliRBM) for x in layers):
            rbms = layers
            for i, (below, above) in enumerate(zip(rbms, rbms[1:])):
                if below.n_hidden != above.n_visible:
                    raise ValueError(
                        f"RBMs do not chain: rbm {i} has {below.n_hidden} hidden units but rbm "
                        f"{i + 1} has {above.n_visible} visible units; layer l's hidden layer "
                        "is layer l+1's visible layer.")
                if below.dtype != above.dtype:
                    raise ValueError(f"rbm {i} and rbm {i + 1} have different dtypes.")
        else:
            if len(layers) < 2:
                raise ValueError(f"a DBN needs at least 2 layer sizes; got {layers}.")
            for size in layers:
                if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size <= 0:
                    raise ValueError(f"layer sizes must be positive ints; got {layers}.")
            rbms = [
                BernoulliRBM(int(a), int(b), weight_std=weight_std, seed=s, dtype=dtype, name=f"rbm{i}")
                for i, (a, b, s) in enumerate(zip(layers, layers[1:], derive_seeds(seed, len(layers) - 1)))
            ]
        self.rbms = rbms
        self._sampling_rng = tf.random.Generator.from_seed(0)  # reset by every sample()
        self._compiled_sample = compile_step(self._sample_graph)

    @property
    def top(self) -> BernoulliRBM:
        """The top RBM (the undirected associative memory)."""
        return self.rbms[-1]

    @property
    def layer_sizes(self) -> tuple[int, ...]:
        """``(n_0, ..., n_L)``, visible layer first."""
        return (self.rbms[0].n_visible,) + tuple(rbm.n_hidden for rbm in self.rbms)

    @property
    def dtype(self) -> tf.DType:
        """The RBMs' dtype."""
        return self.top.dtype

    def _recognition_layers(self):
        return [(rbm.W, rbm.c) for rbm in self.rbms[:-1]]

    def _generative_layers(self):
        return [(tf.transpose(rbm.W), rbm.b) for rbm in reversed(self.rbms[:-1])]

    # -- greedy pretraining ---------------------------------------------------
    def pretrain(self, x, *, epochs=10, batch_size=100, method="cd", k=1, learning_rate=0.05,
                 momentum=0.5, weight_decay=0.0, pass_up: str = "probs",
                 schedule: str = "layerwise", seed: int = 0, monitors=None,
                 progress: bool = True) -> PretrainResult:
        """Greedy pretraining: RBM 0 learns ``x``, RBM l+1 learns RBM l's output.

        Each RBM is trained in place with an :class:`~rbmtut.training.RBMTrainer`
        (the built-in momentum rule).  Every setting from ``epochs`` to
        ``weight_decay`` (and ``monitors``) is one value for all layers or a
        list with one value per RBM.

        Two schedules:

        - ``"layerwise"`` (Hinton et al. 2006): train RBM 0 to the end, pass
          the whole training set up through it once, train RBM 1 on the
          result, and so on; each layer shuffles with its own seed.
        - ``"simultaneous"``: every batch goes up the stack and each RBM
          takes one update on what the layer below passes it *now*, so all
          layers train in one loop while their inputs are still changing.
          Layer 0 sees exactly what it sees layer-wise (same shuffles, same
          noise), so it ends up identical; ``epochs`` and ``batch_size`` must
          be the same for every layer.

        Args:
            x: training data (N, n_0) in [0, 1].
            epochs, batch_size, method, k: as for ``rbmtut.fit_rbm``.
            learning_rate, momentum, weight_decay, monitors: as for
                ``rbmtut.fit_rbm``.
            pass_up: what the next layer is trained on: ``"probs"`` (the
                hidden probabilities ``p(h | input)``), ``"samples"`` (binary
                samples of them) or ``"samples_to_top"`` (probabilities,
                except binary samples into the top RBM).
            schedule: ``"layerwise"`` or ``"simultaneous"``.
            seed: one seed; layer l trains with ``derive_seeds(seed, 2L)[l]``
                and samples its output with ``derive_seeds(seed, 2L)[L + l]``.
            progress: progress bars over layers and epochs.

        Returns:
            A :class:`PretrainResult`.
        """
        _check_layer_input(x, self.layer_sizes[0], "x", "the visible layer")
        if pass_up not in PASS_UP_OPTIONS:
            raise ValueError(f"pass_up must be one of {PASS_UP_OPTIONS}; got {pass_up!r}.")
        if schedule not in PRETRAIN_SCHEDULES:
            raise ValueError(f"schedule must be one of {PRETRAIN_SCHEDULES}; got {schedule!r}.")
        n_rbms, n_rows = len(self.rbms), len(x)
        settings = dict(epochs=epochs, batch_size=batch_size, method=method, k=k,
                        learning_rate=learning_rate, momentum=momentum,
                        weight_decay=weight_decay, monitors=monitors)
        for key, value in settings.items():
            if isinstance(value, (list, tuple)):
                if len(value) != n_rbms:
                    raise ValueError(f"{key} has {len(value)} entries for {n_rbms} RBMs; give "
                                     "one value or one per RBM.")
            else:
                settings[key] = [value] * n_rbms
        # Fail before any training rather than after hours of it.
        for layer in range(n_rbms):
            _check_int(settings["epochs"][layer], "epochs", 0)
            _check_int(settings["k"][layer], "k", 1)
            if _check_int(settings["batch_size"][layer], "batch_size", 1) > n_rows:
                raise ValueError(f"batch_size must be at most len(x) = {n_rows}.")
        if schedule == "simultaneous" and any(
                len(set(settings[key])) > 1 for key in ("epochs", "batch_size")):
            raise ValueError("schedule='simultaneous' trains every layer on the same batches; "
                             "give one value for epochs and for batch_size.")
        seeds = derive_seeds(seed, 2 * n_rbms)
        trainers = []
        for layer, rbm in enumerate(self.rbms):
            batch = settings["batch_size"][layer]
            trainers.append(RBMTrainer(
                rbm, method=settings["method"][layer], k=settings["k"][layer],
                learning_rate=settings["learning_rate"][layer],
                momentum=settings["momentum"][layer],
                weight_decay=settings["weight_decay"][layer], seed=seeds[layer],
                n_chains=batch if settings["method"][layer] == "pcd" else None))
        # The layers whose output is sampled for the layer above, and the seeds.
        sample_seeds = [seeds[n_rbms + layer] if pass_up == "samples" or (
            pass_up == "samples_to_top" and layer + 2 == n_rbms) else None
            for layer in range(n_rbms - 1)] + [None]
        data = np.asarray(x, dtype=self.dtype.as_numpy_dtype)
        started = time.perf_counter()
        if schedule == "layerwise":
            histories, seconds = self._pretrain_layerwise(data, trainers, settings, sample_seeds,
                                                          progress)
        else:
            histories = self._pretrain_simultaneously(data, trainers, settings, sample_seeds,
                                                      progress)
            seconds = [None] * n_rbms
        return PretrainResult(histories, seconds, time.perf_counter() - started, seeds[:n_rbms],
                              sample_seeds)

    def _pretrain_layerwise(self, data, trainers, settings, sample_seeds, progress):
        histories, seconds = [], []
        for layer in tqdm(range(len(trainers)), disable=not progress, unit="layer",
                          desc="pretraining"):
            started = time.perf_counter()
            histories.append(train_epochs(
                trainers[layer], data, epochs=settings["epochs"][layer],
                batch_size=settings["batch_size"][layer], monitors=settings["monitors"][layer],
                progress=progress))
            seconds.append(time.perf_counter() - started)
            if layer + 1 < len(trainers):  # the next layer's training data
                out = trainers[layer].rbm.hidden_probs(tf.constant(data))
                if sample_seeds[layer] is not None:
                    out = sample_bernoulli(out, tf.random.Generator.from_seed(sample_seeds[layer]))
                data = out.numpy()
        return histories, seconds

    def _pretrain_simultaneously(self, data, trainers, settings, sample_seeds, progress):
        samplers = [None if s is None else tf.random.Generator.from_seed(s) for s in sample_seeds]

        def update(batch):
            """One update of every layer; returns their surrogates, (L,)."""
            surrogates = []
            for trainer, sampler in zip(trainers, samplers):
                # The layer above learns from this layer's output before its update:
                # the positive phase's hidden probabilities, computed once.
                surrogate, out = trainer._update_and_hidden(batch)
                surrogates.append(surrogate)
                batch = out if sampler is None else sample_bernoulli(out, sampler)
            return tf.stack(surrogates)

        run_epoch = compile_step(lambda d, order: mean_over_batches(update, d, order,
                                                                    shape=[len(trainers)]))
        epochs, batch_size = settings["epochs"][0], settings["batch_size"][0]
        # Layer 0's shuffles, so that layer 0 trains exactly as it does layer-wise.
        orders = epoch_orders(len(data), batch_size, trainers[0].seed, epochs=epochs)
        data = tf.constant(data)
        histories = [History() for _ in trainers]
        for epoch, order in enumerate(tqdm(orders, total=epochs, disable=not progress,
                                           unit="epoch", desc="pretraining"), start=1):
            started = time.perf_counter()
            for trainer in trainers:
                trainer.begin_epoch()
            surrogates = run_epoch(data, tf.constant(order)).numpy()
            for trainer in trainers:
                trainer.end_epoch()
            seconds = time.perf_counter() - started
            for layer, (trainer, history) in enumerate(zip(trainers, histories)):
                values = {"surrogate": surrogates[layer]}
                for name, monitor in (settings["monitors"][layer] or {}).items():
                    values[name] = float(monitor(trainer.rbm))
                history.record(epoch, seconds, values)
        return histories

    # -- passes -----------------------------------------------------------------
    def up(self, v) -> list[tf.Tensor]:
        """Mean-field recognition pass: ``[p(h^1 | v), ..., p(h^L | .)]``, each (n, n_l).

        Layer ``l + 1`` receives the probabilities of layer ``l``.
        """
        _check_layer_input(v, self.layer_sizes[0], "v", "the visible layer")
        return _propagate(tf.cast(v, self.dtype), [(r.W, r.c) for r in self.rbms])[0]

    def sample_up(self, v, rng: tf.random.Generator) -> list[tf.Tensor]:
        """Sampled recognition pass: binary states ``[h^1, ..., h^L]``, each (n, n_l)."""
        _check_layer_input(v, self.layer_sizes[0], "v", "the visible layer")
        return _propagate(tf.cast(v, self.dtype), [(r.W, r.c) for r in self.rbms], rng)[1]

    def _down_layers(self, h, from_layer):
        L = len(self.rbms)
        layer = L - 1 if from_layer is None else from_layer
        if _check_int(layer, "from_layer", 0) > L:
            raise ValueError(f"from_layer must be at most L = {L}; got {layer}.")
        _check_layer_input(h, self.layer_sizes[layer], "h", f"layer {layer}")
        layers = [(tf.transpose(r.W), r.b) for r in reversed(self.rbms[:layer])]
        return tf.cast(h, self.dtype), layers

    def down(self, h, *, from_layer: int | None = None) -> list[tf.Tensor]:
        """Mean-field generative pass from layer ``from_layer`` down to the pixels.

        ``p(h^{l-1} = 1 | h^l) = sigmoid(b + h^l W^T)`` for each layer below.

        Args:
            h: states or probabilities of layer ``from_layer``, (n, n_from_layer).
            from_layer: default ``L - 1``, the penultimate layer (the top RBM's
                visible side, where the directed part starts); ``L`` starts
                at the top, going down through the top RBM's ``p(h^{L-1} | h^L)``.

        Returns:
            Probabilities of layers ``from_layer - 1, ..., 0``; the last is (n, n_0).
        """
        return _propagate(*self._down_layers(h, from_layer))[0]

    def sample_down(self, h, rng: tf.random.Generator, *, from_layer: int | None = None):
        """Sampled generative pass: binary states of layers ``from_layer - 1, ..., 0``."""
        return _propagate(*self._down_layers(h, from_layer), rng)[1]

    def reconstruction_cross_entropy(self, v) -> tf.Tensor:
        """Cross-entropy of ``v`` through the whole stack and back, nats per example.

        The mean-field recognition pass to the top layer, the mean-field
        generative pass back to the pixels (for a DBN: :meth:`up`, then
        :meth:`down` with ``from_layer=L``), and the Bernoulli cross-entropy
        of ``v`` under the result, summed over pixels and averaged over
        examples: what the stack, read as an autoencoder, loses.  With one RBM
        it is ``rbmtut.estimators.reconstruction_cross_entropy``.

        Args:
            v: data (n, n_0) in [0, 1].

        Returns:
            Scalar tensor.
        """
        _check_layer_input(v, self.layer_sizes[0], "v", "the visible layer")
        top = self.top
        v = tf.cast(v, top.dtype)
        layers = (self._recognition_layers() + [(top.W, top.c), (tf.transpose(top.W), top.b)]
                  + self._generative_layers())
        h = _propagate(v, layers[:-1])[0][-1]
        W, bias = layers[-1]  # the pixels' logits directly: no log(0)
        per_pixel = tf.nn.sigmoid_cross_entropy_with_logits(labels=v, logits=tf.matmul(h, W) + bias)
        return tf.reduce_mean(tf.reduce_sum(per_pixel, axis=-1))

    # -- generation ------------------------------------------------------------------
    def _sample_graph(self, start, n, k):
        rng, top = self._sampling_rng, self.top
        if start is None:  # noise: every penultimate unit on with probability 1/2
            pen = sample_bernoulli(tf.fill(tf.stack([n, top.n_visible]), tf.constant(0.5, top.dtype)), rng)
        else:  # the mean-field up-pass of the given data
            pen = start
            if self._recognition_layers():
                pen = _propagate(start, self._recognition_layers())[0][-1]
        chain = gibbs_chain(top, pen, k, rng)
        if not self._generative_layers():
            return chain.v_probs
        # An ancestral pass: sample every hidden layer, keep the pixels' probabilities.
        return _propagate(chain.v, self._generative_layers(), rng, sample_last=False)[0][-1]

    def sample(self, n: int, gibbs_steps: int, *, seed: int = 0, start=None, compile: bool = True):
        """Generate: ``gibbs_steps`` of Gibbs in the top RBM, then one down-pass.

        The chains start from random binary penultimate states, or from the
        mean-field up-pass of ``start``.  Hidden layers on the way down are
        sampled; the pixels are returned as probabilities ``p(v | h^1)``.
        Compiled, the whole run is one graph (the chain is a ``tf.while_loop``);
        eager and compiled runs give the same numbers for the same seed.

        Args:
            n: number of samples (equal to ``len(start)`` when given).
            gibbs_steps: Gibbs steps in the top RBM, at least 1.
            seed: seed of the sampling noise.
            start: optional data (n, n_visible) in [0, 1] to start from.
            compile: run as a ``tf.function``.

        Returns:
            Visible probabilities (n, n_visible).
        """
        n = _check_int(n, "n", 1)
        k = _check_int(gibbs_steps, "gibbs_steps", 1)
        if start is not None:
            _check_layer_input(start, self.layer_sizes[0], "start", "the visible layer")
            if len(start) != n:
                raise ValueError(f"start has {len(start)} rows but n = {n}; pass n=len(start).")
            start = tf.cast(tf.convert_to_tensor(start), self.top.dtype)
        self._sampling_rng.reset_from_seed(_check_int(seed, "seed", 0))
        run = self._compiled_sample if compile else self._sample_graph
        return run(start, tf.constant(n), tf.constant(k))

    def unroll(self, *, code: str = "logistic") -> Autoencoder:
        """Unroll into a deep autoencoder (Hinton & Salakhutdinov 2006).

        Encoder layer ``l`` starts as a copy of ``(W_l, c_l)``; the decoder
        as copies of ``(W_l^T, b_l)`` in reverse order, untied from the
        encoder.  Its ``encode`` is the mean-field :meth:`up` pass and its
        ``decode`` the mean-field :meth:`down` pass from the top.

        Args:
            code: ``"logistic"`` or ``"linear"`` code units (H&S used linear).

        Returns:
            An untied :class:`rbmtut.autoencoders.Autoencoder` with sigmoid
            hidden and output units and sizes ``n_0, ..., n_L, ..., n_0``.
        """
        if code not in ("logistic", "linear"):
            raise ValueError(f"code must be 'logistic' or 'linear'; got {code!r}.")
        model = Autoencoder(self.layer_sizes, activation="sigmoid",
                            code_activation="sigmoid" if code == "logistic" else "linear",
                            output="sigmoid", dtype=self.dtype, name=f"{self.name}_autoencoder")
        for rbm, W, c in zip(self.rbms, model.encoder_weights, model.encoder_biases):
            W.assign(rbm.W)
            c.assign(rbm.c)
        for rbm, W, b in zip(reversed(self.rbms), model.decoder_weights, model.decoder_biases):
            W.assign(tf.transpose(rbm.W))
            b.assign(rbm.b)
        return model

    def __repr__(self) -> str:
        return f"DBN(layer_sizes={list(self.layer_sizes)}, dtype={self.dtype.name})"
