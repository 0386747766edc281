"""Speed under settings that TensorFlow reads at start-up (oneDNN), each in a
fresh process.

Some settings, such as ``TF_ENABLE_ONEDNN_OPTS``, are read when TensorFlow
starts, so each setting runs in its own Python process (this interpreter,
this ``rbmtut``); :func:`environment_comparison` alternates them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np

from ..data import binarize_stochastic, load_mnist
from ..rbm import BernoulliRBM
from .benchmarks import classic_tutorial, training_throughput
from .inference_benchmarks import ais_throughput
from .timing import Benchmark

__all__ = ["ONEDNN_SETTINGS", "environment_comparison"]

#: TensorFlow's oneDNN CPU kernels off (the project's setting) and on.
ONEDNN_SETTINGS = {"oneDNN off": {"TF_ENABLE_ONEDNN_OPTS": "0"},
                   "oneDNN on": {"TF_ENABLE_ONEDNN_OPTS": "1"}}


def _child_measurements(n_examples: int, classic_updates: int,
                        ais_temperatures: int) -> dict:
    """What :func:`environment_comparison` times in a process:
    key -> (what, unit, rate, s, elsewhere)."""
    mnist = load_mnist(verbose=False)
    n_rows = max(n_examples, 20 * classic_updates)
    x = binarize_stochastic(mnist.x_train[:n_rows], seed=0)
    cd1 = training_throughput(x, n_examples=n_examples, repeats=3, sklearn=False)
    found = {
        "cd1-floor": ("matrix-multiply floor of CD-1, 784x500, batch 100", "examples/s",
                      *cd1.rows["floor"][1:], cd1.elsewhere),
        "cd1": ("rbmtut CD-1, 784x500, batch 100", "examples/s",
                *cd1.rows["rbmtut"][1:], cd1.elsewhere),
    }
    if classic_updates:
        run = classic_tutorial(x, updates=classic_updates, repeats=2)
        found["pcd15"] = (
            f"rbmtut PCD-15, 784x500, batch 20, {run.updates} updates", "updates/s",
            1 / run.seconds_per_update, run.seconds, run.elsewhere,
        )
    if ais_temperatures:
        betas = np.linspace(0, 1, ais_temperatures + 1)
        ais = ais_throughput(BernoulliRBM(784, 500), betas=betas, repeats=2)
        found["ais"] = (
            f"rbmtut AIS, 100 runs x {ais_temperatures} temperatures, 784x500",
            "chain steps/s", *ais.rows["rbmtut"][1:], ais.elsewhere,
        )
    return found


def _run_child(env: dict, call: str):
    """Evaluate ``call`` (an expression in this module) in a new Python process;
    return its value.

    The process runs this interpreter with this copy of ``rbmtut`` first on
    its path, and the environment plus ``env``; the value travels as JSON.
    """
    here = os.path.abspath(__file__)
    package_root = os.path.dirname(os.path.dirname(os.path.dirname(here)))
    path = os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": path, **env}
    code = (
        "import json, rbmtut.book.environments as b; "
        f"print('RESULT', json.dumps(eval({call!r}, vars(b))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=env, capture_output=True, text=True, timeout=3600,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(
            f"the benchmark process ({call}) failed:\n{done.stderr[-3000:]}"
        )
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
        One :class:`~rbmtut.book.timing.Benchmark` per workload, one row per setting.
    """
    settings = ONEDNN_SETTINGS if settings is None else settings
    call = (
        f"_child_measurements({int(n_examples)}, {int(classic_updates)}, "
        f"{int(ais_temperatures)})"
    )
    best: dict = {name: {} for name in settings}
    for _ in range(rounds):
        for name, env in settings.items():
            for key, row in _run_child(env, call).items():
                if key not in best[name] or row[2] > best[name][key][2]:
                    best[name][key] = row
    tables = []
    for key, (what, unit, *_) in next(iter(best.values())).items():
        elsewhere = max(best[name][key][4] for name in settings)
        title = f"{what}, best of {rounds} process(es) per setting"
        bench = Benchmark(title, unit, elsewhere=elsewhere)
        for name, env in settings.items():
            _, _, rate, seconds, _ = best[name][key]
            variables = " ".join(f"{var}={value}" for var, value in env.items())
            label = f"{name} ({variables})" if variables else name
            bench.add(name, label, rate * seconds, seconds)
        tables.append(bench)
    return tables
