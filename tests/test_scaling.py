"""Scaling sweeps, power-law fits, the GPU projection: exact counts, no timing claims.

Nothing here asserts that anything is fast; the timing functions run on tiny
sizes and only their structure is checked (the appendix runs them for real).
"""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from rbmtut import hashing  # noqa: E402
from rbmtut.book import floors, projection, scaling  # noqa: E402
from rbmtut.book.projection import Device, Kernel  # noqa: E402
from rbmtut.rbm import BernoulliRBM  # noqa: E402


def _binary(n, d, seed=0):
    return (np.random.default_rng(seed).random((n, d)) < 0.3).astype(np.float32)


# --- fit_power_law ---------------------------------------------------------------


@pytest.mark.parametrize("p, a", [(1.0, 2e-3), (1.5, 3.0), (-0.5, 0.25), (0.0, 7.0)])
def test_fit_power_law_recovers_an_exact_power_law(p, a):
    sizes = np.array([10, 20, 50, 100, 1000])
    fit = scaling.fit_power_law(sizes, a * sizes**p)
    assert math.isclose(fit.exponent, p, abs_tol=1e-12)
    assert math.isclose(fit.prefactor, a, rel_tol=1e-10)
    assert fit.std_err < 1e-10
    np.testing.assert_allclose(fit(sizes), a * sizes**p, rtol=1e-10)


@pytest.mark.parametrize("p, words", [
    (1.0, "about in proportion to"), (0.92, "about in proportion to"),
    (1.08, "about in proportion to"), (0.5, "more slowly than in proportion to"),
    (0.0, "more slowly than in proportion to"), (1.3, "faster than in proportion to")])
def test_power_law_growth_in_words(p, words):
    assert scaling.PowerLaw(p, 1.0, 0.0).growth() == words
    # a wider tolerance calls more exponents proportional
    assert scaling.PowerLaw(p, 1.0, 0.0).growth(tolerance=1.0) == (
        "about in proportion to" if p <= 2 else words)


def test_fit_power_law_standard_error_from_the_residuals():
    sizes = np.array([1.0, 2.0, 4.0, 8.0])
    seconds = sizes * np.exp([0.1, -0.1, -0.1, 0.1])  # log-residuals +-0.1, p stays 1
    fit = scaling.fit_power_law(sizes, seconds)
    x = np.log(sizes) - np.log(sizes).mean()
    assert math.isclose(fit.exponent, 1.0, abs_tol=1e-12)
    assert math.isclose(fit.std_err, math.sqrt(4 * 0.01 / 2 / (x @ x)), rel_tol=1e-9)
    assert math.isnan(scaling.fit_power_law([1, 2], [1.0, 2.0]).std_err)  # two points


@pytest.mark.parametrize("sizes, seconds", [
    ([1, 1], [1.0, 2.0]), ([1, 2], [1.0, 0.0]), ([1, 2, 3], [1.0, 2.0]),
    ([0, 2], [1.0, 2.0]),
])
def test_fit_power_law_rejects_what_it_cannot_fit(sizes, seconds):
    with pytest.raises(ValueError):
        scaling.fit_power_law(sizes, seconds)


def test_scaling_fits_each_series_and_the_larger_sizes_alone():
    result = scaling.Scaling("A", "things", "fixed", (1, 2, 4, 8),
                             {"one": (5.0, 2.0, 4.0, 8.0), "two": (3.0, 3.0, 3.0, 3.0)})
    assert math.isclose(result.exponent("one", smallest=2), 1.0, abs_tol=1e-12)
    assert math.isclose(result.fit("one", smallest=2).prefactor, 1.0, rel_tol=1e-12)
    assert result.exponent("one") < 0.5 and result.exponent("two") == 0.0
    assert result.exponent() == result.fits["one"].exponent
    assert result.table().columns == ["things", "one (ms)", "two (ms)"]
    with pytest.raises(ValueError, match="two distinct"):
        result.fit("one", smallest=8)


# --- the timed sweeps, on tiny sizes ---------------------------------------------


def _check(result, sizes, labels):
    assert result.sizes == tuple(sizes) and list(result.seconds) == labels
    for label in labels:
        assert len(result.seconds[label]) == len(sizes)
        assert all(s > 0 for s in result.seconds[label])
        assert math.isfinite(result.exponent(label))
    text = repr(result)
    assert "p = " in text and result.name in text
    assert "<table" in result._repr_html_()


@pytest.mark.parametrize("vary, sizes, options", [
    ("n_hidden", (2, 4), dict(batch_size=10, n_examples=20)),
    ("batch_size", (5, 10), dict(n_hidden=3, n_examples=20)),
    ("n_examples", (20, 40), dict(n_hidden=3, batch_size=10)),
])
def test_epoch_scaling_times_every_size(vary, sizes, options):
    result = scaling.epoch_scaling(_binary(40, 6), vary, sizes, repeats=1, **options)
    _check(result, sizes, ["RBMTrainer.epoch"])
    assert result.name == "CD-1 epoch" and "best of 1" in result.details


def test_epoch_scaling_rejects_partial_batches_and_missing_data():
    x = _binary(40, 6)
    with pytest.raises(ValueError, match="whole"):
        scaling.epoch_scaling(x, "batch_size", (3, 10), n_hidden=2, n_examples=20)
    with pytest.raises(ValueError, match="need 80"):
        scaling.epoch_scaling(x, "n_examples", (20, 80), n_hidden=2, batch_size=10)
    with pytest.raises(ValueError, match="vary"):
        scaling.epoch_scaling(x, "n_visible", (2, 4))
    with pytest.raises(ValueError, match="ascending"):
        scaling.epoch_scaling(x, "n_hidden", (4, 2))


@pytest.mark.parametrize("vary, sizes", [("n_runs", (2, 4)),
                                         ("n_temperatures", (3, 6))])
def test_ais_scaling_times_every_size(vary, sizes):
    result = scaling.ais_scaling(BernoulliRBM(6, 4), vary, sizes, n_runs=3,
                                 n_temperatures=5, repeats=1)
    _check(result, sizes, ["ais_log_partition"])


def test_search_scaling_times_both_searches():
    rng = np.random.default_rng(0)
    codes = hashing.pack_bits(rng.random((200, 16)) < 0.5)
    result = scaling.search_scaling(codes, codes[:5], (50, 200), n_neighbors=3,
                                    radius=1, repeats=1)
    _check(result, (50, 200), ["exhaustive", "lookup"])
    with pytest.raises(ValueError, match="200 codes"):
        scaling.search_scaling(codes, codes[:5], (50, 400))


def test_plot_scaling_draws_a_panel_per_result_with_the_exponents():
    fake = scaling.Scaling("A", "things", "fixed", (1, 2, 4),
                           {"one": (1.0, 2.0, 4.0), "two": (1.0, 1.0, 1.0)})
    fig = scaling.plot_scaling([fake, fake], n_cols=3)
    shown = [ax for ax in fig.axes if ax.get_visible()]
    assert len(shown) == 2 and shown[0].get_xscale() == "log"
    legend = [t.get_text() for t in shown[0].get_legend().get_texts()]
    assert legend == ["one: p = 1.00", "two: p = 0.00"]
    plt.close(fig)


# --- counting FLOPs and bytes ----------------------------------------------------


def test_matmul_elementwise_and_reduction_counts():
    assert projection.matmul("m", 2, 3, 4) == Kernel("m", 48, 4 * (6 + 12 + 8), 1)
    assert projection.matmul("m", 2, 3, 4, count=3) == Kernel("m", 144, 312, 3)
    kernel = projection.elementwise("e", 10, inputs=2, launches=3)
    assert kernel == Kernel("e", 30, 3 * 4 * 10 * 3, 3)
    assert projection.reduction("r", 10, launches=2) == Kernel("r", 20, 80, 2)


def _totals(kernels):
    return (sum(k.flops for k in kernels), sum(k.bytes for k in kernels),
            sum(k.launches for k in kernels))


def test_cd1_counts_for_a_tiny_update():
    # batch n = 2, V = 3 visible, H = 4 hidden; FLOPs, bytes and launches by hand:
    #   gather 6, 48, 1          products 5 x (48, 104), 5   hidden 4 x (8, 64)
    #   visible 2 x (6, 48)      noise h 128, 32, 1; compare 2 x (8, 96)
    #   noise v 96, 24, 1; compare 2 x (6, 72)   v.b 24, 48, 2   softplus 2 x (8, 64)
    #   sums 2 x (8, 32)         stack [v; v'] and [h; h'] 0, 224, 2
    #   h / n 2 x (8, 64)  db 2 x (6, 24)  dc 2 x (8, 32)  momentum 48, 240, 3
    #   scalars 0, 0, 10;  weight decay (if on) 2 x (12, 144)
    assert _totals(projection.cd_update_kernels(2, 3, 4)) == (690, 2256, 45)
    assert (_totals(projection.cd_update_kernels(2, 3, 4, weight_decay=True))
            == (714, 2544, 47))
    products = [k for k in projection.cd_update_kernels(2, 3, 4) if "outer" in k.name]
    assert products[0].flops == floors.matmuls_per_update("cd", 1) * 2 * 2 * 3 * 4


def test_pcd1_adds_the_floors_extra_products_and_storing_the_chains():
    cd = _totals(projection.cd_update_kernels(2, 3, 4))
    pcd = _totals(projection.cd_update_kernels(2, 3, 4, persistent=True))
    extra = floors.matmuls_per_update("pcd", 1) - floors.matmuls_per_update("cd", 1)
    # each extra product 48 FLOPs, 104 bytes, with + c and sigmoid over n H = 8
    # (16, 128, 2 launches); storing the chains: n (V + H) = 14 numbers, 14, 112, 1
    assert pcd == (cd[0] + extra * (48 + 16) + 14, cd[1] + extra * (104 + 128) + 112,
                   cd[2] + extra * 3 + 1)


def test_ais_temperature_counts_for_tiny_sizes():
    # R = 2 runs, V = 3, H = 4: v W 48, 104; + c 8, 64; v.b 24, 48 (2); beta a and
    # softplus 4 x (8, 64); sums 2 x (8, 32); scalars 12 launches; hidden 2 x (8, 64);
    # noise h 128, 32; compare 2 x (8, 96); h W^T 48, 104; visible 4 x (6, 48);
    # noise v 96, 24; compare 2 x (6, 72)
    assert _totals(projection.ais_temperature_kernels(2, 3, 4)) == (468, 1352, 35)


def test_hamming_counts_words_of_64_bits():
    # 10 codes of 32 bits: a word each; zero 10 bytes, XOR 10 ops and 160 bytes,
    # popcount 10 and 90, add 10 and 30
    assert _totals(projection.hamming_kernels(10, 32)) == (30, 290, 4)
    assert _totals(projection.hamming_kernels(10, 65)) == (60, 570, 4)  # two words
    assert _totals(projection.hamming_kernels(10, 32, n_queries=3)) == (90, 870, 4)


# --- the projection --------------------------------------------------------------


def test_project_takes_the_slower_of_arithmetic_and_memory_plus_launches():
    device = Device("toy", flops_per_s=1e3, bytes_per_s=1e3, launch_s=0.0)
    assert projection.project([Kernel("compute-bound", 2000, 500)], device) == 2.0
    assert projection.project([Kernel("memory-bound", 500, 3000)], device) == 3.0
    both = [Kernel("a", 2000, 500), Kernel("b", 500, 3000)]
    assert projection.project(both, device) == 5.0  # per kernel, not max of the sums
    slow_launch = device._replace(launch_s=0.5)
    assert projection.project([Kernel("tiny", 0, 0, launches=4)], slow_launch) == 2.0
    assert projection.project(both, slow_launch) == 6.0


def test_projection_table_columns_and_ratio():
    fast = Device("fast", 1e6, 1e6, 0.0)
    slow = Device("slow", 1e3, 1e3, 0.0)
    steps = {"s": [Kernel("k", 1000, 10)], "t": [Kernel("k", 10, 2000)]}
    table = projection.projection_table(steps, [slow, fast], measured={"s": 0.5})
    assert table.columns == ["step", "MFLOP", "MB moved", "launches", "slow, ms",
                             "fast, ms", "measured here, ms", "speed-up, fast"]
    assert table.rows[0] == ["s", 1e-3, 1e-5, 1, 1000.0, 1.0, 500.0, 1000.0]
    assert table.rows[1][6] is None and "Projected, not measured" in repr(table)


def test_measure_cpu_gives_positive_finite_rates():
    cpu = projection.measure_cpu(n_visible=8, n_hidden=4, batch_size=5, updates=2,
                                 n_floats=64, repeats=1)
    assert cpu.name == "this CPU (measured)"
    for rate in cpu[1:]:
        assert math.isfinite(rate) and rate > 0
    assert projection.T4.flops_per_s == 8.1e12 and projection.T4.bytes_per_s == 320e9
