"""Singular vector canonical correlation analysis (Raghu et al. 2017).

Steps, for ``X [N, d1]`` and ``Y [N, d2]`` with the same N items as rows:

1. centre every neuron (column) over the items;
2. SVD of each centred matrix, keep the top-``k`` singular directions (the paper keeps the
   directions explaining 99% of the variance; here ``k`` is fixed so that scores of
   different layers/models use the same subspace size);
3. CCA between the two reduced ``[N, k]`` representations;
4. report the mean of the ``k`` canonical correlations (in [0, 1]).
"""

from __future__ import annotations

import numpy as np

from xlnb.metrics._checks import (
    as_float_array,
    centre_columns,
    check_int,
    check_min_rows,
    check_same_rows,
)

__all__ = ["svcca", "canonical_correlations"]

# Singular values below this fraction of the largest are treated as zero (rank deficit).
_RANK_TOL = 1e-10


def _top_k_basis(a: np.ndarray, k: int, name: str) -> np.ndarray:
    """Orthonormal [N, k] basis of the top-k singular directions of centred ``a``."""
    u, s, _ = np.linalg.svd(a, full_matrices=False)
    if s[k - 1] <= _RANK_TOL * s[0]:
        rank = int(np.sum(s > _RANK_TOL * s[0]))
        raise ValueError(f"{name} has (numerical) rank {rank} after centring, less than k={k}")
    return u[:, :k]


def canonical_correlations(X, Y, k: int = 20) -> np.ndarray:
    """The ``k`` SVCCA canonical correlations, sorted descending: float64 array [k].

    X: [N, d1], Y: [N, d2]; requires 1 <= k < N and k <= min(d1, d2).

    Written with NumPy directly because the SVD-reduced representations ``U_k S_k`` are
    already orthogonal: whitening them gives ``U_k``, so the canonical correlations are
    exactly the singular values of ``U_x^T U_y`` (cosines of the principal angles between
    the two subspaces). scikit-learn's CCA is iterative and returns projections, not these.
    """
    x = as_float_array(X, "X", ndim=2)
    y = as_float_array(Y, "Y", ndim=2)
    check_same_rows(x, y, "X", "Y")
    check_min_rows(x, "X", 2)
    k = check_int(k, "k", minimum=1)
    n = x.shape[0]
    if k >= n:
        raise ValueError(f"k must be < N (the number of items, {n}); got k={k}")
    if k > min(x.shape[1], y.shape[1]):
        raise ValueError(
            f"k must be <= the width of X ({x.shape[1]}) and Y ({y.shape[1]}); got k={k}"
        )
    ux = _top_k_basis(centre_columns(x, "X"), k, "X")
    uy = _top_k_basis(centre_columns(y, "Y"), k, "Y")
    rho = np.linalg.svd(ux.T @ uy, compute_uv=False)
    return np.clip(rho, 0.0, 1.0)


def svcca(X, Y, k: int = 20) -> float:
    """Mean SVCCA canonical correlation between ``X: [N, d1]`` and ``Y: [N, d2]``.

    See :func:`canonical_correlations` for the constraints on ``k``. Invariant to invertible
    linear maps of either input when ``k`` equals its rank (and, in general, to orthogonal
    maps and isotropic scaling).
    """
    return float(canonical_correlations(X, Y, k).mean())
