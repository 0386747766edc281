"""Derive the small balanced MNIST subset that ships inside rbmtut.

Run from the repository root::

    python tests/make_mnist_subset.py /path/to/mnist.npz

It writes ``rbmtut/_data/mnist_subset.npz`` (``--out`` to write elsewhere);
``tests/test_data.py`` imports it to check the shipped file against full MNIST.

Rule: for each digit 0..9 take the first 500 training and the first 100 test
examples in the original MNIST order, and keep the selected examples in that
original order (they are not grouped by class). The result is written with
``np.savez_compressed`` under the same keys and dtypes as the full file.
Only numpy is needed, so the script runs without TensorFlow.
"""

from __future__ import annotations

import argparse
import hashlib
import pathlib

import numpy as np

TRAIN_PER_CLASS = 500
TEST_PER_CLASS = 100
N_CLASSES = 10
KEYS = ("x_train", "y_train", "x_test", "y_test")
DEFAULT_OUT = pathlib.Path(__file__).resolve().parent.parent / "rbmtut" / "_data" / "mnist_subset.npz"


def select_balanced(labels: np.ndarray, per_class: int) -> np.ndarray:
    """Return the indices of the first ``per_class`` examples of each class.

    Args:
        labels: Integer labels in 0..9, shape (n,).
        per_class: How many examples to keep per class.

    Returns:
        Sorted int64 indices, shape (10 * per_class,).

    Raises:
        ValueError: If a class has fewer than ``per_class`` examples.
    """
    labels = np.asarray(labels)
    chosen = []
    for digit in range(N_CLASSES):
        where = np.flatnonzero(labels == digit)
        if where.size < per_class:
            raise ValueError(
                f"class {digit} has only {where.size} examples, need {per_class}"
            )
        chosen.append(where[:per_class])
    # Sorting keeps the original MNIST order, so the subset reads like the full set.
    return np.sort(np.concatenate(chosen)).astype(np.int64)


def make_subset(full: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Apply the selection rule to full MNIST arrays.

    Args:
        full: Mapping with the keys x_train, y_train, x_test, y_test.

    Returns:
        The same keys, with 5,000 training and 1,000 test examples (uint8).
    """
    train = select_balanced(full["y_train"], TRAIN_PER_CLASS)
    test = select_balanced(full["y_test"], TEST_PER_CLASS)
    return {
        "x_train": np.asarray(full["x_train"][train], dtype=np.uint8),
        "y_train": np.asarray(full["y_train"][train], dtype=np.uint8),
        "x_test": np.asarray(full["x_test"][test], dtype=np.uint8),
        "y_test": np.asarray(full["y_test"][test], dtype=np.uint8),
    }


def content_digest(arrays: dict[str, np.ndarray]) -> str:
    """Return a sha256 over the array bytes (zip containers differ run to run)."""
    digest = hashlib.sha256()
    for key in KEYS:
        digest.update(np.ascontiguousarray(arrays[key]).tobytes())
    return digest.hexdigest()


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=pathlib.Path, help="full mnist.npz")
    parser.add_argument("--out", type=pathlib.Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    with np.load(args.source, allow_pickle=False) as f:
        full = {key: f[key] for key in KEYS}
    subset = make_subset(full)
    np.savez_compressed(args.out, **subset)
    print(f"source  {args.source} sha256 "
          f"{hashlib.sha256(args.source.read_bytes()).hexdigest()}")
    for key in KEYS:
        print(f"{key:8s}{subset[key].shape} {subset[key].dtype}")
    print(f"wrote   {args.out} ({args.out.stat().st_size:,} bytes)")
    print(f"content sha256 {content_digest(subset)}")


if __name__ == "__main__":
    main()
