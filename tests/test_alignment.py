"""pivot_scores against direct calls per layer; aggregation by hand."""

import pandas as pd
import pytest
import torch

from xlnb.alignment import aggregate_layers, pivot_scores


def planted():
    g = torch.Generator().manual_seed(0)
    en = torch.randn(3, 8, 5, generator=g)
    return {"en": en, "de": en + 0.1 * torch.randn(3, 8, 5, generator=g),
            "sw": torch.randn(3, 8, 5, generator=g)}


def mutual_nn_loop(x, y):
    """Share of i whose cos(x_i, y_i) beats every other entry of row i and column i."""
    c = torch.nn.functional.normalize(x.double(), dim=1) @ torch.nn.functional.normalize(
        y.double(), dim=1).T
    n = len(c)
    return sum(all(c[i, i] > c[i, j] and c[i, i] > c[j, i] for j in range(n) if j != i)
               for i in range(n)) / n


def test_mutual_nn_per_layer_matches_loop():
    reps = planted()
    df = pivot_scores(reps, "en", layers=[2, 4, 6])
    assert set(df.lang) == {"de", "sw"} and list(df.columns) == ["lang", "layer", "score", "value"]
    for lang in ("de", "sw"):
        for i, label in enumerate([2, 4, 6]):
            got = df[(df.lang == lang) & (df.layer == label)].value.item()
            assert got == pytest.approx(mutual_nn_loop(reps["en"][i], reps[lang][i]))
    assert df[df.lang == "de"].value.min() > df[df.lang == "sw"].value.max()


def test_other_scores_and_aggregation():
    reps = planted()
    cka = pivot_scores(reps, score="cka")
    assert cka.value.between(0, 1).all()
    df = pd.DataFrame({"lang": ["de"] * 3, "layer": [0, 1, 2], "score": ["x"] * 3,
                       "value": [0.2, 0.8, 0.5]})
    assert aggregate_layers(df).value.item() == pytest.approx(0.5)
    assert aggregate_layers(df, "max").value.item() == pytest.approx(0.8)


def test_bad_input():
    reps = planted()
    with pytest.raises(ValueError, match="score"):
        pivot_scores(reps, score="cosine")
    with pytest.raises(ValueError, match="pivot"):
        pivot_scores(reps, "fr")
    reps["zh"] = torch.randn(3, 7, 5)
    with pytest.raises(ValueError, match="zh"):
        pivot_scores(reps)
