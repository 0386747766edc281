"""The variational lower bound on a deep belief net's log-likelihood.

A DBN with layers ``v = h^0, h^1, ..., h^L`` defines ``p(v) = sum p(h^{L-1})
prod_{l < L-1} p(h^l | h^{l+1}) ...``, where ``p(h^{L-1})`` is the top RBM's
marginal and the lower layers are directed logistic nets.  The sum over the
hidden layers is intractable, but for any distribution ``q`` over them::

    log p(v) >= E_q[ log p*(h^{L-1}) - log Z_top
                     + sum_{l=0}^{L-2} log p(h^l | h^{l+1})
                     - log q(h^1, ..., h^{L-1} | v) ],

with ``h^0 = v`` and ``log p*(h) = -F_top(h)``.  With ``q`` the factorial
recognition pass, ``q(h^{l+1} | h^l) = sigmoid(r_l + h^l R_l)`` sampled layer
by layer (``R_l = W_l``, ``r_l = c_l`` for a tied DBN) and ``p`` the generative
layers (``W_l^T``, ``b_l`` when tied), this is the bound of Salakhutdinov &
Murray (2008); ``log Z_top`` comes from AIS on the top RBM (or exactly, for a
small one).  It is a bound on a *generative* model's likelihood, which a
reconstruction score is not.  Chapter 4 (``04_stacked_pretraining``) uses it.
"""

from __future__ import annotations

import tensorflow as tf

from ._validation import check_instance, check_int, check_seed
from .dbn import StackModel
from .nn import logistic_pass

__all__ = ["bound_terms", "log_likelihood_bound"]


def _log_bernoulli(states, logits) -> tf.Tensor:
    """``sum_i log p(states_i)`` under Bernoulli units with ``logits``: (n,)."""
    return -tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(
        labels=states, logits=logits), axis=-1)


def _check_stack(dbn) -> None:
    check_instance(dbn, "dbn", StackModel,
                   "Pass a DBN, or an UntiedDBN after up-down fine-tuning.",
                   what="DBN")
    if dbn.top_units != "binary" or dbn.top.n_visible != dbn.layer_sizes[-2]:
        raise ValueError("the bound is for stacks whose top RBM has binary units "
                         "only (no linear top units, no label units).")


def bound_terms(dbn: StackModel, v, hidden) -> tf.Tensor:
    """The bound's integrand for given hidden states, one per row: (n,).

    ``log p*(h^{L-1}) + sum_l log p(h^l | h^{l+1}) - log q(h^1, ..., h^{L-1} |
    v)``, without ``- log Z_top``.

    Args:
        dbn: the stack (binary top units): a :class:`~rbmtut.dbn.DBN`, or an
            :class:`~rbmtut.updown.UntiedDBN` (generative weights for ``p``,
            recognition weights for ``q``).
        v: binary data (n, n_0).
        hidden: states ``[h^1, ..., h^{L-1}]`` of the layers below the top,
            each (n, n_l), binary.

    Returns:
        Tensor (n,) in the DBN's dtype.
    """
    _check_stack(dbn)
    recognition = dbn.recognition_layers()
    generative = dbn.generative_layers()[::-1]  # bottom-up, like recognition
    if len(hidden) != len(recognition):
        raise ValueError(f"hidden must hold the {len(recognition)} layers below the "
                         f"top; got {len(hidden)}.")
    layers = [dbn.layer_input(v, values="binary")] + [
        dbn.layer_input(h, l + 1, "hidden", values="binary")
        for l, h in enumerate(hidden)]
    total = -dbn.top.free_energy(layers[-1])
    for (R, r), (G, g), below, above in zip(recognition, generative, layers,
                                            layers[1:]):
        total += (_log_bernoulli(below, tf.matmul(above, G) + g)
                  - _log_bernoulli(above, tf.matmul(below, R) + r))
    return total


def log_likelihood_bound(dbn: StackModel, v, log_z_top, *, n_samples: int = 10,
                         seed: int = 0) -> tf.Tensor:
    """Monte Carlo estimate of the variational bound on ``log p(v)``, per row.

    Draws ``n_samples`` recognition passes ``h^1, ..., h^{L-1} ~ q(. | v)`` per
    row and averages :func:`bound_terms` over them, minus ``log_z_top``.
    The estimate is unbiased for the bound, which is at most ``log p(v)``; with
    ``log_z_top`` from forward AIS (low on average) it errs upwards a little.

    Args:
        dbn: the stack, with a binary top RBM (tied or untied).
        v: binary data (n, n_0).
        log_z_top: ``log Z`` of the top RBM.
        n_samples: recognition samples per row, >= 1.
        seed: seed of the samples.

    Returns:
        Tensor (n,) of bounds, nats.
    """
    _check_stack(dbn)
    n_samples = check_int(n_samples, "n_samples", low=1)
    rng = tf.random.Generator.from_seed(check_seed(seed))
    v = dbn.layer_input(v, values="binary")
    total = tf.zeros(tf.shape(v)[0], dbn.dtype)
    for _ in range(n_samples):
        hidden = logistic_pass(v, dbn.recognition_layers(), rng)[1]
        total += bound_terms(dbn, v, hidden)
    return total / n_samples - tf.cast(log_z_top, dbn.dtype)
