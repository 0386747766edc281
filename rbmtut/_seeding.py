"""Seeds at the entry points, generators inside: compiled functions called with
an int seed."""

from __future__ import annotations

from typing import Callable

import tensorflow as tf

from ._loop import compile_step
from ._validation import check_seed

__all__ = ["SeededFunction"]


class SeededFunction:
    """A compiled ``fn(*args, rng=generator)`` that callers give an int seed instead.

    ``tf.function`` traces again for every new ``tf.random.Generator`` it is
    handed (about half a second each).  This keeps one generator per function
    and resets it to ``seed`` before each call: the numbers of
    ``tf.random.Generator.from_seed(seed)``, traced once.  Under a
    ``tf.distribute`` scope a fresh generator is used instead.  Not for
    concurrent calls from several threads.

    Args:
        fn: ``fn(*args, rng) -> tensors``.
        compile: compile ``fn`` (False: it is a ``tf.function``
            already, or runs eagerly).
    """

    def __init__(self, fn: Callable, *, compile: bool = True):
        self.function = compile_step(fn) if compile else fn
        self._rng: tf.random.Generator | None = None

    def generator(self, seed: int) -> tf.random.Generator:
        """The generator in the state
        ``tf.random.Generator.from_seed(seed)`` starts in."""
        seed = check_seed(seed)
        if tf.distribute.has_strategy():
            return tf.random.Generator.from_seed(seed)
        if self._rng is None:
            with tf.init_scope():
                self._rng = tf.random.Generator.from_seed(seed)
        else:
            self._rng.reset_from_seed(seed)
        return self._rng

    def __call__(self, seed: int, *args):
        return self.function(*args, rng=self.generator(seed))
