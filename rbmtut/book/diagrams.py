"""Diagrams the chapters draw: pictures of models, not of results."""

from __future__ import annotations

from .._validation import check_int

__all__ = ["draw_tied_net"]


def draw_tied_net(depth: int = 6, *, ax=None):
    """The infinite directed net with tied weights that an RBM is equivalent to.

    Layers ``v^0, h^0, v^1, h^1, ...`` from the bottom up, each generated
    from the layer above through ``W`` (into a visible layer) or ``W^T``
    (into a hidden layer), the top ``depth``-th layer trailing off to show
    that the net goes on for ever.  Beside it, the RBM it equals.

    Args:
        depth: layers drawn, >= 2.
        ax: a matplotlib Axes (default: a new figure's).

    Returns:
        The Axes.
    """
    import matplotlib.pyplot as plt

    depth = check_int(depth, "depth", low=2)
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 0.8 * depth + 0.8))
    box = dict(boxstyle="round,pad=0.3", facecolor="white", edgecolor="black")
    for layer in range(depth):
        name = ("v" if layer % 2 == 0 else "h") + f"$^{{{layer // 2}}}$"
        ax.text(0.0, layer, name, ha="center", va="center", fontsize=12, bbox=box)
        if layer:
            ax.annotate("", xy=(0.0, layer - 0.7), xytext=(0.0, layer - 0.3),
                        arrowprops=dict(arrowstyle="->"))
            weights = "$W$" if layer % 2 else "$W^{\\top}$"
            ax.text(0.15, layer - 0.5, weights, va="center", fontsize=10)
    ax.text(0.0, depth - 0.3, "$\\vdots$", ha="center", va="bottom", fontsize=14)
    # the RBM it equals: one undirected pair of layers
    ax.text(1.4, 1.0, "h", ha="center", va="center", fontsize=12, bbox=box)
    ax.text(1.4, 0.0, "v", ha="center", va="center", fontsize=12, bbox=box)
    ax.plot([1.4, 1.4], [0.3, 0.7], color="black")
    ax.text(1.55, 0.5, "$W$", va="center", fontsize=10)
    ax.text(0.7, 0.5, "=", ha="center", va="center", fontsize=16)
    ax.set_xlim(-0.5, 2.0)
    ax.set_ylim(-0.6, depth + 0.4)
    ax.set_axis_off()
    ax.set_title("directed, tied, infinitely deep (left) = one RBM (right)",
                 fontsize=10)
    return ax
