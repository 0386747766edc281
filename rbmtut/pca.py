"""Principal component analysis: the linear baseline for autoencoders and hashing.

PCA with ``k`` components is the best rank-``k`` linear reconstruction in
squared error: ``x_hat = mean + (x - mean) V^T V`` with ``V`` (k, d) the top
eigenvectors of the data covariance.  A linear autoencoder with ``k`` code
units can at best match it (chapter 5, ``05a_autoencoders``), and the sign
of the projection ``(x - mean) V^T`` is the simplest binary code (chapter 6,
``06_semantic_hashing``).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._validation import check_int, check_matrix

__all__ = ["PCA", "pca", "principal_angles"]


class PCA(NamedTuple):
    """A fitted PCA.

    Attributes:
        mean: the data mean (d,).
        components: orthonormal rows (k, d), in order of decreasing variance.
        variances: the variance along each component (k,).
    """

    mean: np.ndarray
    components: np.ndarray
    variances: np.ndarray

    def _check(self, x) -> np.ndarray:
        checked = check_matrix(x, "x", width=len(self.mean), what="features")
        return np.asarray(checked, np.float64)

    def project(self, x) -> np.ndarray:
        """Coordinates ``(x - mean) V^T`` (n, k) of ``x`` (n, d)
        along the components.
        """
        return (self._check(x) - self.mean) @ self.components.T

    def reconstruct(self, x) -> np.ndarray:
        """The projection ``mean + (x - mean) V^T V`` (n, d) of ``x``
        onto the subspace.
        """
        return self.mean + self.project(x) @ self.components

    def squared_error(self, x) -> float:
        """Squared reconstruction error summed over the d dimensions, averaged
        over rows.
        """
        x = self._check(x)
        return float(np.mean(np.sum((self.reconstruct(x) - x) ** 2, axis=1)))


def pca(x, n_components: int) -> PCA:
    """Fit PCA with ``n_components`` components to ``x`` (n, d).

    Uses an eigendecomposition of the d x d covariance when ``d <= n`` (for
    MNIST about ten times faster than an SVD of the 60,000 x 784 data) and
    an SVD of the centred data otherwise.  Each component's sign is fixed
    so that its largest-magnitude entry is positive; compare subspaces with
    :func:`principal_angles`.

    Args:
        x: data (n, d), at least two rows.
        n_components: ``k`` in ``[1, min(n, d)]``.

    Returns:
        A :class:`PCA`.
    """
    x = np.asarray(check_matrix(x, "x", min_rows=2), dtype=np.float64)
    n_components = check_int(n_components, "n_components", low=1, high=min(x.shape))
    n, d = x.shape
    mean = x.mean(axis=0)
    centred = x - mean
    if d <= n:
        variances, vectors = np.linalg.eigh(centred.T @ centred / (n - 1))
        top = np.argsort(variances)[::-1][:n_components]  # eigh sorts ascending
        components, variances = vectors[:, top].T, np.maximum(variances[top], 0.0)
    else:
        _, singular, vt = np.linalg.svd(centred, full_matrices=False)
        components = vt[:n_components]
        variances = singular[:n_components] ** 2 / (n - 1)
    # Fix each component's sign (largest-magnitude entry positive): both
    # routes, and every run, then return the same rows.
    largest = np.argmax(np.abs(components), axis=1)
    signs = np.sign(components[np.arange(n_components), largest])
    return PCA(mean, components * signs[:, None], variances)


def principal_angles(a, b) -> np.ndarray:
    """Principal angles (radians, ascending) between the column spaces of ``a``
    and ``b``.

    Args:
        a: (d, k) matrix; b: (d, m) matrix, each of full column rank.

    Returns:
        ``min(k, m)`` angles in [0, pi/2]; all zero when one space contains the other.
    """
    a = np.asarray(check_matrix(a, "a"), dtype=np.float64)
    b = np.asarray(check_matrix(b, "b"), dtype=np.float64)
    if a.shape[0] != b.shape[0]:
        raise ValueError("need two matrices with the same number of rows; got "
                         f"{a.shape}, {b.shape}.")
    qa, _ = np.linalg.qr(a)
    qb, _ = np.linalg.qr(b)
    cosines = np.linalg.svd(qa.T @ qb, compute_uv=False)
    return np.sort(np.arccos(np.clip(cosines, -1.0, 1.0)))
