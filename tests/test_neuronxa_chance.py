"""NeuronXA App. E: chance level tables, critical k and a simulation of random matrices."""

import math

import numpy as np
import pandas as pd
import pytest

from xlnb.metrics import mutual_nn_from_similarity, mutual_nn_score
from xlnb.neuronxa.chance import (
    chance_figure, chance_grid, critical_k, observed_vs_chance, simulate_random_scores,
)


def tail_by_hand(n, k):
    p = 1 / (2 * n - 1)
    return 1 - sum(math.comb(n, i) * p ** i * (1 - p) ** (n - i) for i in range(k))


def test_grid_matches_the_binomial_sum():
    grid = chance_grid([3, 10], ks=[0, 1, 2, 5])
    assert len(grid) == 3 + 4  # k = 5 > n = 3 is skipped
    for row in grid.itertuples():
        assert row.p == pytest.approx(tail_by_hand(row.n, row.k), abs=1e-12)
        assert row.score == pytest.approx(row.k / row.n)
    # the paper's example: n = 100, k = 5 -> 0.00016
    assert chance_grid([100], ks=[5]).p.item() == pytest.approx(0.00016, abs=5e-6)


def test_critical_k_is_the_first_k_below_alpha():
    # n = 100: P(X>=2) = 0.091, P(X>=3) = 0.014, P(X>=4) = 0.0017, P(X>=5) = 0.00016
    assert critical_k(100, 0.05) == 3
    assert critical_k(100, 0.001) == 5
    assert tail_by_hand(100, 4) > 0.001 > tail_by_hand(100, 5)
    with pytest.raises(ValueError):
        critical_k(100, 1.5)


def test_observed_vs_chance_flags():
    scores = pd.DataFrame({"lang": ["de", "sw", "xx"], "value": [0.62, 0.04, 0.014]})
    out = observed_vs_chance(scores, 100).set_index("lang")
    assert out.loc["de", "k"] == 62 and out.loc["xx", "k"] == 1
    assert out.loc["sw", "p_chance"] == pytest.approx(tail_by_hand(100, 4))
    assert out["above_0.05"].tolist() == [True, True, False]
    assert out["above_0.001"].tolist() == [True, False, False]
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        observed_vs_chance(pd.DataFrame({"value": [1.5]}), 100)


def test_iid_matrices_follow_the_binomial_model():
    # the model's assumption made true: i.i.d. entries, scored by the eq. 4 rule
    rng = np.random.default_rng(0)
    n, trials = 20, 4000
    counts = np.array([mutual_nn_from_similarity(rng.normal(size=(n, n))) * n
                       for _ in range(trials)])
    assert counts.mean() / n == pytest.approx(1 / (2 * n - 1), rel=0.08)
    assert np.mean(counts >= 2) == pytest.approx(tail_by_hand(n, 2), abs=0.02)


@pytest.mark.parametrize("kind", ["gaussian", "binary"])
def test_random_representations_score_near_chance(kind):
    n = 30
    scores = simulate_random_scores(n, 64, trials=300, kind=kind, seed=1)
    assert scores.shape == (300,)
    assert scores.mean() == pytest.approx(1 / (2 * n - 1), abs=0.01)
    assert np.quantile(scores, 0.99) * n < critical_k(n, 0.001)
    np.testing.assert_array_equal(scores, simulate_random_scores(n, 64, trials=300, kind=kind,
                                                                 seed=1))


def test_figure_has_two_panels():
    grid = chance_grid([10, 100], ks=range(8))
    obs = observed_vs_chance(pd.DataFrame({"lang": ["de", "de", "sw"], "layer": [1, 2, 1],
                                           "value": [0.5, 0.4, 0.1]}), 100)
    fig = chance_figure(grid, obs, simulated=np.array([0.0, 0.01, 0.02]))
    assert len(fig.axes) == 2


def test_unpaired_sentences_score_near_chance_even_when_aligned():
    from xlnb.neuronxa.chance import unpaired_scores

    rng = np.random.default_rng(3)
    src = rng.normal(size=(80, 16))
    tgt = src + 0.05 * rng.normal(size=src.shape)  # perfectly aligned as given
    assert mutual_nn_score(src, tgt) == 1.0
    scores = unpaired_scores(src, tgt, trials=300, seed=0)
    assert scores.shape == (300,)
    assert scores.mean() == pytest.approx(1 / (2 * 40 - 1), abs=0.01)  # 40 x 40 matrices
    with pytest.raises(ValueError):
        unpaired_scores(src, tgt[:-1])


def test_layer_summary_counts_layers_and_applies_bonferroni():
    from xlnb.neuronxa.chance import layer_summary

    # n = 100: k = 2 (P = .091) clears nothing, k = 3 (P = .014) clears .05, k = 4
    # (P = .0017) clears .05 / 3 layers but not .001
    per_layer = pd.DataFrame({"lang": ["de"] * 3 + ["sw"] * 3, "layer": [1, 2, 3] * 2,
                              "value": [0.02, 0.03, 0.04, 0.02, 0.02, 0.01]})
    obs = observed_vs_chance(per_layer, 100)
    out = layer_summary(obs).set_index("lang")
    assert out.loc["de", "best_layer"] == 3 and out.loc["de", "best_k"] == 4
    assert out.loc["de", "min_p"] == pytest.approx(tail_by_hand(100, 4))
    assert out.loc["de", "layers_above_0.05"] == 2 and out.loc["de", "layers_above_0.001"] == 0
    assert out.loc["de", "bonferroni_0.05"] and not out.loc["de", "bonferroni_0.001"]
    assert out.loc["sw", "layers_above_0.05"] == 0 and not out.loc["sw", "bonferroni_0.05"]
    assert out.loc["sw", "median_k"] == 2
    # Bonferroni is stricter than one layer: k = 3 clears .05 alone, not .05 / 40 layers
    many = observed_vs_chance(pd.DataFrame({"lang": ["x"] * 40, "layer": range(40),
                                            "value": [0.03] + [0.0] * 39}), 100)
    row = layer_summary(many).iloc[0]
    assert row["layers_above_0.05"] == 1 and not row["bonferroni_0.05"]
