"""NeuronXA Table 1 / Table 2 helpers against brute-force loops and hand-worked cases."""

import numpy as np
import pytest
import torch

from xlnb.metrics import pivot_hits
from xlnb.neuronxa.tables import (bootstrap_groups, pair_group_summary, pool_layers,
                                  resource_pair_groups, retrieval_summary)


def nn_hits_by_loop(queries, candidates):
    """Plain nearest-neighbour retrieval by cosine, one query at a time."""
    out = []
    for i, q in enumerate(queries):
        cos = [q @ c / (np.linalg.norm(q) * np.linalg.norm(c)) for c in candidates]
        out.append(int(np.argmax(cos)) == i)
    return np.array(out)


def _reps(layers=3, n=10, d=6):
    g = torch.Generator().manual_seed(1)
    base = torch.randn(layers, n, d, generator=g)
    return {"en": base, "de": base + 0.6 * torch.randn(layers, n, d, generator=g),
            "sw": base + 1.5 * torch.randn(layers, n, d, generator=g)}


def test_pivot_hits_match_loop():
    reps = _reps()
    langs, hits = pivot_hits(reps, "en", margin="cosine")
    assert langs == ["de", "sw"]
    for g, lang in enumerate(langs):
        for layer in range(3):
            en, xx = reps["en"][layer].numpy(), reps[lang][layer].numpy()
            fwd, bwd = nn_hits_by_loop(en, xx), nn_hits_by_loop(xx, en)
            np.testing.assert_array_equal(hits["pivot_to_xx"][layer, g].numpy(), fwd)
            np.testing.assert_array_equal(hits["xx_to_pivot"][layer, g].numpy(), bwd)
            np.testing.assert_array_equal(hits["bidirectional"][layer, g].numpy(), fwd & bwd)
    assert hits["pivot_to_xx"][:, 1].float().mean() < 1  # sw is noisy enough to miss some


def test_pivot_hits_other_pivot_and_errors():
    langs, hits = pivot_hits(_reps(), "de")
    assert langs == ["en", "sw"] and hits["pivot_to_xx"].shape == (3, 2, 10)
    with pytest.raises(ValueError, match="'fr'"):
        pivot_hits(_reps(), "fr")
    with pytest.raises(ValueError, match="besides"):
        pivot_hits({"en": _reps()["en"]}, "en")


def test_pool_layers_by_hand():
    acc = torch.tensor([[0.1, 0.9], [0.5, 0.2], [0.3, 0.4]])  # [L=3, G=2]
    assert pool_layers(acc, "max").tolist() == pytest.approx([0.5, 0.9])
    assert pool_layers(acc, "mean").tolist() == pytest.approx([0.3, 0.5])
    assert pool_layers(acc, "single").tolist() == pytest.approx([0.5, 0.2])  # middle: row 1
    assert pool_layers(acc, "single", 2).tolist() == pytest.approx([0.3, 0.4])
    with pytest.raises(ValueError, match="layer 3"):
        pool_layers(acc, "single", 3)
    with pytest.raises(ValueError, match="'median'"):
        pool_layers(acc, "median")


def _hand_hits():
    # L=2 layers, G=2 languages, N=4 sentences
    hits = torch.zeros(2, 2, 4, dtype=torch.bool)
    hits[0, 0] = torch.tensor([1, 1, 0, 0])  # lang 0: .5 at layer 0
    hits[1, 0] = torch.tensor([1, 1, 1, 0])  # .75 at layer 1
    hits[0, 1] = torch.tensor([1, 0, 0, 0])  # lang 1: .25 at layer 0
    hits[1, 1] = torch.tensor([0, 0, 0, 0])  # 0 at layer 1
    return hits


def test_bootstrap_groups_estimates_by_hand():
    hits = _hand_hits()
    cols = {"a": [0], "b": [1], "both": [0, 1]}
    got = bootstrap_groups(hits, cols, "max", n_boot=200)
    assert got["a"][0] == pytest.approx(0.75) and got["b"][0] == pytest.approx(0.25)
    assert got["both"][0] == pytest.approx(0.5)
    got = bootstrap_groups(hits, cols, "mean", n_boot=200)
    assert got["both"][0] == pytest.approx((0.625 + 0.125) / 2)
    got = bootstrap_groups(hits, cols, "single", layer=0, n_boot=200)
    assert got["both"][0] == pytest.approx((0.5 + 0.25) / 2)
    for est, low, high in got.values():
        assert 0 <= low <= est <= high <= 1


def test_bootstrap_max_is_redone_per_resample():
    # two layers with complementary hits: every resample's max is >= its mean, and the
    # max statistic's interval sits above the mean's (a max taken once on the full data and
    # then resampled at a fixed layer would not)
    hits = torch.zeros(2, 1, 40, dtype=torch.bool)
    hits[0, 0, :20] = True
    hits[1, 0, 20:] = True
    cols = {"g": [0]}
    est, low, high = bootstrap_groups(hits, cols, "max", n_boot=500)["g"]
    _, low_mean, high_mean = bootstrap_groups(hits, cols, "mean", n_boot=500)["g"]
    assert est == 0.5 and low_mean == high_mean == 0.5  # every resample averages to .5
    assert low >= 0.5 and high > 0.5


def test_bootstrap_perfect_and_errors():
    hits = torch.ones(3, 2, 5, dtype=torch.bool)
    assert bootstrap_groups(hits, {"g": [0, 1]}, "max", n_boot=50)["g"] == (1.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="no languages"):
        bootstrap_groups(hits, {"g": []}, "max")
    with pytest.raises(ValueError, match="L, G, N"):
        bootstrap_groups(hits[0], {"g": [0]}, "max")


def test_retrieval_summary_by_hand():
    hits = _hand_hits()
    table = retrieval_summary(["de", "sw"], {"pivot_to_xx": hits, "xx_to_pivot": ~hits},
                              {"head": ["de"], "long-tail": ["sw"], "empty": []}, "max",
                              n_boot=100)
    assert set(table.group) == {"head", "long-tail"}
    got = table.set_index(["direction", "group"]).accuracy
    assert got["pivot_to_xx", "head"] == pytest.approx(0.75)
    assert got["xx_to_pivot", "long-tail"] == pytest.approx(1.0)  # ~hits: all True at layer 1
    assert got["xx_to_pivot", "head"] == pytest.approx(0.5)  # 1 - .5 at layer 0
    assert (table.n_langs == 1).all()
    with pytest.raises(ValueError, match="'fr'"):
        retrieval_summary(["de", "sw"], {"pivot_to_xx": hits}, {"head": ["fr"]}, "max")


def test_resource_pair_groups_by_hand():
    groups = resource_pair_groups(["en", "cy", "de", "hy"], low=["cy", "hy"])
    assert groups["high→high"] == [("en", "de")]
    assert groups["high→low"] == [("en", "cy"), ("en", "hy"), ("de", "cy"), ("de", "hy")]
    assert groups["low→low"] == [("cy", "hy")]
    assert sum(map(len, groups.values())) == 6  # 4 choose 2
    given = resource_pair_groups(["en", "cy", "de"], ["cy"], pairs=[["cy", "de"]])
    assert given == {"high→high": [], "high→low": [("de", "cy")], "low→low": []}
    with pytest.raises(ValueError, match="'ka'"):
        resource_pair_groups(["en", "cy"], ["ka"])
    with pytest.raises(ValueError, match="pairs"):
        resource_pair_groups(["en", "cy"], ["cy"], pairs=[("en", "en")])


def test_pair_group_summary_by_hand():
    pairs = [("en", "de"), ("en", "cy"), ("de", "cy")]
    hits = torch.zeros(2, 3, 4, dtype=torch.bool)
    hits[:, 0] = True                                   # en-de: 1.0
    hits[0, 1] = torch.tensor([1, 1, 0, 0])             # en-cy: (.5 + 0) / 2 = .25
    hits[:, 2] = torch.tensor([1, 0, 0, 0])             # de-cy: .25
    groups = {"high→high": [("de", "en")], "high→low": [("en", "cy"), ("de", "cy")],
              "low→low": []}
    table = pair_group_summary(pairs, hits, groups, n_boot=200).set_index("group")
    assert list(table.index) == ["high→high", "high→low"]
    assert table.loc["high→high", ["score", "ci_low", "ci_high"]].tolist() == [1.0, 1.0, 1.0]
    row = table.loc["high→low"]
    assert row.score == pytest.approx(0.25) and row.n_pairs == 2
    assert row.ci_low < 0.25 < row.ci_high
    with pytest.raises(ValueError, match="'sw'"):
        pair_group_summary(pairs, hits, {"x": [("en", "sw")]})
