"""Linear centred kernel alignment (Kornblith et al. 2019, eq. for linear CKA).

For column-centred ``X [N, d1]`` and ``Y [N, d2]`` (rows are the same N items),

    CKA(X, Y) = ||Y^T X||_F^2 / ( ||X^T X||_F * ||Y^T Y||_F ),

which equals HSIC(K, L) / sqrt(HSIC(K, K) HSIC(L, L)) with linear kernels ``K = X X^T``,
``L = Y Y^T``. It lies in [0, 1], is invariant to orthogonal transforms and isotropic
scaling of either input, and CKA(X, X) = 1.
"""

from __future__ import annotations

import numpy as np

from xlnb.metrics._checks import as_float_array, centre_columns, check_min_rows, check_same_rows

__all__ = ["linear_cka"]


def linear_cka(X, Y) -> float:
    """Linear CKA between ``X: [N, d1]`` and ``Y: [N, d2]`` (paired rows, N >= 2).

    Written with NumPy directly (a few lines; no maintained library function for it exists
    in the project's dependencies). Uses the feature-space form, O(N d^2), which avoids
    building the N x N Gram matrices. Raises ValueError if either input is constant across
    items (zero after centring), where CKA is undefined.
    """
    x = as_float_array(X, "X", ndim=2)
    y = as_float_array(Y, "Y", ndim=2)
    check_same_rows(x, y, "X", "Y")
    check_min_rows(x, "X", 2)
    x = centre_columns(x, "X")
    y = centre_columns(y, "Y")
    norm_x = np.linalg.norm(x.T @ x)
    norm_y = np.linalg.norm(y.T @ y)
    return float(np.linalg.norm(y.T @ x) ** 2 / (norm_x * norm_y))
