"""Numerical checks of CL-ICP eq. 2 and the three 2-D cases of Fig. 1 (§3.2).

:func:`verify_eq2` draws random toy problems and compares the gradient inner product from
autograd with the eq. 2 decomposition. :func:`fig1_cases` builds the three cases of Fig. 1 in
a 2-D feature space whose solution space has orthonormal basis p1, p2 with eigenvalues
lambda_1 >= lambda_2 (one sample per language):

(a) x_train, x_t positively correlated and their projections on p1 of the same sign:
    positive gradient alignment;
(b) x_train, x_t positively correlated (RepAlign 1 > 0) but their projections on p1 of
    opposite signs, so RepAlign 2 < 0: negative gradient alignment;
(c) x_train orthogonal to x_t (RepAlign 1 = 0): no gradient alignment.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from xlnb.clicp import toy

__all__ = ["random_problem", "verify_eq2", "fig1_cases", "fig1_summary", "FIG1_CASES"]

# Features of Fig. 1 in the (p1, p2) coordinates: (x_train, x_t, title).
FIG1_CASES = {
    "a": ((1.0, 0.35), (0.8, -0.45), "(a) positive gradient alignment"),
    "b": ((0.45, 1.0), (-0.45, 1.0), "(b) negative gradient alignment"),
    "c": ((0.7, 0.7), (-0.7, 0.7), "(c) no gradient alignment"),
}


def _positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return int(value)


def random_problem(rng: np.random.Generator, *, n_train: int, n_t: int, dim: int,
                   n_outputs: int) -> dict[str, np.ndarray]:
    """One toy problem with standard normal entries: X_train [n_train, d], X_t [n_t, d],
    W and W_star [d, k] (``n_outputs`` = 1 gives the paper's single output, W: [d])."""
    shape = (dim,) if n_outputs == 1 else (dim, n_outputs)
    return dict(X_train=rng.standard_normal((n_train, dim)),
                X_t=rng.standard_normal((n_t, dim)),
                W=rng.standard_normal(shape), W_star=rng.standard_normal(shape))


def verify_eq2(n_draws: int = 200, *, n_train: int = 4, n_t: int = 4, dim: int = 8,
               n_outputs: int = 2, seed: int = 0) -> pd.DataFrame:
    """Eq. 2 against autograd on ``n_draws`` random problems, one row per draw.

    Columns: draw, autograd (``<grad L_train, grad L_t>`` by torch autograd), eq2 (the
    decomposition), abs_diff, rel_diff (abs_diff / max(|autograd|, 1e-12)), rep_align_1 and
    rep_align_2 (the sums over sample pairs of the two factors, without gamma).
    """
    n_draws = _positive_int(n_draws, "n_draws")
    sizes = {k: _positive_int(v, k) for k, v in
             dict(n_train=n_train, n_t=n_t, dim=dim, n_outputs=n_outputs).items()}
    rng = np.random.default_rng(seed)
    rows = []
    for draw in range(n_draws):
        p = random_problem(rng, **sizes)
        auto = toy.autograd_inner_product(**p)
        eq2 = toy.eq2_decomposition(**p)
        rep1, rep2 = toy.rep_align_terms(**p)
        rows.append(dict(draw=draw, autograd=auto, eq2=eq2, abs_diff=abs(auto - eq2),
                         rel_diff=abs(auto - eq2) / max(abs(auto), 1e-12),
                         rep_align_1=float(rep1.sum()), rep_align_2=float(rep2.sum())))
    return pd.DataFrame(rows)


def _basis(angle_deg: float) -> np.ndarray:
    """Q [2, 2]: columns p1, p2, p1 at ``angle_deg`` from the x axis."""
    a = np.deg2rad(angle_deg)
    return np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])


def fig1_cases(lambdas=(1.0, 0.1), angle_deg: float = 30.0) -> dict[str, dict]:
    """The three cases of Fig. 1 as toy problems with two outputs.

    lambdas: (lambda_1, lambda_2), lambda_1 >= lambda_2 >= 0, the eigenvalues of the solution
    space; W* = 0 and W = Q diag(sqrt(lambda)), so (W - W*)(W - W*)^T = Q diag(lambda) Q^T
    exactly. Returns {case: dict(x_train [2], x_t [2], Q [2, 2], lambdas [2], W, W_star,
    title)}; features are rotated from the (p1, p2) coordinates of :data:`FIG1_CASES`.
    """
    lam = np.asarray(lambdas, dtype=np.float64)
    if lam.shape != (2,) or not np.isfinite(lam).all() or lam.min() < 0 or lam[0] < lam[1]:
        raise ValueError(f"lambdas must be two finite numbers lambda_1 >= lambda_2 >= 0, "
                         f"got {lambdas!r}")
    Q = _basis(float(angle_deg))
    W = Q * np.sqrt(lam)  # [2, 2]: column m is sqrt(lambda_m) q_m
    out = {}
    for name, (x_train, x_t, title) in FIG1_CASES.items():
        out[name] = dict(x_train=Q @ np.asarray(x_train), x_t=Q @ np.asarray(x_t), Q=Q,
                         lambdas=lam, W=W, W_star=np.zeros_like(W), title=title)
    return out


def fig1_summary(cases: dict[str, dict]) -> pd.DataFrame:
    """One row per case: projections on p1, RepAlign 1, RepAlign 2, gamma, the gradient
    inner product by autograd and by eq. 2, and its sign (+1, -1 or 0 within 1e-12)."""
    rows = []
    for name, c in cases.items():
        X_train, X_t = c["x_train"][None, :], c["x_t"][None, :]
        rep1, rep2 = toy.rep_align_terms(X_train, X_t, c["W"], c["W_star"])
        auto = toy.autograd_inner_product(X_train, X_t, c["W"], c["W_star"])
        rows.append(dict(case=name, title=c["title"],
                         x_train_p1=float(c["x_train"] @ c["Q"][:, 0]),
                         x_t_p1=float(c["x_t"] @ c["Q"][:, 0]),
                         rep_align_1=float(rep1[0, 0]), rep_align_2=float(rep2[0, 0]),
                         gamma=toy.eq2_gamma(1, 1), autograd=auto,
                         eq2=toy.eq2_decomposition(X_train, X_t, c["W"], c["W_star"]),
                         sign=int(np.sign(auto)) if abs(auto) > 1e-12 else 0))
    return pd.DataFrame(rows)


def fig1_headlines(checks: pd.DataFrame, summary: pd.DataFrame) -> list[dict]:
    """Headline rows of Fig. 1 (:func:`xlnb.outputs.save_headlines`): the largest relative
    difference between autograd and eq. 2 over the random draws (the paper derives an
    identity: 0), and the sign of the gradient inner product of each case beside the sign
    Fig. 1 draws. checks: :func:`verify_eq2`; summary: :func:`fig1_summary`."""
    signs = {"a": "+1 (positive)", "b": "-1 (negative)", "c": "0 (none)"}
    rows = [dict(quantity="eq. 2 vs autograd, max relative difference", paper=0,
                 ours=float(f"{checks['rel_diff'].max():.2g}"), model="linear toy",
                 data=f"{len(checks)} random problems")]
    rows += [dict(quantity=f"Fig. 1{rec.case} sign of the gradient inner product",
                  paper=signs.get(rec.case), ours=int(rec.sign), model="linear toy",
                  data=f"2-D case ({rec.case}), inner product {rec.autograd:+.2f}")
             for rec in summary.itertuples()]
    return rows
