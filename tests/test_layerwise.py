"""Group curves and pair groups against hand-enumerated cases."""

import pandas as pd
import pytest
import torch

from xlnb.layerwise import group_curves, language_reps, pair_groups, peak_layers
from xlnb.models import load_model


def test_pair_group_rules_by_hand():
    langs = ["en", "de", "sw"]
    got = pair_groups(langs, {"low": ["sw"]}, rule="any")["low"]
    assert got == {("en", "sw"), ("sw", "en"), ("de", "sw"), ("sw", "de")}
    assert pair_groups(langs, {"low": ["sw"]}, rule="src")["low"] == {("sw", "en"), ("sw", "de")}
    assert pair_groups(langs, {"g": ["sw", "de"]}, rule="both")["g"] == {("sw", "de"), ("de", "sw")}
    assert len(pair_groups(langs, {"all": langs})["all"]) == 6
    # the default is the notebooks' rule: the query (source) language decides
    assert pair_groups(langs, {"low": ["sw"]})["low"] == {("sw", "en"), ("sw", "de")}
    with pytest.raises(ValueError, match="'fr'"):
        pair_groups(langs, {"low": ["fr"]})
    with pytest.raises(ValueError, match="rule"):
        pair_groups(langs, {"low": ["sw"]}, rule="either")


def test_group_curves_mean_and_interval():
    pairs = [("en", "de"), ("de", "en"), ("en", "sw"), ("sw", "en")]
    hits = torch.zeros(2, 4, 10, dtype=torch.bool)
    hits[0, 0, :8] = True   # en->de 0.8 at layer 0
    hits[0, 1, :6] = True   # de->en 0.6
    hits[0, 2, :2] = True   # en->sw 0.2
    hits[1] = True          # layer 1: everything retrieved
    groups = {"all": set(pairs), "low": {("en", "sw"), ("sw", "en")}, "none": set()}
    df = group_curves(pairs, hits, groups, layers=[5, 9], n_boot=200)
    assert set(df.group) == {"all", "low"}
    row = df[(df.group == "all") & (df.layer == 5)].iloc[0]
    assert row.accuracy == pytest.approx((0.8 + 0.6 + 0.2 + 0.0) / 4) and row.n_pairs == 4
    assert row.ci_low < row.accuracy < row.ci_high
    low = df[(df.group == "low") & (df.layer == 5)].iloc[0]
    assert low.accuracy == pytest.approx(0.1)
    perfect = df[df.layer == 9]
    assert (perfect.accuracy == 1).all() and (perfect.ci_low == 1).all()


def test_peak_layers():
    curves = pd.DataFrame({"model": ["m"] * 3, "group": ["g"] * 3, "layer": [0, 1, 2],
                           "accuracy": [0.1, 0.7, 0.3]})
    assert peak_layers(curves).layer.tolist() == [1]


def test_language_reps_kinds():
    model, tok = load_model("tiny-llama")
    texts = {"en": ["Good morning.", "The cat sleeps."],
             "de": ["Guten Morgen.", "Die Katze schläft."]}
    hidden = language_reps(model, tok, texts, use_cache=False)
    nas = language_reps(model, tok, texts, kind="nas", layers=[1], use_cache=False)
    assert hidden["en"].shape == (5, 2, 64) and nas["de"].shape == (1, 2, 128)
    assert 0 <= nas["en"].min() and nas["en"].max() <= 1 + 1e-6  # shares of active tokens
    with pytest.raises(ValueError, match="kind"):
        language_reps(model, tok, texts, kind="attention")
