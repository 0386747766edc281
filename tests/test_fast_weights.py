"""Fast-weights PCD: the fast parameters' rule, and which parameters sample and learn."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from rbmtut import LearningRule, fit_rbm, learning
from rbmtut.data import bars_and_stripes
from rbmtut.fast_weights import FAST_DECAY, FastWeights
from conftest import random_rbm


def _params(model):
    return [p.numpy().copy() for p in model.parameters]


def test_fast_weights_take_the_regular_step_and_decay():
    x = bars_and_stripes(4)[:10]
    rbm = random_rbm(16, 6, 0.5, seed=1)
    lr, fast_lr = 0.05, 0.2
    trainer = learning.RBMTrainer(rbm, method="fpcd", n_chains=8, momentum=0.0,
                                  learning_rate=lr, fast_learning_rate=fast_lr, seed=0)
    assert isinstance(trainer.fast, FastWeights) and trainer.chains.h is None
    assert all(np.all(f == 0) for f in _params(trainer.fast))
    expected_fast = [np.zeros_like(p) for p in _params(rbm)]
    for _ in range(3):
        before, fast_before = _params(rbm), _params(trainer.fast)
        trainer.step(x)
        after = _params(rbm)
        # the chains sampled from regular + fast parameters as they were
        for s, p, f in zip(_params(trainer.fast.sampler), before, fast_before):
            np.testing.assert_allclose(s, p + f, atol=1e-12)
        # momentum 0: the regular step is -lr * g, the fast one -fast_lr * g
        expected_fast = [FAST_DECAY * e + fast_lr / lr * (a - b)
                         for e, a, b in zip(expected_fast, after, before)]
        for f, e in zip(_params(trainer.fast), expected_fast):
            np.testing.assert_allclose(f, e, atol=1e-10)
    assert np.abs(expected_fast[0]).max() > 1e-3  # the check can fail


def test_fpcd_statistics_use_the_regular_parameters():
    rbm = random_rbm(16, 6, 0.5, seed=2)
    trainer = learning.RBMTrainer(rbm, method="fpcd", n_chains=5, seed=0)
    trainer.fast.W.assign(tf.fill(trainer.fast.W.shape, tf.constant(3.0, rbm.dtype)))
    v_model, logits = trainer.negative_phase(bars_and_stripes(4)[:5], None)
    np.testing.assert_allclose(logits.numpy(), rbm.hidden_logits(v_model).numpy())
    np.testing.assert_array_equal(v_model.numpy(), trainer.chains.v.numpy())
    np.testing.assert_allclose(trainer.fast.sampler.W.numpy(), rbm.W.numpy() + 3.0)


def test_fpcd_learns_and_its_settings_are_checked():
    x = np.repeat(bars_and_stripes(4), 10, axis=0)
    history = fit_rbm(random_rbm(16, 8, 0.01, seed=3), x, method="fpcd", epochs=2,
                      batch_size=10, progress=False, monitors={})
    assert len(history.metrics["surrogate"]) == 2
    # the default fast rate is the regular one of the first epoch
    trainer = learning.RBMTrainer(random_rbm(4, 3, 0.1, seed=0), method="fpcd",
                                  n_chains=2, learning_rate=0.3)
    assert float(trainer.fast.learning_rate) == pytest.approx(0.3)
    with pytest.raises(ValueError, match="fast_learning_rate is only used"):
        LearningRule(method="pcd", n_chains=2, fast_learning_rate=0.1)
    with pytest.raises(ValueError, match="fast_learning_rate"):
        LearningRule(method="fpcd", n_chains=2, fast_learning_rate=0)
    with pytest.raises(ValueError, match="built-in momentum rule"):
        LearningRule(method="fpcd", n_chains=2, optimizer=keras.optimizers.SGD(0.1))
    with pytest.raises(ValueError, match="needs n_chains"):
        learning.RBMTrainer(random_rbm(4, 3, 0.1, seed=0), method="fpcd")
