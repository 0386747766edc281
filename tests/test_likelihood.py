"""Pseudo-likelihood, reconstruction error, AIS and Gibbs stationarity vs exact answers."""

import numpy as np
import pytest
import tensorflow as tf

from rbmtut import likelihood
from rbmtut.exact import (empirical_distribution, exact_log_partition, exact_visible_distribution,
                          state_codes, total_variation)
from rbmtut.gibbs import PersistentChains, gibbs_chain, gibbs_step
from conftest import BruteForce, random_rbm


def test_pseudo_likelihood_matches_brute_force(small_rbm):
    ref = BruteForce(small_rbm)
    f = ref.free_energy()
    d = small_rbm.n_visible
    expected = []
    for k in range(len(ref.V)):
        total = 0.0
        for i in range(d):
            flipped = k ^ (1 << i)  # the state with bit i flipped
            total += -f[k] - np.logaddexp(-f[k], -f[flipped])
        expected.append(total)
    got = likelihood.pseudo_log_likelihood(small_rbm, ref.V, batch_size=3).numpy()
    assert abs(got - np.mean(expected)) < 1e-5


def test_stochastic_pseudo_likelihood_is_unbiased(small_rbm):
    ref = BruteForce(small_rbm)
    v = np.repeat(ref.V[:4], 5000, axis=0)  # 20,000 rows, one random bit each
    exact = likelihood.pseudo_log_likelihood(small_rbm, v[::5000]).numpy()
    rng = tf.random.Generator.from_seed(0)
    # Per-row values to get the estimator's own standard error.
    index = rng.uniform((len(v), 1), maxval=small_rbm.n_visible, dtype=tf.int32)
    rows = small_rbm.n_visible * likelihood.log_conditionals(
        small_rbm, tf.constant(v), index
    ).numpy()[:, 0]
    std_err = rows.std() / np.sqrt(len(rows))
    estimate = likelihood.pseudo_log_likelihood(small_rbm, v, stochastic=True, seed=1).numpy()
    assert abs(estimate - exact) < 4 * std_err + 1e-9
    # The noise comes from an int seed; a generator (the old rng=) is refused.
    with pytest.raises(TypeError, match="seed"):
        likelihood.pseudo_log_likelihood(small_rbm, v, stochastic=True,
                                         seed=tf.random.Generator.from_seed(1))


def test_reconstruction_cross_entropy_matches_numpy():
    rbm = random_rbm(5, 3, 1.0, seed=2)
    v = binary_rows = np.array([[1, 0, 1, 1, 0], [0, 0, 0, 1, 1]], np.float64)
    W, b, c = (p.numpy() for p in rbm.parameters)
    h = 1 / (1 + np.exp(-(v @ W + c)))
    p = 1 / (1 + np.exp(-(h @ W.T + b)))
    expected = -(v * np.log(p) + (1 - v) * np.log(1 - p)).sum(1).mean()
    got = likelihood.reconstruction_cross_entropy(rbm, binary_rows).numpy()
    assert abs(got - expected) < 1e-9


def test_state_codes_and_empirical_distribution():
    v = np.array([[1, 0, 0], [0, 1, 1], [1, 0, 0], [1, 1, 1]])
    np.testing.assert_array_equal(state_codes(v).numpy(), [1, 6, 1, 7])
    p = empirical_distribution(v).numpy()
    np.testing.assert_allclose(p, [0, 0.5, 0, 0, 0, 0, 0.25, 0.25])
    assert total_variation(p, np.full(8, 1 / 8)) == pytest.approx(0.625)


def test_gibbs_chains_reach_the_exact_distribution():
    """Many parallel chains: TV(empirical, exact) falls to the sampling-noise level."""
    rbm = random_rbm(5, 4, 1.0, seed=7)
    exact = exact_visible_distribution(rbm).numpy()
    n = 100_000
    # With n samples over 32 states, E[TV] <= 0.5 * sqrt(32 / (2 pi n)/ ... ) ~ 0.006.
    noise_tv = 0.5 * np.sum(np.sqrt(2 * exact * (1 - exact) / (np.pi * n)))
    assert noise_tv < 0.01
    rng = tf.random.Generator.from_seed(0)
    start = tf.zeros([n, 5], tf.float64)  # a bad start: every chain at 00000
    tv_start = total_variation(empirical_distribution(start), exact)
    end = gibbs_chain(rbm, start, 30, rng)
    tv_end = total_variation(empirical_distribution(end.v), exact)
    assert tv_start > 0.5  # the check can fail: the start is far away
    assert tv_end <= 0.02
    assert tv_end < 3 * noise_tv


def test_gibbs_chain_is_k_steps_and_reproducible():
    rbm = random_rbm(4, 3, 1.0, seed=3)
    v0 = tf.ones([7, 4], tf.float64)
    g1, g2 = tf.random.Generator.from_seed(9), tf.random.Generator.from_seed(9)
    chained = gibbs_chain(rbm, v0, 3, g1)
    v = v0
    for _ in range(3):
        state = gibbs_step(rbm, v, g2)
        v = state.v
    np.testing.assert_array_equal(chained.v.numpy(), v.numpy())
    np.testing.assert_array_equal(chained.v_probs.numpy(), state.v_probs.numpy())
    g3 = tf.random.Generator.from_seed(9)
    compiled = tf.function(lambda x: gibbs_chain(rbm, x, 3, g3).v)
    eager = gibbs_chain(rbm, v0, 3, tf.random.Generator.from_seed(9)).v
    np.testing.assert_array_equal(compiled(v0).numpy(), eager.numpy())
    with pytest.raises(ValueError, match="k must"):
        gibbs_chain(rbm, v0, 0, g1)


def test_persistent_chains_keep_their_state():
    rbm = random_rbm(4, 3, 1.0, seed=3)
    chains = PersistentChains(tf.zeros([50, 4], tf.float64))
    assert chains.n_chains == 50 and not chains.v.trainable
    state = chains.advance(rbm, 2, tf.random.Generator.from_seed(0))
    np.testing.assert_array_equal(chains.v.numpy(), state.v.numpy())
    assert chains.v.numpy().sum() > 0


def test_chains_with_hidden_states_keep_the_exact_distribution():
    """h -> v -> h steps from exact joint samples stay exact, in v and in h."""
    rbm = random_rbm(5, 4, 1.0, seed=7)
    exact_v = exact_visible_distribution(rbm).numpy()
    n = 100_000
    noise_tv = 0.5 * np.sum(np.sqrt(2 * exact_v * (1 - exact_v) / (np.pi * n)))
    rng = tf.random.Generator.from_seed(0)
    # Exact samples of v, then h ~ p(h | v): a draw of the joint distribution.
    codes = rng.uniform([n], dtype=tf.float64)
    v0 = tf.gather(state_codes_inverse(5), tf.searchsorted(np.cumsum(exact_v), codes))
    h0 = rbm.sample_hidden(v0, rng)
    chains = PersistentChains(v0, h0)
    for _ in range(3):
        state = chains.advance(rbm, 2, rng)
    tv = total_variation(empirical_distribution(chains.v), exact_v)
    assert tv < 3 * noise_tv, (tv, noise_tv)
    np.testing.assert_array_equal(chains.v.numpy(), state.v.numpy())
    # The stored h is a draw of p(h | v) from the logits of the new v.
    np.testing.assert_allclose(state.hidden_logits.numpy(),
                               rbm.hidden_logits(state.v).numpy(), atol=1e-12)
    rows = tf.cast(chains.h, tf.float64)
    p_h = tf.sigmoid(rbm.hidden_logits(chains.v))
    mean_gap = np.abs(np.mean(rows - p_h, axis=0))
    assert np.all(mean_gap < 4 * 0.5 / np.sqrt(n)), mean_gap
    # The hidden marginal: sum over v of p(v) p(h | v), against the chains' h.
    exact_h = exact_visible_distribution(_transposed(rbm)).numpy()
    tv_h = total_variation(empirical_distribution(chains.h), exact_h)
    noise_h = 0.5 * np.sum(np.sqrt(2 * exact_h * (1 - exact_h) / (np.pi * n)))
    assert tv_h < 3 * noise_h, (tv_h, noise_h)
    with pytest.raises(ValueError, match="one hidden state per chain"):
        PersistentChains(v0[:10], h0[:9])


def state_codes_inverse(width):
    """The 2**width binary rows in the order of ``state_codes``."""
    codes = np.arange(2 ** width)[:, None]
    return tf.constant((codes >> np.arange(width)) & 1, tf.float64)


def _transposed(rbm):
    """The RBM with its layers swapped: its visible marginal is rbm's hidden one."""
    swapped = random_rbm(rbm.n_hidden, rbm.n_visible, 1.0, seed=0)
    swapped.W.assign(tf.transpose(rbm.W))
    swapped.b.assign(rbm.c)
    swapped.c.assign(rbm.b)
    return swapped


def test_ais_agrees_with_exact_log_partition():
    rbm = random_rbm(20, 12, 1.0, seed=11)  # non-trivial weights, 2**12 hidden states
    exact = exact_log_partition(rbm).numpy()
    betas = likelihood.ais_schedule("linear", 1000)
    small = likelihood.ais_log_partition(rbm, n_runs=50, betas=betas, seed=0)
    big = likelihood.ais_log_partition(rbm, n_runs=800, betas=betas, seed=1)
    assert abs(big.log_z - exact) <= 3 * big.std_err
    assert abs(big.log_z - exact) <= 0.1
    assert big.log_z_low < exact < big.log_z_high
    # The standard error shrinks like 1/sqrt(M): 16x more runs, ~4x smaller.
    assert big.std_err < small.std_err / 2
    assert len(big.log_weights) == 800


def test_ais_lower_bound_holds_with_the_stated_probability():
    # A short schedule and few runs: log Z_hat is very noisy, yet by Markov's
    # inequality it exceeds log Z + log(10) in at most 10% of replicates.
    rbm = random_rbm(20, 12, 1.0, seed=11)
    exact = exact_log_partition(rbm).numpy()
    betas = likelihood.ais_schedule("linear", 20)
    results = [likelihood.ais_log_partition(rbm, n_runs=4, betas=betas, seed=7 + s) for s in range(300)]
    log_z = np.array([r.log_z for r in results])
    bounds = np.array([r.log_z_lower_bound(0.9) for r in results])
    np.testing.assert_allclose(bounds, log_z + np.log(0.1), rtol=0, atol=1e-12)
    assert np.std(log_z) > 0.5  # noisy enough for the bound to matter
    # Binomial(300, <= 0.1): the share above 0.1 + 3 standard errors has probability < 0.2%.
    assert np.mean(bounds > exact) <= 0.1 + 3 * np.sqrt(0.1 * 0.9 / 300)
    # The estimate itself is too high in a good share of replicates: the margin is needed.
    assert np.mean(log_z > exact) > 0.1
    for bad in (0, 1, 1.5):  # numbers outside (0, 1)
        with pytest.raises(ValueError, match="confidence"):
            results[0].log_z_lower_bound(bad)
    for bad in (True, "0.9"):  # not numbers at all
        with pytest.raises(TypeError, match="confidence"):
            results[0].log_z_lower_bound(bad)


def test_ais_with_a_data_base_rate_and_the_paper_schedule():
    rbm = random_rbm(10, 8, 0.5, seed=5)
    x = (np.random.default_rng(0).random((500, 10)) < 0.3).astype(np.float64)
    base = likelihood.base_rate_bias(x)
    result = likelihood.ais_log_partition(
        rbm, n_runs=20, base_bias=base, betas=likelihood.ais_schedule()[::10]
    )
    exact = exact_log_partition(rbm).numpy()
    assert abs(result.log_z - exact) <= max(3 * result.std_err, 0.05)
    assert len(likelihood.ais_schedule()) == 14_501


def test_seeded_ais_is_traced_once_and_draws_the_numbers_of_a_fresh_generator():
    rbm = random_rbm(10, 6, 0.5, seed=3)
    betas = likelihood.ais_schedule("linear", 30)
    base = np.zeros(rbm.n_visible)
    fresh_log_w = likelihood.ais_log_weights(
        rbm.W, rbm.b, rbm.c, tf.constant(base, rbm.dtype), tf.constant(betas, rbm.dtype),
        tf.constant(8), tf.random.Generator.from_seed(4)).numpy()
    first = likelihood.ais_log_partition(rbm, n_runs=8, betas=betas, seed=4)
    traces = likelihood.ais_log_weights.experimental_get_tracing_count()
    again = [likelihood.ais_log_partition(rbm, n_runs=8, betas=betas, seed=s) for s in (4, 5)]
    assert likelihood.ais_log_weights.experimental_get_tracing_count() == traces
    np.testing.assert_array_equal(first.log_weights, fresh_log_w)
    np.testing.assert_array_equal(again[0].log_weights, fresh_log_w)
    assert not np.array_equal(again[1].log_weights, fresh_log_w)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"betas": [0.0, 0.5]}, "0 to 1"),
        ({"betas": [0.0, 0.6, 0.5, 1.0]}, "increasing"),
        ({"n_runs": 1}, "n_runs"),
        ({"base_bias": np.zeros(3)}, "base_bias"),
    ],
)
def test_ais_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        likelihood.ais_log_partition(random_rbm(4, 3, 1.0, 0), **kwargs)


def test_ais_result_from_a_subset_of_runs_is_that_subset_s_estimate():
    rbm = random_rbm(5, 4, 1.0, seed=2)
    betas = likelihood.ais_schedule("linear", 50)
    whole = likelihood.ais_log_partition(rbm, n_runs=40, betas=betas, seed=3)
    log_z_base = likelihood.annealing_path(rbm, betas)[2]
    again = likelihood.AISResult.from_log_weights(whole.log_weights, log_z_base)
    assert again.log_z == pytest.approx(whole.log_z, abs=1e-12)
    assert again.log_z_high == pytest.approx(whole.log_z_high, abs=1e-12)
    part = likelihood.AISResult.from_log_weights(whole.log_weights[:10], log_z_base)
    w = np.exp(whole.log_weights[:10])
    assert part.log_z == pytest.approx(log_z_base + np.log(w.mean()), abs=1e-9)
    assert part.std_err == pytest.approx(w.std(ddof=1) / (np.sqrt(10) * w.mean()))
