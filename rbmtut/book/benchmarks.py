"""Benchmarks: rbmtut side by side with scikit-learn, a matrix-multiply floor and
itself.

Each function measures one question on data it is given and returns a
:class:`~rbmtut.book.timing.Benchmark` table (or a few small named results).
The performance appendix of the book (``appendix_performance``) and
``make bench`` call the same functions, so they measure the same things.
This module times training; :mod:`rbmtut.book.inference_benchmarks` times AIS
and search.  The floors are in :mod:`rbmtut.book.floors`; settings that need
a fresh process (oneDNN on and off) in :mod:`rbmtut.book.environments`.
"""

from __future__ import annotations

import time
from typing import NamedTuple

import numpy as np
import tensorflow as tf
from tqdm.auto import tqdm

from ..fitting import epoch_orders, train_epochs
from ..learning import RBMTrainer
from ..rbm import BernoulliRBM
from .floors import matmul_floor
from .timing import Benchmark, cpu_elsewhere, interleaved

__all__ = [
    "THEANO_TUTORIAL", "benchmark_trainer", "traced_epoch", "blas_threads",
    "training_throughput", "compile_modes",
    "SweepPoint", "throughput_sweep", "ClassicRun", "classic_tutorial",
]

#: The RBM tutorial of the Theano deep-learning tutorials: 500 hidden units,
#: PCD-15, learning rate 0.1, batch 20, 15 epochs over MNIST's first 50,000
#: training digits, "122.466 minutes on a Intel Xeon E5430 @ 2.66GHz CPU, with
#: a single-threaded GotoBLAS".
THEANO_TUTORIAL = {"minutes": 122.466, "digits": 50_000, "epochs": 15,
                   "batch_size": 20, "k": 15, "n_hidden": 500, "learning_rate": 0.1}


# --- training -------------------------------------------------------------------------


def _epoch_data(x, batch_size, n_examples=None, seed=0):
    """``(x, tensor, order)``: the first whole batches of ``x`` and one seeded
    shuffle of them."""
    x = np.asarray(x, np.float32)
    n = len(x) if n_examples is None else min(int(n_examples), len(x))
    n -= n % batch_size
    if n < 2 * batch_size:
        raise ValueError(
            f"need at least two batches of {batch_size}; got {n} examples."
        )
    order = next(epoch_orders(n, batch_size, seed))
    return x[:n], tf.constant(x[:n]), order


def benchmark_trainer(n_visible, n_hidden, batch_size, *, method, k,
                      learning_rate=0.05, momentum=0.5, seed=0, **options):
    """The trainer every benchmark times: a fresh RBM, momentum SGD, and one PCD
    chain per example of a batch."""
    return RBMTrainer(BernoulliRBM(n_visible, n_hidden, seed=seed), method=method, k=k,
                      learning_rate=learning_rate, momentum=momentum, seed=seed,
                      n_chains=batch_size if method == "pcd" else None, **options)


def traced_epoch(trainer, data, batch_size):
    """Trace ``trainer``'s compiled epoch for any number of batches; return
    the function."""
    run_epoch = trainer.compiled_epoch
    run_epoch.get_concrete_function(tf.TensorSpec(data.shape, data.dtype),
                                    tf.TensorSpec([None, batch_size], tf.int32))
    return run_epoch


def _elsewhere(times) -> float:
    """The largest share of CPU time other processes used while
    ``times`` were measured."""
    return max((t.elsewhere for t in times.values()), default=float("nan"))


def _algorithm(method, k):
    return f"{method.upper()}-{k}"


def training_throughput(x, *, method: str = "cd", k: int = 1, n_hidden: int = 500,
                        batch_size: int = 100, n_examples: int | None = None,
                        repeats: int = 3, sklearn: bool = True,
                        seed: int = 0) -> Benchmark:
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
        A :class:`~rbmtut.book.timing.Benchmark` with rows ``"floor"``,
        ``"rbmtut"`` and, with ``sklearn``, ``"sklearn"`` (and
        ``"sklearn-1-thread"``), in examples/s.
    """
    x, data, order = _epoch_data(x, batch_size, n_examples, seed)
    n, n_visible = x.shape
    floor = matmul_floor(data, batch_size, n_hidden, method=method, k=k, seed=seed)
    trainer = benchmark_trainer(n_visible, n_hidden, batch_size, method=method, k=k,
                                seed=seed)
    runs = {
        "floor": (lambda: float(floor(order)), lambda: float(floor(order[:2]))),
        "rbmtut": (lambda: float(trainer.epoch(data, order)),
                   lambda: float(trainer.epoch(data, order[:2]))),
    }
    notes = []
    if sklearn:
        from sklearn.neural_network import BernoulliRBM as SklearnRBM

        peer = SklearnRBM(n_components=n_hidden, learning_rate=0.05,
                          batch_size=batch_size, n_iter=1, random_state=seed)
        threads = blas_threads()
        runs["sklearn"] = (_sklearn_fit(peer, x, None),
                           _sklearn_fit(peer, x[:2 * batch_size], None))
        if threads > 1:
            runs["sklearn-1-thread"] = _sklearn_fit(peer, x, 1)
    run_epoch = traced_epoch(trainer, data, batch_size)
    times = interleaved(runs, repeats=repeats, untraced=(floor, run_epoch))
    title = (f"{_algorithm(method, k)} training, {n_visible}x{n_hidden}, "
             f"batch {batch_size}, float32, {n:,} digits, one epoch per run, "
             f"best of {repeats}")
    bench = Benchmark(title, "examples/s", elsewhere=_elsewhere(times))
    bench.add("floor",
              f"matrix-multiply floor ({floor.matmuls_per_update} matmuls/update)",
              n, times["floor"].best)
    bench.add("rbmtut",
              f"rbmtut RBMTrainer.epoch, {_algorithm(method, k)}",
              n, times["rbmtut"].best)
    if sklearn:
        bench.add("sklearn",
                  f"scikit-learn BernoulliRBM.fit (PCD-1), {threads} BLAS threads",
                  n, times["sklearn"].best)
        if "sklearn-1-thread" in times:
            bench.add("sklearn-1-thread",
                      "scikit-learn BernoulliRBM.fit (PCD-1), 1 BLAS thread",
                      n, times["sklearn-1-thread"].best)
        notes.append(
            "scikit-learn: PCD-1 only, 5 matmuls/update, computed in "
            f"{peer.components_.dtype} (float64 uniform noise)"
        )
    bench.notes = notes
    return bench


def blas_threads() -> int:
    """Threads of the BLAS that NumPy (and so scikit-learn) multiplies matrices with."""
    from threadpoolctl import threadpool_info  # a dependency of scikit-learn

    blas_pools = (pool for pool in threadpool_info() if pool["user_api"] == "blas")
    return max((pool["num_threads"] for pool in blas_pools), default=1)


def _sklearn_fit(peer, x, threads):
    from threadpoolctl import threadpool_limits

    def run():
        with threadpool_limits(limits=threads, user_api="blas"):
            peer.fit(x)

    return run


def compile_modes(x, *, n_hidden: int = 500, batch_size: int = 100, updates: int = 50,
                  eager_updates: int = 10, repeats: int = 3,
                  seed: int = 0) -> Benchmark:
    """Updates per second of CD-1 run eagerly, as ``tf.function``, with XLA,
    and as a loop.

    ``RBMTrainer.step`` is called once per update with ``compile=False``
    (every op dispatched from Python), ``compile=True`` (one graph per
    update) and ``jit_compile=True`` (XLA); ``RBMTrainer.epoch`` runs all
    the updates in one compiled loop, with and without XLA.

    Returns:
        A :class:`~rbmtut.book.timing.Benchmark` in updates/s with rows
        ``"eager"``, ``"function"``, ``"xla"``, ``"epoch"``, ``"epoch-xla"``.
    """
    x, data, order = _epoch_data(x, batch_size, updates * batch_size, seed)
    n_visible = x.shape[1]
    batches = [tf.gather(data, rows) for rows in order]
    modes = {"eager": dict(compile=False), "function": {},
             "xla": dict(jit_compile=True)}
    runs = {}
    for name, options in modes.items():
        trainer = benchmark_trainer(n_visible, n_hidden, batch_size, method="cd", k=1,
                           seed=seed, **options)
        todo = batches[:eager_updates] if name == "eager" else batches
        runs[name] = _steps(trainer, todo), _steps(trainer, todo[:2])
    looped = {"epoch": {}, "epoch-xla": dict(jit_compile=True)}
    for name, options in looped.items():
        trainer = benchmark_trainer(n_visible, n_hidden, batch_size, method="cd", k=1,
                           seed=seed, **options)
        # XLA compiles per shape: warm up on it
        runs[name] = lambda t=trainer: float(t.epoch(data, order))
    times = interleaved(runs, repeats=repeats)
    title = (f"CD-1 updates, {n_visible}x{n_hidden}, batch {batch_size}, "
             f"best of {repeats}")
    bench = Benchmark(title, "updates/s", elsewhere=_elsewhere(times))
    labels = {"eager": "eager: step(), compile=False",
              "function": "tf.function: step()",
              "xla": "XLA: step(), jit_compile=True",
              "epoch": "tf.function: epoch(), one loop",
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
    """CD-1 examples/s of ``RBMTrainer.epoch`` and the floor over batch sizes
    and widths.

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
        bench = training_throughput(
            x, n_hidden=n_hidden, batch_size=batch_size,
            n_examples=max(n_examples, min_updates * batch_size),
            repeats=repeats, sklearn=False, seed=seed,
        )
        points.append(
            SweepPoint(batch_size, n_hidden, bench.rate("rbmtut"), bench.rate("floor"))
        )
    return points


# --- the classic tutorial setting -----------------------------------------------------


class ClassicRun(NamedTuple):
    """A timed run in the Theano tutorial's setting (PCD-15, batch 20, 500 hidden).

    Attributes:
        updates: parameter updates timed.
        seconds: their wall-clock time.
        updates_per_epoch: updates in one epoch of the data used.
        elsewhere: the share of CPU time other processes used meanwhile
            (see :func:`rbmtut.book.timing.cpu_elsewhere`).
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


def classic_tutorial(x, *, epochs: int = 15, updates: int | None = None,
                     repeats: int = 1, progress: bool = True,
                     seed: int = 0) -> ClassicRun:
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
    trainer = benchmark_trainer(
        x.shape[1], s["n_hidden"], s["batch_size"], method="pcd", k=s["k"],
        learning_rate=s["learning_rate"], momentum=0.0, seed=seed,
    )
    if updates is None:
        start = time.perf_counter()
        with cpu_elsewhere() as elsewhere:
            train_epochs(trainer, x, epochs=epochs, batch_size=s["batch_size"],
                         progress=progress)
        seconds = time.perf_counter() - start
        return ClassicRun(epochs * per_epoch, seconds, per_epoch, elsewhere.share)
    _, data, order = _epoch_data(x, s["batch_size"], seed=seed)
    order = order[:updates]
    run_epoch = traced_epoch(trainer, data, s["batch_size"])
    runs = {"run": (lambda: float(trainer.epoch(data, order)),
                    lambda: float(trainer.epoch(data, order[:2])))}
    times = interleaved(runs, repeats=repeats, untraced=(run_epoch,))
    return ClassicRun(len(order), times["run"].best, per_epoch, times["run"].elsewhere)
