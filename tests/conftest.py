"""Shared fixtures: small random RBMs and brute-force (NumPy float64) references."""

import numpy as np
import pytest
import tensorflow as tf


def _split_the_cpu_into_two_logical_devices():
    """Give test_distribute.py two logical CPUs for its MirroredStrategy.

    Logical devices can only be configured before TensorFlow starts its
    runtime, which in a pytest session happens at the first TF op of any
    test, so it is done here, while conftest is imported.  The other tests
    are unaffected: ops still run on /cpu:0 with the same kernels and the
    same shared thread pool (training runs hash identically with one or two
    logical CPUs).  If the runtime has already started, test_distribute.py
    fails and says why.
    """
    try:
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    except RuntimeError:
        pass


_split_the_cpu_into_two_logical_devices()

from rbmtut.rbm import BernoulliRBM  # noqa: E402  (after the setup, should an import ever run an op)


def random_rbm(n_visible, n_hidden, scale, seed, dtype=tf.float64):
    """An RBM with Gaussian weights and biases of standard deviation ``scale``."""
    rng = np.random.default_rng(seed)
    rbm = BernoulliRBM(n_visible, n_hidden, dtype=dtype)
    rbm.W.assign(rng.normal(0, scale, (n_visible, n_hidden)))
    rbm.b.assign(rng.normal(0, scale, n_visible))
    rbm.c.assign(rng.normal(0, scale, n_hidden))
    return rbm


def binary_states(n):
    """All 2**n binary vectors, row k = bits of k (least significant first)."""
    return np.array([[(k >> i) & 1 for i in range(n)] for k in range(2**n)], dtype=np.float64)


class BruteForce:
    """The joint table p(v, h) of a small RBM, computed naively in float64."""

    def __init__(self, rbm):
        self.W, self.b, self.c = (np.asarray(p.numpy(), np.float64) for p in rbm.parameters)
        self.V = binary_states(len(self.b))
        self.H = binary_states(len(self.c))
        # energy[i, j] = E(V_i, H_j), written as the textbook sum
        self.energy = -(
            (self.V @ self.b)[:, None] + (self.H @ self.c)[None, :] + self.V @ self.W @ self.H.T
        )
        shift = (-self.energy).max()
        self.log_z = shift + np.log(np.exp(-self.energy - shift).sum())
        self.joint = np.exp(-self.energy - self.log_z)
        self.p_v = self.joint.sum(axis=1)
        self.p_h = self.joint.sum(axis=0)

    def free_energy(self):
        """F(v) = -log sum_h exp(-E(v, h)) for every visible state."""
        m = (-self.energy).max(axis=1, keepdims=True)
        return -(m[:, 0] + np.log(np.exp(-self.energy - m).sum(axis=1)))


@pytest.fixture(params=[(5, 3, 0.5), (4, 6, 2.0), (6, 4, 8.0)], ids=["small-w", "wide", "large-w"])
def small_rbm(request):
    n_visible, n_hidden, scale = request.param
    return random_rbm(n_visible, n_hidden, scale, seed=n_visible * 100 + n_hidden)
