"""Timing tools for side-by-side benchmarks: best-of timings, result tables,
the machine.

A benchmark here answers "how fast is A *relative to* B on this machine,
now?".  Absolute times move with the hardware and with whatever else the
machine is running, so contenders are always timed in the same process,
on the same data, one after another in alternating rounds
(:func:`interleaved`), and the smallest time of each is kept: the run least
disturbed by anything else.  The benchmark functions of
:mod:`rbmtut.book.benchmarks` return their results as :class:`Benchmark` tables;
the performance appendix of the book and ``make bench`` print them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import html
import os
import platform
import time
from typing import Callable, NamedTuple

from .._validation import check_int
from .tables import Table

__all__ = [
    "Timing", "best_of", "interleaved", "no_retracing", "cpu_elsewhere", "Measurement",
    "Benchmark", "Machine", "machine",
]


class Timing(NamedTuple):
    """Wall-clock seconds of repeated runs.

    Attributes:
        best: the smallest time (the least disturbed run).
        times: every timed run, in order.
        elsewhere: the share of the machine's CPU time that other processes
            used while the runs were timed (see :func:`cpu_elsewhere`).
    """

    best: float
    times: tuple
    elsewhere: float = float("nan")


def _clock(run: Callable[[], object]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def best_of(run: Callable[[], object], *, repeats: int = 3,
            warmup: Callable[[], object] | None = None) -> Timing:
    """Time ``repeats`` calls of ``run()`` after one warm-up call.

    Args:
        run: the work to time; it must finish its work before it returns
            (for TensorFlow, fetch a result with ``.numpy()``).
        repeats: timed calls, at least 1.
        warmup: called once first and not timed (default: ``run`` itself);
            it should trace and compile whatever ``run`` needs.

    Returns:
        A :class:`Timing`.
    """
    return interleaved({"run": (run, warmup)}, repeats=repeats)["run"]


def interleaved(runs: dict, *, repeats: int = 3, untraced=()) -> dict[str, Timing]:
    """Time several contenders side by side, in alternating rounds.

    Every contender is warmed up first; then each round times each
    contender once, in the given order.  Alternating rounds share any slow
    drift of the machine's load fairly between the contenders.

    Args:
        runs: name -> ``run`` or ``(run, warmup)`` (``warmup`` None: ``run``).
        repeats: rounds, at least 1.
        untraced: ``tf.function`` s that must not trace during the timed
            rounds (see :func:`no_retracing`); the warm-ups may trace them.

    Returns:
        name -> :class:`Timing`.
    """
    repeats = check_int(repeats, "repeats", low=1)
    pairs = {
        name: entry if isinstance(entry, tuple) else (entry, None)
        for name, entry in runs.items()
    }
    for run, warmup in pairs.values():
        (warmup or run)()
    times = {name: [] for name in pairs}
    with no_retracing(*untraced), cpu_elsewhere() as elsewhere:
        for _ in range(repeats):
            for name, (run, _) in pairs.items():
                times[name].append(_clock(run))
    return {
        name: Timing(min(ts), tuple(ts), elsewhere.share)
        for name, ts in times.items()
    }


def _cpu_ticks():
    """``(all ticks, busy ticks, this process's ticks)`` so far, from Linux's /proc;
    or None."""
    try:
        with open("/proc/stat", encoding="ascii") as f:
            fields = [int(v) for v in f.readline().split()[1:9]]  # user ... steal
        with open("/proc/self/stat", encoding="ascii") as f:
            own = f.read().rsplit(")", 1)[1].split()  # fields 3, 4, ... after the name
    except (OSError, ValueError):
        return None
    return sum(fields), sum(fields) - fields[3] - fields[4], int(own[11]) + int(own[12])


class _Share:
    share = float("nan")


@contextlib.contextmanager
def cpu_elsewhere():
    """Measure the share of all CPU time that *other* processes used inside the block.

    Yields an object whose ``share`` (in [0, 1], NaN where /proc is not
    available) is set when the block ends: busy CPU time of the whole
    machine minus this process's own, divided by the CPU time available.
    0.5 on two CPUs means another process kept one of them busy.
    """
    result = _Share()
    before = _cpu_ticks()
    yield result
    after = _cpu_ticks()
    if before is not None and after is not None and after[0] > before[0]:
        total, busy, own = (a - b for a, b in zip(after, before))
        result.share = min(max((busy - own) / total, 0.0), 1.0)


@contextlib.contextmanager
def no_retracing(*functions):
    """Raise RuntimeError if any ``tf.function`` among ``functions`` traces inside
    the block.

    A timing that includes tracing measures Python, not the computation.
    """
    counts = [f.experimental_get_tracing_count() for f in functions]
    yield
    for f, before in zip(functions, counts):
        if f.experimental_get_tracing_count() != before:
            raise RuntimeError(
                f"{getattr(f, '__name__', f)} was traced again while being timed; "
                "warm it up with the shapes the timed calls use."
            )


class Measurement(NamedTuple):
    """One contender's result: ``rate`` units of work per second, from its best time."""

    label: str
    rate: float
    seconds: float


@dataclasses.dataclass
class Benchmark:
    """A small table of contenders measured side by side.

    Attributes:
        title: what was measured (sizes, data, repeats).
        unit: the unit of ``rate``, e.g. ``"examples/s"``.
        rows: key -> :class:`Measurement`, in display order; the first row is
            the reference of the table's ``relative`` column.
        notes: lines printed under the table.
        elsewhere: the share of the machine's CPU time other processes used
            while the rows were timed (NaN if unknown); see :meth:`undisturbed`.
    """

    title: str
    unit: str
    rows: dict = dataclasses.field(default_factory=dict)
    notes: list = dataclasses.field(default_factory=list)
    elsewhere: float = float("nan")

    def add(self, key: str, label: str, work: float, seconds: float) -> Measurement:
        """Record that ``work`` units took ``seconds`` (best time); returns the row."""
        if not seconds > 0:
            raise ValueError(f"{key}: seconds must be > 0; got {seconds!r}.")
        self.rows[key] = Measurement(label, work / seconds, seconds)
        return self.rows[key]

    def rate(self, key: str) -> float:
        """The rate of row ``key``."""
        return self.rows[key].rate

    def ratio(self, key: str, other: str) -> float:
        """How many times faster row ``key`` is than row ``other`` (ratio of rates)."""
        return self.rate(key) / self.rate(other)

    def undisturbed(self, limit: float = 0.25) -> bool:
        """Whether other processes used at most ``limit`` of the CPU time
        (True if unknown).

        Ratios measured while other work took a large share of the machine
        say more about that work than about the contenders.
        """
        return not self.elsewhere > limit

    def table(self) -> str:
        """The table as text: label, rate, seconds, and rate relative to
        the first row."""
        if not self.rows:
            return f"{self.title}\n  (no rows)"
        first = next(iter(self.rows.values())).rate
        width = max(
            len("implementation"), *(len(row.label) for row in self.rows.values())
        )
        header = f"  {'':{width}s}  {self.unit:>14s}  {'seconds':>8s}  {'relative':>8s}"
        lines = [self.title, header]
        for row in self.rows.values():
            lines.append(f"  {row.label:{width}s}  {_number(row.rate):>14s}  "
                         f"{row.seconds:8.3f}  {row.rate / first:8.2f}")
        lines += [f"  {note}" for note in self.footnotes()]
        return "\n".join(lines)

    def footnotes(self) -> list[str]:
        """The notes shown under the table, and the load measured meanwhile."""
        notes = list(self.notes)
        if self.elsewhere == self.elsewhere:  # not NaN
            notes.append(
                f"other processes used {self.elsewhere:.0%} of the CPU time meanwhile"
            )
        return notes

    def __str__(self) -> str:
        return self.table()

    def _repr_pretty_(self, printer, cycle) -> None:
        # IPython's text form (logs, nbval): the aligned table.
        printer.text(self.table())

    def _repr_html_(self) -> str:
        """The table as HTML (the book): a :class:`~rbmtut.book.tables.Table`
        and its notes."""
        first = next(iter(self.rows.values())).rate if self.rows else None
        rows = [(row.label, _number(row.rate), row.seconds, row.rate / first)
                for row in self.rows.values()]
        table = Table(rows, ["", self.unit, "seconds", "relative"],
                      formats={"seconds": ".3f", "relative": ".2f"},
                      caption=self.title)
        notes = "".join(f"<br>{html.escape(note)}" for note in self.footnotes())
        return table._repr_html_() + (f"<p><small>{notes[4:]}</small></p>"
                                      if notes else "")

    def to_dict(self) -> dict:
        """Plain data (for JSON), inverse of :meth:`from_dict`."""
        rows = {key: row._asdict() for key, row in self.rows.items()}
        return {"title": self.title, "unit": self.unit, "rows": rows,
                "notes": list(self.notes), "elsewhere": self.elsewhere}

    @classmethod
    def from_dict(cls, d: dict) -> Benchmark:
        """Rebuild a table from :meth:`to_dict`'s output."""
        rows = {key: Measurement(**row) for key, row in d["rows"].items()}
        return cls(d["title"], d["unit"], rows, list(d.get("notes", [])),
                   d.get("elsewhere", float("nan")))


def _number(rate: float) -> str:
    return f"{rate:,.0f}" if rate >= 100 else f"{rate:.3g}"


class Machine(NamedTuple):
    """What the timings ran on.

    Attributes:
        cpu: processor model.
        cpus: logical CPUs this process may use.
        tensorflow, numpy, sklearn: library versions.
        onednn: how ``TF_ENABLE_ONEDNN_OPTS`` is set (``"0"`` turns oneDNN off).
        load: the 1-minute load average (runnable processes; above ``cpus``
            means the benchmarks shared the CPU), or NaN where unknown.
    """

    cpu: str
    cpus: int
    tensorflow: str
    numpy: str
    sklearn: str
    onednn: str
    load: float

    def describe(self) -> str:
        """A few lines for a report."""
        names = {"0": "off (Eigen kernels)", "1": "on"}
        onednn = names.get(self.onednn, f"TensorFlow's default ({self.onednn})")
        return "\n".join([
            f"CPU               {self.cpu}, {self.cpus} logical CPUs",
            (f"libraries         TensorFlow {self.tensorflow}, NumPy {self.numpy}, "
             f"scikit-learn {self.sklearn}"),
            f"oneDNN kernels    {onednn}",
            f"load average      {self.load:.2f} (1 minute)",
        ])


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine() or "unknown"


def machine() -> Machine:
    """Describe this machine and the libraries the benchmarks use."""
    import numpy
    import sklearn
    import tensorflow as tf

    if hasattr(os, "sched_getaffinity"):
        cpus = len(os.sched_getaffinity(0))
    else:
        cpus = os.cpu_count()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return Machine(
        _cpu_model(), int(cpus or 1),
        tf.__version__, numpy.__version__, sklearn.__version__,
        os.environ.get("TF_ENABLE_ONEDNN_OPTS", "unset"), float(load),
    )
