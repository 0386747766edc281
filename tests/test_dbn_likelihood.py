"""The DBN's variational bound against enumeration on tiny stacks."""

import itertools

import numpy as np
import pytest
import tensorflow as tf

from rbmtut import dbn_likelihood, exact
from rbmtut.dbn import DBN


def random_dbn(sizes, seed, scale=1.0):
    rng = np.random.default_rng(seed)
    dbn = DBN(sizes, dtype=tf.float64)
    for rbm in dbn.rbms:
        rbm.W.assign(rng.normal(0, scale, rbm.W.shape))
        rbm.b.assign(rng.normal(0, scale, rbm.b.shape))
        rbm.c.assign(rng.normal(0, scale, rbm.c.shape))
    return dbn


def states(n):
    return np.array(list(itertools.product([0.0, 1.0], repeat=n)))


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def log_bernoulli(x, p):
    return np.sum(x * np.log(p) + (1 - x) * np.log(1 - p), axis=-1)


def references(dbn, v):
    """Exact log p(v) and the exact bound, by enumerating h^1 (two-RBM stacks)."""
    bottom, top = dbn.rbms
    W, b, c = bottom.W.numpy(), bottom.b.numpy(), bottom.c.numpy()
    h1 = states(bottom.n_hidden)
    log_z = float(exact.exact_log_partition(top))
    log_p_h1 = -top.free_energy(h1).numpy() - log_z                  # (m,)
    log_p_v_h1 = np.array([log_bernoulli(v, sigmoid(b + h @ W.T)) for h in h1]).T
    log_p_v = np.logaddexp.reduce(log_p_h1[None] + log_p_v_h1, axis=1)
    q = np.array([log_bernoulli(h, sigmoid(c + v @ W)) for h in h1]).T  # log q(h|v)
    bound = np.sum(np.exp(q) * (log_p_h1[None] + log_p_v_h1 - q), axis=1)
    return log_p_v, bound, log_z


def test_the_bound_is_below_the_exact_log_likelihood_and_equals_its_formula():
    dbn = random_dbn([5, 3, 2], seed=0)
    v = states(5)
    log_p_v, bound, log_z = references(dbn, v)
    assert np.exp(log_p_v).sum() == pytest.approx(1.0, abs=1e-10)  # a distribution
    assert np.all(bound <= log_p_v + 1e-12)
    assert np.max(log_p_v - bound) > 0.01  # a real gap, not an identity
    # bound_terms, weighted by q over every h^1, is the same bound.
    W, c = dbn.rbms[0].W.numpy(), dbn.rbms[0].c.numpy()
    h1 = states(3)
    weights = np.array([np.exp(log_bernoulli(h, sigmoid(c + v @ W))) for h in h1]).T
    terms = np.stack([dbn_likelihood.bound_terms(dbn, v, [np.tile(h, (len(v), 1))])
                      .numpy() for h in h1], axis=1)
    np.testing.assert_allclose((weights * terms).sum(1) - log_z, bound, atol=1e-10)


def test_the_monte_carlo_estimate_converges_to_the_bound():
    dbn = random_dbn([5, 3, 2], seed=1)
    v = states(5)[[3, 17, 30]]
    _, bound, log_z = references(dbn, v)
    n = 4000
    estimate = dbn_likelihood.log_likelihood_bound(dbn, v, log_z, n_samples=n,
                                                   seed=0).numpy()
    # Per-row spread of the integrand, from the same enumeration.
    W, c = dbn.rbms[0].W.numpy(), dbn.rbms[0].c.numpy()
    h1 = states(3)
    q = np.array([np.exp(log_bernoulli(h, sigmoid(c + v @ W))) for h in h1]).T
    terms = np.stack([dbn_likelihood.bound_terms(dbn, v, [np.tile(h, (len(v), 1))])
                      .numpy() for h in h1], axis=1) - log_z
    std = np.sqrt(np.sum(q * (terms - bound[:, None]) ** 2, axis=1))
    assert np.all(np.abs(estimate - bound) < 4 * std / np.sqrt(n) + 1e-12)


def test_one_rbm_gives_the_exact_log_likelihood():
    dbn = random_dbn([4, 3], seed=2)
    v = states(4)
    log_z = float(exact.exact_log_partition(dbn.top))
    got = dbn_likelihood.log_likelihood_bound(dbn, v, log_z, n_samples=1).numpy()
    np.testing.assert_allclose(got, -dbn.top.free_energy(v).numpy() - log_z, atol=1e-12)


def test_bad_inputs_are_refused():
    dbn = random_dbn([4, 3, 2], seed=3)
    with pytest.raises(ValueError, match="0 or 1"):
        dbn_likelihood.log_likelihood_bound(dbn, np.full((2, 4), 0.5), 0.0)
    with pytest.raises(ValueError, match="layers below the top"):
        dbn_likelihood.bound_terms(dbn, np.zeros((2, 4)), [])
    with pytest.raises(TypeError, match="DBN"):
        dbn_likelihood.log_likelihood_bound("stack", np.zeros((2, 4)), 0.0)


def test_an_untied_stack_uses_generative_weights_for_p_and_recognition_for_q():
    from rbmtut.updown import UntiedDBN

    dbn = random_dbn([5, 3, 2], seed=4)
    untied = UntiedDBN.from_dbn(dbn)
    v = states(5)
    h = [np.tile(states(3)[5], (len(v), 1))]
    np.testing.assert_allclose(dbn_likelihood.bound_terms(untied, v, h).numpy(),
                               dbn_likelihood.bound_terms(dbn, v, h).numpy(),
                               atol=1e-12)  # untied from a DBN: the same stack
    rng = np.random.default_rng(5)
    G, g = untied.generative_weights[0], untied.generative_biases[0]
    R, r = untied.recognition_weights[0], untied.recognition_biases[0]
    for p in (G, g, R, r):
        p.assign(rng.normal(0, 1, p.shape))
    log_z = float(exact.exact_log_partition(untied.top))
    h1 = states(3)
    log_p_h1 = -untied.top.free_energy(h1).numpy() - log_z
    log_p_v_h1 = np.array([log_bernoulli(v, sigmoid(g.numpy() + h @ G.numpy()))
                           for h in h1]).T
    q = np.array([log_bernoulli(h, sigmoid(r.numpy() + v @ R.numpy())) for h in h1]).T
    bound = np.sum(np.exp(q) * (log_p_h1[None] + log_p_v_h1 - q), axis=1)
    terms = np.stack([dbn_likelihood.bound_terms(untied, v, [np.tile(h, (len(v), 1))])
                      .numpy() for h in h1], axis=1)
    np.testing.assert_allclose((np.exp(q) * terms).sum(1) - log_z, bound, atol=1e-10)
    log_p_v = np.logaddexp.reduce(log_p_h1[None] + log_p_v_h1, axis=1)
    assert np.all(bound <= log_p_v + 1e-12)


def test_two_untied_layers_below_the_top_against_enumeration():
    from rbmtut.updown import UntiedDBN

    untied = UntiedDBN.from_dbn(random_dbn([3, 3, 3, 2], seed=6))
    rng = np.random.default_rng(7)
    for p in (untied.recognition_weights + untied.recognition_biases
              + untied.generative_weights + untied.generative_biases):
        p.assign(rng.normal(0, 1, p.shape))
    (R0, r0), (R1, r1) = [(R.numpy(), r.numpy()) for R, r in untied.recognition_layers()]
    (G1, g1), (G0, g0) = [(G.numpy(), g.numpy()) for G, g in untied.generative_layers()]
    log_z = float(exact.exact_log_partition(untied.top))
    v = states(3)
    h = states(3)
    bound = np.zeros(len(v))
    for h1 in h:
        for h2 in h:
            q = np.exp(log_bernoulli(h1, sigmoid(r0 + v @ R0))
                       + log_bernoulli(h2, sigmoid(r1 + h1 @ R1)))     # (n,)
            log_joint = (-untied.top.free_energy(h2[None]).numpy()[0] - log_z
                         + log_bernoulli(h1, sigmoid(g1 + h2 @ G1))
                         + log_bernoulli(v, sigmoid(g0 + h1 @ G0)))
            log_q = np.log(q)
            bound += q * (log_joint - log_q)
            terms = dbn_likelihood.bound_terms(
                untied, v, [np.tile(h1, (len(v), 1)), np.tile(h2, (len(v), 1))]).numpy()
            np.testing.assert_allclose(terms - log_z, log_joint - log_q, atol=1e-10)
    n = 4000
    estimate = dbn_likelihood.log_likelihood_bound(untied, v, log_z, n_samples=n,
                                                   seed=0).numpy()
    # a generous 4 standard errors: the integrand's spread is at most a few nats here
    per_sample = [dbn_likelihood.log_likelihood_bound(untied, v, log_z, n_samples=1,
                                                      seed=s).numpy() for s in range(200)]
    spread = np.std(per_sample, axis=0)
    assert np.all(np.abs(estimate - bound) < 4 * spread / np.sqrt(n) + 1e-9)
