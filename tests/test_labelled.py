"""The labelled RBM and DBN against brute-force enumeration of tiny models."""

import itertools

import numpy as np
import pytest
import tensorflow as tf

import rbmtut
from rbmtut import exact
from rbmtut.labelled_dbn import LabelledDBN
from rbmtut.labelled_rbm import LabelledRBM, draw_categorical
from rbmtut.updown import UpDownTrainer

F, L, H = 3, 3, 2  # features, labels, hidden units


def random_model(seed=0, scale=1.0, sizes=(F, L, H)):
    rng = np.random.default_rng(seed)
    model = LabelledRBM(*sizes, dtype=tf.float64)
    for p in model.parameters:
        p.assign(rng.normal(0, scale, p.shape))
    return model


def bits(n):
    return np.array(list(itertools.product([0.0, 1.0], repeat=n)))


def joint_table(model):
    """Every (x, y, h) state with its unnormalised log-probability -E."""
    W, b, c = (p.numpy() for p in model.parameters)
    rows = []
    for x in bits(F):
        for y in np.eye(L):
            for h in bits(H):
                v = np.concatenate([x, y])
                rows.append((x, y, h, v @ b + h @ c + v @ W @ h))
    return rows


def test_free_energies_and_log_z_match_enumeration():
    model = random_model(0)
    rows = joint_table(model)
    log_z = np.logaddexp.reduce([e for *_, e in rows])
    # F(x, y) = -log sum_h exp(-E), for every (x, y)
    for x in bits(F):
        for label, y in enumerate(np.eye(L)):
            want = -np.logaddexp.reduce([e for xx, yy, _, e in rows
                                         if (xx == x).all() and (yy == y).all()])
            got = model.free_energy(np.concatenate([x, y])[None]).numpy()[0]
            assert got == pytest.approx(want, abs=1e-10)
            assert model.label_free_energies(x[None]).numpy()[0, label] == \
                pytest.approx(want, abs=1e-10)
    # F_h(h) = -log sum_{x, y} exp(-E), and exact log Z through the hidden layer
    for h in bits(H):
        want = -np.logaddexp.reduce([e for _, _, hh, e in rows if (hh == h).all()])
        assert model.hidden_free_energy(h[None]).numpy()[0] == pytest.approx(
            want, abs=1e-10)
    assert float(exact.exact_log_partition(model)) == pytest.approx(log_z, abs=1e-10)


def test_conditionals_match_enumeration():
    model = random_model(1)
    rows = joint_table(model)
    for h in bits(H):  # p(x_i = 1 | h) and p(y | h)
        sel = [(x, y, e) for x, y, hh, e in rows if (hh == h).all()]
        weights = np.exp(np.array([e for *_, e in sel]) - max(e for *_, e in sel))
        weights /= weights.sum()
        want = np.concatenate([
            sum(w * x for w, (x, _, _) in zip(weights, sel)),
            sum(w * y for w, (_, y, _) in zip(weights, sel))])
        np.testing.assert_allclose(model.visible_probs(h[None]).numpy()[0], want,
                                   atol=1e-10)
    for x in bits(F):  # p(h_j = 1 | x, y)
        for y in np.eye(L):
            sel = [(h, e) for xx, yy, h, e in rows
                   if (xx == x).all() and (yy == y).all()]
            weights = np.exp(np.array([e for _, e in sel]))
            want = sum(w * h for w, (h, _) in zip(weights, sel)) / weights.sum()
            v = np.concatenate([x, y])[None]
            np.testing.assert_allclose(model.hidden_probs(v).numpy()[0], want,
                                       atol=1e-10)


def test_classification_by_free_energy_is_the_exact_label_posterior():
    model = random_model(2)
    rows = joint_table(model)
    for x in bits(F):
        joint = np.array([np.logaddexp.reduce(
            [e for xx, yy, _, e in rows if (xx == x).all() and (yy == y).all()])
            for y in np.eye(L)])
        want = np.exp(joint - np.logaddexp.reduce(joint))
        np.testing.assert_allclose(model.label_probabilities(x[None]).numpy()[0],
                                   want, atol=1e-10)


def test_settling_matches_its_exact_expectation_and_the_label_posterior():
    model = random_model(3)
    W, b, c = (p.numpy() for p in model.parameters)
    x = bits(F)[5]
    k, n = 20, 4000
    got = model.settle(np.tile(x, (n, 1)), k=k, seed=0).numpy()
    # The exact expectation of the estimate: the first h is drawn with the labels
    # at 1/L each, then y_t ~ p(y | h_t) and h_{t+1} ~ p(h | x, y_t).
    hs = bits(H)

    def p_h(label_vector):  # p(h | x, y) for every h
        p1 = 1 / (1 + np.exp(-(c + x @ W[:F] + label_vector @ W[F:])))
        return np.prod(np.where(hs == 1, p1, 1 - p1), axis=1)

    logits = b[F:] + hs @ W[F:].T
    p_y_h = np.exp(logits - logits.max(1, keepdims=True))
    p_y_h /= p_y_h.sum(1, keepdims=True)                      # (2**H, L)
    T = np.stack([p_h(y) @ p_y_h for y in np.eye(L)])         # y -> y'
    m = p_h(np.full(L, 1 / L)) @ p_y_h
    expected = np.zeros(L)
    for _ in range(k):
        expected += m / k
        m = m @ T
    spread = got.std(axis=0) / np.sqrt(n)
    assert np.all(np.abs(got.mean(0) - expected) < 4 * spread + 1e-12)
    # ... and the chain's stationary answer is the exact posterior.
    stationary = np.linalg.matrix_power(T, 200)[0]
    np.testing.assert_allclose(stationary, model.label_probabilities(x[None]).numpy()[0],
                               atol=1e-10)
    np.testing.assert_allclose(got.sum(1), 1.0, atol=1e-10)


def chi_square_ok(counts, probs, n):
    """Pearson's statistic below the 0.999 quantile (Wilson-Hilferty)."""
    expected = n * probs
    keep = expected > 5
    stat = np.sum((counts[keep] - expected[keep]) ** 2 / expected[keep])
    dof = keep.sum() - 1
    z = 3.09  # the 0.999 normal quantile
    limit = dof * (1 - 2 / (9 * dof) + z * np.sqrt(2 / (9 * dof))) ** 3
    return stat < limit


def test_clamped_generation_draws_from_the_class_conditional():
    model = random_model(4)
    rows = joint_table(model)
    n, label = 20_000, 1
    x, _ = model.sample_features(np.full(n, label), k=30, seed=0)
    codes = x.numpy() @ (2 ** np.arange(F)[::-1])
    counts = np.bincount(codes.astype(int), minlength=2**F)
    y = np.eye(L)[label]
    log_p = np.array([np.logaddexp.reduce([e for xx, yy, _, e in rows
                                           if (xx == xs).all() and (yy == y).all()])
                      for xs in bits(F)])
    probs = np.exp(log_p - np.logaddexp.reduce(log_p))
    assert chi_square_ok(counts, probs, n)


def test_gibbs_chains_reach_the_joint_distribution():
    model = random_model(5, scale=0.7)
    rows = joint_table(model)
    n = 20_000
    v = model.sample(n, k=30, seed=0)  # visible probabilities after the last step
    v_states = rbmtut.gibbs.gibbs_chain(model, model.noise(tf.constant(n),
                                        tf.random.Generator.from_seed(1)), 30,
                                        tf.random.Generator.from_seed(2)).v.numpy()
    assert v.shape == (n, F + L)
    labels = v_states[:, F:].argmax(1)
    np.testing.assert_array_equal(v_states[:, F:].sum(1), 1.0)  # one label per row
    codes = (v_states[:, :F] @ (2 ** np.arange(F)[::-1])).astype(int) * L + labels
    counts = np.bincount(codes, minlength=2**F * L)
    log_p = np.array([np.logaddexp.reduce([e for xx, yy, _, e in rows
                                           if (xx == xs).all() and yy[lab] == 1])
                      for xs in bits(F) for lab in range(L)])
    assert chi_square_ok(counts, np.exp(log_p - np.logaddexp.reduce(log_p)), n)


def test_draw_categorical_frequencies():
    probs = tf.constant([[0.1, 0.6, 0.3]] * 30_000, tf.float64)
    draws = draw_categorical(probs, tf.random.Generator.from_seed(0)).numpy()
    np.testing.assert_array_equal(draws.sum(1), 1.0)
    assert chi_square_ok(draws.sum(0), np.array([0.1, 0.6, 0.3]), 30_000)


def test_cd_training_learns_labels_from_features():
    # Label = first feature: a labelled RBM trained by CD should classify it.
    rng = np.random.default_rng(0)
    x = (rng.random((2000, 4)) < 0.5).astype(float)
    y = x[:, 0].astype(int)
    model = LabelledRBM(4, 2, 8, seed=0, dtype=tf.float64)
    rbmtut.fit_rbm(model, model.join(x, y), epochs=20, batch_size=20,
                   learning_rate=0.1, progress=False)
    accuracy = np.mean(model.label_probabilities(x).numpy().argmax(1) == y)
    assert accuracy > 0.95


def tiny_dbn(seed=0):
    rng = np.random.default_rng(seed)
    lower = [rbmtut.BernoulliRBM(4, 3, dtype=tf.float64),
             rbmtut.BernoulliRBM(3, 3, dtype=tf.float64)]
    for rbm in lower:
        for p in rbm.parameters:
            p.assign(rng.normal(0, 1, p.shape))
    top = random_model(seed, sizes=(3, 2, 2))
    return LabelledDBN.from_rbms(lower, top), lower, top


def test_labelled_dbn_classifies_with_the_top_of_the_mean_field_pass():
    dbn, lower, top = tiny_dbn(0)
    v = bits(4)
    pen = v
    for rbm in lower:
        pen = 1 / (1 + np.exp(-(pen @ rbm.W.numpy() + rbm.c.numpy())))
    np.testing.assert_allclose(dbn.label_probabilities(v).numpy(),
                               top.label_probabilities(pen).numpy(), atol=1e-12)
    labels = top.label_probabilities(pen).numpy().argmax(1)
    assert dbn.error_rate(v, labels) == 0.0
    assert dbn.error_rate(v, 1 - labels) == 100.0


def test_labelled_dbn_samples_and_saves(tmp_path):
    dbn, *_ = tiny_dbn(1)
    a = dbn.sample_digits([0, 1, 1], k=5, seed=3).numpy()
    b = dbn.sample_digits([0, 1, 1], k=5, seed=3).numpy()
    np.testing.assert_array_equal(a, b)
    assert a.shape == (3, 4) and np.all((a >= 0) & (a <= 1))
    assert dbn.sample(4, k=5, seed=0).shape == (4, 4)  # labels free
    loaded = rbmtut.load_model(dbn.save(tmp_path / "labelled"))
    assert isinstance(loaded, LabelledDBN) and isinstance(loaded.top, LabelledRBM)
    np.testing.assert_allclose(loaded.label_probabilities(bits(4)).numpy(),
                               dbn.label_probabilities(bits(4)).numpy())


def test_class_conditional_digits_have_the_exact_expected_pixels():
    dbn, lower, top = tiny_dbn(2)
    sigmoid = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    (G1, g1), (G0, g0) = [(G.numpy(), g.numpy()) for G, g in dbn.generative_layers()]
    pens = bits(3)
    n = 20_000
    for label in (0, 1):
        log_p = -top.label_free_energies(pens).numpy()[:, label]
        p_pen = np.exp(log_p - np.logaddexp.reduce(log_p))     # p(h^2 | y)
        p1 = sigmoid(pens @ G1 + g1)                            # p(h^1 = 1 | h^2)
        h1s = bits(3)
        p_h1 = np.prod(np.where(h1s[None] == 1, p1[:, None], 1 - p1[:, None]), -1)
        expected = p_pen @ p_h1 @ sigmoid(h1s @ G0 + g0)        # E[p(v | h^1) | y]
        got = dbn.sample_digits(np.full(n, label), k=50, seed=label).numpy()
        spread = got.std(axis=0) / np.sqrt(n)
        assert np.all(np.abs(got.mean(0) - expected) < 4 * spread + 1e-12)


def test_up_down_with_labels_updates_the_top_by_its_rule():
    dbn, *_ = tiny_dbn(2)
    before = [p.numpy() for p in dbn.top.parameters]
    trainer = UpDownTrainer(dbn, learning_rate=0.1, k=1, seed=0)
    v = bits(4)[:8]
    labels = np.array([0, 1] * 4)
    state = trainer.step((v, labels))
    y = np.eye(2)[labels]
    pen = np.concatenate([state.wake[-1].numpy(), y], axis=1)  # labels clamped
    neg = np.concatenate([state.negative_pen.numpy(), state.negative_labels.numpy()],
                         axis=1)
    np.testing.assert_array_equal(state.negative_labels.numpy().sum(1), 1.0)
    t, t_neg = state.wake_top.numpy(), state.negative_top.numpy()
    n = len(v)
    np.testing.assert_allclose(dbn.top.W.numpy() - before[0],
                               0.1 * (pen.T @ t - neg.T @ t_neg) / n, atol=1e-12)
    np.testing.assert_allclose(dbn.top.b.numpy() - before[1],
                               0.1 * (pen - neg).mean(0), atol=1e-12)
    # training over whole epochs takes (digits, labels) pairs
    history = rbmtut.train_epochs(trainer, (bits(4), np.arange(16) % 2), epochs=2,
                                  batch_size=4, progress=False)
    assert len(history.epoch) == 2


def test_up_down_clamps_labels_in_the_positive_phase_and_samples_them_in_the_chain():
    dbn, *_ = tiny_dbn(3)
    top = dbn.top
    W, b, c = np.zeros(top.W.shape), np.zeros(top.b.shape), np.zeros(top.c.shape)
    W[top.n_features + 0, 0], W[top.n_features + 1, 0] = 60.0, -60.0  # h_0 = [y = 0]
    b[top.n_features + 1] = 200.0  # but the chain always draws label 1
    for p, value in zip(top.parameters, (W, b, c)):
        p.assign(value)
    labels = np.array([0, 1] * 20)
    state = UpDownTrainer(dbn, learning_rate=1e-9, k=1, seed=0).step(
        (np.tile(bits(4)[3], (40, 1)), labels))
    np.testing.assert_array_equal(state.wake_top.numpy()[:, 0], labels == 0)  # clamped
    np.testing.assert_array_equal(state.negative_labels.numpy().argmax(1), 1)  # free


def test_bad_inputs_are_refused():
    model = random_model(0)
    with pytest.raises(ValueError, match="label units"):
        model.free_energy(np.zeros((2, F + L)))  # no label on
    with pytest.raises(ValueError, match=r"in \[0, 3\)"):
        model.join(np.zeros((2, F)), [0, 3])
    with pytest.raises(TypeError, match="integer labels"):
        model.join(np.zeros((2, F)), [0.0, 1.0])
    with pytest.raises(ValueError, match="one label per row"):
        model.join(np.zeros((2, F)), [0])
    with pytest.raises(ValueError, match="empty"):
        model.sample_features(np.array([], dtype=int))
    with pytest.raises(TypeError, match="softmax label units"):
        rbmtut.likelihood.ais_log_partition(model, n_runs=2)
    with pytest.raises(TypeError, match="softmax label units"):
        rbmtut.likelihood.pseudo_log_likelihood(model, model.join(np.zeros((1, F)),
                                                                  [0]))
    with pytest.raises(TypeError, match="softmax label units"):
        rbmtut.RBMTrainer(model, method="pt", n_chains=10)
    with pytest.raises(TypeError, match="softmax label units"):
        rbmtut.DBN([rbmtut.BernoulliRBM(5, F), model])
    dbn, *_ = tiny_dbn(0)
    with pytest.raises(ValueError, match="depends on the label"):
        dbn.up(bits(4))
    with pytest.raises(TypeError, match="pair"):
        UpDownTrainer(dbn).step(bits(4))
    with pytest.raises(ValueError, match="start from noise"):
        dbn.sample(2, start=bits(4)[:2])
    with pytest.raises(ValueError, match="feature units"):
        LabelledDBN.from_rbms([rbmtut.BernoulliRBM(4, 5)], LabelledRBM(3, 2, 2))
