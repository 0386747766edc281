"""How the cost grows with the sizes: timed sweeps and fitted power laws.

The performance appendix (``appendix_performance``) times each workload at
several sizes, side by side in alternating rounds
(:func:`rbmtut.book.timing.interleaved`: a warm-up that traces, then the
best of ``repeats`` rounds), and fits ``seconds ~ a * size ** p``
(:func:`fit_power_law`): one CD-1 epoch against the width, the batch size
and the number of examples; AIS against runs and temperatures; Hamming
search against the database size.  What a GPU would change is a projection
from counted FLOPs and bytes, in :mod:`rbmtut.book.projection`.
"""

from __future__ import annotations

import dataclasses
import math
from typing import NamedTuple

import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf

from .. import hashing
from .._validation import check_choice, check_int
from ..fitting import epoch_orders
from ..likelihood import ais_log_partition, ais_log_weights
from ..rbm import BernoulliRBM
from .benchmarks import benchmark_trainer, traced_epoch
from .tables import Table
from .timing import interleaved

__all__ = ["PowerLaw", "fit_power_law", "Scaling", "epoch_scaling", "ais_scaling",
           "search_scaling", "plot_scaling"]


# --- power laws -----------------------------------------------------------------------


class PowerLaw(NamedTuple):
    """``seconds ~ prefactor * size ** exponent``, fitted on log-log axes.

    ``exponent`` p = 1: double the size, double the time (a cost per item
    and nothing else); 0 < p < 1: a fixed cost per call that the work has
    not outgrown yet; p = 0: the size does not matter; p > 1: each item
    costs more in a larger problem.  ``prefactor`` is in seconds at size 1
    (an extrapolation), ``std_err`` the standard error of p (NaN for two sizes).
    """

    exponent: float
    prefactor: float
    std_err: float

    def __call__(self, size):
        """The fitted seconds at ``size`` (scalar or array)."""
        return self.prefactor * np.asarray(size, np.float64) ** self.exponent

    def growth(self, tolerance: float = 0.1) -> str:
        """How the time grew, in words that complete "the time grew ... the size".

        An exponent within ``tolerance`` of 1 is "about in proportion to";
        below that, "more slowly than in proportion to"; above, "faster than
        in proportion to".  The prose of the appendix uses it where the shape
        depends on the machine, so that the sentence stays true on any CPU.
        """
        if abs(self.exponent - 1) <= tolerance:
            return "about in proportion to"
        return ("more slowly than in proportion to" if self.exponent < 1
                else "faster than in proportion to")


def fit_power_law(sizes, seconds) -> PowerLaw:
    """Least-squares fit of ``log seconds = log a + p log size``.

    Args:
        sizes: (n,) positive sizes, at least two distinct.
        seconds: (n,) positive times.

    Returns:
        A :class:`PowerLaw`; ``std_err`` from the residuals,
        ``sqrt(SSR / (n - 2) / sum (log size - mean)^2)``.
    """
    x, y = np.asarray(sizes, np.float64), np.asarray(seconds, np.float64)
    if (x.ndim != 1 or x.shape != y.shape or not np.all(np.isfinite(x) & np.isfinite(y))
            or not np.all((x > 0) & (y > 0))):
        raise ValueError("sizes and seconds must be equally long 1-D arrays of "
                         "positive, finite numbers.")
    x, y = np.log(x), np.log(y)
    dx = x - x.mean()
    if not dx @ dx > 0:
        raise ValueError("need at least two distinct sizes to fit an exponent.")
    p = dx @ (y - y.mean()) / (dx @ dx)
    log_a = y.mean() - p * x.mean()
    residuals = y - log_a - p * x
    n = len(x)
    std_err = (math.sqrt(residuals @ residuals / (n - 2) / (dx @ dx)) if n > 2
               else math.nan)
    return PowerLaw(float(p), math.exp(log_a), std_err)


@dataclasses.dataclass
class Scaling:
    """Best times of one workload at several sizes, with a power law per series.

    Attributes:
        name: the workload, e.g. ``"CD-1 epoch"`` (a plot's panel title).
        quantity: the swept size, e.g. ``"hidden units"`` (the x axis).
        details: what stayed fixed, and the repeats.
        sizes: the sizes, ascending, (n_sizes,).
        seconds: series label -> best seconds at each size, (n_sizes,).
        elsewhere: share of the CPU time other processes used meanwhile (NaN: unknown).
    """

    name: str
    quantity: str
    details: str
    sizes: tuple
    seconds: dict
    elsewhere: float = float("nan")

    @property
    def fits(self) -> dict:
        """Series label -> :class:`PowerLaw`."""
        return {label: fit_power_law(self.sizes, seconds)
                for label, seconds in self.seconds.items()}

    def fit(self, label: str | None = None, *, smallest: int = 0) -> PowerLaw:
        """The power law of series ``label`` (default: the first), fitted to the
        sizes of at least ``smallest``."""
        seconds = self.seconds[label or next(iter(self.seconds))]
        kept = [(n, s) for n, s in zip(self.sizes, seconds) if n >= smallest]
        return fit_power_law(*zip(*kept))

    def exponent(self, label: str | None = None, *, smallest: int = 0) -> float:
        """The fitted exponent of series ``label`` (default: the first)."""
        return self.fit(label, smallest=smallest).exponent

    def table(self) -> Table:
        """Milliseconds per size and series; the exponents are in the caption."""
        rows = [[size] + [s[i] * 1e3 for s in self.seconds.values()]
                for i, size in enumerate(self.sizes)]
        columns = [self.quantity] + [f"{label} (ms)" for label in self.seconds]
        fits = "; ".join(
            f"{label}: p = {f.exponent:.2f}"
            + (f" ± {f.std_err:.2f}" if f.std_err == f.std_err else "")
            for label, f in self.fits.items())
        load = (f"; other processes used {self.elsewhere:.0%} of the CPU"
                if self.elsewhere == self.elsewhere else "")
        return Table(rows, columns, formats={c: ".3g" for c in columns[1:]},
                     caption=f"{self.name}, {self.details}. Fitted {fits}{load}")

    def _repr_html_(self) -> str:
        return self.table()._repr_html_()

    def __repr__(self) -> str:
        return repr(self.table())


def _check_sizes(sizes) -> tuple:
    sizes = tuple(check_int(s, "each size", low=1) for s in sizes)
    if len(set(sizes)) < 2 or list(sizes) != sorted(sizes):
        raise ValueError(
            f"sizes must be ascending, at least two distinct; got {sizes}.")
    return sizes


def _timed(name, quantity, details, sizes, runs, repeats, untraced=()):
    """Time ``runs``, ``(series label, size) -> (run, warmup)``, interleaved."""
    times = interleaved(runs, repeats=repeats, untraced=untraced)
    labels = dict.fromkeys(label for label, _ in runs)
    seconds = {label: tuple(times[label, s].best for s in sizes) for label in labels}
    elsewhere = max(t.elsewhere for t in times.values())
    return Scaling(name, quantity, f"{details}, best of {repeats}", sizes, seconds,
                   elsewhere)


# --- the timed workloads --------------------------------------------------------------

_EPOCH_SIZES = {"n_hidden": "hidden units", "batch_size": "batch size",
                "n_examples": "training examples"}


def epoch_scaling(x, vary: str, sizes, *, n_hidden: int = 500, batch_size: int = 100,
                  n_examples: int = 2000, repeats: int = 3, seed: int = 0) -> Scaling:
    """Seconds of one CD-1 epoch, ``RBMTrainer.epoch(data, order)``, against a size.

    The other two sizes stay fixed.  Every (width, batch size) gets its own
    trainer (learning rate 0.05, momentum 0.5, as
    :func:`rbmtut.book.benchmarks.training_throughput`), traced for any
    number of batches and warmed up on two batches before the timed rounds.

    Args:
        x: training data (N, n_visible) in [0, 1]; the first ``n_examples``
            rows are used (the largest size, if ``vary="n_examples"``).
        vary: ``"n_hidden"``, ``"batch_size"`` or ``"n_examples"``.
        sizes: its values, ascending; every epoch's examples must be a
            multiple of its batch size, so that all updates are whole batches.

    Returns:
        A :class:`Scaling` with one series, seconds per epoch.
    """
    check_choice(vary, "vary", tuple(_EPOCH_SIZES))
    sizes = _check_sizes(sizes)
    x = np.asarray(x, np.float32)
    rows = max(sizes) if vary == "n_examples" else n_examples
    if rows > len(x):
        raise ValueError(f"need {rows} training examples; x has {len(x)}.")
    data = tf.constant(x[:rows])
    trainers, runs = {}, {}
    for size in sizes:
        s = {"n_hidden": n_hidden, "batch_size": batch_size, "n_examples": n_examples,
             vary: size}
        if s["n_examples"] % s["batch_size"] or s["n_examples"] < 2 * s["batch_size"]:
            raise ValueError(f"{s['n_examples']} examples are not two or more whole "
                             f"batches of {s['batch_size']}.")
        key = (s["n_hidden"], s["batch_size"])
        if key not in trainers:  # built and traced as training_throughput does
            trainers[key] = benchmark_trainer(x.shape[1], *key, method="cd", k=1,
                                              seed=seed)
            traced_epoch(trainers[key], data, key[1])
        order = next(epoch_orders(s["n_examples"], s["batch_size"], seed))
        trainer = trainers[key]
        runs["RBMTrainer.epoch", size] = (
            lambda t=trainer, o=order: float(t.epoch(data, o)),
            lambda t=trainer, o=order: float(t.epoch(data, o[:2])))
    fixed = ", ".join(f"{_EPOCH_SIZES[k]} {v:,}" for k, v in
                      (("n_hidden", n_hidden), ("batch_size", batch_size),
                       ("n_examples", n_examples)) if k != vary)
    return _timed("CD-1 epoch", _EPOCH_SIZES[vary], f"{x.shape[1]} visible, {fixed}",
                  sizes, runs, repeats,
                  untraced=tuple(t.compiled_epoch for t in trainers.values()))


def ais_scaling(rbm: BernoulliRBM, vary: str, sizes, *, n_runs: int = 100,
                n_temperatures: int = 200, base_bias=None, repeats: int = 3) -> Scaling:
    """Seconds of ``likelihood.ais_log_partition`` against runs or temperatures.

    The schedule of K temperatures is ``np.linspace(0, 1, K + 1)`` (the
    speed does not depend on the spacing).  The one compiled AIS loop is
    traced for any length and any number of runs before the timed rounds.

    Args:
        rbm: the model; base_bias: base-rate biases (n_visible,), or None.
        vary: ``"n_runs"`` or ``"n_temperatures"``; sizes: its values, ascending.
        n_runs, n_temperatures: the fixed value of the other.

    Returns:
        A :class:`Scaling` with one series, seconds per estimate.
    """
    check_choice(vary, "vary", ("n_runs", "n_temperatures"))
    sizes = _check_sizes(sizes)

    def run(runs, temperatures):
        return lambda: ais_log_partition(rbm, n_runs=runs, base_bias=base_bias, seed=0,
                                         betas=np.linspace(0, 1, temperatures + 1))

    runs = {}
    for size in sizes:
        s = {"n_runs": n_runs, "n_temperatures": n_temperatures, vary: size}
        # two short lengths: the reduce_retracing trace then fits every length
        warm = [run(s["n_runs"], 2), run(s["n_runs"], 3)]
        runs["ais_log_partition", size] = (run(s["n_runs"], s["n_temperatures"]),
                                           lambda w=warm: [f() for f in w])
    quantity = {"n_runs": "runs", "n_temperatures": "temperatures"}
    other = "n_temperatures" if vary == "n_runs" else "n_runs"
    fixed = {"n_runs": n_runs, "n_temperatures": n_temperatures}[other]
    return _timed("AIS", quantity[vary],
                  f"{rbm.n_visible}x{rbm.n_hidden} RBM, {fixed:,} {quantity[other]}",
                  sizes, runs, repeats, untraced=(ais_log_weights,))


def search_scaling(database, queries, sizes, *, n_neighbors: int = 10, radius: int = 2,
                   repeats: int = 3) -> Scaling:
    """Seconds to search the first ``size`` codes: exhaustive k-NN vs a radius lookup.

    Exhaustive: ``hashing.hamming_knn`` (every distance, then a selection of
    the nearest, ties by index).
    Lookup: ``HammingTable.lookup_batch`` at ``radius``, which probes the
    ``C(n_bits, 0) + ... + C(n_bits, radius)`` addresses around each query; the
    table is built before the timed rounds (an index, built once).

    Args:
        database: packed codes (N codes); queries: packed codes (Q codes).
        sizes: database sizes, ascending, at most N.

    Returns:
        A :class:`Scaling` with series ``"exhaustive"`` and ``"lookup"``,
        seconds for all Q queries.
    """
    sizes = _check_sizes(sizes)
    if sizes[-1] > len(database):
        raise ValueError(
            f"sizes go up to {sizes[-1]}; the database has {len(database)} codes.")
    runs = {}
    for size in sizes:
        db = database[:size]
        table = hashing.HammingTable(db)
        runs["exhaustive", size] = lambda d=db: hashing.hamming_knn(queries, d,
                                                                     n_neighbors)
        runs["lookup", size] = lambda t=table: t.lookup_batch(queries, radius)
    return _timed("Hamming search", "database codes",
                  f"{len(queries):,} queries, {database.n_bits}-bit codes, exhaustive "
                  f"{n_neighbors}-NN vs radius-{radius} lookup", sizes, runs, repeats)


def plot_scaling(results, *, n_cols: int = 3):
    """One log-log panel per :class:`Scaling`: milliseconds against size, the
    fitted power laws dashed, their exponents in the legend.

    Returns:
        The matplotlib figure.
    """
    n_rows = -(-len(results) // n_cols)
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(4.2 * n_cols, 3.4 * n_rows),
                             squeeze=False)
    for ax, result in zip(axes.flat, results):
        grid = np.geomspace(result.sizes[0], result.sizes[-1], 50)
        for (label, seconds), fit in zip(result.seconds.items(), result.fits.values()):
            points = ax.loglog(result.sizes, np.asarray(seconds) * 1e3, "o")[0]
            ax.loglog(grid, fit(grid) * 1e3, "--", color=points.get_color(),
                      label=f"{label}: p = {fit.exponent:.2f}")
        ax.minorticks_off()
        ax.set_xticks(result.sizes, [f"{n:,}" for n in result.sizes])
        ax.tick_params(axis="x", labelsize=8)
        ax.yaxis.set_major_locator(plt.LogLocator(subs=(1, 2, 5)))
        ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda y, _: f"{y:g}"))
        ax.set(xlabel=result.quantity, ylabel="milliseconds", title=result.name)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    for ax in axes.flat[len(results):]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig
