"""The linear-regression example of CL-ICP §3.2 (eq. 2, derived in App. A.1, eq. 5).

A linear model ``y_hat = x W`` with ``W: [d]`` (the paper's single output) or ``[d, k]``
(k outputs). Both languages share the optimum ``W*``; the loss on one sample is
``||x W - x W*||^2`` and the loss on a data set is the mean over its samples:

    L_W(D) = 1/n * sum_i ||x^i (W - W*)||^2                       (§3.2)
    grad L_W(D) = 2/n * X^T X (W - W*)                             (App. A.1)
    <grad L(D_train), grad L(D_t)>
        = gamma * sum_{i,j} x_t^i (x_train^j)^T * x_t^i (W-W*)(W-W*)^T (x_train^j)^T   (eq. 5)
        = gamma * sum_{i,j} [x_t^i (x_train^j)^T]                 (RepAlign 1)
                          * [sum_m lambda_m (x_t^i q_m)(x_train^j q_m)]   (RepAlign 2)    (eq. 2)

with ``(W - W*)(W - W*)^T = Q diag(lambda) Q^T`` (the "solution space"; rank 1 for a single
output, rank up to k for k outputs, which is how Fig. 1 gets two eigenvalues). The inner
product of matrix gradients is the Frobenius one.

On gamma: App. A states ``gamma = 1/(n_t n_train)``, which leaves out the factor 2 * 2 from
differentiating the two squares. With the mean-squared loss above ``gamma = 4/(n_t n_train)``;
both are positive, so the paper's argument (signs set by RepAlign 1 and 2) is unchanged.
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = [
    "loss", "gradient", "gradient_inner_product", "autograd_inner_product", "solution_space",
    "rep_align_terms", "eq2_decomposition", "eq2_gamma",
]


def _features(X, name: str) -> np.ndarray:
    arr = np.asarray(X.detach().cpu() if isinstance(X, torch.Tensor) else X)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be a real array, got dtype {arr.dtype}")
    arr = arr.astype(np.float64)
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"{name} must be [n, d] with n, d >= 1, got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} has NaN or inf entries")
    return arr


def _weights(W, W_star, d: int) -> tuple[np.ndarray, np.ndarray]:
    w, ws = (np.asarray(v, dtype=np.float64) for v in (W, W_star))
    if w.shape != ws.shape:
        raise ValueError(f"W and W_star must have the same shape, got {w.shape} and {ws.shape}")
    if w.ndim not in (1, 2) or w.shape[0] != d:
        raise ValueError(f"W must be [d] or [d, k] with d = {d} (the feature width), "
                         f"got shape {w.shape}")
    if not (np.isfinite(w).all() and np.isfinite(ws).all()):
        raise ValueError("W or W_star has NaN or inf entries")
    return w, ws


def _pair(X_train, X_t, W, W_star):
    a, b = _features(X_train, "X_train"), _features(X_t, "X_t")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"X_train and X_t must have the same width d, got {a.shape[1]} "
                         f"and {b.shape[1]}")
    w, ws = _weights(W, W_star, a.shape[1])
    return a, b, w, ws


def loss(X, W, W_star) -> float:
    """``L_W(D) = 1/n sum_i ||x^i (W - W*)||^2`` (§3.2). X: [n, d]; W, W_star: [d] or [d, k]."""
    x = _features(X, "X")
    w, ws = _weights(W, W_star, x.shape[1])
    r = x @ (w - ws)  # [n] or [n, k]
    return float(np.sum(r ** 2) / x.shape[0])


def gradient(X, W, W_star) -> np.ndarray:
    """``grad_W L_W(D) = 2/n X^T X (W - W*)`` (App. A.1) -> same shape as W."""
    x = _features(X, "X")
    w, ws = _weights(W, W_star, x.shape[1])
    return 2.0 / x.shape[0] * (x.T @ (x @ (w - ws)))


def gradient_inner_product(X_train, X_t, W, W_star) -> float:
    """``<grad L(D_train), grad L(D_t)>`` from the closed-form gradients (first line of eq. 5).
    X_train: [n_train, d], X_t: [n_t, d]; W, W_star: [d] or [d, k]."""
    a, b, w, ws = _pair(X_train, X_t, W, W_star)
    return float(np.sum(gradient(a, w, ws) * gradient(b, w, ws)))


def autograd_inner_product(X_train, X_t, W, W_star) -> float:
    """The same inner product with the gradients taken by torch autograd (float64) of
    :func:`loss` written in torch, for checking eq. 2 without the closed form."""
    a, b, w, ws = _pair(X_train, X_t, W, W_star)
    grads = []
    for x in (a, b):
        wt = torch.tensor(w, dtype=torch.float64, requires_grad=True)
        r = torch.from_numpy(x) @ (wt - torch.from_numpy(ws))
        (r.pow(2).sum() / x.shape[0]).backward()
        grads.append(wt.grad)
    return float((grads[0] * grads[1]).sum())


def solution_space(W, W_star) -> tuple[np.ndarray, np.ndarray]:
    """Eigen-decomposition ``(W - W*)(W - W*)^T = Q diag(lambda) Q^T`` (App. A.1).

    Returns ``(lambdas [d], Q [d, d])``, eigenvalues descending, clipped at 0 (the matrix is
    positive semi-definite; eigh can return -1e-17 for its zero eigenvalues).
    """
    if np.ndim(W) not in (1, 2):
        raise ValueError(f"W must be [d] or [d, k], got shape {np.shape(W)}")
    w, ws = _weights(W, W_star, np.shape(W)[0])
    delta = (w - ws).reshape(w.shape[0], -1)  # [d, k]
    lam, Q = np.linalg.eigh(delta @ delta.T)
    order = np.argsort(lam)[::-1]
    return np.clip(lam[order], 0.0, None), Q[:, order]


def eq2_gamma(n_train: int, n_t: int) -> float:
    """gamma of eq. 2 for the mean-squared loss: ``4 / (n_t n_train)`` (module docstring)."""
    return 4.0 / (n_t * n_train)


def rep_align_terms(X_train, X_t, W, W_star) -> tuple[np.ndarray, np.ndarray]:
    """The two factors of eq. 2 for every sample pair (i in D_t, j in D_train).

    RepAlign 1: ``R1[i, j] = x_t^i (x_train^j)^T``, the feature inner product;
    RepAlign 2: ``R2[i, j] = sum_m lambda_m (x_t^i q_m)(x_train^j q_m)``, the inner product
    of the features projected on the solution space. Both [n_t, n_train].
    """
    a, b, w, ws = _pair(X_train, X_t, W, W_star)
    lam, Q = solution_space(w, ws)
    rep1 = b @ a.T
    rep2 = (b @ Q) * lam @ (a @ Q).T
    return rep1, rep2


def eq2_decomposition(X_train, X_t, W, W_star) -> float:
    """Right-hand side of eq. 2: ``gamma * sum_{i,j} R1[i, j] * R2[i, j]``."""
    rep1, rep2 = rep_align_terms(X_train, X_t, W, W_star)
    return float(eq2_gamma(rep1.shape[1], rep1.shape[0]) * np.sum(rep1 * rep2))
