"""Bootstrap confidence intervals and correlations."""

import math

import numpy as np
import pytest

from xlnb.metrics import bootstrap_ci, correlation


def loop_bootstrap(x, n_boot, alpha, seed):
    """Same resampling as the implementation, one replicate at a time."""
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(x), size=(n_boot, len(x)))
    means = sorted(sum(x[j] for j in row) / len(x) for row in idx)
    return np.quantile(means, [alpha / 2, 1 - alpha / 2])


def test_bootstrap_contains_mean_and_matches_loop():
    x = np.random.default_rng(0).normal(loc=2.0, size=50)
    est, low, high = bootstrap_ci(x, n_boot=500, seed=3)
    assert est == pytest.approx(x.mean())
    assert low < est < high
    np.testing.assert_allclose([low, high], loop_bootstrap(x, 500, 0.05, 3))


def test_bootstrap_shrinks_with_more_items():
    rng = np.random.default_rng(1)
    small = bootstrap_ci(rng.normal(size=30))
    large = bootstrap_ci(rng.normal(size=3000))
    assert (large[2] - large[1]) < 0.3 * (small[2] - small[1])


def test_bootstrap_reproducible_alpha_and_stat():
    x = np.random.default_rng(2).integers(0, 2, size=100)  # 0/1 hits per sentence
    assert bootstrap_ci(x, seed=7) == bootstrap_ci(x, seed=7)
    wide = bootstrap_ci(x, alpha=0.01)
    narrow = bootstrap_ci(x, alpha=0.2)
    assert wide[1] < narrow[1] <= narrow[2] < wide[2]
    est, low, high = bootstrap_ci(x, stat=np.median)
    assert est == np.median(x) and low <= est <= high


@pytest.mark.parametrize("kwargs, exc", [
    (dict(per_item_scores=[1.0]), ValueError),
    (dict(per_item_scores=[1.0, np.nan, 2.0]), ValueError),
    (dict(per_item_scores=np.ones((3, 2))), ValueError),
    (dict(per_item_scores=[1.0, 2.0], alpha=1.5), ValueError),
    (dict(per_item_scores=[1.0, 2.0], n_boot=0), ValueError),
    (dict(per_item_scores=[1.0, 2.0], n_boot=10.5), TypeError),
    (dict(per_item_scores=[1.0, 2.0], stat="mean"), TypeError),
    (dict(per_item_scores=[1.0, 2.0], stat=lambda a, axis: a), TypeError),
])
def test_bootstrap_bad_inputs(kwargs, exc):
    with pytest.raises(exc):
        bootstrap_ci(**kwargs)


def test_pearson_hand_computed():
    x, y = [1.0, 2.0, 3.0, 4.0], [2.0, 1.0, 4.0, 3.0]
    # means 2.5, 2.5; deviations (-1.5,-.5,.5,1.5), (-.5,-1.5,1.5,.5)
    # sum of products = .75 + .75 + .75 + .75 = 3; sums of squares = 5 and 5 -> r = 0.6
    r, p = correlation(x, y)
    assert r == pytest.approx(0.6)
    # two-sided p from t = r sqrt(n-2) / sqrt(1-r^2) = 0.6*sqrt2/0.8 with 2 df
    t = 0.6 * math.sqrt(2) / 0.8
    assert p == pytest.approx(1 - t / math.sqrt(t * t + 2))


def test_spearman_rank_based():
    x = [1.0, 2.0, 3.0, 4.0, 5.0]
    r_s, _ = correlation(x, np.exp(x), method="spearman")
    r_p, _ = correlation(x, np.exp(x), method="pearson")
    assert r_s == pytest.approx(1.0) and r_p < 0.95


@pytest.mark.parametrize("x, y, match", [
    ([1.0, 2.0], [1.0, 2.0], "at least 3"),
    ([1.0, 2.0, 3.0], [1.0, 2.0], "same length"),
    ([1.0, 1.0, 1.0], [1.0, 2.0, 3.0], "x is constant"),
    ([1.0, 2.0, 3.0], [5.0, 5.0, 5.0], "y is constant"),
    ([1.0, np.inf, 3.0], [1.0, 2.0, 3.0], "x contains"),
])
def test_correlation_bad_inputs(x, y, match):
    with pytest.raises(ValueError, match=match):
        correlation(x, y)
    with pytest.raises(ValueError, match="method"):
        correlation([1, 2, 3], [1, 2, 4], method="kendall")


# ---------------------------------------------------------------- bootstrap_item_means
def test_item_means_match_the_binomial_quantiles():
    # The bootstrap mean of n 0/1 items with k ones is Binomial(n, k/n) / n.
    from scipy import stats as sps

    from xlnb.metrics import bootstrap_item_means

    n, k = 40, 14
    hits = np.zeros(n)
    hits[:k] = 1
    est, low, high = bootstrap_item_means(hits, n_boot=20000, seed=1)
    assert est == pytest.approx(k / n)
    want_low, want_high = sps.binom.ppf([0.025, 0.975], n, k / n) / n
    assert abs(low - want_low) <= 1 / n and abs(high - want_high) <= 1 / n


def test_item_means_share_one_draw_across_entries():
    from xlnb.metrics import bootstrap_item_means

    rows = np.zeros((2, 30))
    rows[0, :15] = 1
    rows[1, 15:] = 1  # complementary: every shared resample averages to exactly .5
    est, low, high = bootstrap_item_means(rows, lambda m: m.mean(dim=-1), n_boot=300)
    assert est == low == high == 0.5
    est, low, high = bootstrap_item_means(rows, lambda m: m.max(dim=-1).values, n_boot=300)
    assert est == 0.5 and low >= 0.5 and high > 0.5  # the max is taken in every resample


def test_item_means_shapes_chunks_and_errors():
    from xlnb.metrics import bootstrap_item_means

    x = np.random.default_rng(0).integers(0, 2, size=(3, 4, 25))
    est, low, high = bootstrap_item_means(x, n_boot=100)
    assert est.shape == low.shape == high.shape == (3, 4)
    np.testing.assert_allclose(est, x.mean(axis=-1))
    assert (low <= est).all() and (est <= high).all()
    small = bootstrap_item_means(x, n_boot=100, max_values=1)  # one resample at a time
    for a, b in zip((est, low, high), small):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="n >= 2"):
        bootstrap_item_means(np.ones((3, 1)))
    with pytest.raises(ValueError, match="NaN"):
        bootstrap_item_means(np.array([1.0, np.nan]))
    with pytest.raises(ValueError, match="alpha"):
        bootstrap_item_means(np.ones(3), alpha=1.5)
