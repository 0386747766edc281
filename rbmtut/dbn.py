"""Deep belief nets: a stack of RBMs read as one generative model.

A DBN with layers ``h^0 = v, h^1, ..., h^L`` is a stack of ``L`` RBMs, RBM
``l`` joining layer ``l`` (its visible side) to layer ``l + 1`` (its hidden
side).  Trained greedily (Hinton, Osindero & Teh 2006; :mod:`rbmtut.pretraining`)
it is read as a generative model whose top two layers form an undirected RBM
and whose lower layers are directed, top-down, logistic belief nets:

    p(h^{L-1}, h^L)            the top RBM
    p(h^l = 1 | h^{l+1})       = sigmoid(b_l + h^{l+1} W_l^T),   l < L - 1

while ``q(h^{l+1} = 1 | h^l) = sigmoid(c_l + h^l W_l)`` is the approximate
recognition (inference) pass.  :class:`StackModel` holds what every such
stack does — the passes, sampling, the reconstruction score — given its
recognition and generative layers; :class:`DBN` ties them to the RBMs'
weights, and :class:`rbmtut.updown.UntiedDBN` unties them for up-down
fine-tuning.  Chapter 4 (``04_stacked_pretraining``) explains them.
"""

from __future__ import annotations

import tensorflow as tf

from ._loop import derive_seeds
from ._seeding import SeededFunction
from ._validation import (as_model_input, check_choice, check_float_dtype, check_int,
                          check_no_label_units, check_real, check_seed)
from .autoencoders import Autoencoder
from .gaussian import BernoulliGaussianRBM
from .gibbs import gibbs_chain
from .nn import bernoulli_cross_entropy, logistic_pass
from .rbm import BernoulliRBM
from .saving import Saveable

__all__ = ["StackModel", "DBN"]


class StackModel(Saveable, tf.Module):
    """What a generative stack does, given its layers
    (the shared base of DBN and UntiedDBN).

    A subclass provides ``top`` (the top RBM), ``layer_sizes``,
    :meth:`recognition_layers` and :meth:`generative_layers`.
    """

    top: BernoulliRBM
    layer_sizes: tuple

    def __init__(self, name: str | None = None):
        super().__init__(name=name)
        self._sampler = SeededFunction(self.generate)

    @property
    def dtype(self) -> tf.DType:
        """The parameters' dtype."""
        return self.top.dtype

    def recognition_layers(self) -> list:
        """``[(W, c), ...]`` bottom-up, below the top RBM (``W_l``: (n_l, n_{l+1}))."""
        raise NotImplementedError

    def generative_layers(self) -> list:
        """``[(W, b), ...]`` top-down, below the top RBM (``W``: (n_{l+1}, n_l))."""
        raise NotImplementedError

    @property
    def top_units(self) -> str:
        """``"linear"`` if the top RBM has Gaussian hidden units, else ``"binary"``."""
        return "linear" if isinstance(self.top, BernoulliGaussianRBM) else "binary"

    def layer_input(self, x, layer: int = 0, name: str = "v",
                    values: str | None = None) -> tf.Tensor:
        """``x`` (n, n_layer) in [0, 1] (any reals for linear top units; or as
        ``values`` says), checked and cast to the stack's dtype."""
        what = "visible units" if layer == 0 else f"units in layer {layer}"
        linear = layer == len(self.layer_sizes) - 1 and self.top_units == "linear"
        values = values or ("real" if linear else "unit")
        return as_model_input(x, self.layer_sizes[layer], self.dtype, name=name,
                              what=what, values=values)

    # -- passes -----------------------------------------------------------------
    def up(self, v) -> list[tf.Tensor]:
        """Mean-field recognition pass: ``[p(h^1 | v), ..., p(h^L | .)]``,
        each (n, n_l) (linear top units: their means ``E[h^L | .]``).

        Layer ``l + 1`` receives the probabilities of layer ``l``.
        """
        v, top = self.layer_input(v), self.top
        below = logistic_pass(v, self.recognition_layers())[0]
        top_input = tf.matmul(below[-1] if below else v, top.W) + top.c
        return below + [top.hidden_mean(top_input)]

    def sample_up(self, v, *, seed: int = 0) -> list[tf.Tensor]:
        """Sampled recognition pass: states ``[h^1, ..., h^L]``, each (n, n_l)
        (binary; Gaussian draws for linear top units)."""
        rng = tf.random.Generator.from_seed(check_seed(seed))
        v, top = self.layer_input(v), self.top
        below = logistic_pass(v, self.recognition_layers(), rng)[1]
        top_input = tf.matmul(below[-1] if below else v, top.W) + top.c
        return below + [top.draw_hidden(top.hidden_mean(top_input), rng)]

    def top_generative_layer(self) -> tuple[tf.Tensor, tf.Tensor]:
        """``(W^T, b)`` of the top RBM restricted to the penultimate layer's units:
        ``p(h^{L-1} = 1 | h^L) = sigmoid(b + h^L W^T)``, (n_L, n_{L-1}) and
        (n_{L-1},).  (A labelled top RBM's label units, the last columns of
        its visible side, are left out.)"""
        n_pen, top = self.layer_sizes[-2], self.top
        if top.n_visible == n_pen:
            return tf.transpose(top.W), top.b
        return tf.transpose(top.W[:n_pen]), top.b[:n_pen]

    def _down_layers(self, h, from_layer):
        L = len(self.layer_sizes) - 1
        layer = (L - 1 if from_layer is None
                 else check_int(from_layer, "from_layer", low=0, high=L))
        generative = self.generative_layers()
        if layer == L:
            generative = [self.top_generative_layer()] + generative
        else:
            generative = generative[len(generative) - layer:]
        return self.layer_input(h, layer, "h"), generative

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
        return logistic_pass(*self._down_layers(h, from_layer))[0]

    def sample_down(self, h, *, seed: int = 0, from_layer: int | None = None):
        """Sampled generative pass: binary states of layers
        ``from_layer - 1, ..., 0``."""
        rng = tf.random.Generator.from_seed(check_seed(seed))
        return logistic_pass(*self._down_layers(h, from_layer), rng)[1]

    def reconstruction_cross_entropy(self, v) -> tf.Tensor:
        """Cross-entropy of ``v`` through the whole stack and back, nats per example.

        The mean-field recognition pass to the top layer, the mean-field
        generative pass back to the pixels (:meth:`up`, then :meth:`down` with
        ``from_layer=L``), and the Bernoulli cross-entropy of ``v`` under the
        result, summed over pixels and averaged over examples: what the stack,
        read as an autoencoder, loses.  With one RBM it is
        ``rbmtut.likelihood.reconstruction_cross_entropy``.  It scores the stack
        as an autoencoder, not as a generative model.

        Args:
            v: data (n, n_0) in [0, 1].

        Returns:
            Scalar tensor.
        """
        v = self.layer_input(v)
        code = self.up(v)[-1]
        layers = [self.top_generative_layer()] + self.generative_layers()
        h = logistic_pass(code, layers[:-1])[0][-1] if len(layers) > 1 else code
        W, bias = layers[-1]  # the pixels' logits directly: no log(0)
        return bernoulli_cross_entropy(v, tf.matmul(h, W) + bias)

    # -- generation ---------------------------------------------------------------
    def generate(self, start, n, k, rng):
        """The whole generation run in tensors (``start`` None: from noise);
        :meth:`sample` calls it.

        ``n`` and ``k`` are scalar int tensors; ``rng`` supplies every random number.
        """
        top, n_pen = self.top, self.layer_sizes[-2]
        if start is None:  # the top RBM's noise: each penultimate unit on w.p. 1/2
            pen = top.noise(n, rng)
        else:  # the mean-field up-pass of the given data
            pen = start
            if self.recognition_layers():
                pen = logistic_pass(start, self.recognition_layers())[0][-1]
        chain = gibbs_chain(top, pen, k, rng)
        if not self.generative_layers():
            return chain.v_probs[:, :n_pen]
        # An ancestral pass: sample every hidden layer, keep the pixels' probabilities.
        # (Label units of a labelled top, the last columns, do not go down.)
        return logistic_pass(chain.v[:, :n_pen], self.generative_layers(), rng,
                             sample_last=False)[0][-1]

    def sample(self, n: int, *, seed: int = 0, k: int = 1000, start=None,
               compile: bool = True) -> tf.Tensor:
        """Generate: ``k`` Gibbs steps in the top RBM, then one down-pass.

        The chains start from random binary penultimate states, or from the
        mean-field up-pass of ``start``.  Hidden layers on the way down are
        sampled; the pixels are returned as probabilities ``p(v | h^1)``.
        Compiled, the whole run is one graph (the chain is a ``tf.while_loop``);
        eager and compiled runs give the same numbers for the same seed.

        Args:
            n: number of samples (equal to ``len(start)`` when given), >= 1.
            seed: seed of the sampling noise.
            k: Gibbs steps in the top RBM, >= 1.
            start: optional data (n, n_visible) in [0, 1] to start from.
            compile: run as a ``tf.function``.

        Returns:
            Visible probabilities (n, n_visible).
        """
        n, k = check_int(n, "n", low=1), check_int(k, "k", low=1)
        if start is not None:
            start = self.layer_input(start, name="start")
            if start.shape[0] != n:
                raise ValueError(f"start has {start.shape[0]} rows but n = {n}; "
                                 "pass n=len(start).")
        args = (start, tf.constant(n), tf.constant(k))
        if not compile:
            return self.generate(*args, rng=self._sampler.generator(seed))
        return self._sampler(seed, *args)


class DBN(StackModel):
    """A deep belief net: a stack of Bernoulli RBMs, recognition and generation tied.

    Args:
        layers: layer sizes ``[n_0, n_1, ..., n_L]`` (e.g. ``[784, 500, 500,
            2000]``), or a list of :class:`BernoulliRBM` to stack as they are
            (not copied; the top may be a
            :class:`rbmtut.gaussian.BernoulliGaussianRBM`); RBM ``l``'s
            ``n_hidden`` must equal RBM ``l+1``'s ``n_visible``.
        top_units: ``"binary"`` or ``"linear"``, the top layer's units when
            sizes are given: linear, unit-variance Gaussian units (a
            ``BernoulliGaussianRBM`` on top) as in Hinton & Salakhutdinov's
            deep autoencoder.
        weight_std: initial weight scale when sizes are given.
        seed: seeds the weights; RBM ``l`` gets ``derive_seeds(seed, L)[l]``.
        dtype: ``tf.float32`` or ``tf.float64`` when sizes are given.
        name: module name.

    Attributes:
        rbms: the RBMs, bottom first; ``top`` is the last one.

    Pretrain it with :func:`rbmtut.fit_dbn`.
    """

    def __init__(self, layers, *, weight_std: float = 0.01, seed: int = 0,
                 top_units: str = "binary", dtype=tf.float32, name: str | None = None):
        super().__init__(name=name)
        if isinstance(layers, (str, bytes)) or not hasattr(layers, "__iter__"):
            raise TypeError("layers must be a list of sizes or of BernoulliRBMs; "
                            f"got {layers!r}.")
        layers = list(layers)
        if (layers and all(isinstance(x, BernoulliRBM) for x in layers[:-1])
                and isinstance(layers[-1], (BernoulliRBM, BernoulliGaussianRBM))):
            rbms = layers
            for rbm in rbms:
                check_no_label_units(rbm, "a DBN (use rbmtut.labelled_dbn.LabelledDBN)")
            for i, (below, above) in enumerate(zip(rbms, rbms[1:])):
                if below.n_hidden != above.n_visible:
                    raise ValueError(
                        f"RBMs do not chain: rbm {i} has {below.n_hidden} hidden units "
                        f"but rbm {i + 1} has {above.n_visible} visible units; "
                        "layer l's hidden layer is layer l+1's visible layer.")
                if below.dtype != above.dtype:
                    raise ValueError(f"rbm {i} and rbm {i + 1} have different dtypes.")
        else:
            if len(layers) < 2:
                raise ValueError(f"a DBN needs at least 2 layer sizes; got {layers}.")
            sizes = [check_int(size, "each layer size", low=1) for size in layers]
            weight_std = check_real(weight_std, "weight_std", low=0.0)
            dtype = check_float_dtype(dtype)
            seeds = derive_seeds(seed, len(sizes) - 1)
            check_choice(top_units, "top_units", ("binary", "linear"))
            kinds = [BernoulliRBM] * (len(seeds) - 1) + [
                BernoulliGaussianRBM if top_units == "linear" else BernoulliRBM]
            rbms = [kind(a, b, weight_std=weight_std, seed=s, dtype=dtype,
                         name=f"rbm{i}")
                    for i, (kind, a, b, s)
                    in enumerate(zip(kinds, sizes, sizes[1:], seeds))]
        self.rbms = rbms

    def get_config(self) -> dict:
        """The arguments that rebuild a DBN of this shape (see :mod:`rbmtut.saving`)."""
        return {"layers": list(self.layer_sizes), "dtype": self.dtype.name,
                "top_units": self.top_units, "name": self.name}

    @property
    def top(self) -> BernoulliRBM | BernoulliGaussianRBM:
        """The top RBM (the undirected associative memory)."""
        return self.rbms[-1]


    @property
    def layer_sizes(self) -> tuple[int, ...]:
        """``(n_0, ..., n_L)``, visible layer first."""
        return (self.rbms[0].n_visible,) + tuple(rbm.n_hidden for rbm in self.rbms)

    def recognition_layers(self) -> list:
        """``[(W_l, c_l)]`` of the RBMs below the top."""
        return [(rbm.W, rbm.c) for rbm in self.rbms[:-1]]

    def generative_layers(self) -> list:
        """``[(W_l^T, b_l)]`` of the RBMs below the top, top-down."""
        return [(tf.transpose(rbm.W), rbm.b) for rbm in reversed(self.rbms[:-1])]

    def unroll(self, *, code: str | None = None) -> Autoencoder:
        """Unroll into a deep autoencoder (Hinton & Salakhutdinov 2006).

        Encoder layer ``l`` starts as a copy of ``(W_l, c_l)``; the decoder
        as copies of ``(W_l^T, b_l)`` in reverse order, untied from the
        encoder.  Its ``encode`` is the mean-field :meth:`up` pass and its
        ``decode`` the mean-field :meth:`down` pass from the top.

        With linear top units the code layer is the top's hidden mean ``c +
        h^{L-1} W``, exactly the linear code layer of Hinton & Salakhutdinov.

        Args:
            code: ``"logistic"`` or ``"linear"`` code units; default: the top
                RBM's (``"linear"`` for linear top units, which cannot be
                read as logistic).

        Returns:
            An untied :class:`rbmtut.autoencoders.Autoencoder` with sigmoid
            hidden and output units and sizes ``n_0, ..., n_L, ..., n_0``.
        """
        if code is None:
            code = "linear" if self.top_units == "linear" else "logistic"
        if code not in ("logistic", "linear"):
            raise ValueError(f"code must be 'logistic' or 'linear'; got {code!r}.")
        if code == "logistic" and self.top_units == "linear":
            raise ValueError("the top RBM has linear hidden units; unroll it with "
                             "code='linear' (or leave code out).")
        code_activation = "sigmoid" if code == "logistic" else "linear"
        model = Autoencoder(self.layer_sizes, activation="sigmoid",
                            code_activation=code_activation, output="sigmoid",
                            dtype=self.dtype, name=f"{self.name}_autoencoder")
        for rbm, W, c in zip(self.rbms, model.encoder_weights, model.encoder_biases):
            W.assign(rbm.W)
            c.assign(rbm.c)
        for rbm, W, b in zip(reversed(self.rbms), model.decoder_weights,
                             model.decoder_biases):
            W.assign(tf.transpose(rbm.W))
            b.assign(rbm.b)
        return model

    def __repr__(self) -> str:
        return f"DBN(layer_sizes={list(self.layer_sizes)}, dtype={self.dtype.name})"
