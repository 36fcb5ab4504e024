"""NeuronXA Fig. 1 helpers: t-SNE of parallel pairs and the pair-neighbour rate."""

import numpy as np
import pandas as pd
import pytest

from xlnb.neuronxa.tsne import pair_neighbour_rate, tsne_pairs, tsne_panels


def neighbour_rate_loop(points):
    """Nearest other point by an explicit double loop."""
    xy = points[["x", "y"]].to_numpy()
    hits = 0
    for i in range(len(xy)):
        best, best_d = None, np.inf
        for j in range(len(xy)):
            d = np.hypot(*(xy[i] - xy[j]))
            if j != i and d < best_d:
                best, best_d = j, d
        hits += points.pair.iloc[best] == points.pair.iloc[i]
    return hits / len(xy)


def test_neighbour_rate_matches_a_loop_and_hand_cases():
    pts = pd.DataFrame({"pair": [0, 1, 2, 0, 1, 2], "lang": list("aaabbb"),
                        "x": [0.0, 5.0, 10.0, 0.1, 5.1, -30.0], "y": [0.0] * 6})
    # 0 and 1 sit beside their translation; a2 (x=10) is nearest to b1, b2 (x=-30) to a0
    assert pair_neighbour_rate(pts) == pytest.approx(4 / 6)
    rng = np.random.default_rng(0)
    rand = pd.DataFrame({"pair": np.tile(np.arange(20), 2), "lang": np.repeat(["a", "b"], 20),
                         "x": rng.normal(size=40), "y": rng.normal(size=40)})
    assert pair_neighbour_rate(rand) == pytest.approx(neighbour_rate_loop(rand))


def test_tsne_separates_aligned_from_unaligned_pairs_and_is_seeded():
    rng = np.random.default_rng(1)
    base = rng.normal(size=(30, 16)) * 5
    aligned = tsne_pairs(base, base + 0.01 * rng.normal(size=base.shape), langs=("en", "zh"))
    assert list(aligned.columns) == ["pair", "lang", "x", "y"] and len(aligned) == 60
    assert pair_neighbour_rate(aligned) > 0.9
    # two language clusters, translations unrelated: no point's neighbour is its translation
    apart = tsne_pairs(rng.normal(size=(30, 16)) + 20, rng.normal(size=(30, 16)) - 20,
                       metric="euclidean")
    assert pair_neighbour_rate(apart) < 0.2
    again = tsne_pairs(base, base + 0.01 * np.random.default_rng(1).normal(size=base.shape))
    assert np.isfinite(again[["x", "y"]].to_numpy()).all()
    first = tsne_pairs(base, base[::-1], seed=3)
    second = tsne_pairs(base, base[::-1], seed=3)
    np.testing.assert_allclose(first[["x", "y"]], second[["x", "y"]])


def test_tsne_pairs_validates_inputs():
    with pytest.raises(ValueError, match="shape"):
        tsne_pairs(np.zeros((10, 4)), np.zeros((9, 4)))
    with pytest.raises(ValueError, match="finite"):
        tsne_pairs(np.full((10, 4), np.nan), np.zeros((10, 4)))


def test_panels_draw_one_axis_per_map():
    rng = np.random.default_rng(2)
    pts = pd.DataFrame({"pair": np.tile(np.arange(5), 2), "lang": np.repeat(["en", "zh"], 5),
                        "x": rng.normal(size=10), "y": rng.normal(size=10)})
    fig = tsne_panels({"a": pts, "b": pts}, suptitle="t")
    assert len(fig.axes) == 2
    assert len(fig.axes[0].lines) == 5  # one link per pair
