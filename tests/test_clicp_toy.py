"""CL-ICP §3.2 toy regression: eq. 2 against gradients computed independently here."""

import numpy as np
import pytest
import torch

from xlnb.clicp import cases, toy


def _loss(X, W, W_star):
    """Mean over samples of ||x (W - W*)||^2, written out again for the test."""
    total = 0.0
    for x in X:
        r = np.atleast_1d(x @ (W - W_star))
        total += float(r @ r)
    return total / len(X)


def _fd_grad(X, W, W_star, eps=1e-6):
    """Central finite differences, entry by entry."""
    g = np.zeros_like(W)
    for idx in np.ndindex(W.shape):
        up, down = W.copy(), W.copy()
        up[idx] += eps
        down[idx] -= eps
        g[idx] = (_loss(X, up, W_star) - _loss(X, down, W_star)) / (2 * eps)
    return g


def _torch_grad(X, W, W_star):
    w = torch.tensor(W, requires_grad=True)
    r = torch.tensor(X) @ (w - torch.tensor(W_star))
    (r.pow(2).sum() / X.shape[0]).backward()
    return w.grad.numpy()


@pytest.mark.parametrize("k", [1, 3])
def test_eq2_equals_independent_gradient_inner_products(k):
    rng = np.random.default_rng(7)
    for _ in range(20):
        shape = (5,) if k == 1 else (5, k)
        X_train, X_t = rng.standard_normal((3, 5)), rng.standard_normal((2, 5))
        W, W_star = rng.standard_normal(shape), rng.standard_normal(shape)
        fd = float(np.sum(_fd_grad(X_train, W, W_star) * _fd_grad(X_t, W, W_star)))
        auto = float(np.sum(_torch_grad(X_train, W, W_star) * _torch_grad(X_t, W, W_star)))
        eq2 = toy.eq2_decomposition(X_train, X_t, W, W_star)
        assert eq2 == pytest.approx(auto, rel=1e-10, abs=1e-10)
        assert eq2 == pytest.approx(fd, rel=1e-5, abs=1e-6)
        assert toy.autograd_inner_product(X_train, X_t, W, W_star) == pytest.approx(auto, rel=1e-12)
        assert toy.gradient_inner_product(X_train, X_t, W, W_star) == pytest.approx(auto, rel=1e-10)
        assert toy.loss(X_t, W, W_star) == pytest.approx(_loss(X_t, W, W_star), rel=1e-12)


def test_hand_worked_2d_case():
    # x_train = (1, 0), x_t = (1, 1), w - w* = (1, 2):
    # grad L_train = 2 (1, 0) * 1 = (2, 0); grad L_t = 2 (1, 1) * 3 = (6, 6); inner product 12.
    # RepAlign 1 = x_t . x_train = 1; lambda = |w - w*|^2 = 5, q = (1, 2)/sqrt(5):
    # RepAlign 2 = 5 * (3/sqrt5) * (1/sqrt5) = 3; gamma = 4/(1*1) -> 4 * 1 * 3 = 12.
    X_train, X_t = np.array([[1.0, 0.0]]), np.array([[1.0, 1.0]])
    W, W_star = np.array([1.0, 2.0]), np.zeros(2)
    np.testing.assert_allclose(toy.gradient(X_train, W, W_star), [2.0, 0.0])
    np.testing.assert_allclose(toy.gradient(X_t, W, W_star), [6.0, 6.0])
    rep1, rep2 = toy.rep_align_terms(X_train, X_t, W, W_star)
    assert rep1.shape == rep2.shape == (1, 1)
    assert rep1[0, 0] == pytest.approx(1.0) and rep2[0, 0] == pytest.approx(3.0)
    # 12, not the 3 that the printed gamma = 1/(n_t n_train) would give
    assert toy.eq2_decomposition(X_train, X_t, W, W_star) == pytest.approx(12.0)
    lam, Q = toy.solution_space(W, W_star)
    np.testing.assert_allclose(lam, [5.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(np.abs(Q[:, 0]), np.array([1.0, 2.0]) / np.sqrt(5))


def test_rep_align_terms_are_per_pair_and_solution_space_rank_follows_outputs():
    rng = np.random.default_rng(1)
    X_train, X_t = rng.standard_normal((4, 6)), rng.standard_normal((3, 6))
    W, W_star = rng.standard_normal((6, 2)), rng.standard_normal((6, 2))
    rep1, rep2 = toy.rep_align_terms(X_train, X_t, W, W_star)
    D = W - W_star
    for i in range(3):
        for j in range(4):
            assert rep1[i, j] == pytest.approx(X_t[i] @ X_train[j])
            assert rep2[i, j] == pytest.approx(X_t[i] @ D @ D.T @ X_train[j])
    lam, _ = toy.solution_space(W, W_star)
    assert (lam > 1e-9).sum() == 2


def test_fig1_cases_have_the_papers_signs():
    s = cases.fig1_summary(cases.fig1_cases((1.0, 0.1), 30.0)).set_index("case")
    assert s.loc["a", "sign"] == 1 and s.loc["a", "x_train_p1"] * s.loc["a", "x_t_p1"] > 0
    assert s.loc["b", "sign"] == -1 and s.loc["b", "rep_align_1"] > 0
    assert s.loc["b", "rep_align_2"] < 0 and s.loc["b", "x_train_p1"] * s.loc["b", "x_t_p1"] < 0
    assert s.loc["c", "sign"] == 0 and s.loc["c", "rep_align_1"] == pytest.approx(0, abs=1e-12)
    np.testing.assert_allclose(s["autograd"], s["eq2"], rtol=1e-12, atol=1e-12)


def test_verify_eq2_agrees_and_has_both_signs():
    df = cases.verify_eq2(100, n_train=2, n_t=2, dim=6, n_outputs=2, seed=3)
    assert len(df) == 100 and df["rel_diff"].max() < 1e-9
    assert (df["autograd"] < 0).any() and (df["autograd"] > 0).any()


def test_bad_inputs_are_rejected():
    X, W = np.ones((2, 3)), np.ones(3)
    with pytest.raises(ValueError, match="X_t"):
        toy.eq2_decomposition(X, np.ones((2, 4)), W, W)
    with pytest.raises(ValueError, match="W_star"):
        toy.eq2_decomposition(X, X, W, np.ones(4))
    with pytest.raises(ValueError, match="NaN"):
        toy.loss(np.array([[np.nan, 1.0, 1.0]]), W, W)
    with pytest.raises(TypeError, match="X"):
        toy.loss(np.array([["a", "b", "c"]]), W, W)
    with pytest.raises(ValueError, match="lambdas"):
        cases.fig1_cases((0.1, 1.0))
    with pytest.raises(ValueError, match="n_draws"):
        cases.verify_eq2(0)
