"""Shared by test_dbn.py, test_pretraining.py and test_updown.py: small stacks and NumPy references."""

import numpy as np
import tensorflow as tf

from rbmtut.data import bars_and_stripes
from rbmtut.dbn import DBN
from conftest import random_rbm


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def random_dbn(sizes, scale=1.0, seed=0, dtype=tf.float64):
    """A DBN of RBMs with Gaussian weights and biases (not trained)."""
    return DBN([random_rbm(a, b, scale, seed=seed + i, dtype=dtype)
                for i, (a, b) in enumerate(zip(sizes, sizes[1:]))])


def numpy_params(model):
    return [[p.numpy().astype(np.float64) for p in rbm.parameters] for rbm in model.rbms]


def uniforms(rng):
    """Draw uniforms exactly as ``sample_bernoulli`` does, one call per layer."""
    return lambda shape: rng.uniform(shape, dtype=tf.float64).numpy()


X = np.tile(bars_and_stripes(4), (4, 1))  # 120 binary rows of 16 pixels
