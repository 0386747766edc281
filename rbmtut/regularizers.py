"""Regularisers for autoencoders, as small callables: input corruption and
code sparsity.

- :class:`Corruption` (``corruption(x, rng)``): Gaussian noise or masking of
  the input, for denoising autoencoders (Vincent et al. 2008);
- :func:`kl_sparsity_penalty` and :func:`squared_sparsity_penalty`: penalties
  on the code units' mean activation, for sparse autoencoders.

:func:`rbmtut.autoencoder_training.fit_autoencoder` takes them; chapter 5
(``05a_autoencoders``) compares them.
"""

from __future__ import annotations

import dataclasses

import tensorflow as tf

from ._validation import check_choice, check_real

__all__ = ["gaussian_corruption", "masking_corruption", "Corruption",
           "kl_sparsity_penalty", "squared_sparsity_penalty", "SPARSITY_PENALTIES"]


def gaussian_corruption(x, stddev: float, rng: tf.random.Generator) -> tf.Tensor:
    """``x + stddev * N(0, 1)``, fresh noise for every entry
    (denoising autoencoders).
    """
    stddev = check_real(stddev, "stddev", low=0.0)
    x = tf.convert_to_tensor(x)
    return x + stddev * rng.normal(tf.shape(x), dtype=x.dtype)


def masking_corruption(x, rate: float, rng: tf.random.Generator) -> tf.Tensor:
    """Set each entry of ``x`` to 0 with probability ``rate`` (masking noise).

    Unlike ``keras.layers.Dropout``, the kept entries are *not* rescaled by
    ``1 / (1 - rate)``: the corrupted input must stay in the data's range,
    and the autoencoder learns to restore the clean value (Vincent et al. 2008).
    """
    rate = check_real(rate, "rate", low=0.0, high=1.0, high_open=True)
    x = tf.convert_to_tensor(x)
    keep = rng.uniform(tf.shape(x), dtype=x.dtype) >= rate
    return tf.where(keep, x, tf.zeros_like(x))


@dataclasses.dataclass(frozen=True)
class Corruption:
    """An input corruption for :func:`rbmtut.autoencoder_training.fit_autoencoder`:
    ``corruption(x, rng)``.

    Attributes:
        kind: ``"gaussian"`` (:func:`gaussian_corruption`, ``level`` is the
            standard deviation) or ``"masking"`` (:func:`masking_corruption`,
            ``level`` is the fraction of entries set to 0).
        level: the amount of noise.
    """

    kind: str
    level: float

    def __post_init__(self):
        check_choice(self.kind, "kind", ("gaussian", "masking"))
        check_real(self.level, "level")
        if not (self.level >= 0 if self.kind == "gaussian" else 0 <= self.level < 1):
            raise ValueError(
                f"level {self.level!r} is out of range for {self.kind} corruption: "
                "a standard deviation >= 0, or a rate in [0, 1).")

    def __call__(self, x, rng: tf.random.Generator) -> tf.Tensor:
        """The corrupted ``x`` (same shape), drawing the noise from ``rng``."""
        if self.kind == "gaussian":
            return gaussian_corruption(x, self.level, rng)
        return masking_corruption(x, self.level, rng)


def kl_sparsity_penalty(mean_activation, target: float, *,
                        per_unit: bool = False) -> tf.Tensor:
    """``sum_j KL(Bernoulli(target) || Bernoulli(mean_activation_j))``, in nats.

    Args:
        mean_activation: each code unit's mean activation over a batch
            (n_units,), in (0, 1) (sigmoid units); clipped to [1e-7, 1 - 1e-7].
        target: the desired mean activation, in (0, 1).
        per_unit: return the (n_units,) terms instead of their sum.

    Returns:
        Scalar tensor (or (n_units,)); 0 exactly when every unit's mean equals
        ``target``.
    """
    target = check_real(target, "target", low=0.0, high=1.0, low_open=True,
                        high_open=True)
    q = tf.convert_to_tensor(mean_activation)
    q = tf.clip_by_value(q, 1e-7, 1 - 1e-7)
    p = tf.constant(target, q.dtype)  # tf.cast(0.1) would round through float32
    terms = p * tf.math.log(p / q) + (1 - p) * tf.math.log((1 - p) / (1 - q))
    return terms if per_unit else tf.reduce_sum(terms)


def squared_sparsity_penalty(mean_activation, target: float, *,
                             per_unit: bool = False) -> tf.Tensor:
    """``sum_j (mean_activation_j - target)^2``: the simpler penalty, for comparison."""
    target = check_real(target, "target")
    q = tf.convert_to_tensor(mean_activation)
    terms = tf.square(q - tf.constant(target, q.dtype))
    return terms if per_unit else tf.reduce_sum(terms)


#: The sparsity penalties that
#: :func:`rbmtut.autoencoder_training.fit_autoencoder` knows, by name.
SPARSITY_PENALTIES = {"kl": kl_sparsity_penalty, "squared": squared_sparsity_penalty}
