"""Figures for the book (matplotlib only): image tiles, training curves, histograms."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np

from ._validation import check_choice, check_int

__all__ = ["tile_images", "plot_tiles", "plot_curves", "plot_histograms",
           "plot_histogram_panels"]


def tile_images(images, shape=None, *, n_cols: int | None = None, pad: int = 1,
                normalize: str = "each", pad_value: float | None = None) -> np.ndarray:
    """Arrange flat images in a grid, one image per tile.

    Args:
        images: (n, height * width) or (n, height, width).
        shape: (height, width) of one image; inferred for square images.
        n_cols: tiles per row (default: about sqrt(n)).
        pad: pixels of padding between tiles.
        normalize: ``"each"`` rescales every tile to [0, 1] (for weight
            filters; a constant tile becomes 0.5), ``"none"`` keeps values
            (for probabilities and pixels).
        pad_value: value of the padding; default: halfway between the
            smallest and largest value, so that the tile borders stay
            visible for binary images too.

    Returns:
        A 2-D array, the whole grid.
    """
    images = np.asarray(images, dtype=np.float64)
    if images.ndim == 3:
        shape = images.shape[1:]
        images = images.reshape(len(images), -1)
    if images.ndim != 2 or len(images) == 0:
        raise ValueError("images must be a non-empty (n, pixels) array; got shape "
                         f"{images.shape}.")
    if shape is None:
        side = int(round(math.sqrt(images.shape[1])))
        if side * side != images.shape[1]:
            raise ValueError("images are not square; pass shape=(height, width).")
        shape = (side, side)
    check_choice(normalize, "normalize", ("each", "none"))
    pad = check_int(pad, "pad", low=0)
    if not np.all(np.isfinite(images)):
        raise ValueError("images contain NaN or infinite values.")
    if normalize == "each":
        lo = images.min(axis=1, keepdims=True)
        span = images.max(axis=1, keepdims=True) - lo
        images = np.where(span > 0, (images - lo) / np.where(span > 0, span, 1.0), 0.5)
    n = len(images)
    n_cols = (int(math.ceil(math.sqrt(n))) if n_cols is None
              else check_int(n_cols, "n_cols", low=1))
    n_rows = int(math.ceil(n / n_cols))
    h, w = (check_int(s, "each side of shape", low=1) for s in shape)
    if h * w != images.shape[1]:
        raise ValueError(f"shape {tuple(shape)} has {h * w} pixels but the images have "
                         f"{images.shape[1]}.")
    if pad_value is None:
        pad_value = 0.5 * (images.min() + images.max())
    grid = np.full((n_rows * (h + pad) + pad, n_cols * (w + pad) + pad),
                   float(pad_value))
    for k, image in enumerate(images):
        r, c = divmod(k, n_cols)
        top, left = pad + r * (h + pad), pad + c * (w + pad)
        grid[top : top + h, left : left + w] = image.reshape(h, w)
    return grid


def plot_tiles(images, shape=None, *, n_cols=None, title=None, ax=None,
               normalize="each", cmap="gray", pad_value=None):
    """Show :func:`tile_images` of ``images`` on ``ax`` (a new figure by default);
    return the axes.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 6))
    grid = tile_images(images, shape, n_cols=n_cols, normalize=normalize,
                       pad_value=pad_value)
    ax.imshow(grid, cmap=cmap, interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax


def plot_curves(curves: dict, *, xlabel="epoch", ylabel="", title=None, ax=None, x=None,
                logy=False):
    """Plot several named curves (name -> sequence of values) on one axes.

    Args:
        curves: mapping of label to a 1-D sequence; or to a pair ``(xs, ys)``.
        xlabel, ylabel, title: axis labels.
        ax: axes to draw on (default: a new figure).
        x: common x values for curves given as plain sequences (default 1..n).
        logy: logarithmic y axis.

    Returns:
        The axes.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    for label, values in curves.items():
        if isinstance(values, tuple) and len(values) == 2:
            xs, ys = values
        else:
            ys = np.asarray(values)
            xs = np.arange(1, len(ys) + 1) if x is None else x
        ax.plot(xs, ys, label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if logy:
        ax.set_yscale("log")
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    return ax


def plot_histograms(values: dict, *, bins=50, xlabel="", title=None, ax=None):
    """Overlaid, normalised histograms of several named samples; return the axes."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    for label, v in values.items():
        ax.hist(np.ravel(v), bins=bins, density=True, alpha=0.5, label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("density")
    if title:
        ax.set_title(title)
    ax.legend()
    return ax


def plot_histogram_panels(values: dict, *, bins: int = 50):
    """One histogram per named sample, side by side (e.g. the values of
    :func:`rbmtut.fitting.training_histograms`); return the figure."""
    if not values:
        raise ValueError("values is empty; pass at least one named sample.")
    fig, axes = plt.subplots(1, len(values), figsize=(3.2 * len(values), 2.8),
                             squeeze=False)
    for ax, (name, x) in zip(axes[0], values.items()):
        x = np.ravel(x)
        # values equal up to rounding (e.g. untrained biases): one bar, not an error
        spread = np.ptp(x) > 1e-9 * max(np.abs(x).max(), 1e-30)
        ax.hist(x, bins=bins if spread else 1)
        ax.set_title(name)
        ax.set_ylabel("count")
    fig.tight_layout()
    return fig
