"""PCA against an SVD of the centred data, and principal angles on hand-checked cases."""

import numpy as np
import pytest

from rbmtut.pca import pca, principal_angles


@pytest.mark.parametrize("shape", [(300, 8), (6, 20)], ids=["tall", "wide"])
def test_pca_equals_the_svd_of_the_centred_data(shape):
    rng = np.random.default_rng(0)
    x = rng.normal(size=shape) * np.linspace(3, 0.5, shape[1]) + 2.0
    k = 4
    fit = pca(x, k)
    centred = x - x.mean(axis=0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    np.testing.assert_allclose(fit.mean, x.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(fit.variances, s[:k] ** 2 / (len(x) - 1), rtol=1e-9)
    np.testing.assert_allclose(fit.components @ fit.components.T, np.eye(k), atol=1e-10)
    # The same components up to sign, and the sign is fixed: largest entry positive.
    np.testing.assert_allclose(np.abs(np.sum(fit.components * vt[:k], axis=1)), 1.0, rtol=1e-8)
    assert np.all(np.max(np.abs(fit.components), axis=1) == np.max(fit.components, axis=1))
    recon = x.mean(axis=0) + centred @ vt[:k].T @ vt[:k]
    np.testing.assert_allclose(fit.reconstruct(x), recon, atol=1e-9)
    # The error is the variance left in the discarded directions.
    np.testing.assert_allclose(fit.squared_error(x), np.sum(s[k:] ** 2) / len(x), rtol=1e-9)
    np.testing.assert_allclose(fit.project(x), centred @ fit.components.T, atol=1e-10)


def test_pca_rejects_bad_input():
    with pytest.raises(ValueError, match="n_components must be an int"):
        pca(np.zeros((5, 3)), 4)
    with pytest.raises(ValueError, match="must be a 2-D"):
        pca(np.zeros(5), 1)
    with pytest.raises(ValueError, match="NaN"):
        pca(np.full((4, 2), np.nan), 1)
    with pytest.raises(ValueError, match=r"x has 4 columns .* pass data of shape \(n, 3\)"):
        pca(np.random.default_rng(0).random((5, 3)), 2).reconstruct(np.zeros((2, 4)))


def test_principal_angles_on_a_hand_checked_case():
    a = np.array([[1.0], [0.0], [0.0]])
    b = np.array([[np.cos(0.3)], [np.sin(0.3)], [0.0]])
    np.testing.assert_allclose(principal_angles(a, b), [0.3], atol=1e-12)
    plane = np.eye(3)[:, :2]
    np.testing.assert_allclose(principal_angles(plane, 5 * b), [0.0], atol=1e-7)
    with pytest.raises(ValueError, match="same number of rows"):
        principal_angles(a, np.ones((2, 1)))
