"""The labelled deep belief net of Hinton, Osindero & Teh (2006): directed
layers below a :class:`rbmtut.labelled_rbm.LabelledRBM`, a generative model of
digits *and* their labels.

Greedy training gives its layers; :class:`rbmtut.updown.UpDownTrainer`
fine-tunes it on ``(digits, labels)``, the labels clamped in the positive
phase of the top RBM and free in its chain.  It classifies by the top RBM's
free energies of the mean-field penultimate layer, and generates digits of a
chosen class by clamping the label.  Chapter 4 (``04_stacked_pretraining``)
trains one on MNIST.
"""

from __future__ import annotations

import tensorflow as tf

from ._loop import derive_seeds
from ._validation import check_instance, check_seed
from .labelled_rbm import LabelledRBM
from .nn import logistic_pass
from .rbm import BernoulliRBM
from .updown import UntiedDBN

__all__ = ["LabelledDBN"]


class LabelledDBN(UntiedDBN):
    """Directed layers below a :class:`LabelledRBM`: a generative model of
    digits and their labels (Hinton, Osindero & Teh 2006).

    The layers below the top have recognition and generative weights, as in
    :class:`~rbmtut.updown.UntiedDBN` (equal, transposed, after greedy
    training: :meth:`from_rbms`), so :class:`~rbmtut.updown.UpDownTrainer`
    fine-tunes it on ``(digits, labels)``.

    Args:
        layer_sizes: ``[n_0, ..., n_{L-1}, n_L]``; the top RBM joins layer
            ``L - 1`` and the labels to layer ``L``.
        n_labels: label units, >= 2.
        dtype, name: as for :class:`~rbmtut.updown.UntiedDBN`.
    """

    def __init__(self, layer_sizes, n_labels: int, *, dtype=tf.float32,
                 name: str | None = None):
        super().__init__(layer_sizes, dtype=dtype, name=name)
        sizes = self.layer_sizes
        self.top = LabelledRBM(sizes[-2], n_labels, sizes[-1], weight_std=0.0,
                               dtype=self.dtype)

    @classmethod
    def from_rbms(cls, lower, top: LabelledRBM) -> LabelledDBN:
        """Copies of greedily trained RBMs: ``lower`` (bottom first, each a
        :class:`~rbmtut.rbm.BernoulliRBM`) and the labelled ``top``."""
        lower = list(lower)
        if not lower or not all(isinstance(r, BernoulliRBM) and not r.n_labels
                                for r in lower):
            raise TypeError("lower must be a non-empty list of BernoulliRBMs.")
        check_instance(top, "top", LabelledRBM)
        sizes = [lower[0].n_visible] + [r.n_hidden for r in lower]
        for i, (below, above) in enumerate(zip(lower, lower[1:])):
            if below.n_hidden != above.n_visible:
                raise ValueError(f"lower RBMs do not chain: rbm {i} has "
                                 f"{below.n_hidden} hidden units, rbm {i + 1} "
                                 f"{above.n_visible} visible units.")
        if any(r.dtype != top.dtype for r in lower):
            raise ValueError("lower and top must all have the same dtype.")
        if top.n_features != sizes[-1]:
            raise ValueError(f"top has {top.n_features} feature units but the layer "
                             f"below has {sizes[-1]}.")
        model = cls(sizes + [top.n_hidden], top.n_labels, dtype=top.dtype)
        for rbm, R, r, G, g in zip(lower, model.recognition_weights,
                                   model.recognition_biases, model.generative_weights,
                                   model.generative_biases):
            R.assign(rbm.W)
            r.assign(rbm.c)
            G.assign(tf.transpose(rbm.W))
            g.assign(rbm.b)
        for mine, theirs in zip(model.top.parameters, top.parameters):
            mine.assign(theirs)
        return model

    @classmethod
    def from_dbn(cls, dbn):
        """Not for a labelled stack: build one with :meth:`from_rbms`."""
        raise TypeError("LabelledDBN.from_dbn is not defined; use "
                        "LabelledDBN.from_rbms(lower_rbms, labelled_top).")

    def get_config(self) -> dict:
        """The arguments that rebuild a model of this shape."""
        return {**super().get_config(), "n_labels": self.top.n_labels}

    def training_input(self, x, name: str = "x"):
        """``(digits (N, n_0) in [0, 1], integer labels (N,))`` checked, as
        ``(digits, one-hot labels)``."""
        if not (isinstance(x, tuple) and len(x) == 2):
            raise TypeError(f"{name} must be a pair (digits, labels) for a labelled "
                            "DBN.")
        v, y = self.layer_input(x[0], name=name), self.top.label_input(x[1])
        if v.shape[0] != y.shape[0]:
            raise ValueError(f"{name} has {v.shape[0]} digits but {y.shape[0]} "
                             "labels.")
        return v, y

    def penultimate(self, v) -> tf.Tensor:
        """The mean-field recognition pass to layer ``L - 1``: (n, n_{L-1})."""
        return logistic_pass(self.layer_input(v), self.recognition_layers())[0][-1]

    def up(self, v) -> list[tf.Tensor]:
        """Not defined without a label: the top layer depends on it."""
        raise ValueError("a labelled DBN's top layer depends on the label; use "
                         "penultimate(v) and top.label_probabilities.")

    def sample_up(self, v, *, seed: int = 0) -> list[tf.Tensor]:
        """Not defined without a label (see :meth:`up`)."""
        return self.up(v)

    def reconstruction_cross_entropy(self, v) -> tf.Tensor:
        """Not defined without a label (see :meth:`up`)."""
        return self.up(v)

    def sample(self, n: int, *, seed: int = 0, k: int = 1000, start=None,
               compile: bool = True) -> tf.Tensor:
        """Generate with the labels free (:meth:`StackModel.sample`, from noise
        only); :meth:`sample_digits` clamps them."""
        if start is not None:
            raise ValueError("a labelled DBN's chains start from noise; leave start "
                             "out (or clamp labels with sample_digits).")
        return super().sample(n, seed=seed, k=k, compile=compile)

    def label_probabilities(self, v) -> tf.Tensor:
        """``p(y | h^{L-1})`` at the mean-field penultimate layer: (n, n_labels)."""
        return self.top.label_probabilities(self.penultimate(v))

    def error_rate(self, v, labels) -> float:
        """Percentage of rows whose most probable label is wrong."""
        v, y = self.layer_input(v), self.top.label_input(labels)
        if v.shape[0] != y.shape[0]:
            raise ValueError(f"v has {v.shape[0]} rows but labels has {y.shape[0]}; "
                             "pass one label per row.")
        predicted = tf.argmax(self.label_probabilities(v), axis=1)
        return 100.0 * float(tf.reduce_mean(tf.cast(
            predicted != tf.argmax(y, axis=1), tf.float64)))

    def sample_digits(self, labels, *, k: int = 1000, seed: int = 0) -> tf.Tensor:
        """Digits of given classes: the top chain with the labels clamped
        (:meth:`LabelledRBM.sample_features`), then one ancestral pass down.

        Returns:
            The pixels' probabilities ``p(v | h^1)``, (n, n_0).
        """
        top_seed, down_seed = derive_seeds(check_seed(seed), 2)
        pen = self.top.sample_features(labels, k=k, seed=top_seed)[0]
        rng = tf.random.Generator.from_seed(down_seed)
        return logistic_pass(pen, self.generative_layers(), rng,
                             sample_last=False)[0][-1]

    def __repr__(self) -> str:
        return (f"LabelledDBN(layer_sizes={list(self.layer_sizes)}, "
                f"n_labels={self.top.n_labels}, dtype={self.dtype.name})")
