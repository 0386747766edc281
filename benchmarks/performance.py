"""rbmtut's benchmarks, side by side in one run (``make bench``).

Every table compares contenders measured in this one process, on the same
data, in alternating rounds (best time of each kept); the oneDNN section
compares two fresh processes.  Sections, in the order they run:

  training  CD-1 and PCD-1: matrix-multiply floor, rbmtut, scikit-learn
  compile   one CD-1 update eagerly, as tf.function, with XLA, and in a loop
  search    Hamming k-NN on packed codes vs float k-NN
  sweep     CD-1 examples/s against batch size and hidden units
  ais       the full AIS schedule: 14,500 temperatures x 100 runs
  classic   the Theano tutorial's setting in full: 15 epochs of PCD-15, batch 20
  onednn    oneDNN CPU kernels off vs on, one process each

The summary at the end gives the headline figures: each ratio comes from
contenders timed side by side in this run.  ``--busy N`` starts N processes
that keep a core busy each for the whole run, to measure under load.

The performance appendix of the book runs the same functions
(``rbmtut.book.benchmarks`` and ``rbmtut.book.inference_benchmarks``) on
shorter workloads; the two long runs (ais, classic) are only run in full here.

Usage: ``python benchmarks/performance.py [--only SECTION ...] [--repeats R] [--busy N]``
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # measure this checkout's rbmtut

import rbmtut  # noqa: E402
from rbmtut import data, likelihood  # noqa: E402
from rbmtut.book import (benchmarks, environments, inference_benchmarks,  # noqa: E402
                         timing)

SECTIONS = ("training", "compile", "search", "sweep", "ais", "classic", "onednn")


def _spin() -> None:  # pragma: no cover - runs in a child process
    while True:
        pass


@contextlib.contextmanager
def busy_cores(n: int):
    """Keep ``n`` cores busy (one spinning process each) while the block runs."""
    workers = [multiprocessing.Process(target=_spin, daemon=True) for _ in range(n)]
    for worker in workers:
        worker.start()
    try:
        yield
    finally:
        for worker in workers:
            worker.terminate()
            worker.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=list(SECTIONS))
    parser.add_argument("--repeats", type=int, default=5, help="rounds per comparison (default 5)")
    parser.add_argument("--examples", type=int, default=10_000,
                        help="digits per training epoch in 'training' (default 10,000)")
    parser.add_argument("--busy", type=int, default=0,
                        help="processes that keep a core busy meanwhile (default 0)")
    args = parser.parse_args()
    with busy_cores(args.busy):
        run_sections(args)


def run_sections(args) -> None:
    started = time.perf_counter()
    if args.busy:
        print(f"under load: {args.busy} other process(es) keep a core busy each")
    print(timing.machine().describe())
    print(f"rbmtut {rbmtut.__version__} from {os.path.dirname(rbmtut.__file__)}")
    mnist = data.load_mnist()
    x = data.binarize_stochastic(mnist.x_train, seed=0)
    summary = []

    def heading(name):
        print(f"\n== {name} (load average {os.getloadavg()[0]:.2f})", flush=True)

    if "training" in args.only:
        heading("training")
        for method in ("cd", "pcd"):
            bench = benchmarks.training_throughput(x, method=method, n_examples=args.examples,
                                                   repeats=args.repeats)
            print(bench, flush=True)
            peers = [key for key in bench.rows if key.startswith("sklearn")]
            fastest_peer = max(peers, key=bench.rate)
            name = f"{method.upper()}-1"
            summary += [
                (f"{name}: rbmtut vs the faster scikit-learn row", f"{bench.ratio('rbmtut', fastest_peer):.2f}x"),
                (f"{name}: rbmtut time / matrix-multiply floor time", f"{bench.ratio('floor', 'rbmtut'):.2f}"),
            ]

    if "compile" in args.only:
        heading("compile")
        bench = benchmarks.compile_modes(x, repeats=args.repeats)
        print(bench, flush=True)
        summary += [("one update: tf.function vs eager", f"{bench.ratio('function', 'eager'):.2f}x"),
                    ("one update: XLA vs tf.function", f"{bench.ratio('xla', 'function'):.2f}x"),
                    ("compiled epoch loop vs a step() per update", f"{bench.ratio('epoch', 'function'):.2f}x")]

    if "search" in args.only:
        heading("search")
        pixels = data.to_unit_interval(mnist.x_train), data.to_unit_interval(mnist.x_test[:1_000])
        bench = inference_benchmarks.search_throughput(*pixels, repeats=args.repeats)
        print(bench, flush=True)
        summary.append((f"exhaustive Hamming 10-NN, {len(pixels[0]):,} 32-bit codes: "
                        "queries/s", f"{bench.rate('hamming-32'):,.0f}"))
        summary += [(f"Hamming k-NN, {bits} bits, vs float k-NN on {what}",
                     f"{bench.ratio(f'hamming-{bits}', other):.2f}x")
                    for bits in (32, 64) for what, other in (("the same projections", f"float-{bits}"),
                                                             ("pixels", "float-pixels"))]

    if "sweep" in args.only:
        heading("sweep")
        with timing.cpu_elsewhere() as elsewhere:
            points = benchmarks.throughput_sweep(x, repeats=args.repeats)
        print(f"  {'batch':>5s} {'hidden':>6s} {'rbmtut ex/s':>12s} {'floor ex/s':>11s} {'time / floor':>12s}")
        for p in points:
            print(f"  {p.batch_size:5d} {p.n_hidden:6d} {p.rbmtut:12,.0f} {p.floor:11,.0f} "
                  f"{p.floor / p.rbmtut:12.2f}")
        print(f"  other processes used {elsewhere.share:.0%} of the CPU time meanwhile", flush=True)

    if "ais" in args.only:
        heading("ais")
        base = likelihood.base_rate_bias(x)
        rbm = rbmtut.BernoulliRBM(784, 500, visible_bias=base)
        bench = inference_benchmarks.ais_throughput(rbm, n_runs=100, base_bias=base)
        print(bench, flush=True)
        summary += [("AIS, 14,500 temperatures x 100 runs: seconds", f"{bench.rows['rbmtut'].seconds:.1f}"),
                    ("AIS: rbmtut time / matrix-multiply floor time", f"{bench.ratio('floor', 'rbmtut'):.2f}")]

    if "classic" in args.only:
        heading("classic")
        tutorial = benchmarks.THEANO_TUTORIAL
        grey = data.to_unit_interval(mnist.x_train)  # the tutorial trains on grey levels
        run = benchmarks.classic_tutorial(grey, epochs=tutorial["epochs"])
        theano_updates = tutorial["epochs"] * tutorial["digits"] // tutorial["batch_size"]
        theano_per_update = tutorial["minutes"] * 60 / theano_updates
        print(f"rbmtut, 500 hidden, PCD-15, batch 20, 15 epochs of {len(grey):,} digits: "
              f"{run.updates:,} updates in {run.seconds / 60:.1f} minutes "
              f"({run.seconds_per_update * 1e3:.1f} ms each); other processes used "
              f"{run.elsewhere:.0%} of the CPU time meanwhile")
        print(f"Theano tutorial: 15 epochs of {tutorial['digits']:,} digits, {theano_updates:,} updates in "
              f"{tutorial['minutes']} minutes ({theano_per_update * 1e3:.0f} ms each) on a Xeon E5430 "
              "(about 2008) with single-threaded GotoBLAS: different hardware")
        summary += [("classic setting, 15 epochs of 60,000 digits: minutes", f"{run.seconds / 60:.1f}"),
                    ("classic setting: ms per update", f"{run.seconds_per_update * 1e3:.1f}"),
                    ("classic setting: speed per update vs the Theano tutorial's",
                     f"{theano_per_update / run.seconds_per_update:.0f}x")]

    if "onednn" in args.only:
        heading("onednn")
        for bench in environments.environment_comparison(rounds=2):
            print(bench, flush=True)
            summary.append((f"oneDNN on / off: {bench.title.split(',')[0]}", f"{bench.ratio('oneDNN on', 'oneDNN off'):.2f}"))

    heading("summary")
    print(timing.machine().describe())
    width = max(len(name) for name, _ in summary) if summary else 0
    for name, value in summary:
        print(f"  {name:{width}s}  {value:>8s}")
    print(f"\nall benchmarks: {(time.perf_counter() - started) / 60:.1f} minutes")


if __name__ == "__main__":
    main()
