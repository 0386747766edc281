"""The benchmark tools measure what they say: shapes, units, matmul counts, no timing claims.

Nothing here asserts that anything is fast; the benchmarks themselves run
in ``make bench`` and in the book's performance appendix.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import tensorflow as tf

from rbmtut.book import benchmarks, environments, floors, inference_benchmarks, timing
from rbmtut.rbm import BernoulliRBM


def _binary(n, d, seed=0):
    return (np.random.default_rng(seed).random((n, d)) < 0.3).astype(np.float32)


def _matmuls(function, *args) -> int:
    """Matrix-matrix MatMul nodes in the graph of ``function(*args)``, loop bodies
    included (``tf.linalg.matvec``'s matrix-vector products are not counted)."""
    graph = function.get_concrete_function(*args).graph.as_graph_def()
    nodes = list(graph.node) + [n for f in graph.library.function for n in f.node_def]
    return sum(node.op in ("MatMul", "BatchMatMulV2") and "MatVec" not in node.name
               for node in nodes)


# --- timing --------------------------------------------------------------------------


def test_best_of_warms_up_once_and_keeps_the_smallest_time():
    calls = []
    result = timing.best_of(lambda: calls.append("run"), repeats=3, warmup=lambda: calls.append("warm"))
    assert calls == ["warm", "run", "run", "run"]
    assert len(result.times) == 3 and result.best == min(result.times) >= 0


def test_interleaved_alternates_the_contenders():
    calls = []
    times = timing.interleaved({"a": lambda: calls.append("a"), "b": (lambda: calls.append("b"), list)},
                               repeats=2)
    assert calls == ["a", "a", "b", "a", "b"]  # a's warm-up is a run; b's is list()
    assert set(times) == {"a", "b"} and all(len(t.times) == 2 for t in times.values())
    with pytest.raises(ValueError, match="repeats"):
        timing.interleaved({"a": list}, repeats=0)


def test_no_retracing_catches_a_trace_inside_the_timed_block():
    square = tf.function(lambda x: x * x)
    square(tf.constant(1.0))
    with timing.no_retracing(square):
        square(tf.constant(2.0))  # same signature: no new trace
    with pytest.raises(RuntimeError, match="traced again"):
        with timing.no_retracing(square):
            square(tf.constant([1.0, 2.0]))
    with pytest.raises(RuntimeError, match="traced again"):
        timing.interleaved({"a": (lambda: square(tf.zeros([3, 3])), list)}, untraced=(square,))


def test_benchmark_table_rates_ratios_and_round_trip():
    bench = timing.Benchmark("a test", "things/s", notes=["a note"], elsewhere=0.5)
    bench.add("slow", "the slow one", 100, 2.0)
    bench.add("fast", "the fast one", 100, 0.5)
    assert bench.rate("slow") == 50 and bench.ratio("fast", "slow") == 4
    text = bench.table()
    assert text.splitlines()[0] == "a test" and "things/s" in text and "a note" in text
    assert "4.00" in text.splitlines()[3]  # relative to the first row
    assert "other processes used 50% of the CPU time" in text
    assert not bench.undisturbed() and bench.undisturbed(limit=0.6)
    again = timing.Benchmark.from_dict(bench.to_dict())
    assert again == bench and list(again.rows) == ["slow", "fast"]
    assert timing.Benchmark("unknown", "s").undisturbed()  # NaN: nothing to go by
    with pytest.raises(ValueError, match="seconds"):
        bench.add("instant", "no time at all", 1, 0.0)


def test_cpu_elsewhere_is_a_share_of_the_machine():
    with timing.cpu_elsewhere() as measured:
        sum(i * i for i in range(300_000))  # this process's own work is not counted
    assert math.isnan(measured.share) or 0.0 <= measured.share <= 1.0
    times = timing.interleaved({"a": list}, repeats=2)
    assert math.isnan(times["a"].elsewhere) or 0.0 <= times["a"].elsewhere <= 1.0


def test_machine_describes_the_cpu_and_libraries():
    m = timing.machine()
    assert m.cpus >= 1 and m.cpu and m.tensorflow == tf.__version__
    text = m.describe()
    assert "TensorFlow" in text and "oneDNN" in text and "load average" in text


# --- floors ----------------------------------------------------------------------------


@pytest.mark.parametrize("method, k, expected", [("cd", 1, 5), ("cd", 3, 9), ("pcd", 1, 5),
                                                 ("pcd", 15, 33)])
def test_matmuls_per_update(method, k, expected):
    assert floors.matmuls_per_update(method, k) == expected


def test_matmuls_per_update_rejects_bad_settings():
    for args, error in ((("exact", 1), ValueError), (("cd", 0), ValueError), (("pcd", 1.5), TypeError)):
        with pytest.raises(error):
            floors.matmuls_per_update(*args)


def test_matmuls_per_update_of_tempering_and_fast_weights():
    assert floors.matmuls_per_update("fpcd", 1) == 6
    assert floors.matmuls_per_update("pt", 1, n_temperatures=5) == 19
    assert floors.matmuls_per_update("pt", 3, n_temperatures=2) == 18
    with pytest.raises(ValueError, match="n_temperatures"):
        floors.matmuls_per_update("pt", 1)
    with pytest.raises(ValueError, match="only used by method='pt'"):
        floors.matmuls_per_update("pcd", 1, n_temperatures=4)
    with pytest.raises(ValueError, match="n_temperatures"):
        floors.matmuls_per_update("pt", 1, n_temperatures=1)
    with pytest.raises(ValueError, match="method"):
        floors.matmul_floor(tf.constant(_binary(20, 12)), 10, 7, method="pt")


@pytest.mark.parametrize("method, k, extra", [
    ("cd", 1, {}), ("cd", 3, {}), ("pcd", 2, {}), ("pcd", 1, {"centering": 0.01}),
    ("fpcd", 1, {}), ("fpcd", 2, {}), ("pt", 1, {"ladder": 4}), ("pt", 2, {"ladder": 3})])
def test_an_update_does_the_counted_multiply_adds(monkeypatch, method, k, extra):
    # Every product of an eager update goes through tf.matmul; wrap it and add up
    # the multiply-adds of each call, batched (replica) dimensions included.
    from rbmtut import BernoulliRBM, RBMTrainer
    n_visible, n_hidden, batch = 12, 7, 10
    multiply_adds = []
    matmul = tf.matmul

    def counting_matmul(a, b, transpose_a=False, transpose_b=False, **kwargs):
        out = matmul(a, b, transpose_a=transpose_a, transpose_b=transpose_b, **kwargs)
        inner = a.shape[-2] if transpose_a else a.shape[-1]
        multiply_adds.append(int(np.prod(out.shape)) * int(inner))
        return out

    trainer = RBMTrainer(BernoulliRBM(n_visible, n_hidden, seed=0), method=method, k=k,
                         compile=False, seed=0,
                         n_chains=batch if method != "cd" else None, **extra)
    x = tf.constant(_binary(batch, n_visible))
    trainer.step(x)  # builds the chains and optimizer state
    monkeypatch.setattr(tf, "matmul", counting_matmul)
    trainer.step(x)
    monkeypatch.undo()
    temperatures = {"n_temperatures": extra["ladder"]} if method == "pt" else {}
    expected = floors.matmuls_per_update(method, k, **temperatures)
    assert sum(multiply_adds) == expected * batch * n_visible * n_hidden


@pytest.mark.parametrize("method, k", [("cd", 1), ("cd", 3), ("pcd", 1), ("pcd", 2)])
def test_the_floor_does_the_stated_matmuls_and_stays_finite(method, k):
    data = tf.constant(_binary(60, 12))
    floor = floors.matmul_floor(data, 10, 7, method=method, k=k)
    order = np.arange(60, dtype=np.int32).reshape(6, 10)
    assert floor.matmuls_per_update == floors.matmuls_per_update(method, k)
    assert _matmuls(floor, tf.TensorSpec([None, 10], tf.int32)) == floor.matmuls_per_update
    assert np.isfinite(float(floor(order)))


@pytest.mark.parametrize("method, k, nodes", [("cd", 1, 4), ("pcd", 1, 4), ("cd", 3, 6),
                                              ("pcd", 2, 6)])
def test_the_trainer_does_the_floors_matmuls(method, k, nodes):
    # The built-in rule computes both outer products as one product of stacked
    # rows, so a k = 1 update holds one MatMul node fewer than the floor's
    # 2k + 3 products; for k > 1 a loop body of two products stands for k - 1
    # steps (2 + 2 + 1 + 1 nodes).
    from rbmtut import BernoulliRBM, RBMTrainer
    trainer = RBMTrainer(BernoulliRBM(12, 7), method=method, k=k,
                         n_chains=10 if method == "pcd" else None)
    data = tf.TensorSpec([60, 12], tf.float32)
    assert _matmuls(trainer.compiled_epoch, data,
                    tf.TensorSpec([None, 10], tf.int32)) == nodes
    if k == 1:
        assert nodes == floors.matmuls_per_update(method, k) - 1


def test_the_ais_floor_does_two_matmuls_per_temperature():
    sweep = floors.ais_matmul_floor(12, 7, 5)
    assert _matmuls(sweep, tf.TensorSpec([], tf.int32)) == 2
    short, long = float(sweep(tf.constant(50))), float(sweep(tf.constant(5_000)))
    assert 0.5 < abs(long / short) < 2  # the chained products keep their scale


# --- the benchmarks, on tiny data ------------------------------------------------------


def test_training_throughput_reports_floor_rbmtut_and_sklearn():
    bench = benchmarks.training_throughput(_binary(200, 16), n_hidden=8, batch_size=20, repeats=1)
    assert list(bench.rows)[:3] == ["floor", "rbmtut", "sklearn"]
    assert bench.unit == "examples/s" and "200 digits" in bench.title and "CD-1" in bench.title
    assert all(row.rate > 0 and row.seconds > 0 for row in bench.rows.values())
    assert "float32" in bench.notes[0]  # scikit-learn kept the float32 input's dtype
    pcd = benchmarks.training_throughput(_binary(100, 16), method="pcd", k=2, n_hidden=8,
                                         batch_size=20, repeats=1, sklearn=False)
    assert list(pcd.rows) == ["floor", "rbmtut"] and "7 matmuls" in pcd.rows["floor"].label
    with pytest.raises(ValueError, match="two batches"):
        benchmarks.training_throughput(_binary(30, 16), batch_size=20, sklearn=False)


def test_compile_modes_times_every_mode():
    bench = benchmarks.compile_modes(_binary(100, 16), n_hidden=8, batch_size=10, updates=4,
                                     eager_updates=2, repeats=1)
    assert list(bench.rows) == ["eager", "function", "xla", "epoch", "epoch-xla"]
    assert bench.unit == "updates/s" and all(row.rate > 0 for row in bench.rows.values())


def test_throughput_sweep_covers_the_batch_sizes_and_widths_once():
    points = benchmarks.throughput_sweep(_binary(200, 16), batch_sizes=(10, 100), hidden_sizes=(8, 500),
                                         n_examples=100, min_updates=2, repeats=1,
                                         progress=False)
    assert [(p.batch_size, p.n_hidden) for p in points] == [(10, 500), (100, 500), (100, 8)]
    assert all(p.rbmtut > 0 and p.floor > 0 for p in points)


def test_classic_tutorial_counts_updates_and_projects():
    x = _binary(200, 16)
    run = benchmarks.classic_tutorial(x, updates=3)
    assert run.updates == 3 and run.updates_per_epoch == 10 and run.seconds > 0
    assert math.isclose(run.minutes_for(60), 20 * run.seconds / 60)
    whole = benchmarks.classic_tutorial(x[:40], epochs=2, progress=False)
    assert whole.updates == 4 and whole.updates_per_epoch == 2


def test_ais_throughput_counts_chain_steps():
    rbm = BernoulliRBM(16, 8)
    bench = inference_benchmarks.ais_throughput(rbm, n_runs=4, betas=np.linspace(0, 1, 21))
    assert list(bench.rows) == ["floor", "rbmtut"] and bench.unit == "chain steps/s"
    assert math.isclose(bench.rate("rbmtut") * bench.rows["rbmtut"].seconds, 20 * 4)
    assert "20 temperatures" in bench.title


def test_float_knn_matches_brute_force():
    rng = np.random.default_rng(1)
    database, queries = rng.normal(size=(300, 5)), rng.normal(size=(7, 5))
    found = inference_benchmarks.float_knn(queries, database, 4, block_size=3)
    d2 = ((queries[:, None, :] - database[None]) ** 2).sum(-1)
    np.testing.assert_array_equal(found.indices, np.argsort(d2, axis=1)[:, :4])
    np.testing.assert_allclose(found.distances, np.sort(d2, axis=1)[:, :4], rtol=1e-4, atol=1e-4)
    with pytest.raises(ValueError, match="n_neighbors must be"):
        inference_benchmarks.float_knn(queries, database, 301)


def test_search_throughput_rows_and_memory_notes():
    rng = np.random.default_rng(2)
    bench = inference_benchmarks.search_throughput(rng.random((500, 20)), rng.random((10, 20)),
                                                   n_bits=(16,), n_neighbors=3, repeats=1)
    assert list(bench.rows) == ["hamming-16", "distances-16", "float-16", "float-pixels"]
    assert bench.unit == "queries/s" and "8 bytes per item" in bench.notes[0]


def test_a_child_process_sees_its_environment_and_this_rbmtut():
    import rbmtut

    seen = environments._run_child({"TF_ENABLE_ONEDNN_OPTS": "1"},
                                   "[os.environ['TF_ENABLE_ONEDNN_OPTS'], __file__]")
    assert seen == ["1", environments.__file__]
    assert seen[1].startswith(rbmtut.__file__.rsplit("__init__.py", 1)[0])
