"""NeuronXA Table 1 / Table 2 helpers against brute-force loops and hand-worked cases."""

import numpy as np
import pytest
import torch

from xlnb.metrics import pivot_hits
from xlnb.neuronxa.tables import (bitext_pivot_hits, bootstrap_groups, choose_layers,
                                  head_long_tail, layer_accuracy, max_over_layers,
                                  pair_group_summary,
                                  resource_pair_groups, retrieval_summary, selection_split)


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


def _hand_hits():
    # L=2 layers, G=2 languages, N=4 sentences
    hits = torch.zeros(2, 2, 4, dtype=torch.bool)
    hits[0, 0] = torch.tensor([1, 1, 0, 0])  # lang 0: .5 at layer 0
    hits[1, 0] = torch.tensor([1, 1, 1, 0])  # .75 at layer 1
    hits[0, 1] = torch.tensor([1, 0, 0, 0])  # lang 1: .25 at layer 0
    hits[1, 1] = torch.tensor([0, 0, 0, 0])  # 0 at layer 1
    return hits


def test_choose_layers_by_hand():
    hits = _hand_hits()
    kept, best = choose_layers(hits, "mean")
    assert kept is hits and best is None
    kept, _ = choose_layers(hits, "single", layer=0)
    assert kept.shape == (1, 2, 4) and kept[0].tolist() == hits[0].tolist()
    assert choose_layers(hits, "single")[0][0].tolist() == hits[1].tolist()  # middle: row 1
    with pytest.raises(ValueError, match="layer 2"):
        choose_layers(hits, "single", layer=2)
    with pytest.raises(ValueError, match="1 layer"):
        choose_layers(hits, "max_vector")
    assert choose_layers(hits[:1], "max_vector")[0].shape == (1, 2, 4)
    with pytest.raises(ValueError, match="'max'"):
        choose_layers(hits, "max")
    with pytest.raises(ValueError, match="select"):
        choose_layers(hits, "best_layer")
    # select on sentences 2, 3: lang 0 is better at layer 1 (.5 vs 0), lang 1 ties (0, 0) ->
    # first row; scored on sentences 0, 1 only
    kept, best = choose_layers(hits, "best_layer", select=[2, 3])
    assert best.tolist() == [1, 0]
    assert kept.shape == (1, 2, 2)
    assert kept[0].tolist() == [[True, True], [True, False]]


def test_best_layer_never_sees_the_scored_sentences():
    # layer 0 is perfect on the selection half and wrong on the rest; layer 1 the opposite:
    # picking on the scored sentences would report 1.0, the held-out choice reports 0
    hits = torch.zeros(2, 1, 8, dtype=torch.bool)
    select, scored = [0, 1, 2, 3, 4], [5, 6, 7]
    hits[0, 0, select] = True
    hits[1, 0, scored] = True
    kept, best = choose_layers(hits, "best_layer", select=select)
    assert best.tolist() == [0] and not kept.any()
    table = retrieval_summary(["de"], {"bidirectional": hits}, {"head": ["de"]}, "best_layer",
                              select=select, layer_labels=[7, 8], n_boot=50)
    row = table.iloc[0]
    assert row.accuracy == 0 and row.n_scored == 3 and row.layers == "de:7"


def test_selection_split():
    sel, scored = selection_split(20, 0.25, seed=3)
    assert len(sel) == 5 and len(scored) == 15
    assert sorted(set(sel) | set(scored)) == list(range(20)) and not set(sel) & set(scored)
    assert selection_split(20, 0.25, seed=3)[0].tolist() == sel.tolist()
    with pytest.raises(ValueError, match="fraction"):
        selection_split(20, 1.0)
    with pytest.raises(ValueError, match="fewer than 2"):
        selection_split(3, 0.5)


def test_max_over_layers_is_the_elementwise_max():
    reps = _reps()
    got = max_over_layers(reps)
    for lang, r in reps.items():
        expect = np.max(r.numpy(), axis=0)[None]
        np.testing.assert_array_equal(got[lang].numpy(), expect)
    # not the best layer: the max vector mixes layers
    assert not any(torch.equal(got["de"][0], reps["de"][i]) for i in range(3))


def test_head_long_tail_keeps_english_out_of_the_long_tail():
    langs = ["en", "de", "fr", "cy", "sw"]
    assert head_long_tail(langs, "en") == {"head": ["de", "fr", "sw"], "long-tail": ["cy"]}
    got = head_long_tail(langs, "de", head=["fra_Latn", "cy"])
    assert got == {"head": ["en", "fr", "cy"], "long-tail": ["sw"]}
    with pytest.raises(ValueError, match="'it'"):
        head_long_tail(langs, "it")


def test_bitext_hits_equal_multiway_hits():
    reps = _reps()
    langs, hits = pivot_hits(reps, "en", margin="cosine")
    pairs = {lang: {"en": reps["en"], lang: reps[lang]} for lang in ("de", "sw")}
    got_langs, got = bitext_pivot_hits(pairs, "en", margin="cosine")
    assert got_langs == langs
    for direction in hits:
        assert torch.equal(got[direction], hits[direction])
    got_langs, got = bitext_pivot_hits(pairs, "en", max_vector=True, margin="cosine")
    _, expect = pivot_hits(max_over_layers(reps), "en", margin="cosine")
    assert got["bidirectional"].shape == (1, 2, 10)
    assert torch.equal(got["bidirectional"], expect["bidirectional"])


def test_bootstrap_groups_estimates_by_hand():
    hits = _hand_hits()
    cols = {"a": [0], "b": [1], "both": [0, 1]}
    got = bootstrap_groups(hits, cols, n_boot=200)
    assert got["both"][0] == pytest.approx((0.625 + 0.125) / 2)
    got = bootstrap_groups(hits[:1], cols, n_boot=200)
    assert got["both"][0] == pytest.approx((0.5 + 0.25) / 2)
    for est, low, high in got.values():
        assert 0 <= low <= est <= high <= 1


def test_bootstrap_perfect_and_errors():
    hits = torch.ones(3, 2, 5, dtype=torch.bool)
    assert bootstrap_groups(hits, {"g": [0, 1]}, n_boot=50)["g"] == (1.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="no languages"):
        bootstrap_groups(hits, {"g": []})
    with pytest.raises(ValueError, match="L, G, N"):
        bootstrap_groups(hits[0], {"g": [0]})


def test_retrieval_summary_by_hand():
    hits = _hand_hits()
    table = retrieval_summary(["de", "sw"], {"pivot_to_xx": hits, "xx_to_pivot": ~hits},
                              {"head": ["de"], "long-tail": ["sw"], "empty": []}, "mean",
                              n_boot=100)
    assert set(table.group) == {"head", "long-tail"}
    got = table.set_index(["direction", "group"]).accuracy
    assert got["pivot_to_xx", "head"] == pytest.approx(0.625)
    assert got["xx_to_pivot", "long-tail"] == pytest.approx(0.875)
    assert (table.n_langs == 1).all() and (table.n_scored == 4).all()
    with pytest.raises(ValueError, match="'fr'"):
        retrieval_summary(["de", "sw"], {"pivot_to_xx": hits}, {"head": ["fr"]}, "mean")


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


def test_bidirectional_retrieval_is_eq4_per_layer():
    # NeuronXA eq. 4 (c_ii strictly above the rest of row i and column i) is bidirectional
    # nearest-neighbour retrieval: Table 1's En⇔xx per layer equals Fig. 2's NASCA per layer
    from xlnb.neuronxa.layers import layer_table, pair_layer_hits

    reps = _reps(layers=3, n=30)
    langs, hits = pivot_hits(reps, "en", margin="cosine")
    table1 = layer_accuracy(langs, hits, {"all": langs})
    table1 = table1[table1.direction == "bidirectional"].set_index(["lang", "layer"]).accuracy
    pairs = [("en", lang) for lang in langs]
    fig2 = layer_table(pairs, pair_layer_hits(reps, pairs)).set_index(["tgt", "layer"]).score
    assert sorted(table1.index) == sorted(fig2.index)
    for key, value in fig2.items():
        assert table1[key] == pytest.approx(value)
    assert ((fig2 > 0) & (fig2 < 1)).any() and fig2.nunique() > 2  # not a trivial 0 / 1


@pytest.mark.slow
def test_table1_nas_per_layer_equals_fig2_nasca_on_a_model():
    from xlnb.data import load_parallel
    from xlnb.layerwise import language_reps
    from xlnb.models import load_model
    from xlnb.neuronxa.layers import layer_table, pair_layer_hits
    from xlnb.neuronxa.tables import table1_runs

    model, tok = load_model("tiny-llama")
    texts = load_parallel("micro", ["en", "de"], n=12)
    # English with its words reversed: a random model aligns it partly, so the scores are
    # neither all 0 nor all 1
    texts["fr"] = [" ".join(s.split()[::-1]) for s in texts["en"]]
    bitexts = {lang: {"en": texts["en"], lang: texts[lang]} for lang in ("de", "fr")}
    groups = head_long_tail(["en", "de", "fr"], "en")
    _, per_layer = table1_runs(model, tok, bitexts, "en", groups, layers_pooled=["mean"],
                               pooling="weighted", n_boot=20)
    nas = per_layer[(per_layer.representation == "NAS")
                    & (per_layer.direction == "bidirectional")]
    pairs = [("en", "de"), ("en", "fr")]
    reps = language_reps(model, tok, texts, kind="nas", pooling="weighted")
    fig2 = layer_table(pairs, pair_layer_hits(reps, pairs))
    # the same block numbers 1..4 label both tables
    assert sorted(set(nas.layer)) == sorted(set(fig2.layer)) == [1, 2, 3, 4]
    got = nas.set_index(["lang", "layer"]).accuracy
    for row in fig2.itertuples():
        assert got[(row.tgt, row.layer)] == pytest.approx(row.score)
    assert ((fig2.score > 0) & (fig2.score < 1)).any()
