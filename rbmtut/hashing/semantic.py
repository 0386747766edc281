"""Semantic hashing's fine-tuning: deterministic noise at the code units' input.

An unrolled RBM stack (:meth:`rbmtut.dbn.DBN.unroll` with
``code="logistic"``) is fine-tuned to reconstruct its input while Gaussian
noise of standard deviation ``s`` is added to the total input of every code
unit (Salakhutdinov & Hinton 2009).  A code unit whose input is small then
passes on mostly noise, so the decoder can rely only on units driven far
from 0, whose outputs are near 0 or 1 whatever the noise: the code becomes
binary by itself, and thresholding it at 1/2 loses little.  The noise is
*deterministic*: one fixed row per training example, reused every epoch, so
the objective is a fixed function of the weights.  Chapter 6
(``06_semantic_hashing``) explains it.
"""

from __future__ import annotations

import keras
import numpy as np

from .._validation import check_int, check_matrix, check_real, check_seed
from ..autoencoder_training import fit_autoencoder
from ..autoencoders import Autoencoder
from ..fitting import History
from .codes import binarize_codes

__all__ = ["deterministic_code_noise", "fit_semantic_hashing", "semantic_codes"]


def deterministic_code_noise(n_examples: int, n_bits: int, noise_std: float,
                             seed: int = 0) -> np.ndarray:
    """Fixed Gaussian noise rows, float32 (n_examples, n_bits): row i is example
    i's noise in every epoch; the same seed gives the same rows."""
    n_examples = check_int(n_examples, "n_examples", low=1)
    n_bits = check_int(n_bits, "n_bits", low=1)
    noise_std = check_real(noise_std, "noise_std", low=0.0)
    rng = np.random.default_rng(check_seed(seed))
    return (noise_std * rng.standard_normal((n_examples, n_bits))).astype(np.float32)


def _check_logistic_code(model) -> Autoencoder:
    if not isinstance(model, Autoencoder):
        raise TypeError("model must be an rbmtut Autoencoder, e.g. "
                        "DBN.unroll(code='logistic'); got "
                        f"{type(model).__name__}.")
    if model.code_activation != "sigmoid":
        raise ValueError("semantic hashing needs logistic code units (bits are "
                         "outputs > 1/2); build the model with "
                         "code_activation='sigmoid' or DBN.unroll(code='logistic'); "
                         f"got code_activation={model.code_activation!r}.")
    return model


def fit_semantic_hashing(model: Autoencoder, x, *, noise_std: float, epochs: int,
                         learning_rate: float = 1e-4, batch_size: int = 100,
                         seed: int = 0, monitors=None,
                         progress: bool = True) -> History:
    """Fine-tune ``model`` for semantic hashing; return its :class:`~rbmtut.History`.

    Adam on the pixels' cross-entropy, with :func:`deterministic_code_noise`
    of standard deviation ``noise_std`` added to the code units' input
    (``noise_std=0``: plain fine-tuning, no noise).

    Args:
        model: an :class:`~rbmtut.autoencoders.Autoencoder` with logistic code
            units, updated in place.
        x: training data (N, n_0) in [0, 1].
        noise_std: the noise's standard deviation s >= 0, e.g. 4.
        epochs, batch_size: passes over the data; rows per update.
        learning_rate: Adam's step size.
        seed: seeds the noise rows and the shuffles.
        monitors, progress: as for :func:`rbmtut.fitting.train_epochs`, e.g.
            ``{"mAP": f}`` with ``f(model) -> number`` after every epoch.
    """
    model = _check_logistic_code(model)
    x = check_matrix(x, "x", width=model.sizes[0], what="inputs")
    noise_std = check_real(noise_std, "noise_std", low=0.0)
    learning_rate = check_real(learning_rate, "learning_rate", low=0.0, low_open=True)
    noise = (deterministic_code_noise(len(x), model.sizes[-1], noise_std, seed)
             if noise_std > 0 else None)
    return fit_autoencoder(model, x, epochs=epochs, batch_size=batch_size,
                           optimizer=keras.optimizers.Adam(learning_rate),
                           kind="cross_entropy", code_noise=noise, seed=seed,
                           monitors=monitors, progress=progress)


def semantic_codes(model: Autoencoder, x) -> np.ndarray:
    """The stored code, bool (n, n_bits): code outputs without noise, > 1/2."""
    model = _check_logistic_code(model)
    return binarize_codes(model.encode(x).numpy())
