"""Datasets for the book: MNIST, binarisation, toy sets and minibatches.

MNIST is looked up in four places, in order: ``$RBMTUT_DATA_DIR/mnist.npz``,
the Keras cache, a checked download, and a small balanced subset embedded in
the package (see :func:`load_mnist`). Everything here returns numpy arrays;
only :func:`make_dataset` touches TensorFlow.
"""

from __future__ import annotations

import importlib.resources
import io
import os
from typing import TYPE_CHECKING, Iterator, NamedTuple

import numpy as np

if TYPE_CHECKING:
    import tensorflow as tf

from ._mnist_files import KEYS, download, read_npz, save_atomically
from ._validation import check_int, check_seed

MNIST_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
MNIST_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"


class MNIST(NamedTuple):
    """MNIST arrays exactly as Keras stores them, and where they came from."""

    #: Training images, uint8 0..255, shape (n_train, 28, 28).
    x_train: np.ndarray
    #: Training labels, uint8 0..9, shape (n_train,).
    y_train: np.ndarray
    #: Test images, uint8 0..255, shape (n_test, 28, 28).
    x_test: np.ndarray
    #: Test labels, uint8 0..9, shape (n_test,).
    y_test: np.ndarray
    #: Where the arrays came from, named by the setting that found them rather than
    #: by this machine's paths, e.g. ``"Keras cache (~/.keras/datasets/mnist.npz)"``
    #: or ``"RBMTUT_DATA_DIR ($RBMTUT_DATA_DIR/mnist.npz)"``.
    source: str


def keras_cache_path() -> str:
    """Return the path where Keras caches MNIST (``$KERAS_HOME`` or ``~/.keras``)."""
    home = os.environ.get("KERAS_HOME") or os.path.join("~", ".keras")
    return os.path.abspath(
        os.path.join(os.path.expanduser(home), "datasets", "mnist.npz"))


def keras_cache_name() -> str:
    """The Keras cache's file as a reader would write it, without this
    machine's paths.
    """
    home = "$KERAS_HOME" if os.environ.get("KERAS_HOME") else "~/.keras"
    return f"{home}/datasets/mnist.npz"


def load_mnist(*, data_dir: str | os.PathLike | None = None, url: str | None = None,
               sha256: str = MNIST_SHA256, timeout: float = 5.0,
               allow_download: bool = True, verbose: bool = True) -> MNIST:
    """Load MNIST from the first of four sources that has it.

    The sources, in order:

    1. ``mnist.npz`` in ``data_dir`` (default: ``$RBMTUT_DATA_DIR``);
    2. the Keras cache, ``$KERAS_HOME/datasets/mnist.npz`` (default ``~/.keras``);
    3. a download from ``url``, checked against ``sha256`` and validated, then
       saved atomically to the Keras cache. Skipped when ``allow_download`` is
       false or ``$RBMTUT_OFFLINE`` is set (e.g. ``1``). Being offline costs at
       most ``timeout`` seconds; a failed download is reported and skipped;
    4. the balanced subset shipped with rbmtut (5,000 training and 1,000 test
       digits), with a notice that it is only a subset.

    A file that exists but is not valid MNIST is an error, never skipped.

    Args:
        data_dir: Folder holding ``mnist.npz``; overrides ``$RBMTUT_DATA_DIR``.
        url: Download address; default ``$RBMTUT_MNIST_URL`` or ``MNIST_URL``.
        sha256: Expected sha256 (hex) of the downloaded file.
        timeout: Seconds allowed to reach the server (DNS included) and, once
            the transfer runs, without any data arriving.
        allow_download: Whether source 3 may be tried.
        verbose: Print the line ``MNIST: <source>`` and any notices.

    Returns:
        An :class:`MNIST` tuple: uint8 images (n, 28, 28), uint8 labels (n,),
        and ``source``, a short description of where they came from.

    Raises:
        ValueError: If a local or downloaded file is not valid MNIST, or the
            download's sha256 does not match.
    """
    say = print if verbose else (lambda *args, **kwargs: None)
    if not timeout > 0:
        raise ValueError(
            f"timeout must be a positive number of seconds, got {timeout!r}")
    label = "data_dir" if data_dir is not None else "RBMTUT_DATA_DIR"
    folder = (os.fspath(data_dir) if data_dir is not None
              else os.environ.get("RBMTUT_DATA_DIR"))
    if folder:
        path = os.path.abspath(os.path.join(os.path.expanduser(folder), "mnist.npz"))
        if os.path.isfile(path):
            where = "$RBMTUT_DATA_DIR" if data_dir is None else "<data_dir>"
            return _report(read_npz(path, path), f"{label} ({where}/mnist.npz)", say)
        say(f"MNIST: {label} is set but {path} does not exist; looking elsewhere.")
    cache = keras_cache_path()
    if os.path.isfile(cache):
        return _report(read_npz(cache, cache),
                       f"Keras cache ({keras_cache_name()})", say)
    url = url or os.environ.get("RBMTUT_MNIST_URL") or MNIST_URL
    offline = (os.environ.get("RBMTUT_OFFLINE", "").strip().lower()
               not in ("", "0", "false", "no"))
    body = (download(url, sha256, timeout, say) if allow_download and not offline
            else None)
    if body is not None:
        arrays = read_npz(io.BytesIO(body), f"The file downloaded from {url}",
                           "It was not saved; check the url and sha256 arguments.")
        save_atomically(body, cache, say)  # only a verified, valid file is cached
        return _report(arrays, f"download ({url})", say)
    resource = importlib.resources.files("rbmtut._data") / "mnist_subset.npz"
    with resource.open("rb") as handle:
        arrays = read_npz(handle, "the embedded subset rbmtut/_data/mnist_subset.npz")
    say("MNIST: the full set was not found, so this is only a small balanced subset; "
        "set RBMTUT_DATA_DIR to a folder holding mnist.npz to use all 70,000 digits.")
    n_train, n_test = len(arrays["y_train"]), len(arrays["y_test"])
    return _report(arrays, f"embedded subset ({n_train} train / {n_test} test)", say)


def _report(arrays: dict[str, np.ndarray], source: str, say) -> MNIST:
    say(f"MNIST: {source}")
    return MNIST(*(arrays[key] for key in KEYS), source=source)


def to_unit_interval(x) -> np.ndarray:
    """Flatten images and scale them to float32 in [0, 1] (uint8 is divided by 255).

    Args:
        x: uint8 images with values 0..255, or floats in [0, 1]. Shape
            (n, d) is taken as n flattened images; with three or more axes
            the last two are the image, e.g. (n, 28, 28) or (a, b, 28, 28).

    Returns:
        float32 array, shape (n, d) with d = height * width (784 for MNIST).

    Raises:
        TypeError: If x is neither uint8 nor floating point.
        ValueError: If x has fewer than two axes, or floats are NaN or outside [0, 1].
    """
    x = np.asarray(x)
    if x.ndim < 2:
        raise ValueError(
            f"expected images of shape (n, d) or (..., h, w), got {x.shape}; "
            "add a leading axis for a single image (x[None])")
    if x.dtype == np.uint8:
        unit = x.astype(np.float32) / np.float32(255)
    elif np.issubdtype(x.dtype, np.floating):
        unit = x.astype(np.float32)
        if np.isnan(unit).any():
            raise ValueError("images contain NaN")
        if unit.size and (unit.min() < 0 or unit.max() > 1):
            raise ValueError(f"float images must lie in [0, 1], got [{unit.min()}, "
                             f"{unit.max()}]; divide 0..255 pixels by 255")
    else:
        raise TypeError(
            f"images must be uint8 (0..255) or float in [0, 1], got {x.dtype}; "
            "other integer types are ambiguous, so convert explicitly")
    if x.ndim == 2:
        return unit
    return unit.reshape(-1, x.shape[-2] * x.shape[-1])


def binarize(x, threshold: float = 0.5) -> np.ndarray:
    """Binarise images deterministically: 1 where intensity > threshold.

    Args:
        x: Images as accepted by :func:`to_unit_interval`.
        threshold: Cut-off in [0, 1] on the [0, 1] intensity scale.

    Returns:
        float32 array of 0s and 1s, shape (n, d), flattened.
    """
    if not 0 <= threshold <= 1:
        raise ValueError(f"threshold must lie in [0, 1], got {threshold!r}")
    return (to_unit_interval(x) > threshold).astype(np.float32)


def binarize_stochastic(x, seed: int) -> np.ndarray:
    """Binarise images stochastically: each pixel is 1 with probability = intensity.

    This is the "stochastically binarised MNIST" of the likelihood
    literature. The result depends only on x and seed.

    Args:
        x: Images as accepted by :func:`to_unit_interval`.
        seed: Non-negative integer seed for ``np.random.default_rng``.

    Returns:
        float32 array of 0s and 1s, shape (n, d), flattened.
    """
    seed = check_seed(seed)
    unit = to_unit_interval(x)
    uniform = np.random.default_rng(seed).random(unit.shape, dtype=np.float32)
    return (uniform < unit).astype(np.float32)  # P(u < p) = p; exact at p = 0 and 1


def bars_and_stripes(size: int = 4) -> np.ndarray:
    """Return every distinct bars-and-stripes pattern on a size x size grid.

    A stripe pattern sets whole rows, a bar pattern whole columns. Order: the
    2**size stripe patterns k = 0, 1, ..., with row i on when binary digit i of
    k (most significant first) is 1, so the first is all off and the last all
    on; then the bar patterns in the same order, minus those two duplicates.
    For size 4 that is 16 + 14 = 30 patterns.

    Args:
        size: Side of the square grid, 1..12.

    Returns:
        float32 array of 0s and 1s, shape (2 * 2**size - 2, size * size),
        each row an image flattened row by row.
    """
    size = check_int(size, "size", low=1, high=12)
    k = np.arange(2**size)
    bits = (k[:, None] >> np.arange(size - 1, -1, -1)) & 1        # (2**size, size)
    stripes = np.repeat(bits[:, :, None], size, axis=2)          # row i constant
    bars = np.transpose(stripes, (0, 2, 1))[1:-1]                 # column j constant
    return np.concatenate([stripes, bars]).reshape(-1, size * size).astype(np.float32)


def small_digits() -> tuple[np.ndarray, np.ndarray]:
    """Return scikit-learn's 8 x 8 handwritten digits scaled to [0, 1].

    The data ship with scikit-learn, so nothing is downloaded.

    Returns:
        ``(x, y)``: x float32 of shape (1797, 64) in [0, 1] (pixels 0..16
        divided by 16), y int64 labels 0..9 of shape (1797,).
    """
    from sklearn.datasets import load_digits  # deferred: only this function needs it

    x, y = load_digits(return_X_y=True)
    return (x / 16.0).astype(np.float32), y.astype(np.int64)


class Patches(NamedTuple):
    """Grey-level image patches (n, size * size), values in [0, 1], row-major."""

    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray


def sample_image_patches(size: int = 8, n: tuple = (40_000, 10_000, 10_000), *,
                         seed: int = 0) -> Patches:
    """Random ``size x size`` patches of the two photographs scikit-learn ships.

    The photographs (``sklearn.datasets.load_sample_images``: a temple in China
    and a flower, 427 x 640) are turned to grey levels (the mean of R, G, B,
    divided by 255) and cut into blocks of 32 x 32 pixels.  The blocks are dealt
    at random to training (60%), validation (20%) and test (20%), and each
    patch lies inside one block: no test patch shares a pixel with a training
    patch, yet all three splits cover both photographs evenly.  Half of each
    split comes from each photograph.

    Args:
        size: patch side in pixels, 2..32.
        n: numbers of (training, validation, test) patches, each >= 2.
        seed: seed of the blocks' split and of the patches' positions.

    Returns :class:`Patches` of float32 arrays.
    """
    from sklearn.datasets import load_sample_images  # deferred: only this needs it

    size = check_int(size, "size", low=2, high=32)
    if not (isinstance(n, (tuple, list)) and len(n) == 3):
        raise TypeError(f"n must be (n_train, n_validation, n_test); got {n!r}.")
    counts = [check_int(k, "each count in n", low=2) for k in n]
    rng = np.random.default_rng(check_seed(seed))
    block, offsets = 32, np.arange(size)
    splits = [[] for _ in counts]
    for i, image in enumerate(load_sample_images().images):
        grey = image.mean(axis=2) / 255.0
        corners = np.array([(r, c) for r in range(0, len(grey) - block + 1, block)
                            for c in range(0, grey.shape[1] - block + 1, block)])
        dealt = np.split(rng.permutation(len(corners)),
                         (np.cumsum([0.6, 0.2]) * len(corners)).astype(int))
        for split, count, blocks in zip(splits, counts, dealt):
            share = count // 2 if i else count - count // 2
            chosen = corners[rng.choice(blocks, share)]
            rows, cols = (chosen + rng.integers(0, block - size + 1, (share, 2))).T
            split.append(grey[(rows[:, None] + offsets)[:, :, None],
                              (cols[:, None] + offsets)[:, None, :]])
    return Patches(*(np.concatenate(s).reshape(k, -1).astype(np.float32)
                     for s, k in zip(splits, counts)))


def _check_batch_size(batch_size) -> None:
    check_int(batch_size, "batch_size", low=1)


def batches(x, batch_size: int, *, seed: int | None = None,
            drop_remainder: bool = False) -> Iterator[np.ndarray]:
    """Yield minibatches of x along its first axis (one pass).

    Args:
        x: Array of shape (n, ...).
        batch_size: Examples per batch, positive.
        seed: If given, examples are visited in the order of a permutation
            drawn from ``np.random.default_rng(seed)``; otherwise in order.
        drop_remainder: Skip the last batch if it has fewer than batch_size examples.

    Returns:
        An iterator over arrays of shape (batch_size, ...); the last may be smaller.
    """
    _check_batch_size(batch_size)  # checked now, not at the first next()
    x = np.asarray(x)
    if x.ndim < 1:
        raise ValueError("x must have a leading example axis")
    n = len(x)
    order = np.arange(n) if seed is None else np.random.default_rng(seed).permutation(n)
    stop = n - n % batch_size if drop_remainder else n
    return (x[order[i:i + batch_size]] for i in range(0, stop, batch_size))


def make_dataset(x, batch_size: int, seed: int, *,
                 drop_remainder: bool = False) -> tf.data.Dataset:
    """Wrap x in a ``tf.data.Dataset`` that reshuffles every epoch, reproducibly.

    The shuffle buffer holds the whole array (a uniform shuffle). The sequence
    of epoch orders is fixed by seed (and by the global TensorFlow seed, if set).

    Args:
        x: Array of shape (n, ...).
        batch_size: Examples per batch, positive.
        seed: Shuffle seed.
        drop_remainder: Drop the last, smaller batch of each epoch.

    Returns:
        A dataset of tensors of shape (batch_size, ...).
    """
    import tensorflow as tf  # deferred: the rest of this module is numpy only

    _check_batch_size(batch_size)
    x = np.asarray(x)
    dataset = tf.data.Dataset.from_tensor_slices(x)
    dataset = dataset.shuffle(max(len(x), 1), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size, drop_remainder=drop_remainder)
    return dataset.prefetch(tf.data.AUTOTUNE)
