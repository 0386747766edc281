"""The practical guide's monitors: the free-energy gap and the training histograms."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from rbmtut import fitting, likelihood, plotting  # noqa: E402
from rbmtut.data import bars_and_stripes  # noqa: E402
from rbmtut.exact import exact_log_partition  # noqa: E402
from conftest import random_rbm  # noqa: E402


def _bits(n, d, p, seed):
    return (np.random.default_rng(seed).random((n, d)) < p).astype(np.float64)


def test_free_energy_gap_is_the_gap_between_exact_log_likelihoods():
    rbm = random_rbm(10, 6, 1.0, seed=1)
    train, validation = _bits(300, 10, 0.3, 2), _bits(200, 10, 0.6, 3)
    log_z = exact_log_partition(rbm)
    expected = (likelihood.log_likelihood(rbm, train, log_z)
                - likelihood.log_likelihood(rbm, validation, log_z)).numpy()
    assert fitting.free_energy_gap(train, validation)(rbm) == pytest.approx(
        expected, abs=1e-10)
    # only the first `rows` rows of each count
    assert fitting.free_energy_gap(train, validation, rows=50)(rbm) == pytest.approx(
        fitting.free_energy_gap(train[:50], validation[:50])(rbm), abs=1e-12)


def test_free_energy_gap_grows_when_a_model_memorises_its_training_digits():
    x = bars_and_stripes(4)  # 30 patterns of 16 pixels
    rng = np.random.default_rng(0)
    order = rng.permutation(len(x))
    train, validation = x[order[:15]], x[order[15:]]
    gap = fitting.free_energy_gap(train, validation)
    rbm = random_rbm(16, 30, 0.01, seed=4)
    history = fitting.fit_rbm(rbm, np.repeat(train, 20, axis=0), method="cd", k=1,
                              epochs=30, batch_size=20, learning_rate=0.1, seed=0,
                              monitors={"gap": gap}, progress=False)
    gaps = history.metrics["gap"]
    assert len(gaps) == 30 and abs(gaps[0]) < 5
    # fifteen patterns fitted, fifteen never seen: the gap keeps opening (from
    # about 1 nat after the first epoch to about 6.5 after the 30th)
    assert gaps[0] < gaps[15] < gaps[-1] and gaps[-1] > gaps[0] + 3


def test_training_histograms_hold_the_models_values_and_the_last_update():
    rbm = random_rbm(8, 5, 1.0, seed=5)
    before = rbm.copy()
    step = np.random.default_rng(7).normal(0, 0.01, (8, 5))
    rbm.W.assign_add(step)
    v = _bits(20, 8, 0.5, 6)
    values = fitting.training_histograms(rbm, v, previous=before)
    assert set(values) == {"weights", "visible biases", "hidden biases", "p(h|v)",
                           "weight updates"}
    np.testing.assert_allclose(values["weight updates"], step.ravel(), atol=1e-12)
    np.testing.assert_allclose(values["weights"], rbm.W.numpy().ravel())
    np.testing.assert_allclose(values["p(h|v)"], rbm.hidden_probs(v).numpy().ravel())
    assert "weight updates" not in fitting.training_histograms(rbm, v)
    with pytest.raises(ValueError, match="previous"):
        fitting.training_histograms(rbm, v, previous=random_rbm(8, 4, 1.0, seed=0))
    fig = plotting.plot_histogram_panels(values)
    assert [ax.get_title() for ax in fig.axes] == list(values)
    assert all(len(ax.patches) == 50 for ax in fig.axes)
    with pytest.raises(ValueError, match="values"):
        plotting.plot_histogram_panels({})


@pytest.mark.parametrize("rows", [0, -1, 1.5, True])
def test_free_energy_gap_rejects_bad_rows(rows):
    with pytest.raises((ValueError, TypeError), match="rows"):
        fitting.free_energy_gap(np.ones((2, 3)), np.ones((2, 3)), rows=rows)
