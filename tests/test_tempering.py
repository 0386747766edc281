"""Parallel tempering against enumeration: every replica's distribution, swap rates."""

import math

import numpy as np
import pytest
import tensorflow as tf

from rbmtut.exact import empirical_distribution, total_variation
from rbmtut.gibbs import PersistentChains
from rbmtut.tempering import TemperedChains, inverse_temperatures
from conftest import binary_states, random_rbm


def _tempered_distribution(rbm, beta):
    """Exact p_beta(v) ~ exp(-beta * energy) marginalised: (2^n_visible,)."""
    W, b, c = (p.numpy() for p in rbm.parameters)
    V = binary_states(rbm.n_visible)
    neg_f = beta * V @ b + np.logaddexp(0, beta * (V @ W + c)).sum(axis=1)
    return np.exp(neg_f - np.logaddexp.reduce(neg_f)), -neg_f


def _tv_noise(p, n):
    """E[TV] of an n-sample empirical distribution (normal approximation)."""
    return 0.5 * np.sum(np.sqrt(2 * p * (1 - p) / (np.pi * n)))


def _advance(chains, rbm, k, rng, calls):
    step = tf.function(lambda: chains.advance(rbm, k, rng).v)
    for _ in range(calls):
        step()


def test_inverse_temperatures():
    np.testing.assert_allclose(inverse_temperatures(5), [1, 0.75, 0.5, 0.25, 0])
    np.testing.assert_allclose(inverse_temperatures([1, 0.5, 0.2]), [1, 0.5, 0.2])
    for bad in (1, [0.9, 0.5], [1, 0.5, 0.6], [1, -0.1], [[1, 0.5]]):
        with pytest.raises(ValueError, match="ladder"):
            inverse_temperatures(bad)


def test_every_replica_keeps_its_tempered_distribution():
    rbm = random_rbm(6, 4, 1.5, seed=21)
    ladder = [1.0, 0.6, 0.3, 0.0]
    n = 50_000
    rng = tf.random.Generator.from_seed(0)
    chains = TemperedChains(np.zeros((n, 6)), ladder)  # a bad start: all zeros
    _advance(chains, rbm, 1, rng, 40)
    for r, beta in enumerate(ladder):
        exact, _ = _tempered_distribution(rbm, beta)
        tv = total_variation(empirical_distribution(chains.v[r]), exact)
        assert tv < 3 * _tv_noise(exact, n), (r, tv)
    # the check can fail: the model at beta = 1 is far from the hot replicas'
    cold, _ = _tempered_distribution(rbm, 1.0)
    assert total_variation(empirical_distribution(chains.v[3]), cold) > 0.2


def test_swap_acceptance_matches_its_exact_value():
    rbm = random_rbm(6, 4, 1.5, seed=21)
    ladder = [1.0, 0.6, 0.3, 0.0]
    n = 20_000
    rng = tf.random.Generator.from_seed(1)
    chains = TemperedChains(np.zeros((n, 6)), ladder)
    _advance(chains, rbm, 1, rng, 30)  # burn in
    chains.proposed.assign(tf.zeros_like(chains.proposed))
    chains.accepted.assign(tf.zeros_like(chains.accepted))
    _advance(chains, rbm, 1, rng, 20)
    for r in range(len(ladder) - 1):
        p_r, f_r = _tempered_distribution(rbm, ladder[r])
        p_s, f_s = _tempered_distribution(rbm, ladder[r + 1])
        # E over x ~ p_r, y ~ p_s of min(1, exp(F_r(x) + F_s(y) - F_r(y) - F_s(x)))
        log_ratio = (f_r[:, None] + f_s[None, :]) - (f_r[None, :] + f_s[:, None])
        exact = p_r @ np.minimum(1, np.exp(log_ratio)) @ p_s
        proposed = chains.proposed.numpy()[r]
        assert proposed == 10 * n  # every other call, every chain
        se = math.sqrt(exact * (1 - exact) / proposed)
        assert abs(chains.acceptance[r] - exact) < 4 * se, (r, exact)
        assert 0.05 < exact < 0.95  # neither trivial nor hopeless


def test_swaps_alternate_between_even_and_odd_pairs():
    rbm = random_rbm(4, 3, 0.0, seed=0)  # all energies zero: every swap is accepted
    n = 10
    chains = TemperedChains(np.zeros((n, 4)), 5)
    rng = tf.random.Generator.from_seed(2)
    assert np.all(np.isnan(chains.acceptance))
    chains.advance(rbm, 1, rng)
    np.testing.assert_array_equal(chains.proposed.numpy(), [n, 0, n, 0])
    chains.advance(rbm, 2, rng)
    np.testing.assert_array_equal(chains.proposed.numpy(), [n, n, n, n])
    np.testing.assert_array_equal(chains.acceptance, [1, 1, 1, 1])
    assert chains.n_chains == n and chains.v.shape == (5, n, 4)


def test_swaps_carry_states_between_modes_that_gibbs_sampling_cannot_cross():
    # Two modes, all zeros and all ones, each with probability 0.37, separated
    # by states of tiny probability: single-temperature chains started at all
    # zeros stay there; tempered chains reach the exact distribution.
    rbm = random_rbm(6, 1, 0.0, seed=0)
    rbm.W.assign(np.full((6, 1), 6.0))
    rbm.b.assign(np.full(6, -3.0))
    rbm.c.assign([-18.0])
    exact, _ = _tempered_distribution(rbm, 1.0)
    assert exact[0] == pytest.approx(exact[-1]) and exact[0] > 0.35
    n = 20_000
    rng = tf.random.Generator.from_seed(4)
    plain = PersistentChains(np.zeros((n, 6)))
    step = tf.function(lambda: plain.advance(rbm, 1, rng).v)
    for _ in range(50):
        step()
    assert total_variation(empirical_distribution(plain.v), exact) > 0.3
    tempered = TemperedChains(np.zeros((n, 6)), 8)
    _advance(tempered, rbm, 1, rng, 50)
    tv = total_variation(empirical_distribution(tempered.v[0]), exact)
    assert tv < 3 * _tv_noise(exact, n), tv


def test_the_trainer_learns_from_the_coldest_replica():
    from rbmtut import LearningRule, fit_rbm, learning
    from rbmtut.data import bars_and_stripes

    rbm = random_rbm(16, 8, 0.01, seed=5)
    trainer = learning.RBMTrainer(rbm, method="pt", n_chains=7, ladder=[1, 0.5, 0.1],
                                  seed=0)
    assert isinstance(trainer.chains, TemperedChains) and trainer.chains.v.shape == (3, 7, 16)
    before = trainer.chains.v.numpy()
    v_model, logits = trainer.negative_phase(bars_and_stripes(4)[:5], None)
    np.testing.assert_array_equal(v_model.numpy(), trainer.chains.v[0].numpy())
    np.testing.assert_allclose(logits.numpy(), rbm.hidden_logits(v_model).numpy())
    assert not np.array_equal(before, trainer.chains.v.numpy())
    # fit_rbm gives the chains one per example of a batch, and training runs
    history = fit_rbm(random_rbm(16, 8, 0.01, seed=5), bars_and_stripes(4), method="pt",
                      epochs=2, batch_size=10, progress=False, monitors={})
    assert len(history.metrics["surrogate"]) == 2
    with pytest.raises(ValueError, match="ladder is only used by method='pt'"):
        LearningRule(method="pcd", n_chains=3, ladder=4)
    with pytest.raises(ValueError, match="ladder"):
        LearningRule(method="pt", ladder=[1, 1])
    with pytest.raises(ValueError, match="needs n_chains"):
        learning.RBMTrainer(rbm, method="pt")
    assert LearningRule(method="pt", n_chains=2, ladder=[1, 0.5]).ladder == (1.0, 0.5)
