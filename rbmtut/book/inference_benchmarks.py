"""Benchmarks of inference: AIS against its matrix-multiply floor, and Hamming search.

Like :mod:`rbmtut.book.benchmarks`, every function returns a
:class:`~rbmtut.book.timing.Benchmark` of contenders timed side by side.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from .. import hashing
from .._validation import check_int
from ..likelihood import ais_log_partition, ais_log_weights, ais_schedule
from ..rbm import BernoulliRBM
from .floors import ais_matmul_floor
from .timing import Benchmark, interleaved

__all__ = ["ais_throughput", "float_knn", "search_throughput"]


# --- AIS ------------------------------------------------------------------------------


def ais_throughput(rbm: BernoulliRBM, *, n_runs: int = 100, betas=None, base_bias=None,
                   repeats: int = 1, xla: bool = False) -> Benchmark:
    """Chain steps per second (temperatures x runs / s) of ``ais_log_partition``.

    Beside it, the matrix-multiply floor (:func:`ais_matmul_floor`) and,
    with ``xla``, the same annealing loop compiled by XLA (which rounds
    differently, so its estimates differ in the last bits).

    Args:
        rbm: the model whose ``log Z`` is estimated.
        n_runs: parallel AIS runs.
        betas: the schedule (default :func:`rbmtut.likelihood.ais_schedule`).
        base_bias: base-rate biases, as for ``ais_log_partition``.
        repeats: interleaved rounds.
        xla: add the XLA row (its warm-up compiles for this schedule's length,
            which costs one extra run).

    Returns:
        A :class:`~rbmtut.book.timing.Benchmark` with rows ``"floor"``,
        ``"rbmtut"`` (and ``"xla"``); the row's seconds are the whole run's.
    """
    betas = ais_schedule() if betas is None else np.asarray(betas, np.float64)
    n_temperatures = len(betas) - 1
    floor = ais_matmul_floor(rbm.n_visible, rbm.n_hidden, n_runs)
    weights = ais_log_weights

    def ais(schedule):
        return lambda: ais_log_partition(rbm, n_runs=n_runs, betas=schedule,
                                         base_bias=base_bias, seed=0)

    def warm_ais():  # two lengths: the reduce_retracing trace then fits any length
        ais(np.linspace(0, 1, 3))()
        ais(np.linspace(0, 1, 4))()

    runs = {"floor": (lambda: float(floor(n_temperatures)), lambda: float(floor(2))),
            "rbmtut": (ais(betas), warm_ais)}
    if xla:
        compiled = tf.function(weights.python_function, jit_compile=True)
        if base_bias is None:
            base = tf.zeros(rbm.n_visible, rbm.dtype)
        else:
            base = tf.constant(base_bias, rbm.dtype)
        schedule = tf.constant(betas, rbm.dtype)
        args = (rbm.W, rbm.b, rbm.c, base, schedule, tf.constant(n_runs))
        rng = tf.random.Generator.from_seed(0)
        runs["xla"] = lambda: compiled(*args, rng).numpy()
    times = interleaved(runs, repeats=repeats, untraced=(floor, weights))
    work = n_temperatures * n_runs
    bench = Benchmark(
        f"AIS, {n_runs} runs x {n_temperatures:,} temperatures, "
        f"{rbm.n_visible}x{rbm.n_hidden} RBM, best of {repeats}",
        "chain steps/s", elsewhere=_elsewhere(times),
    )
    bench.add("floor", "matrix-multiply floor (2 matmuls/temperature)",
              work, times["floor"].best)
    bench.add("rbmtut", "rbmtut likelihood.ais_log_partition",
              work, times["rbmtut"].best)
    if xla:
        bench.add("xla", "the same loop compiled with XLA", work, times["xla"].best)
    return bench


# --- search ---------------------------------------------------------------------------


def float_knn(queries, database, n_neighbors: int, *,
              block_size: int = 256) -> hashing.Neighbours:
    """Exact k nearest neighbours by Euclidean distance, brute force,
    in blocks of queries.

    Ranks by ``|x|^2 - 2 q.x`` (the query's own norm does not change the
    order), from one matrix product per block, with ``tf.math.top_k``.

    Returns:
        :class:`~rbmtut.hashing.Neighbours` with indices (n_queries, n_neighbors)
        and squared distances, nearest first.
    """
    database = tf.convert_to_tensor(np.asarray(database, np.float32))
    queries = np.asarray(queries, np.float32)
    n_neighbors = check_int(
        n_neighbors, "n_neighbors", low=1, high=int(database.shape[0])
    )
    norms = tf.reduce_sum(tf.square(database), axis=1)
    indices, distances = [], []
    for start in range(0, len(queries), block_size):
        q = tf.constant(queries[start:start + block_size])
        # larger = nearer
        score = 2.0 * tf.matmul(q, database, transpose_b=True) - norms
        top = tf.math.top_k(score, k=n_neighbors)
        indices.append(top.indices.numpy())
        q_norms = tf.reduce_sum(tf.square(q), axis=1, keepdims=True)
        distances.append((q_norms - top.values).numpy())
    return hashing.Neighbours(np.concatenate(indices), np.concatenate(distances))


def search_throughput(database, queries, *, n_bits=(32, 64), n_neighbors: int = 10,
                      repeats: int = 3, seed: int = 0) -> Benchmark:
    """Queries per second: Hamming k-NN on packed codes vs float k-NN, all exhaustive.

    The codes are random-hyperplane LSH bits of the data
    (:func:`rbmtut.hashing.fit_lsh`; any hash's codes cost the same to
    search); the float searches (:func:`float_knn`) use the same projections
    before binarisation, and the raw vectors.  Also timed: the Hamming
    distances alone, without ranking them.

    Returns:
        A :class:`~rbmtut.book.timing.Benchmark` in queries/s with rows
        ``"hamming-<bits>"``, ``"distances-<bits>"``, ``"float-<bits>"`` and
        ``"float-pixels"``; ``notes`` give each representation's bytes per item.
    """
    database = np.asarray(database, np.float32)
    queries = np.asarray(queries, np.float32)
    runs, labels, notes = {}, {}, []
    for bits in n_bits:
        lsh = hashing.fit_lsh(database, bits, seed=seed)

        def project(x, h=lsh):
            return ((x - h.mean) @ h.projection).astype(np.float32)

        db_real, q_real = project(database), project(queries)
        db_codes = hashing.pack_bits(hashing.binarize_codes(db_real, 0.0))
        q_codes = hashing.pack_bits(hashing.binarize_codes(q_real, 0.0))
        runs[f"hamming-{bits}"] = (
            lambda d=db_codes, q=q_codes: hashing.hamming_knn(q, d, n_neighbors)
        )
        runs[f"distances-{bits}"] = (
            lambda d=db_codes, q=q_codes: hashing.hamming_distances(q, d)
        )
        runs[f"float-{bits}"] = lambda d=db_real, q=q_real: float_knn(q, d, n_neighbors)
        labels.update({
            f"hamming-{bits}": f"Hamming k-NN, {bits}-bit packed codes",
            f"distances-{bits}": f"  of which: Hamming distances alone, {bits} bits",
            f"float-{bits}": f"float k-NN, the {bits} projections (float32)",
        })
        code_bytes = db_codes.words.itemsize * db_codes.words.shape[1]
        notes.append(
            f"{bits} bits: {code_bytes} bytes per item packed, {4 * bits} as float32"
        )
    runs["float-pixels"] = lambda: float_knn(queries, database, n_neighbors)
    labels["float-pixels"] = f"float k-NN, {database.shape[1]} pixels (float32)"
    notes.append(
        f"pixels: {4 * database.shape[1]:,} bytes per item; both searches use every "
        "core (Hamming: NumPy, a thread per block of queries; float k-NN: TensorFlow)"
    )
    times = interleaved(runs, repeats=repeats)
    bench = Benchmark(
        f"exhaustive {n_neighbors}-NN search, {len(queries):,} queries in "
        f"{len(database):,} items, best of {repeats}",
        "queries/s", notes=notes, elsewhere=_elsewhere(times),
    )
    for key, label in labels.items():
        bench.add(key, label, len(queries), times[key].best)
    return bench


def _elsewhere(times) -> float:
    """The largest share of CPU time other processes used while
    ``times`` were measured."""
    return max((t.elsewhere for t in times.values()), default=float("nan"))
