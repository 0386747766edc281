"""Reverse AIS and RAISE against enumeration: brackets, unbiasedness, bounds."""

import math

import numpy as np
import pytest
import tensorflow as tf

from rbmtut import conservative, likelihood
from conftest import binary_states, random_rbm


def _exact(rbm):
    """(states, log p(v) for every state, log Z), by enumerating the visible layer."""
    states = binary_states(rbm.n_visible)
    neg_f = -rbm.free_energy(states).numpy()
    log_z = np.logaddexp.reduce(neg_f)
    return states, neg_f - log_z, log_z


def _exact_samples(rbm, n, seed):
    states, log_p, _ = _exact(rbm)
    rng = np.random.default_rng(seed)
    return states[rng.choice(len(states), size=n, p=np.exp(log_p))]


def _log_mean_exp(x, axis=-1):
    return np.logaddexp.reduce(x, axis=axis) - math.log(x.shape[axis])


def _annealed_model(rbm, base_bias, betas):
    """Exact p_ann over the visible states: p_0, then forward AIS's transitions."""
    W, b, c = (p.numpy() for p in rbm.parameters)
    V, H = binary_states(rbm.n_visible), binary_states(rbm.n_hidden)

    def bernoulli(logits, x):  # P(x) for rows of logits (n, d) and states x (m, d)
        log_on, log_off = -np.logaddexp(0, -logits), -np.logaddexp(0, logits)
        return np.exp(log_on @ x.T + log_off @ (1 - x).T)

    p = bernoulli(base_bias[None], V)[0]
    for beta in betas[1:]:
        h_given_v = bernoulli(beta * (V @ W + c), H)  # (2^nv, 2^nh)
        v_given_h = bernoulli(base_bias + beta * (H @ W.T + b - base_bias), V)
        p = p @ h_given_v @ v_given_h
    return p


def test_effective_sample_size_counts_equal_and_dominant_runs():
    assert likelihood.effective_sample_size(np.zeros(50)) == pytest.approx(50)
    assert likelihood.effective_sample_size([0.0, -50.0, -50.0]) == pytest.approx(1)
    assert likelihood.effective_sample_size([0.0, math.log(2)]) == pytest.approx(9 / 5)
    rbm = random_rbm(6, 4, 1.0, seed=2)
    result = likelihood.ais_log_partition(
        rbm, n_runs=30, betas=likelihood.ais_schedule("linear", 5))
    assert result.effective_sample_size == pytest.approx(
        likelihood.effective_sample_size(result.log_weights))
    assert 1 <= result.effective_sample_size <= 30
    for bad in ([], [[0.0]], [0.0, np.nan]):
        with pytest.raises(ValueError, match="log_weights"):
            likelihood.effective_sample_size(bad)


def test_reverse_ais_weights_are_unbiased_for_the_ratio_of_partition_functions():
    rbm = random_rbm(8, 5, 1.0, seed=3)
    _, _, log_z = _exact(rbm)
    log_z_base = (8 + 5) * math.log(2)  # zero base biases: every factor is 2
    result = conservative.reverse_ais_log_partition(
        rbm, _exact_samples(rbm, 4_000, seed=0),
        betas=likelihood.ais_schedule("linear", 10), seed=1)
    w = np.exp(result.log_weights)
    # the sample mean of 4,000 independent weights, within 4 standard errors
    assert abs(w.mean() - math.exp(log_z_base - log_z)) < 4 * w.std() / math.sqrt(len(w))
    assert result.std_err > 0 and result.log_z_low < result.log_z < result.log_z_high
    assert 1 < result.effective_sample_size < 4_000


def test_forward_and_reverse_ais_bracket_log_z_and_tighten_with_more_temperatures():
    rbm = random_rbm(8, 5, 1.5, seed=4)
    _, _, log_z = _exact(rbm)
    start = _exact_samples(rbm, 8_000, seed=5)
    gaps = {}
    for n_temperatures in (5, 50):
        betas = likelihood.ais_schedule("linear", n_temperatures)
        forward = likelihood.ais_log_partition(rbm, n_runs=8_000, betas=betas, seed=6)
        reverse = conservative.reverse_ais_log_partition(rbm, start, betas=betas, seed=7)
        log_z_base = (8 + 5) * math.log(2)
        # 2,000 independent estimates from 4 runs each
        fwd = log_z_base + _log_mean_exp(forward.log_weights.reshape(-1, 4))
        rev = log_z_base - _log_mean_exp(reverse.log_weights.reshape(-1, 4))
        se_fwd, se_rev = (x.std(ddof=1) / math.sqrt(len(x)) for x in (fwd, rev))
        # In expectation forward is below log Z, reverse above (Jensen), here
        # by more than 3 standard errors of the 2,000-estimate means.
        assert fwd.mean() + 3 * se_fwd < log_z < rev.mean() - 3 * se_rev
        gaps[n_temperatures] = (log_z - fwd.mean(), rev.mean() - log_z, se_fwd, se_rev)
    (f5, r5, sf5, sr5), (f50, r50, sf50, sr50) = gaps[5], gaps[50]
    assert f5 - f50 > 3 * math.hypot(sf5, sf50) and r5 - r50 > 3 * math.hypot(sr5, sr50)


def test_reverse_ais_upper_bound_holds_with_the_stated_probability():
    rbm = random_rbm(8, 5, 1.5, seed=4)
    _, _, log_z = _exact(rbm)
    betas = likelihood.ais_schedule("linear", 5)
    starts = _exact_samples(rbm, 4 * 300, seed=8).reshape(300, 4, -1)
    results = [conservative.reverse_ais_log_partition(rbm, s, betas=betas, seed=9 + i)
               for i, s in enumerate(starts)]
    bounds = np.array([r.log_z_upper_bound(0.9) for r in results])
    np.testing.assert_allclose(bounds, [r.log_z - math.log(0.1) for r in results])
    # Markov: below log Z in at most 10% of replicates (binomial, 3 standard errors)
    assert np.mean(bounds < log_z) <= 0.1 + 3 * math.sqrt(0.1 * 0.9 / 300)
    assert np.mean([r.log_z < log_z for r in results]) > 0.1  # the margin is needed


def test_raise_is_unbiased_for_the_annealed_model():
    rbm = random_rbm(5, 3, 1.5, seed=10)
    base = np.random.default_rng(11).normal(0, 0.5, 5)
    betas = likelihood.ais_schedule("linear", 2)
    p_ann = _annealed_model(rbm, base, betas)
    states, log_p, _ = _exact(rbm)
    np.testing.assert_allclose(p_ann.sum(), 1, atol=1e-12)
    for code in (0, 13, 31):
        digit = np.repeat(states[code][None], 80_000, axis=0)
        estimates = conservative.raise_log_likelihood(
            rbm, digit, betas=betas, base_bias=base, seed=code).numpy()
        w = np.exp(estimates)
        se = w.std() / math.sqrt(len(w))
        assert abs(w.mean() - p_ann[code]) < 4 * se
        # ... and not for the RBM itself, which two temperatures do not reach
        assert abs(math.exp(log_p[code]) - p_ann[code]) > 6 * se
        # Jensen: the mean log-estimate is below log p_ann
        assert estimates.mean() < math.log(p_ann[code])


def test_raise_averaged_over_model_samples_bounds_the_log_likelihood_and_tightens():
    rbm = random_rbm(8, 5, 1.5, seed=4)
    states, log_p, _ = _exact(rbm)
    digits = _exact_samples(rbm, 3_000, seed=12)
    codes = digits @ (2 ** np.arange(8))
    exact = log_p[codes.astype(int)]
    gaps = []
    for n_temperatures in (5, 50):
        estimates = conservative.raise_log_likelihood(
            rbm, digits, betas=likelihood.ais_schedule("linear", n_temperatures),
            seed=13).numpy()
        d = estimates - exact
        se = d.std(ddof=1) / math.sqrt(len(d))
        assert d.mean() + 3 * se < 0  # below the exact log-likelihood
        gaps.append((-d.mean(), se))
    assert gaps[0][0] - gaps[1][0] > 3 * math.hypot(gaps[0][1], gaps[1][1])
    # more chains per digit: a tighter bound on the same digits
    more = conservative.raise_log_likelihood(
        rbm, digits, n_chains=8, betas=likelihood.ais_schedule("linear", 5), seed=14)
    assert exact.mean() - more.numpy().mean() < gaps[0][0]


def test_conservative_estimates_are_seeded():
    rbm = random_rbm(6, 4, 1.0, seed=2)
    v = _exact_samples(rbm, 20, seed=0)
    betas = likelihood.ais_schedule("linear", 10)
    one = conservative.reverse_ais_log_partition(rbm, v, betas=betas, seed=3)
    two = conservative.reverse_ais_log_partition(rbm, v, betas=betas, seed=3)
    other = conservative.reverse_ais_log_partition(rbm, v, betas=betas, seed=4)
    np.testing.assert_array_equal(one.log_weights, two.log_weights)
    assert not np.array_equal(one.log_weights, other.log_weights)
    a = conservative.raise_log_likelihood(rbm, v, betas=betas, seed=5).numpy()
    b = conservative.raise_log_likelihood(rbm, v, betas=betas, seed=5).numpy()
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("call, error, match", [
    (lambda rbm: conservative.reverse_ais_log_partition(rbm, np.ones((1, 6))),
     ValueError, "two rows"),
    (lambda rbm: conservative.reverse_ais_log_partition(rbm, np.full((3, 6), 0.5)),
     ValueError, "v_model"),
    (lambda rbm: conservative.reverse_ais_log_partition(rbm, np.ones((3, 5))),
     ValueError, "v_model"),
    (lambda rbm: conservative.raise_log_likelihood(rbm, np.zeros((0, 6))),
     ValueError, "0 rows"),
    (lambda rbm: conservative.raise_log_likelihood(rbm, np.ones((2, 6)), n_chains=0),
     ValueError, "n_chains"),
    (lambda rbm: conservative.raise_log_likelihood(rbm, np.ones((2, 6)),
                                                   betas=[0, 0.5]),
     ValueError, "0 to 1"),
    (lambda rbm: conservative.reverse_ais_log_partition(
        rbm, np.ones((2, 6)), betas=[0, 1]).log_z_upper_bound(1.0),
     ValueError, "confidence"),
])
def test_conservative_estimates_reject_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call(random_rbm(6, 4, 1.0, seed=2))


def test_weight_statistics_from_log_weights_without_overflow():
    log_w = np.array([1000.0, 1000.0 + math.log(3.0)])  # weights e^1000 and 3 e^1000
    log_mean, rel_se = likelihood.weight_statistics(log_w)
    assert log_mean == pytest.approx(1000.0 + math.log(2.0))
    w = np.array([1.0, 3.0])
    assert rel_se == pytest.approx(w.std(ddof=1) / (math.sqrt(2) * w.mean()))
