"""Linear hashing baselines: random-hyperplane LSH, PCA sign and PCA-ITQ
(Gong & Lazebnik 2011).

Each is a :class:`LinearHash`: ``bits = (x - mean) @ projection > 0``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import check_int, check_seed
from ..pca import PCA, pca
from .codes import binarize_codes, check_codes_matrix

__all__ = ["LinearHash", "fit_lsh", "fit_pca_sign", "fit_itq"]


@dataclass(frozen=True, eq=False)
class LinearHash:
    """A fitted linear hash ``bits = (x - mean) @ projection > 0``: LSH,
    PCA sign or PCA-ITQ.

    Attributes:
        method: ``"lsh"``, ``"pca_sign"`` or ``"itq"``.
        mean: (d,) the training data's mean (the hyperplanes pass through it).
        projection: (d, n_bits).
        rotation: ITQ's orthogonal R (n_bits, n_bits), with ``projection =
            components^T R``; ``None`` for the others.
        losses: ITQ's quantisation loss ``||B - V R||_F^2`` at the initial R and
            after each iteration (``n_iter + 1`` values); empty for the others.
    """

    method: str
    mean: np.ndarray
    projection: np.ndarray
    rotation: np.ndarray | None = None
    losses: tuple = ()

    @property
    def n_bits(self) -> int:
        """The code length (the number of hyperplanes)."""
        return self.projection.shape[1]

    def encode(self, x) -> np.ndarray:
        """Bits (n, n_bits), bool, of data x (n, d)."""
        x = check_codes_matrix(x, "x")
        if x.shape[1] != len(self.mean):
            raise ValueError(f"x has {x.shape[1]} columns but the hash was fitted on "
                             f"{len(self.mean)}.")
        return binarize_codes((x - self.mean) @ self.projection, threshold=0.0)


def _fit_input(x, n_bits: int) -> tuple[np.ndarray, int]:
    """The data (n, d) and n_bits, checked; PCA needs ``n_bits <= min(n, d)``."""
    x = check_codes_matrix(x, "x").astype(np.float64, copy=False)
    return x, check_int(n_bits, "n_bits", low=1, high=min(x.shape))


def _leading_pca(x: np.ndarray, n_bits: int, pca_fit: PCA | None) -> PCA:
    """The n_bits-component PCA of x: fitted here, or the leading
    components of ``pca_fit``.

    The top n_bits components of a k-component PCA (k >= n_bits) are the
    n_bits-component PCA (:func:`rbmtut.pca.pca` sorts one eigendecomposition),
    so one fit at the longest code length serves every shorter one.
    """
    if pca_fit is None:
        return pca(x, n_bits)
    if not isinstance(pca_fit, PCA):
        raise TypeError("pca_fit must be an rbmtut.pca.PCA; "
                        f"got {type(pca_fit).__name__}.")
    if len(pca_fit.mean) != x.shape[1] or len(pca_fit.components) < n_bits:
        raise ValueError(
            f"pca_fit has {len(pca_fit.components)} components of dimension "
            f"{len(pca_fit.mean)}; need at least {n_bits} of dimension {x.shape[1]}: "
            f"fit it with pca(x, k) for k >= {n_bits}.")
    return PCA(pca_fit.mean, pca_fit.components[:n_bits], pca_fit.variances[:n_bits])


def fit_lsh(x, n_bits: int, *, seed: int = 0) -> LinearHash:
    """Random-hyperplane LSH: ``sign((x - mean) w_j)`` with Gaussian
    ``w_j ~ N(0, I)``, seeded."""
    x = check_codes_matrix(x, "x")
    n_bits = check_int(n_bits, "n_bits", low=1)  # any number of bits
    rng = np.random.default_rng(check_seed(seed))
    return LinearHash("lsh", x.mean(axis=0, dtype=np.float64),
                      rng.standard_normal((x.shape[1], n_bits)))


def fit_pca_sign(x, n_bits: int, *, pca_fit: PCA | None = None) -> LinearHash:
    """PCA sign: the sign of the projections on the top ``n_bits`` principal directions.

    ``pca_fit``: optionally a PCA of the same ``x`` with at least ``n_bits``
    components, whose leading ones are used instead of fitting again.
    """
    x, n_bits = _fit_input(x, n_bits)
    fit = _leading_pca(x, n_bits, pca_fit)
    return LinearHash("pca_sign", fit.mean, fit.components.T)


def fit_itq(x, n_bits: int, *, n_iter: int = 50, seed: int = 0,
            pca_fit: PCA | None = None) -> LinearHash:
    """PCA-ITQ (Gong & Lazebnik 2011): PCA to n_bits dims, then rotate to fit the
    cube's corners.

    With ``V = (x - mean) C^T`` (n, n_bits), alternately ``B = sign(V R)``
    and ``R = S_hat S^T`` from the SVD ``B^T V = S Omega S_hat^T`` (the
    orthogonal Procrustes problem), each step lowering ``||B - V R||_F^2``.
    R starts as a seeded random orthogonal matrix (QR of a Gaussian matrix).
    ``pca_fit``: optionally a PCA of the same ``x`` with at least ``n_bits``
    components (fit once for the longest code, reuse for the shorter ones).
    """
    x, n_bits = _fit_input(x, n_bits)
    n_iter = check_int(n_iter, "n_iter", low=0)
    fit = _leading_pca(x, n_bits, pca_fit)
    mean, components = fit.mean, fit.components
    v = fit.project(x)
    rng = np.random.default_rng(check_seed(seed))
    q, r = np.linalg.qr(rng.standard_normal((n_bits, n_bits)))
    rotation = q * np.sign(np.diag(r))  # uniformly distributed on the orthogonal group
    losses = []
    for step in range(n_iter + 1):
        projected = v @ rotation
        b = np.where(projected > 0, 1.0, -1.0)  # the bits that encode() gives
        losses.append(float(np.sum((b - projected) ** 2)))
        if step < n_iter:
            s, _, s_hat_t = np.linalg.svd(b.T @ v)
            rotation = s_hat_t.T @ s.T
    return LinearHash("itq", mean, components.T @ rotation, rotation, tuple(losses))
