"""Linear CKA against the Gram-matrix (HSIC) form and its invariances."""

import numpy as np
import pytest
import torch
from scipy.stats import ortho_group

from xlnb.metrics import linear_cka


def hsic_cka(X, Y):
    """Kornblith et al. 2019 via centred Gram matrices: tr(KHLH) / sqrt(tr(KHKH) tr(LHLH))."""
    n = len(X)
    H = np.eye(n) - np.ones((n, n)) / n
    K, L = X @ X.T, Y @ Y.T

    def hsic(A, B):
        return np.trace(A @ H @ B @ H)

    return hsic(K, L) / np.sqrt(hsic(K, K) * hsic(L, L))


@pytest.mark.parametrize("seed", [0, 1])
def test_matches_gram_form(seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(30, 7))
    Y = X @ rng.normal(size=(7, 4)) + rng.normal(size=(30, 4))
    got = linear_cka(X, Y)
    assert got == pytest.approx(hsic_cka(X, Y), rel=1e-10)
    assert 0 < got < 1


def test_self_is_one_and_invariances():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(40, 6)) + 3.0
    Y = rng.normal(size=(40, 5))
    Q = ortho_group.rvs(6, random_state=3)
    base = linear_cka(X, Y)
    assert linear_cka(X, X) == pytest.approx(1.0)
    assert linear_cka(X @ Q, Y) == pytest.approx(base, rel=1e-10)
    assert linear_cka(7.5 * X, Y) == pytest.approx(base, rel=1e-10)
    assert linear_cka(X + 100.0, Y) == pytest.approx(base, rel=1e-8)
    assert linear_cka(torch.tensor(X, dtype=torch.float32), Y) == pytest.approx(base, rel=1e-5)


def test_not_invariant_to_general_linear_map():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(40, 6))
    A = np.diag([10.0, 1, 1, 1, 1, 0.1])
    assert linear_cka(X, X @ A) < 0.9


def test_independent_is_low():
    rng = np.random.default_rng(5)
    assert linear_cka(rng.normal(size=(500, 3)), rng.normal(size=(500, 3))) < 0.05


def test_bad_inputs_raise():
    rng = np.random.default_rng(6)
    X = rng.normal(size=(5, 3))
    with pytest.raises(ValueError, match="same number of rows"):
        linear_cka(X, X[:4])
    with pytest.raises(ValueError, match="constant"):
        linear_cka(X, np.full((5, 3), 0.1))
    with pytest.raises(ValueError, match="Y contains"):
        linear_cka(X, np.where(X > 0, np.nan, X))
    with pytest.raises(ValueError, match="at least 2"):
        linear_cka(X[:1], X[:1])
    with pytest.raises(ValueError, match="dimensions"):
        linear_cka(X[:, 0], X[:, 0])
