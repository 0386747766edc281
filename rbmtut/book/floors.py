"""Matrix-multiply floors: the matrix products of an update and nothing else, compiled.

The *matrix-multiply floor* of a training update is a compiled loop that
performs only the update's matrix products, on the same data, batches and
sizes, with no sampling, no non-linearities and no parameter update: the
time no implementation of the same arithmetic can beat on this machine.
Per update of an RBM with ``n_visible x n_hidden`` weights:

- CD-k: ``v W`` (positive phase, reused for the first hidden sample),
  ``h W^T`` and then ``k - 1`` more steps of ``v W``, ``h W^T``; ``v_k W``
  for the negative statistics; and the two outer products ``v^T h`` and
  ``v_k^T h_k``: ``2 k + 3`` products.
- PCD-k: the positive phase ``v W``; ``k`` steps ``h -> v -> h`` from the
  chains' stored hidden states (``h W^T`` and ``v W`` each), the last ``v_k W``
  serving the statistics too; and the two outer products: ``2 k + 3``, as for
  CD-k (a chain that stored only visible states would need one more ``v W``).
- FPCD-k: as PCD-k, but the chains keep only visible states and sample with
  the fast-weighted model, so the chain ends' hidden input under the regular
  weights is one more product: ``2 k + 4``.
- PT-k with ``R`` temperatures: the positive phase; ``k`` steps at every
  temperature (``2 k R`` batch-sized products); one ``v W`` of all replicas
  for the swap's free energies (``R``); the hidden input of the ``beta = 1``
  replica and the two outer products: ``4 + (2 k + 1) R``.
- AIS: one Gibbs transition per temperature, ``v W`` and ``h W^T``: 2.

Counts are in units of one product of a batch of rows with ``W`` (``batch x
n_visible x n_hidden`` multiply-adds), with as many persistent chains (per
temperature) as rows in a batch; centering adds no product.
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

from .._validation import check_choice, check_int

__all__ = ["matmuls_per_update", "unit_weights", "matmul_floor", "ais_matmul_floor"]


def matmuls_per_update(method: str, k: int, *, n_temperatures: int | None = None
                       ) -> int:
    """Batch-sized matrix products in one update (see the module docstring).

    Args:
        method: ``"cd"``, ``"pcd"``, ``"fpcd"`` or ``"pt"``.
        k: Gibbs steps per update, >= 1.
        n_temperatures: ``"pt"`` only: the number of temperatures ``R``, >= 2.

    Returns:
        ``2k + 3`` (CD-k, PCD-k), ``2k + 4`` (FPCD-k) or ``4 + (2k + 1) R`` (PT-k).
    """
    check_choice(method, "method", ("cd", "pcd", "fpcd", "pt"))
    k = check_int(k, "k", low=1)
    if method != "pt":
        if n_temperatures is not None:
            raise ValueError(f"n_temperatures is only used by method='pt', not "
                             f"{method!r}.")
        return 2 * k + 3 + (method == "fpcd")
    if n_temperatures is None:
        raise ValueError("method='pt' needs n_temperatures, the number of "
                         "temperatures of its ladder.")
    n_temperatures = check_int(n_temperatures, "n_temperatures", low=2)
    return 4 + (2 * k + 1) * n_temperatures


def unit_weights(n_visible, n_hidden, seed):
    """Gaussian weights whose largest singular value is about 1.

    Products of a chain stay of order one, so the floor never meets
    overflow or denormal numbers (which are slow and would flatter rbmtut).
    """
    scale = 1.0 / (math.sqrt(n_visible) + math.sqrt(n_hidden))
    return tf.random.stateless_normal(
        (n_visible, n_hidden), seed=[seed, 0], stddev=scale
    )


def matmul_floor(data, batch_size: int, n_hidden: int, *, method: str = "cd",
                 k: int = 1, seed: int = 0) -> tf.types.experimental.GenericFunction:
    """The matrix products of CD-k or PCD-k updates and nothing else, compiled.

    Args:
        data: the training set (N, n_visible), float32.
        batch_size: rows per update.
        n_hidden: hidden units.
        method, k: ``"cd"`` or ``"pcd"``, and the Gibbs steps per update
            (see :func:`matmuls_per_update`).
        seed: seed of the stand-in weights.

    Returns:
        A ``tf.function`` ``epoch(order)``: for each row of ``order``
        (n_batches, batch_size) of int32 indices into ``data``, the products
        of one update on those rows, all in one loop, each update after the
        previous one (their statistics are summed); returns a scalar so that
        callers can wait for it.  The PCD chains' hidden states are read,
        not written (storing them is not a matrix product).
    """
    check_choice(method, "method", ("cd", "pcd"))
    n_products = matmuls_per_update(method, k)  # also checks k
    data = tf.convert_to_tensor(data, tf.float32)
    W = tf.Variable(unit_weights(int(data.shape[1]), n_hidden, seed), name="W")
    chains = tf.Variable(tf.matmul(data[:batch_size], W), name="chain_hidden")

    def update(v):
        a = tf.matmul(v, W)  # positive phase
        h = chains.read_value() if method == "pcd" else a
        for _ in range(k):
            v_model = tf.matmul(h, W, transpose_b=True)
            h = a_model = tf.matmul(v_model, W)
        positive = tf.matmul(v, a, transpose_a=True)
        negative = tf.matmul(v_model, a_model, transpose_a=True)
        return positive - negative

    @tf.function(input_signature=[tf.TensorSpec([None, batch_size], tf.int32)])
    def epoch(order):
        def body(i, total):
            # An update starts when the previous one has finished, as in training, where
            # it needs the new weights; otherwise the loop could overlap updates.
            with tf.control_dependencies([total]):
                v = tf.gather(data, order[i])
            return i + 1, total + update(v)

        zeros = tf.zeros([data.shape[1], n_hidden])
        _, total = tf.while_loop(lambda i, _: i < tf.shape(order)[0], body, (0, zeros))
        return tf.reduce_sum(total)

    epoch.matmuls_per_update = n_products
    return epoch


def ais_matmul_floor(n_visible: int, n_hidden: int, n_runs: int, *,
                     seed: int = 0) -> tf.types.experimental.GenericFunction:
    """The two matrix products of each AIS temperature, ``v W`` and ``h W^T``, compiled.

    The stand-in weights are scaled to a largest singular value of exactly 1
    (to float precision), so that thousands of products in a row neither
    overflow nor decay into denormal numbers.

    Returns:
        A ``tf.function`` ``sweep(n_temperatures)`` (an int32 scalar) that runs
        them for ``n_runs`` chains at each temperature; returns a scalar.
    """
    weights = unit_weights(n_visible, n_hidden, seed).numpy()
    W = tf.Variable(weights / np.linalg.norm(weights, 2), name="W")
    v0 = tf.random.stateless_uniform((n_runs, n_visible), seed=[seed, 1])

    @tf.function(input_signature=[tf.TensorSpec([], tf.int32)])
    def sweep(n_temperatures):
        def body(i, v):
            return i + 1, tf.matmul(tf.matmul(v, W), W, transpose_b=True)

        _, v = tf.while_loop(lambda i, _: i < n_temperatures, body, (0, v0))
        return tf.reduce_sum(v)

    return sweep
