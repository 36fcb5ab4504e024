"""Chance probability of the mutual-NN score (NeuronXA App. E, eq. 5)."""

import math

import pytest
from scipy.stats import binom

from xlnb.metrics import chance_probability


def by_hand(n, k):
    """Eq. 5 literally: 1 - sum_{i<k} C(n, i) p^i (1-p)^(n-i), p = 1/(2n-1)."""
    p = 1 / (2 * n - 1)
    return 1 - sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k))


def test_paper_value():
    # "with n = 100 ... p(x >= 0.05) = 0.00016"
    assert chance_probability(100, 5) == pytest.approx(0.00016, abs=5e-6)
    # exactly-5 or more-than-5 readings would not reproduce the paper's number
    assert binom.pmf(5, 100, 1 / 199) != pytest.approx(0.00016, abs=5e-6)
    assert binom.sf(5, 100, 1 / 199) != pytest.approx(0.00016, abs=5e-6)


@pytest.mark.parametrize("n, k", [(100, 5), (100, 1), (10, 3), (50, 0), (7, 7), (1, 1)])
def test_matches_scipy_and_formula(n, k):
    expected = binom.sf(k - 1, n, 1 / (2 * n - 1))
    assert chance_probability(n, k) == pytest.approx(expected, rel=1e-12, abs=1e-300)
    assert chance_probability(n, k) == pytest.approx(by_hand(n, k), rel=1e-9, abs=1e-15)


def test_monotone_in_k():
    values = [chance_probability(100, k) for k in range(0, 10)]
    assert values[0] == 1.0
    assert all(a > b for a, b in zip(values, values[1:]))


@pytest.mark.parametrize("n, k, exc", [
    (0, 0, ValueError), (10, 11, ValueError), (10, -1, ValueError),
    (10.0, 2, TypeError), (10, 2.5, TypeError), (True, 1, TypeError),
])
def test_bad_inputs_raise(n, k, exc):
    with pytest.raises(exc):
        chance_probability(n, k)
