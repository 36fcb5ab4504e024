"""Average neuron-wise correlation, ANC (Del & Fishel 2022).

For representations of the same N items in two languages, ``X [N, d]`` and ``Y [N, d]``,
where neuron ``j`` of ``X`` and neuron ``j`` of ``Y`` are the same unit of the same model,

    ANC(X, Y) = 1/d * sum_j r(X[:, j], Y[:, j])

with ``r`` the Pearson correlation over items. Unlike CKA/SVCCA it is not invariant to
rotations: it asks whether each individual neuron responds alike in both languages.
"""

from __future__ import annotations

import numpy as np

from xlnb.metrics._checks import (
    as_float_array,
    check_min_rows,
    check_non_constant_columns,
)

__all__ = ["anc", "neuron_correlations"]


def neuron_correlations(X, Y) -> np.ndarray:
    """Pearson r of every neuron pair ``(X[:, j], Y[:, j])``: float64 array [d].

    X, Y: [N, d] with N >= 2. Raises ValueError if any neuron is constant over the items
    (r undefined). Vectorised with NumPy by hand: scipy.stats.pearsonr handles one pair at
    a time, and a loop over thousands of neurons per layer would be slow.
    """
    x = as_float_array(X, "X", ndim=2)
    y = as_float_array(Y, "Y", ndim=2)
    if x.shape != y.shape:
        raise ValueError(f"X and Y must have the same shape [N, d], got {x.shape} and {y.shape}")
    check_min_rows(x, "X", 2)
    check_non_constant_columns(x, "X")
    check_non_constant_columns(y, "Y")
    xc = x - x.mean(axis=0)
    yc = y - y.mean(axis=0)
    r = (xc * yc).sum(axis=0) / np.sqrt((xc**2).sum(axis=0) * (yc**2).sum(axis=0))
    return np.clip(r, -1.0, 1.0)


def anc(X, Y, absolute: bool = False) -> float:
    """ANC between ``X: [N, d]`` and ``Y: [N, d]`` (same items, same neurons).

    absolute: average ``|r|`` instead of ``r``, so anti-correlated neurons count as aligned
    rather than cancelling positively correlated ones.
    """
    if not isinstance(absolute, bool):
        raise TypeError(f"absolute must be a bool, got {absolute!r}")
    r = neuron_correlations(X, Y)
    return float(np.abs(r).mean() if absolute else r.mean())
