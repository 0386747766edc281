"""How far above the matrix-multiply floor must a sampled update be?

The floors of ``rbmtut.book.floors`` time an update's matrix products and
nothing else.  A CD-1 update must also draw its Bernoulli samples (one
uniform number per hidden and per visible unit of the batch), apply its
sigmoids and update its weights.  This script builds those floors one
addition at a time, as compiled loops over the same digits, and times them
side by side with ``RBMTrainer.epoch``; then the same for one AIS
temperature (two products, against a sampled Gibbs transition).

    RBMTUT_DATA_DIR=../shared/data python benchmarks/sampling_floor.py
"""

from __future__ import annotations

import time

import numpy as np
import tensorflow as tf

from rbmtut import data
from rbmtut.book import floors
from rbmtut.book.benchmarks import benchmark_trainer
from rbmtut.fitting import epoch_orders

BATCH, HIDDEN, DIGITS, ROUNDS = 100, 500, 6_000, 5
RUNS, TEMPERATURES = 100, 725


def cd1_floor(x, level):
    """A compiled epoch of CD-1's products plus, by ``level``: 1 the noise,
    2 the sigmoids and biases, 3 the momentum update of the weights."""
    n_visible = x.shape[1]
    W = tf.Variable(floors.unit_weights(n_visible, HIDDEN, 0))
    velocity = tf.Variable(tf.zeros_like(W))
    b, c = tf.Variable(tf.zeros([n_visible])), tf.Variable(tf.zeros([HIDDEN]))
    rng = tf.random.Generator.from_seed(0)

    def sample(p, shape):
        return tf.cast(rng.uniform(shape) < p, tf.float32) if level >= 1 else p

    def update(v):
        a = tf.matmul(v, W) + (c if level >= 2 else 0.0)
        h = tf.sigmoid(a) if level >= 2 else a
        back = tf.matmul(sample(h, [BATCH, HIDDEN]), W, transpose_b=True)
        v_model = sample(tf.sigmoid(back + b) if level >= 2 else back,
                         [BATCH, n_visible])
        a_model = tf.matmul(v_model, W)
        h_model = tf.sigmoid(a_model + c) if level >= 2 else a_model
        grad = tf.matmul(tf.concat([v_model, v], 0),
                         tf.concat([h_model * 0.01, h * -0.01], 0), transpose_a=True)
        if level >= 3:
            tf.raw_ops.ResourceApplyKerasMomentum(
                var=W.handle, accum=velocity.handle, lr=0.05, grad=grad,
                momentum=0.5, use_locking=False)
            return tf.reduce_sum(grad[0])
        return tf.reduce_sum(grad)

    @tf.function(input_signature=[tf.TensorSpec([None, BATCH], tf.int32)])
    def epoch(order):
        def body(i, total):
            with tf.control_dependencies([total]):  # one update after another
                v = tf.gather(x, order[i])
            return i + 1, total + update(v)

        return tf.while_loop(lambda i, _: i < tf.shape(order)[0], body, (0, 0.0))[1]

    return epoch


def ais_transition_floor(n_visible):
    """A compiled sweep of sampled Gibbs transitions, sigmoids and noise included."""
    W = tf.Variable(floors.unit_weights(n_visible, HIDDEN, 0))
    rng = tf.random.Generator.from_seed(0)
    v0 = tf.random.stateless_uniform((RUNS, n_visible), seed=[0, 1])

    @tf.function(input_signature=[tf.TensorSpec([], tf.int32)])
    def sweep(n):
        def body(i, v):
            h = tf.cast(rng.uniform([RUNS, HIDDEN]) < tf.sigmoid(v @ W), tf.float32)
            v = tf.cast(rng.uniform([RUNS, n_visible])
                        < tf.sigmoid(tf.matmul(h, W, transpose_b=True)), tf.float32)
            return i + 1, v

        return tf.reduce_sum(tf.while_loop(lambda i, _: i < n, body, (0, v0))[1])

    return sweep


def best_times(contenders, rounds=ROUNDS):
    """Best seconds of each contender over interleaved rounds (after a warm-up)."""
    for warm_up, _ in contenders.values():
        warm_up()
    best = {name: np.inf for name in contenders}
    for _ in range(rounds):
        for name, (_, run) in contenders.items():
            start = time.perf_counter()
            run()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def main():
    mnist = data.load_mnist()
    x = data.binarize(data.to_unit_interval(mnist.x_train))[:DIGITS]
    digits = tf.constant(x)
    order = next(epoch_orders(len(x), BATCH, 0))
    trainer = benchmark_trainer(x.shape[1], HIDDEN, BATCH, method="cd", k=1)
    labels = ["products (the floor)", "+ noise", "+ noise, sigmoids",
              "+ noise, sigmoids, momentum update"]
    epochs = [floors.matmul_floor(digits, BATCH, HIDDEN)]
    epochs += [cd1_floor(digits, level) for level in (1, 2, 3)]
    contenders = {label: ((lambda f=f: float(f(order[:2]))), (lambda f=f: float(f(order))))
                  for label, f in zip(labels, epochs)}
    contenders["rbmtut RBMTrainer.epoch"] = (
        lambda: float(trainer.epoch(digits, order[:2])),
        lambda: float(trainer.epoch(digits, order)))
    best = best_times(contenders)
    print(f"CD-1, 784 x {HIDDEN}, batch {BATCH}, {len(order)} updates, best of {ROUNDS}:")
    for name, seconds in best.items():
        print(f"  {name:36s} {seconds / len(order) * 1e3:6.2f} ms per update  "
              f"{seconds / best[labels[0]]:.2f} x the floor")
    products = floors.ais_matmul_floor(x.shape[1], HIDDEN, RUNS)
    sampled = ais_transition_floor(x.shape[1])
    best = best_times({
        "products (the floor)": (lambda: float(products(5)),
                                 lambda: float(products(TEMPERATURES))),
        "+ sigmoids, noise": (lambda: float(sampled(5)),
                              lambda: float(sampled(TEMPERATURES)))}, rounds=4)
    print(f"AIS, {TEMPERATURES} temperatures x {RUNS} runs, best of 4:")
    for name, seconds in best.items():
        print(f"  {name:36s} {seconds / TEMPERATURES * 1e3:6.3f} ms per temperature  "
              f"{seconds / best['products (the floor)']:.2f} x the floor")


if __name__ == "__main__":
    main()
