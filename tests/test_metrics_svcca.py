"""SVCCA against a covariance-eigenvalue CCA written by hand."""

import numpy as np
import pytest

from xlnb.metrics import canonical_correlations, svcca


def reference_corrs(X, Y, k):
    """Centre, project on top-k right singular vectors, then classical CCA:
    rho^2 = eigenvalues of Sxx^-1 Sxy Syy^-1 Syx."""
    def reduce(A):
        A = A - A.mean(axis=0)
        _, _, vt = np.linalg.svd(A, full_matrices=False)
        return A @ vt[:k].T

    a, b = reduce(X), reduce(Y)
    sxx, syy, sxy = a.T @ a, b.T @ b, a.T @ b
    m = np.linalg.solve(sxx, sxy) @ np.linalg.solve(syy, sxy.T)
    ev = np.sort(np.clip(np.linalg.eigvals(m).real, 0, 1))[::-1]
    return np.sqrt(ev)


@pytest.mark.parametrize("seed, k", [(0, 3), (1, 5), (2, 8)])
def test_matches_reference(seed, k):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(60, 10))
    Y = X[:, :8] @ rng.normal(size=(8, 9)) + rng.normal(size=(60, 9))
    got = canonical_correlations(X, Y, k=k)
    np.testing.assert_allclose(got, reference_corrs(X, Y, k), atol=1e-8)
    assert svcca(X, Y, k=k) == pytest.approx(got.mean())
    assert 0 < svcca(X, Y, k=k) < 1


def test_invertible_linear_transform_full_rank():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(80, 12))
    A = rng.normal(size=(12, 12)) + 3 * np.eye(12)
    assert svcca(X, X @ A + 5.0, k=12) == pytest.approx(1.0, abs=1e-8)


def test_invertible_linear_transform_low_rank_signal():
    # X lives (up to tiny noise) in a 4-dim subspace; top-4 directions of X and X @ A agree.
    rng = np.random.default_rng(4)
    X = rng.normal(size=(100, 4)) @ rng.normal(size=(4, 30)) + 1e-6 * rng.normal(size=(100, 30))
    A = rng.normal(size=(30, 30)) + 4 * np.eye(30)
    assert svcca(X, X @ A, k=4) == pytest.approx(1.0, abs=1e-6)


def test_unrelated_lower_than_related():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(200, 10))
    related = svcca(X, X @ rng.normal(size=(10, 10)) + 0.3 * rng.normal(size=(200, 10)), k=10)
    unrelated = svcca(X, rng.normal(size=(200, 10)), k=10)
    assert unrelated < 0.4 < 0.9 < related


@pytest.mark.parametrize("k, match", [(0, ">= 1"), (10, "k must be < N"), (7, "width"),
                                      (6, "rank")])
def test_bad_k_raises(k, match):
    rng = np.random.default_rng(6)
    X = rng.normal(size=(10, 6))
    Y = rng.normal(size=(10, 3)) @ rng.normal(size=(3, 7))  # rank 3
    with pytest.raises(ValueError, match=match):
        svcca(X if k != 6 else Y, X if k != 6 else Y, k=k)


def test_bad_inputs_raise():
    X = np.random.default_rng(7).normal(size=(10, 4))
    with pytest.raises(TypeError):
        svcca(X, X, k=2.0)
    with pytest.raises(ValueError, match="same number of rows"):
        svcca(X, X[:9], k=2)
    with pytest.raises(ValueError, match="X contains"):
        svcca(np.where(X > 1, np.inf, X), X, k=2)
    with pytest.raises(ValueError, match="constant"):
        svcca(np.ones((10, 4)), X, k=2)
