"""NeuronXA Tables 3, 4, 8-10: per-language scores and correlations, checked against loops,
scipy called directly and a hand-worked case."""

import json
import math

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import stats

from xlnb.neuronxa.correlations import (
    alignment_scores, correlation_table, downstream_accuracy, join_accuracy, lm_eval_accuracy,
    resolve_data_path, score_reps,
)


def mutual_nn_loop(x, y):
    """Share of i whose cos(x_i, y_i) beats every other entry of row i and column i."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    n = len(x)
    cos = [[float(x[i] @ y[j] / math.sqrt((x[i] @ x[i]) * (y[j] @ y[j]))) for j in range(n)]
           for i in range(n)]
    return sum(all(cos[i][i] > cos[i][j] and cos[i][i] > cos[j][i] for j in range(n) if j != i)
               for i in range(n)) / n


def cka_numpy(x, y):
    """Linear CKA (Kornblith et al. 2019) straight from the formula."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    x, y = x - x.mean(axis=0), y - y.mean(axis=0)
    return np.linalg.norm(y.T @ x) ** 2 / (np.linalg.norm(x.T @ x) * np.linalg.norm(y.T @ y))


def planted(layers=3, n=8, d=6):
    g = torch.Generator().manual_seed(1)
    en = torch.randn(layers, n, d, generator=g)
    return {"en": en, "de": en + 0.3 * torch.randn(layers, n, d, generator=g),
            "sw": torch.randn(layers, n, d, generator=g)}


def test_score_reps_means_layers_like_a_loop():
    reps = planted()
    table = score_reps({("nasca", "weighted"): reps, ("cka", "weighted"): reps}, "en")
    assert list(table.columns) == ["lang", "method", "pooling", "value"]
    assert len(table) == 4  # 2 languages x 2 methods
    for lang in ("de", "sw"):
        mnn = np.mean([mutual_nn_loop(reps["en"][i], reps[lang][i]) for i in range(3)])
        cka = np.mean([cka_numpy(reps["en"][i], reps[lang][i]) for i in range(3)])
        got = table.set_index(["lang", "method"]).value
        assert got[(lang, "nasca")] == pytest.approx(mnn)
        assert got[(lang, "cka")] == pytest.approx(cka)
    # the max over layers is a different number from the paper's mean (near-miss check)
    top = score_reps({("nasca", "weighted"): reps}, "en", how="max").set_index("lang").value
    per_layer = [mutual_nn_loop(reps["en"][i], reps["de"][i]) for i in range(3)]
    assert top["de"] == pytest.approx(max(per_layer))


def test_score_reps_rejects_unknown_method():
    with pytest.raises(ValueError, match="unknown method"):
        score_reps({("laser", "mean"): planted()})


def test_correlation_table_matches_scipy_and_a_hand_case():
    joined = pd.DataFrame({
        "lang": list("abc") * 2, "method": ["nasca"] * 3 + ["mexa"] * 3,
        "pooling": "weighted", "benchmark": "xnli",
        "score": [1.0, 2.0, 3.0, 0.3, 0.1, 0.2], "accuracy": [1.0, 2.0, 4.0] * 2})
    table = correlation_table(joined).set_index(["method", "stat"])
    # by hand: dx = (-1, 0, 1), dy = (-4/3, -1/3, 5/3): r = 3 / sqrt(2 * 42/9) = 9 / sqrt(84)
    assert table.loc[("nasca", "pearson"), "r"] == pytest.approx(9 / math.sqrt(84))
    assert table.loc[("nasca", "spearman"), "r"] == pytest.approx(1.0)
    r, p = stats.pearsonr([0.3, 0.1, 0.2], [1.0, 2.0, 4.0])
    assert table.loc[("mexa", "pearson"), "r"] == pytest.approx(r)
    assert table.loc[("mexa", "pearson"), "p"] == pytest.approx(p)
    assert (table.n_langs == 3).all()


def test_correlation_table_keeps_undefined_groups_as_nan():
    joined = pd.DataFrame({"lang": ["a", "b"], "method": "nasca", "pooling": "last",
                           "benchmark": "x", "score": [0.1, 0.2], "accuracy": [0.5, 0.6]})
    table = correlation_table(joined, methods=("pearson",))
    assert len(table) == 1 and np.isnan(table.r.item()) and table.n_langs.item() == 2


def test_join_accuracy_drops_languages_missing_on_one_side():
    scores = pd.DataFrame({"lang": ["de", "sw", "zh"], "method": "nasca", "pooling": "mean",
                           "value": [0.5, 0.2, 0.4]})
    acc = pd.DataFrame({"lang": ["de", "zh", "fr"], "benchmark": "xnli", "value": [0.6, 0.5, 0.7]})
    joined = join_accuracy(scores, acc)
    assert sorted(joined.lang) == ["de", "zh"]
    assert joined.set_index("lang").loc["zh", ["score", "accuracy"]].tolist() == [0.4, 0.5]


def test_lm_eval_accuracy_maps_task_languages_to_the_callers_codes(tmp_path):
    results = {"results": {
        "belebele_deu_Latn": {"acc,none": 0.5, "acc_stderr,none": 0.01},
        "arc_de": {"acc,none": 0.4, "acc_stderr,none": 0.02, "acc_norm,none": 0.45},
        "m_mmlu_zh": {"acc,none": 0.3},
        "arc_fr": {"acc,none": 0.9},
        "xnli": {"acc,none": 0.33}}, "model_name": "m"}
    path = tmp_path / "results_x.json"
    path.write_text(json.dumps(results))
    table = lm_eval_accuracy(path, ["deu_Latn", "zh"]).set_index(["lang", "benchmark"])
    assert sorted(table.index) == [("deu_Latn", "arc"), ("deu_Latn", "belebele"),
                                   ("zh", "m_mmlu")]
    assert table.loc[("deu_Latn", "arc"), "value"] == 0.4
    assert table.loc[("deu_Latn", "arc"), "ci_high"] == pytest.approx(0.4 + 1.96 * 0.02)
    assert np.isnan(table.loc[("zh", "m_mmlu"), "ci_low"])
    only = lm_eval_accuracy(path, ["de"], benchmarks=["arc"])
    assert only.benchmark.tolist() == ["arc"]
    with pytest.raises(ValueError, match="no 'acc' results"):
        lm_eval_accuracy(path, ["sw"])
    assert len(lm_eval_accuracy(path, ["de"], model="m")) == 2
    with pytest.raises(ValueError, match="of model 'other'"):
        lm_eval_accuracy(path, ["de"], model="other")


def test_resolve_data_path(tmp_path):
    (tmp_path / "proj").mkdir()
    (tmp_path / "shared" / "xnli").mkdir(parents=True)
    roots = [tmp_path / "proj"]
    assert resolve_data_path("../shared/xnli", roots=roots) == (tmp_path / "shared" / "xnli")
    assert resolve_data_path("../shared/xcopa", roots=roots) is None
    assert resolve_data_path(str(tmp_path / "shared")) == tmp_path / "shared"
    assert resolve_data_path(str(tmp_path / "absent")) is None
    assert resolve_data_path(None) is None
    with pytest.raises(ValueError):
        resolve_data_path("  ")


@pytest.mark.slow
def test_alignment_scores_on_a_tiny_model_match_a_direct_computation():
    from xlnb.data import load_parallel
    from xlnb.models import load_model
    from xlnb.reps import neuron_states, sentence_reps

    model, tok = load_model("tiny-llama")
    texts = load_parallel("micro", ["en", "de"], n=10)
    # a random tiny model aligns hardly any real translation (scores near 0, where a wrong
    # layer or pooling would still match); English with its words reversed shares the tokens
    # and gives scores strictly between 0 and 1 that differ from layer to layer
    texts["zh"] = [" ".join(s.split()[::-1]) for s in texts["en"]]
    table = alignment_scores(model, tok, texts, methods=["mexa", "nasca"],
                             poolings=["weighted", "last"], baselines=["anc"])
    assert len(table) == 2 * (2 * 2 + 1)
    got = table.set_index(["lang", "method", "pooling"]).value
    expected = []
    for lang in ("de", "zh"):
        nas = [neuron_states(model, tok, texts[x], kind="nas", pooling="last") for x in ("en", lang)]
        hid = [sentence_reps(model, tok, texts[x], pooling="weighted") for x in ("en", lang)]
        # NAS: the 4 blocks; hidden: block outputs 1..4, the embedding output left out
        want_nas = np.mean([mutual_nn_loop(nas[0][i], nas[1][i]) for i in range(4)])
        want_mexa = np.mean([mutual_nn_loop(hid[0][i], hid[1][i]) for i in range(1, 5)])
        with_embeddings = np.mean([mutual_nn_loop(hid[0][i], hid[1][i]) for i in range(0, 4)])
        assert got[(lang, "nasca", "last")] == pytest.approx(want_nas)
        assert got[(lang, "mexa", "weighted")] == pytest.approx(want_mexa, abs=1e-9)
        expected += [want_nas, want_mexa]
        if lang == "zh":  # the inputs can tell the block range apart
            assert want_mexa != pytest.approx(with_embeddings, abs=1e-9)
    # non-trivial inputs: some scores strictly inside (0, 1), not all equal
    assert any(0 < v < 1 for v in expected) and len(set(np.round(expected, 9))) > 1
    assert got[("zh", "mexa", "weighted")] > got[("de", "mexa", "weighted")]


@pytest.mark.slow
def test_alignment_scores_take_bitexts_like_multiway_texts():
    from xlnb.data import load_bitexts, load_parallel
    from xlnb.models import load_model

    model, tok = load_model("tiny-llama")
    texts = load_parallel("micro", ["en", "de", "fr"], n=8)
    bitexts = load_bitexts("micro", ["en", "de", "fr"], n=8)
    kw = dict(methods=["nasca"], poolings=["weighted"], baselines=["cka"])
    multi = alignment_scores(model, tok, texts, **kw)
    pairs = alignment_scores(model, tok, bitexts, **kw)
    pd.testing.assert_frame_equal(multi, pairs)


@pytest.mark.slow
def test_downstream_accuracy_per_language(tmp_path):
    from xlnb.models import load_model

    rows = ["The cat sleeps.\tAn animal rests.\tentailment",
            "It rains.\tThe sun is out.\tcontradiction",
            "He reads.\tHe reads a book.\tneutral", "We eat.\tNobody eats.\tcontradiction"]
    for lang in ("en", "de"):
        (tmp_path / f"dev-{lang}.tsv").write_text("\n".join(rows) + "\n")
    model, tok = load_model("tiny-llama")
    table = downstream_accuracy(model, tok, "xnli", ["en", "de"], path=tmp_path, n=4,
                                progress=False, n_boot=200)
    assert table.lang.tolist() == ["en", "de"] and (table.n == 4).all()
    assert ((table.value * 4).round(9) % 1 == 0).all()  # a share of 4 items
    assert (table.ci_low <= table.value).all() and (table.value <= table.ci_high).all()


def test_alignment_scores_rejects_a_missing_pivot():
    with pytest.raises(ValueError, match="pivot"):
        alignment_scores(None, None, {"de": ["x"]}, pivot="en")
