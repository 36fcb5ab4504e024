"""NeuronXA per-sentence eq. 4, per-layer pair scores and Fig. 2 plots, against loops and
hand-worked cases."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
import torch

from xlnb.neuronxa.layers import (language_curves, language_scores, layer_heatmap, layer_table,
                                  mutual_nn_hits, pair_layer_hits)


def eq4_by_loop(src, tgt):
    """Eq. 4 per sentence with plain Python loops over the cosine matrix."""
    src, tgt = np.asarray(src, dtype=float), np.asarray(tgt, dtype=float)
    n = len(src)
    cos = [[src[i] @ tgt[j] / (np.linalg.norm(src[i]) * np.linalg.norm(tgt[j]))
            for j in range(n)] for i in range(n)]
    out = []
    for i in range(n):
        others = [cos[i][j] for j in range(n) if j != i] + [cos[j][i] for j in range(n) if j != i]
        out.append(all(cos[i][i] > c for c in others))
    return np.array(out)


def test_hand_worked_three_sentences():
    # rows: sentence vectors; cos(src_0, tgt_0) = 1 but tgt_0 is also closest to src_1's row?
    src = np.array([[1.0, 0.0], [1.0, 0.1], [0.0, 1.0]])
    tgt = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    # C = [[1, 0, 0], [.995, .0995, .0995], [0, 1, 1]]
    # i=0: row ok (1 > 0, 0), column 0 has .995 < 1 -> True
    # i=1: row max off-diagonal .995 > .0995 -> False
    # i=2: c_22 = 1 ties c_21 = 1 -> strict inequality fails -> False
    assert mutual_nn_hits(src, tgt).tolist() == [True, False, False]


def test_column_condition_matters():
    # row-only (retrieval src -> tgt) would accept i=0; eq. 4 also checks column 0
    src = np.array([[1.0, 0.0], [1.0, 0.2]])
    tgt = np.array([[1.0, 0.3], [0.0, 1.0]])
    # c_00 = cos((1,0),(1,.3)) = .958; c_10 = cos((1,.2),(1,.3)) = .999 > c_00 -> False
    assert mutual_nn_hits(src, tgt).tolist() == [False, False]
    c = src @ tgt.T
    assert c[0, 0] > c[0, 1]  # the row condition alone holds for sentence 0


def test_random_matches_loop_and_score():
    rng = np.random.default_rng(3)
    for _ in range(5):
        src, tgt = rng.normal(size=(9, 4)), rng.normal(size=(9, 4))
        tgt[:5] = src[:5] + 0.3 * rng.normal(size=(5, 4))
        np.testing.assert_array_equal(mutual_nn_hits(src, tgt), eq4_by_loop(src, tgt))


def test_input_errors():
    with pytest.raises(ValueError, match="rows"):
        mutual_nn_hits(np.ones((3, 2)), np.ones((4, 2)))
    with pytest.raises(ValueError, match="at least 2"):
        mutual_nn_hits(np.ones((1, 2)), np.ones((1, 2)))


def _reps(seed=0, layers=3, n=8, d=5, langs=("en", "de", "sw")):
    g = torch.Generator().manual_seed(seed)
    base = torch.randn(layers, n, d, generator=g)
    return {lang: base + s * torch.randn(layers, n, d, generator=g)
            for s, lang in zip((0.0, 0.5, 2.0), langs)}


def test_pair_layer_hits_matches_loop_and_is_symmetric():
    reps = _reps()
    pairs = [("en", "de"), ("de", "en"), ("de", "sw")]
    hits = pair_layer_hits(reps, pairs)
    assert hits.shape == (3, 3, 8) and hits.dtype == torch.bool
    for layer in range(3):
        for p, (a, b) in enumerate(pairs):
            want = eq4_by_loop(reps[a][layer].numpy(), reps[b][layer].numpy())
            np.testing.assert_array_equal(hits[layer, p].numpy(), want)
    assert torch.equal(hits[:, 0], hits[:, 1])


def test_pair_layer_hits_errors():
    reps = _reps()
    with pytest.raises(ValueError, match="'fr'"):
        pair_layer_hits(reps, [("en", "fr")])
    with pytest.raises(ValueError, match="empty"):
        pair_layer_hits(reps, [])
    reps["sw"] = reps["sw"][:2]
    with pytest.raises(ValueError, match="shape"):
        pair_layer_hits(reps, [("en", "sw")])


def _hand_hits():
    hits = torch.zeros(2, 2, 4, dtype=torch.bool)
    hits[0, 0] = torch.tensor([1, 1, 1, 0])  # pair 0: .75 at layer 1
    hits[1, 0] = torch.tensor([1, 0, 0, 0])  # .25 at layer 2
    hits[:, 1] = True  # pair 1 always aligned
    return [("en", "de"), ("en", "sw")], hits


def test_layer_table_and_language_scores_by_hand():
    pairs, hits = _hand_hits()
    table = layer_table(pairs, hits)
    assert table.set_index(["tgt", "layer"]).score.to_dict() == {
        ("de", 1): 0.75, ("de", 2): 0.25, ("sw", 1): 1.0, ("sw", 2): 1.0}
    scores = language_scores(pairs, hits, n_boot=300).set_index("tgt")
    assert scores.loc["de", "score"] == pytest.approx(0.5)  # (0.75 + 0.25) / 2
    assert scores.loc["de", "ci_low"] < 0.5 < scores.loc["de", "ci_high"]
    assert scores.loc["sw", ["score", "ci_low", "ci_high"]].tolist() == [1.0, 1.0, 1.0]
    with pytest.raises(ValueError, match="labels"):
        layer_table(pairs, hits, layers=[1, 2, 3])


def test_plots_have_labels():
    pairs, hits = _hand_hits()
    table = layer_table(pairs, hits).rename(columns={"tgt": "lang"})
    fig = layer_heatmap(table, title="t")
    ax = fig.axes[0]
    assert ax.get_xlabel().startswith("Layer") and ax.get_title() == "t"
    assert [t.get_text() for t in ax.get_yticklabels()] == ["sw", "de"]  # best first
    fig = language_curves(table, {"de": "high", "sw": "low"})
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == ["high: mean of 1 language", "low: mean of 1 language"]
    with pytest.raises(ValueError, match="sw"):
        language_curves(table, {"de": "high"})
