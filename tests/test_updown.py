"""Up-down fine-tuning of a DBN against a NumPy reference; reproducible fits; bad input."""

import numpy as np
import pytest
import tensorflow as tf

import rbmtut
from rbmtut.dbn import DBN
from rbmtut.pretraining import fit_dbn
from rbmtut.updown import UntiedDBN, UpDownTrainer
from stack_helpers import X, numpy_params, random_dbn, sigmoid, uniforms


def updown_reference(model, v, k, eps, seed):
    """One up-down update in NumPy float64, drawing the same uniforms in the same order."""
    params = numpy_params(model)
    lower, (W, b, c) = params[:-1], [p.copy() for p in params[-1]]
    R = [p[0].copy() for p in lower]
    r = [p[2].copy() for p in lower]
    G = [p[0].T.copy() for p in lower]
    g = [p[1].copy() for p in lower]
    u = uniforms(tf.random.Generator.from_seed(seed))
    bern = lambda p: (u(p.shape) < p).astype(np.float64)
    n = len(v)
    wake = [v]
    for l in range(len(R)):
        wake.append(bern(sigmoid(wake[l] @ R[l] + r[l])))
    pen = wake[-1]
    top = bern(sigmoid(pen @ W + c))
    neg_top = top
    for _ in range(k):
        neg_pen = bern(sigmoid(neg_top @ W.T + b))
        neg_top = bern(sigmoid(neg_pen @ W + c))
    sleep = [None] * len(wake)
    sleep[-1] = neg_pen
    for l in reversed(range(len(R))):
        p = sigmoid(sleep[l + 1] @ G[l] + g[l])
        sleep[l] = bern(p) if l > 0 else p
    new = {"G": [], "g": [], "R": [], "r": []}
    for l in range(len(R)):
        p_below = sigmoid(wake[l + 1] @ G[l] + g[l])   # generative prediction (wake)
        q_above = sigmoid(sleep[l] @ R[l] + r[l])      # recognition prediction (sleep)
        new["G"].append(G[l] + eps * wake[l + 1].T @ (wake[l] - p_below) / n)
        new["g"].append(g[l] + eps * (wake[l] - p_below).mean(0))
        new["R"].append(R[l] + eps * sleep[l].T @ (sleep[l + 1] - q_above) / n)
        new["r"].append(r[l] + eps * (sleep[l + 1] - q_above).mean(0))
    new["top"] = [W + eps * (pen.T @ top - neg_pen.T @ neg_top) / n,
                  b + eps * (pen - neg_pen).mean(0), c + eps * (top - neg_top).mean(0)]
    recon = -(v * np.log(sigmoid(wake[1] @ G[0] + g[0]))
              + (1 - v) * np.log(1 - sigmoid(wake[1] @ G[0] + g[0]))).sum(1).mean()
    return wake, top, neg_pen, neg_top, sleep, new, recon


@pytest.mark.parametrize("compile", [True, False])
def test_up_down_step_matches_a_numpy_step(compile):
    model = random_dbn([5, 4, 3, 2], scale=1.0, seed=60)
    before = numpy_params(model)
    v = np.array([[1, 0, 1, 1, 0], [0, 1, 1, 0, 1], [1, 1, 0, 0, 0]], dtype=np.float64)
    untied = UntiedDBN.from_dbn(model)
    trainer = UpDownTrainer(untied, learning_rate=0.3, k=2, seed=23, compile=compile)
    step = trainer.step(v)
    wake, top, neg_pen, neg_top, sleep, new, recon = updown_reference(model, v, 2, 0.3, 23)
    # With this seed every parameter tensor moves, so no comparison below is vacuous.
    lower, top_params = before[:-1], before[-1]
    old = {"G": [p[0].T for p in lower], "g": [p[1] for p in lower],
           "R": [p[0] for p in lower], "r": [p[2] for p in lower], "top": top_params}
    for key in old:
        for a, b in zip(old[key], new[key]):
            assert not np.allclose(a, b), key
    for got, want in zip(step.wake + step.sleep[1:], wake + sleep[1:]):
        np.testing.assert_array_equal(got.numpy(), want)  # binary states: exactly
    np.testing.assert_allclose(step.sleep[0].numpy(), sleep[0], rtol=1e-12)  # probabilities
    for got, want in ((step.wake_top, top), (step.negative_pen, neg_pen), (step.negative_top, neg_top)):
        np.testing.assert_array_equal(got.numpy(), want)
    assert len(step.wake) == len(step.sleep) == 3
    attributes = {"G": untied.generative_weights, "g": untied.generative_biases,
                  "R": untied.recognition_weights, "r": untied.recognition_biases}
    for key, variables in attributes.items():
        for got, want in zip(variables, new[key]):
            np.testing.assert_allclose(got.numpy(), want, rtol=0, atol=1e-12, err_msg=key)
    for got, want in zip(untied.top.parameters, new["top"]):
        np.testing.assert_allclose(got.numpy(), want, rtol=0, atol=1e-12)
    assert abs(float(step.reconstruction) - recon) < 1e-10
    # Something was learned, recognition and generation are now untied,
    # and the DBN itself is untouched.
    assert not np.allclose(untied.generative_weights[0].numpy(), untied.recognition_weights[0].numpy().T)
    for old, cur in zip(before, numpy_params(model)):
        for a, b in zip(old, cur):
            np.testing.assert_array_equal(a, b)


def test_up_down_fit_is_reproducible_and_samples():
    def run():
        model = DBN([16, 10, 6], seed=0)
        fit_dbn(model, X, epochs=1, batch_size=10, monitors={}, progress=False)
        untied = UntiedDBN.from_dbn(model)
        trainer = UpDownTrainer(untied, learning_rate=0.05, k=1, seed=2)
        history = rbmtut.train_epochs(trainer, X, epochs=2, batch_size=20, shuffle_seed=3,
                                      progress=False)
        return untied, history

    (a, ha), (b, hb) = run(), run()
    assert len(ha["reconstruction"]) == len(ha.seconds) == 2
    assert ha["reconstruction"] == hb["reconstruction"]
    for p, q in zip(a.trainable_variables, b.trainable_variables):
        np.testing.assert_array_equal(p.numpy(), q.numpy())
    samples = a.sample(6, seed=0, k=5)
    assert samples.shape == (6, 16)
    # Bit for bit with Eigen kernels; oneDNN's fused graph ops may round the last bit.
    np.testing.assert_allclose(samples.numpy(), a.sample(6, seed=0, k=5, compile=False).numpy(),
                               rtol=0, atol=1e-6)


def test_up_down_rejects_bad_input():
    model = DBN([16, 8, 4])
    with pytest.raises(ValueError, match="at least two RBMs"):
        UntiedDBN.from_dbn(DBN([16, 8]))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        UpDownTrainer(UntiedDBN.from_dbn(model)).step(np.full((2, 16), -1.0))
