"""Chance level of the mutual-nearest-neighbour score (NeuronXA App. E, eq. 5).

In an ``n x n`` matrix of i.i.d. continuous entries, the diagonal entry ``c_ii`` is the
largest of the ``2n - 1`` entries of its row and column with probability
``p = 1 / (2n - 1)``. Treating the ``n`` diagonal events as independent, the number ``X`` of
"aligned" pairs is Binomial(n, p) and the probability of a chance score of at least ``k/n`` is

    P(X >= k) = 1 - sum_{i=0}^{k-1} C(n, i) p^i (1 - p)^(n - i).

The paper's example, ``n = 100, k = 5`` ("a score greater than 0.05"), gives 0.00016, which
is the AT LEAST k tail (exactly 5 would be 0.00015, more than 5 would be 0.000013).
"""

from __future__ import annotations

from scipy.stats import binom

from xlnb.metrics._checks import check_int

__all__ = ["chance_probability"]


def chance_probability(n: int, k: int) -> float:
    """P(at least ``k`` of ``n`` diagonal entries are row-and-column maxima by chance).

    n: matrix size (number of parallel sentences), n >= 1; k: 0 <= k <= n.
    Example: ``chance_probability(100, 5)`` is about 0.00016 (NeuronXA App. E).
    """
    n = check_int(n, "n", minimum=1)
    k = check_int(k, "k", minimum=0)
    if k > n:
        raise ValueError(f"k must be <= n ({n}), got {k}")
    p = 1.0 / (2 * n - 1)
    # sf(k - 1) = P(X > k - 1) = P(X >= k); scipy avoids the cancellation of 1 - cdf.
    return float(binom.sf(k - 1, n, p))
