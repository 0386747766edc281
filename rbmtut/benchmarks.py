"""Benchmarks: rbmtut side by side with scikit-learn, a matrix-multiply floor and itself.

Each function measures one question on data it is given and returns a
:class:`~rbmtut.timing.Benchmark` table (or a few small named results).  The
performance appendix of the book (``appendix_performance``) and
``make bench`` call the same functions, so they measure the same things.

The *matrix-multiply floor* of a training update is a compiled loop that
performs only the update's matrix products, on the same data, batches and
sizes, with no sampling, no non-linearities and no parameter update: the
time no implementation of the same arithmetic can beat on this machine.
Per update of an RBM with ``n_visible x n_hidden`` weights:

- CD-k: ``v W`` (positive phase, reused for the first hidden sample),
  ``h W^T`` and then ``k - 1`` more steps of ``v W``, ``h W^T``; ``v_k W``
  for the negative statistics; and the two outer products ``v^T h`` and
  ``v_k^T h_k``: ``2 k + 3`` products.
- PCD-k: the positive phase ``v W``, ``k`` full Gibbs steps on the chains
  (``2 k``), ``v_k W`` and the two outer products: ``2 k + 4``.
- AIS: one Gibbs transition per temperature, ``v W`` and ``h W^T``: 2.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from typing import NamedTuple

import numpy as np
import tensorflow as tf
from tqdm.auto import tqdm

from . import data as _data
from . import estimators, fitting, hashing
from .rbm import BernoulliRBM
from .timing import Benchmark, cpu_elsewhere, interleaved
from .training import RBMTrainer

__all__ = [
    "matmuls_per_update", "matmul_floor", "ais_matmul_floor", "blas_threads", "training_throughput",
    "compile_modes", "SweepPoint", "throughput_sweep", "ClassicRun", "classic_tutorial",
    "ais_throughput", "float_knn", "search_throughput", "ONEDNN_SETTINGS", "environment_comparison",
    "THEANO_TUTORIAL",
]

#: The RBM tutorial of the Theano deep-learning tutorials: 500 hidden units,
#: PCD-15, learning rate 0.1, batch 20, 15 epochs over MNIST's first 50,000
#: training digits, "122.466 minutes on a Intel Xeon E5430 @ 2.66GHz CPU, with
#: a single-threaded GotoBLAS".
THEANO_TUTORIAL = {"minutes": 122.466, "digits": 50_000, "epochs": 15, "batch_size": 20,
                   "k": 15, "n_hidden": 500, "learning_rate": 0.1}


def matmuls_per_update(method: str, k: int) -> int:
    """Matrix products in one CD-k (``2k + 3``) or PCD-k (``2k + 4``) update."""
    if method not in ("cd", "pcd") or not isinstance(k, int) or k < 1:
        raise ValueError(f"need method 'cd' or 'pcd' and an int k >= 1; got {method!r}, {k!r}.")
    return 2 * k + (3 if method == "cd" else 4)


def _unit_weights(n_visible, n_hidden, seed):
    """Gaussian weights whose largest singular value is about 1.

    Products of a chain stay of order one, so the floor never meets
    overflow or denormal numbers (which are slow and would flatter rbmtut).
    """
    scale = 1.0 / (math.sqrt(n_visible) + math.sqrt(n_hidden))
    return tf.random.stateless_normal((n_visible, n_hidden), seed=[seed, 0], stddev=scale)


def matmul_floor(data, batch_size: int, n_hidden: int, *, method: str = "cd", k: int = 1,
                 seed: int = 0) -> tf.types.experimental.GenericFunction:
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
        callers can wait for it.  The PCD chains are read, not written
        (storing them is not a matrix product).
    """
    n_products = matmuls_per_update(method, k)  # also checks method and k
    data = tf.convert_to_tensor(data, tf.float32)
    W = tf.Variable(_unit_weights(int(data.shape[1]), n_hidden, seed), name="W")
    chains = tf.Variable(data[:batch_size], name="chains")

    def update(v):
        a = tf.matmul(v, W)  # positive phase
        v_model = chains.read_value() if method == "pcd" else v
        h = a
        for step in range(k):
            if method == "pcd" or step > 0:
                h = tf.matmul(v_model, W)
            v_model = tf.matmul(h, W, transpose_b=True)
        a_model = tf.matmul(v_model, W)
        return tf.matmul(v, a, transpose_a=True) - tf.matmul(v_model, a_model, transpose_a=True)

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
    weights = _unit_weights(n_visible, n_hidden, seed).numpy()
    W = tf.Variable(weights / np.linalg.norm(weights, 2), name="W")
    v0 = tf.random.stateless_uniform((n_runs, n_visible), seed=[seed, 1])

    @tf.function(input_signature=[tf.TensorSpec([], tf.int32)])
    def sweep(n_temperatures):
        def body(i, v):
            return i + 1, tf.matmul(tf.matmul(v, W), W, transpose_b=True)

        return tf.reduce_sum(tf.while_loop(lambda i, _: i < n_temperatures, body, (0, v0))[1])

    return sweep


# --- training ---------------------------------------------------------------------------


def _epoch_data(x, batch_size, n_examples=None, seed=0):
    """``(x, tensor, order)``: the first whole batches of ``x`` and one seeded shuffle of them."""
    x = np.asarray(x, np.float32)
    n = len(x) if n_examples is None else min(int(n_examples), len(x))
    n -= n % batch_size
    if n < 2 * batch_size:
        raise ValueError(f"need at least two batches of {batch_size}; got {n} examples.")
    order = next(fitting.epoch_orders(n, batch_size, seed))
    return x[:n], tf.constant(x[:n]), order


def _trainer(n_visible, n_hidden, batch_size, *, method, k, learning_rate=0.05, momentum=0.5,
             seed=0, **options):
    return RBMTrainer(BernoulliRBM(n_visible, n_hidden, seed=seed), method=method, k=k,
                      learning_rate=learning_rate, momentum=momentum, seed=seed,
                      n_chains=batch_size if method == "pcd" else None, **options)


def _traced_epoch(trainer, data, batch_size):
    """Trace ``trainer``'s compiled epoch for any number of batches; return the function."""
    run_epoch = trainer._run_epoch
    run_epoch.get_concrete_function(tf.TensorSpec(data.shape, data.dtype),
                                    tf.TensorSpec([None, batch_size], tf.int32))
    return run_epoch


def _elsewhere(times) -> float:
    """The largest share of CPU time other processes used while ``times`` were measured."""
    return max((t.elsewhere for t in times.values()), default=float("nan"))


def _algorithm(method, k):
    return f"{method.upper()}-{k}"


def training_throughput(x, *, method: str = "cd", k: int = 1, n_hidden: int = 500,
                        batch_size: int = 100, n_examples: int | None = None,
                        repeats: int = 3, sklearn: bool = True, seed: int = 0) -> Benchmark:
    """Examples per second of one training epoch: floor, rbmtut and scikit-learn.

    Every contender makes one pass over the same float32 digits in batches
    of ``batch_size``: the matrix-multiply floor (:func:`matmul_floor`),
    ``RBMTrainer.epoch`` (one compiled loop, learning rate 0.05, momentum
    0.5) and scikit-learn's ``BernoulliRBM.fit`` with ``n_iter=1`` and the
    same learning rate, with its BLAS at the default number of threads and,
    where that is more than one, at one thread (on a busy machine, BLAS
    threads that wait for a core can be far slower than one thread).
    scikit-learn implements one algorithm, PCD-1 with the chains' hidden
    samples carried between updates: five matrix products per update.

    Args:
        x: binary (or [0, 1]) training data (N, n_visible).
        method, k: the rbmtut algorithm and floor, CD-k or PCD-k.
        n_hidden, batch_size: sizes.
        n_examples: use the first ``n_examples`` digits (default all).
        repeats: interleaved rounds; each contender's best is kept.
        sklearn: include scikit-learn.
        seed: seeds the weights, the shuffle and scikit-learn.

    Returns:
        A :class:`~rbmtut.timing.Benchmark` with rows ``"floor"``,
        ``"rbmtut"`` and, with ``sklearn``, ``"sklearn"`` (and
        ``"sklearn-1-thread"``), in examples/s.
    """
    x, data, order = _epoch_data(x, batch_size, n_examples, seed)
    n, n_visible = x.shape
    floor = matmul_floor(data, batch_size, n_hidden, method=method, k=k, seed=seed)
    trainer = _trainer(n_visible, n_hidden, batch_size, method=method, k=k, seed=seed)
    runs = {
        "floor": (lambda: float(floor(order)), lambda: float(floor(order[:2]))),
        "rbmtut": (lambda: float(trainer.epoch(data, order)), lambda: float(trainer.epoch(data, order[:2]))),
    }
    notes = []
    if sklearn:
        from sklearn.neural_network import BernoulliRBM as SklearnRBM

        peer = SklearnRBM(n_components=n_hidden, learning_rate=0.05, batch_size=batch_size, n_iter=1,
                          random_state=seed)
        threads = blas_threads()
        runs["sklearn"] = (_sklearn_fit(peer, x, None), _sklearn_fit(peer, x[:2 * batch_size], None))
        if threads > 1:
            runs["sklearn-1-thread"] = _sklearn_fit(peer, x, 1)
    run_epoch = _traced_epoch(trainer, data, batch_size)
    times = interleaved(runs, repeats=repeats, untraced=(floor, run_epoch))
    title = (f"{_algorithm(method, k)} training, {n_visible}x{n_hidden}, batch {batch_size}, float32, "
             f"{n:,} digits, one epoch per run, best of {repeats}")
    bench = Benchmark(title, "examples/s", elsewhere=_elsewhere(times))
    bench.add("floor", f"matrix-multiply floor ({floor.matmuls_per_update} matmuls/update)", n,
              times["floor"].best)
    bench.add("rbmtut", f"rbmtut RBMTrainer.epoch, {_algorithm(method, k)}", n, times["rbmtut"].best)
    if sklearn:
        bench.add("sklearn", f"scikit-learn BernoulliRBM.fit (PCD-1), {threads} BLAS threads", n,
                  times["sklearn"].best)
        if "sklearn-1-thread" in times:
            bench.add("sklearn-1-thread", "scikit-learn BernoulliRBM.fit (PCD-1), 1 BLAS thread", n,
                      times["sklearn-1-thread"].best)
        notes.append(f"scikit-learn: PCD-1 only, 5 matmuls/update, computed in {peer.components_.dtype} "
                     "(float64 uniform noise)")
    bench.notes = notes
    return bench


def blas_threads() -> int:
    """Threads of the BLAS that NumPy (and so scikit-learn) multiplies matrices with."""
    from threadpoolctl import threadpool_info  # a dependency of scikit-learn

    return max((pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"),
               default=1)


def _sklearn_fit(peer, x, threads):
    from threadpoolctl import threadpool_limits

    def run():
        with threadpool_limits(limits=threads, user_api="blas"):
            peer.fit(x)

    return run


def compile_modes(x, *, n_hidden: int = 500, batch_size: int = 100, updates: int = 50,
                  eager_updates: int = 10, repeats: int = 3, seed: int = 0) -> Benchmark:
    """Updates per second of CD-1 run eagerly, as ``tf.function``, with XLA, and as a loop.

    ``RBMTrainer.step`` is called once per update with ``compile=False``
    (every op dispatched from Python), ``compile=True`` (one graph per
    update) and ``jit_compile=True`` (XLA); ``RBMTrainer.epoch`` runs all
    the updates in one compiled loop, with and without XLA.

    Returns:
        A :class:`~rbmtut.timing.Benchmark` in updates/s with rows
        ``"eager"``, ``"function"``, ``"xla"``, ``"epoch"``, ``"epoch-xla"``.
    """
    x, data, order = _epoch_data(x, batch_size, updates * batch_size, seed)
    n_visible = x.shape[1]
    batches = [tf.gather(data, rows) for rows in order]
    modes = {"eager": dict(compile=False), "function": {}, "xla": dict(jit_compile=True)}
    runs = {}
    for name, options in modes.items():
        trainer = _trainer(n_visible, n_hidden, batch_size, method="cd", k=1, seed=seed, **options)
        todo = batches[:eager_updates] if name == "eager" else batches
        runs[name] = _steps(trainer, todo), _steps(trainer, todo[:2])
    looped = {"epoch": {}, "epoch-xla": dict(jit_compile=True)}
    for name, options in looped.items():
        trainer = _trainer(n_visible, n_hidden, batch_size, method="cd", k=1, seed=seed, **options)
        runs[name] = lambda t=trainer: float(t.epoch(data, order))  # XLA compiles per shape: warm up on it
    times = interleaved(runs, repeats=repeats)
    bench = Benchmark(f"CD-1 updates, {n_visible}x{n_hidden}, batch {batch_size}, best of {repeats}",
                      "updates/s", elsewhere=_elsewhere(times))
    labels = {"eager": "eager: step(), compile=False", "function": "tf.function: step()",
              "xla": "XLA: step(), jit_compile=True", "epoch": "tf.function: epoch(), one loop",
              "epoch-xla": "XLA: epoch(), one loop"}
    for name, label in labels.items():
        work = eager_updates if name == "eager" else len(order)
        bench.add(name, label, work, times[name].best)
    return bench


def _steps(trainer, batches):
    def run():
        loss = None
        for batch in batches:
            loss = trainer.step(batch)
        float(loss)

    return run


class SweepPoint(NamedTuple):
    """CD-1 throughput (examples/s) of rbmtut and of its floor at one size."""

    batch_size: int
    n_hidden: int
    rbmtut: float
    floor: float


def throughput_sweep(x, *, batch_sizes=(10, 20, 50, 100, 200, 500),
                     hidden_sizes=(100, 250, 500, 1000, 2000), n_examples: int = 3000,
                     min_updates: int = 10, repeats: int = 3, progress: bool = True,
                     seed: int = 0) -> list[SweepPoint]:
    """CD-1 examples/s of ``RBMTrainer.epoch`` and the floor over batch sizes and widths.

    Batch sizes vary at 500 hidden units, widths at batch 100.  Each point
    uses ``n_examples`` digits, or ``min_updates`` batches if that is more
    (``progress`` shows a bar over the sizes).

    Returns:
        One :class:`SweepPoint` per size, batch sizes first.
    """
    sizes = [(b, 500) for b in batch_sizes]
    sizes += [(100, h) for h in hidden_sizes if (100, h) not in sizes]
    points = []
    for batch_size, n_hidden in tqdm(sizes, disable=not progress, unit="size"):
        bench = training_throughput(x, n_hidden=n_hidden, batch_size=batch_size,
                                    n_examples=max(n_examples, min_updates * batch_size),
                                    repeats=repeats, sklearn=False, seed=seed)
        points.append(SweepPoint(batch_size, n_hidden, bench.rate("rbmtut"), bench.rate("floor")))
    return points


# --- the classic tutorial setting -------------------------------------------------------


class ClassicRun(NamedTuple):
    """A timed run in the Theano tutorial's setting (PCD-15, batch 20, 500 hidden).

    Attributes:
        updates: parameter updates timed.
        seconds: their wall-clock time.
        updates_per_epoch: updates in one epoch of the data used.
        elsewhere: the share of CPU time other processes used meanwhile
            (see :func:`rbmtut.timing.cpu_elsewhere`).
    """

    updates: int
    seconds: float
    updates_per_epoch: int
    elsewhere: float = float("nan")

    @property
    def seconds_per_update(self) -> float:
        return self.seconds / self.updates

    def minutes_for(self, updates: int) -> float:
        """Minutes for ``updates`` updates at the measured rate (a projection)."""
        return updates * self.seconds_per_update / 60


def classic_tutorial(x, *, epochs: int = 15, updates: int | None = None, repeats: int = 1,
                     progress: bool = True, seed: int = 0) -> ClassicRun:
    """Time rbmtut in the setting of the Theano RBM tutorial (:data:`THEANO_TUTORIAL`).

    500 hidden units, PCD-15 with 20 chains, batch 20, learning rate 0.1,
    no momentum.  Without ``updates``, the whole run of ``epochs`` epochs
    through :func:`rbmtut.fitting.train_epochs` (a progress bar over the
    epochs), tracing included; with ``updates``, the best of ``repeats``
    timings of that many updates of the first epoch, after a warm-up.

    Args:
        x: training data (N, n_visible) in [0, 1].

    Returns:
        A :class:`ClassicRun`.
    """
    s = THEANO_TUTORIAL
    x = np.asarray(x, np.float32)
    per_epoch = len(x) // s["batch_size"]
    trainer = _trainer(x.shape[1], s["n_hidden"], s["batch_size"], method="pcd", k=s["k"],
                       learning_rate=s["learning_rate"], momentum=0.0, seed=seed)
    if updates is None:
        start = time.perf_counter()
        with cpu_elsewhere() as elsewhere:
            fitting.train_epochs(trainer, x, epochs=epochs, batch_size=s["batch_size"],
                                 progress=progress)
        return ClassicRun(epochs * per_epoch, time.perf_counter() - start, per_epoch, elsewhere.share)
    _, data, order = _epoch_data(x, s["batch_size"], seed=seed)
    order = order[:updates]
    run_epoch = _traced_epoch(trainer, data, s["batch_size"])
    runs = {"run": (lambda: float(trainer.epoch(data, order)), lambda: float(trainer.epoch(data, order[:2])))}
    times = interleaved(runs, repeats=repeats, untraced=(run_epoch,))
    return ClassicRun(len(order), times["run"].best, per_epoch, times["run"].elsewhere)


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
        betas: the schedule (default :func:`rbmtut.estimators.ais_schedule`).
        base_bias: base-rate biases, as for ``ais_log_partition``.
        repeats: interleaved rounds.
        xla: add the XLA row (its warm-up compiles for this schedule's length,
            which costs one extra run).

    Returns:
        A :class:`~rbmtut.timing.Benchmark` with rows ``"floor"``,
        ``"rbmtut"`` (and ``"xla"``); the row's seconds are the whole run's.
    """
    betas = estimators.ais_schedule() if betas is None else np.asarray(betas, np.float64)
    n_temperatures = len(betas) - 1
    floor = ais_matmul_floor(rbm.n_visible, rbm.n_hidden, n_runs)
    weights = estimators._ais_log_weights

    def ais(schedule):
        return lambda: estimators.ais_log_partition(rbm, n_runs=n_runs, betas=schedule,
                                                    base_bias=base_bias, seed=0)

    def warm_ais():  # two lengths: the reduce_retracing trace then fits any length
        ais(np.linspace(0, 1, 3))()
        ais(np.linspace(0, 1, 4))()

    runs = {"floor": (lambda: float(floor(n_temperatures)), lambda: float(floor(2))),
            "rbmtut": (ais(betas), warm_ais)}
    if xla:
        compiled = tf.function(weights.python_function, jit_compile=True)
        base = tf.zeros(rbm.n_visible, rbm.dtype) if base_bias is None else tf.constant(base_bias, rbm.dtype)
        args = (rbm.W, rbm.b, rbm.c, base, tf.constant(betas, rbm.dtype), tf.constant(n_runs))
        rng = tf.random.Generator.from_seed(0)
        runs["xla"] = lambda: compiled(*args, rng).numpy()
    times = interleaved(runs, repeats=repeats, untraced=(floor, weights))
    work = n_temperatures * n_runs
    bench = Benchmark(f"AIS, {n_runs} runs x {n_temperatures:,} temperatures, "
                      f"{rbm.n_visible}x{rbm.n_hidden} RBM, best of {repeats}", "chain steps/s",
                      elsewhere=_elsewhere(times))
    bench.add("floor", "matrix-multiply floor (2 matmuls/temperature)", work, times["floor"].best)
    bench.add("rbmtut", "rbmtut estimators.ais_log_partition", work, times["rbmtut"].best)
    if xla:
        bench.add("xla", "the same loop compiled with XLA", work, times["xla"].best)
    return bench


# --- search -----------------------------------------------------------------------------


def float_knn(queries, database, k: int, *, block_size: int = 256) -> hashing.Neighbours:
    """Exact k nearest neighbours by Euclidean distance, brute force, in blocks of queries.

    Ranks by ``|x|^2 - 2 q.x`` (the query's own norm does not change the
    order), from one matrix product per block, with ``tf.math.top_k``.

    Returns:
        :class:`~rbmtut.hashing.Neighbours` with indices (n_queries, k) and
        squared distances, nearest first.
    """
    database = tf.convert_to_tensor(np.asarray(database, np.float32))
    queries = np.asarray(queries, np.float32)
    if not 1 <= k <= database.shape[0]:
        raise ValueError(f"k must be in [1, {database.shape[0]}]; got {k}.")
    norms = tf.reduce_sum(tf.square(database), axis=1)
    indices, distances = [], []
    for start in range(0, len(queries), block_size):
        q = tf.constant(queries[start:start + block_size])
        score = 2.0 * tf.matmul(q, database, transpose_b=True) - norms  # larger = nearer
        top = tf.math.top_k(score, k=k)
        indices.append(top.indices.numpy())
        distances.append((tf.reduce_sum(tf.square(q), axis=1, keepdims=True) - top.values).numpy())
    return hashing.Neighbours(np.concatenate(indices), np.concatenate(distances))


def search_throughput(database, queries, *, n_bits=(32, 64), k: int = 10, repeats: int = 3,
                      seed: int = 0) -> Benchmark:
    """Queries per second: Hamming k-NN on packed codes vs float k-NN, all exhaustive.

    The codes are random-hyperplane LSH bits of the data
    (:func:`rbmtut.hashing.fit_lsh`; any hash's codes cost the same to
    search); the float searches (:func:`float_knn`) use the same projections
    before binarisation, and the raw vectors.  Also timed: the Hamming
    distances alone, without ranking them.

    Returns:
        A :class:`~rbmtut.timing.Benchmark` in queries/s with rows
        ``"hamming-<bits>"``, ``"distances-<bits>"``, ``"float-<bits>"`` and
        ``"float-pixels"``; ``notes`` give each representation's bytes per item.
    """
    database, queries = np.asarray(database, np.float32), np.asarray(queries, np.float32)
    runs, labels, notes = {}, {}, []
    for bits in n_bits:
        lsh = hashing.fit_lsh(database, bits, seed=seed)
        project = lambda x, h=lsh: ((x - h.mean) @ h.projection).astype(np.float32)  # noqa: E731
        db_real, q_real = project(database), project(queries)
        db_codes = hashing.pack_bits(hashing.binarize_codes(db_real, 0.0))
        q_codes = hashing.pack_bits(hashing.binarize_codes(q_real, 0.0))
        runs[f"hamming-{bits}"] = lambda d=db_codes, q=q_codes: hashing.hamming_knn(q, d, k)
        runs[f"distances-{bits}"] = lambda d=db_codes, q=q_codes: hashing.hamming_distances(q, d)
        runs[f"float-{bits}"] = lambda d=db_real, q=q_real: float_knn(q, d, k)
        labels[f"hamming-{bits}"] = f"Hamming k-NN, {bits}-bit packed codes"
        labels[f"distances-{bits}"] = f"  of which: Hamming distances alone, {bits} bits"
        labels[f"float-{bits}"] = f"float k-NN, the {bits} projections (float32)"
        notes.append(f"{bits} bits: {db_codes.words.itemsize * db_codes.words.shape[1]} bytes per item "
                     f"packed, {4 * bits} as float32")
    runs["float-pixels"] = lambda: float_knn(queries, database, k)
    labels["float-pixels"] = f"float k-NN, {database.shape[1]} pixels (float32)"
    notes.append(f"pixels: {4 * database.shape[1]:,} bytes per item; both searches use every core "
                 "(Hamming: NumPy, a thread per block of queries; float k-NN: TensorFlow)")
    times = interleaved(runs, repeats=repeats)
    bench = Benchmark(f"exhaustive {k}-NN search, {len(queries):,} queries in {len(database):,} items, "
                      f"best of {repeats}", "queries/s", notes=notes, elsewhere=_elsewhere(times))
    for key, label in labels.items():
        bench.add(key, label, len(queries), times[key].best)
    return bench


# --- settings that need a fresh process: oneDNN on and off --------------------------------

#: TensorFlow's oneDNN CPU kernels off (the project's setting) and on.
ONEDNN_SETTINGS = {"oneDNN off": {"TF_ENABLE_ONEDNN_OPTS": "0"},
                   "oneDNN on": {"TF_ENABLE_ONEDNN_OPTS": "1"}}


def _child_measurements(n_examples: int, classic_updates: int, ais_temperatures: int) -> dict:
    """What :func:`environment_comparison` times in a process: key -> (what, unit, rate, s, elsewhere)."""
    mnist = _data.load_mnist(verbose=False)
    x = _data.binarize_stochastic(mnist.x_train[:max(n_examples, 20 * classic_updates)], seed=0)
    cd1 = training_throughput(x, n_examples=n_examples, repeats=3, sklearn=False)
    found = {"cd1-floor": ("matrix-multiply floor of CD-1, 784x500, batch 100", "examples/s",
                           *cd1.rows["floor"][1:], cd1.elsewhere),
             "cd1": ("rbmtut CD-1, 784x500, batch 100", "examples/s", *cd1.rows["rbmtut"][1:],
                     cd1.elsewhere)}
    if classic_updates:
        run = classic_tutorial(x, updates=classic_updates, repeats=2)
        found["pcd15"] = (f"rbmtut PCD-15, 784x500, batch 20, {run.updates} updates", "updates/s",
                          1 / run.seconds_per_update, run.seconds, run.elsewhere)
    if ais_temperatures:
        ais = ais_throughput(BernoulliRBM(784, 500), betas=np.linspace(0, 1, ais_temperatures + 1),
                             repeats=2)
        found["ais"] = (f"rbmtut AIS, 100 runs x {ais_temperatures} temperatures, 784x500",
                        "chain steps/s", *ais.rows["rbmtut"][1:], ais.elsewhere)
    return found


def _run_child(env: dict, call: str):
    """Evaluate ``call`` (an expression in this module) in a new Python process; return its value.

    The process runs this interpreter with this copy of ``rbmtut`` first on
    its path, and the environment plus ``env``; the value travels as JSON.
    """
    package_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    path = os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": path, **env}
    code = f"import json, rbmtut.benchmarks as b; print('RESULT', json.dumps(eval({call!r}, vars(b))))"
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=3600)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"the benchmark process ({call}) failed:\n{done.stderr[-3000:]}")
    return json.loads(lines[-1][len("RESULT "):])


def environment_comparison(settings: dict | None = None, *, n_examples: int = 6_000,
                           classic_updates: int = 100, ais_temperatures: int = 500,
                           rounds: int = 1) -> list[Benchmark]:
    """Speed under settings that TensorFlow reads at start-up, each in a fresh process.

    Some settings, such as ``TF_ENABLE_ONEDNN_OPTS``, are read when
    TensorFlow starts, so each setting runs in its own Python process (this
    interpreter, this ``rbmtut``), ``rounds`` times, alternating, and each
    setting's best is kept.  Each process times CD-1 and its floor on
    ``n_examples`` digits (best of 3), then ``classic_updates`` updates of
    PCD-15 at batch 20 and AIS over ``ais_temperatures`` temperatures (best
    of 2 each; 0 skips them).  Starting TensorFlow and loading the data are
    not timed.

    Args:
        settings: name -> environment variables (default
            :data:`ONEDNN_SETTINGS`: oneDNN off, then on).

    Returns:
        One :class:`~rbmtut.timing.Benchmark` per workload, one row per setting.
    """
    settings = ONEDNN_SETTINGS if settings is None else settings
    call = f"_child_measurements({int(n_examples)}, {int(classic_updates)}, {int(ais_temperatures)})"
    best: dict = {name: {} for name in settings}
    for _ in range(rounds):
        for name, env in settings.items():
            for key, row in _run_child(env, call).items():
                if key not in best[name] or row[2] > best[name][key][2]:
                    best[name][key] = row
    tables = []
    for key, (what, unit, *_) in next(iter(best.values())).items():
        elsewhere = max(best[name][key][4] for name in settings)
        bench = Benchmark(f"{what}, best of {rounds} process(es) per setting", unit, elsewhere=elsewhere)
        for name, env in settings.items():
            _, _, rate, seconds, _ = best[name][key]
            variables = " ".join(f"{var}={value}" for var, value in env.items())
            bench.add(name, f"{name} ({variables})" if variables else name, rate * seconds, seconds)
        tables.append(bench)
    return tables
