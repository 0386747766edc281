"""CD-1 training throughput: rbmtut vs scikit-learn vs a matrix-multiply floor.

All three process the same binarised MNIST digits (784 visible, 500 hidden,
batch 100, float32) for one epoch each, in one run, and report examples per
second.  The floor performs only the five matrix products of a CD-1 update
(v W, h W^T, v' W, v^T h, v'^T h') with no sampling or element-wise work: no
implementation of the same arithmetic can be faster on this machine.

Usage: ``python benchmarks/bench_cd1.py [--examples N] [--repeats R]``.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf  # noqa: E402
from sklearn.neural_network import BernoulliRBM as SklearnRBM  # noqa: E402

import rbmtut  # noqa: E402
from rbmtut.training import RBMTrainer  # noqa: E402

N_VISIBLE, N_HIDDEN, BATCH = 784, 500, 100


def best_of(repeats, run):
    """Smallest wall-clock time of ``repeats`` calls of ``run()`` (after a warm-up)."""
    run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def matmul_floor(x):
    """The five CD-1 matrix products per batch, compiled, nothing else."""
    # Unit-scale products: with tiny weights the chained products v W W^T W
    # would reach denormal floats, which are slow and would flatter rbmtut.
    W = tf.Variable(tf.random.normal((N_VISIBLE, N_HIDDEN), stddev=N_VISIBLE**-0.5))
    acc = tf.Variable(tf.zeros((N_VISIBLE, N_HIDDEN)))
    data = tf.constant(x)
    n_batches = len(x) // BATCH

    @tf.function
    def epoch():
        def body(i, _):
            v = data[i * BATCH : (i + 1) * BATCH]
            h = tf.matmul(v, W)
            v1 = tf.matmul(h, W, transpose_b=True)
            h1 = tf.matmul(v1, W)
            acc.assign_add(tf.matmul(v, h, transpose_a=True) - tf.matmul(v1, h1, transpose_a=True))
            return i + 1, acc.read_value()

        return tf.while_loop(lambda i, _: i < n_batches, body, (0, acc.read_value()))[1]

    return lambda: epoch().numpy()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    mnist = rbmtut.data.load_mnist()
    x = rbmtut.data.binarize_stochastic(mnist.x_train[: args.examples], seed=0)
    n = len(x) - len(x) % BATCH
    x = x[:n]
    order = np.arange(n).reshape(-1, BATCH)
    data = tf.constant(x)

    trainer = RBMTrainer(rbmtut.BernoulliRBM(N_VISIBLE, N_HIDDEN), method="cd", k=1,
                         learning_rate=0.05, momentum=0.5)
    sk = SklearnRBM(n_components=N_HIDDEN, learning_rate=0.05, batch_size=BATCH, n_iter=1,
                    random_state=0)
    rows = {
        "matrix-multiply floor (5 matmuls/update)": best_of(args.repeats, matmul_floor(x)),
        "rbmtut CD-1 (compiled epoch)": best_of(args.repeats, lambda: trainer.epoch(data, order).numpy()),
        "scikit-learn BernoulliRBM.fit, 1 epoch": best_of(args.repeats, lambda: sk.fit(x)),
    }
    floor = rows["matrix-multiply floor (5 matmuls/update)"]
    print(f"{n} examples, 784x500, batch {BATCH}, float32; TF {tf.__version__}, "
          f"{os.cpu_count()} CPU threads; best of {args.repeats}")
    print(f"{'implementation':44s} {'examples/s':>12s} {'x floor time':>13s}")
    for name, seconds in rows.items():
        print(f"{name:44s} {n / seconds:12,.0f} {seconds / floor:13.2f}")


if __name__ == "__main__":
    main()
