"""MidAlign Table 4 (resource level of the alignment languages) from hand-made scores."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from xlnb.midalign import resource_levels as R

GROUPS = {"low": ["sw", "cy"], "medium": ["el", "hi"], "high": ["es", "de"]}


def _scores(rows):
    return pd.DataFrame([dict(system=s, language=lang, metric="f1", value=v, seed=seed)
                         for s, lang, v, seed in rows])


def test_table4_by_hand():
    rows = [("sft", "en", 0.80, 1), ("sft", "de", 0.50, 1), ("sft", "sw", 0.20, 1),
            ("sft+align (low)", "en", 0.82, 1), ("sft+align (low)", "de", 0.52, 1),
            ("sft+align (low)", "sw", 0.30, 1), ("sft+align (low)", "sw", 0.26, 2),
            ("sft+align (low)", "de", 0.52, 2), ("sft+align (low)", "en", 0.84, 2),
            ("sft+align (medium)", "en", 0.81, 1), ("sft+align (medium)", "de", 0.40, 1),
            ("sft+align (medium)", "sw", 0.20, 1),
            ("sft+align (high)", "en", 0.78, 1), ("sft+align (high)", "de", 0.56, 1),
            ("sft+align (high)", "sw", 0.24, 1)]
    table = R.table4(_scores(rows), GROUPS, supervised=["en"]).set_index("system")
    assert list(table.index) == ["sft", "sft+align (low)", "sft+align (medium)",
                                 "sft+align (high)"]
    low = table.loc["sft+align (low)"]
    assert low.supervised == pytest.approx(0.83)  # seeds averaged: (0.82 + 0.84) / 2
    assert low.transfer == pytest.approx((0.52 + 0.28) / 2)
    assert low.aligned_gain == pytest.approx(0.28 - 0.20)  # sw only: cy is not tested
    assert low.aligned_tested == "sw" and low.aligned_total == 2
    # medium: none of el, hi is tested -> no gain; high: de is tested (0.56 - 0.50)
    assert math.isnan(table.loc["sft+align (medium)"].aligned_gain)
    assert table.loc["sft+align (medium)"].aligned_tested == ""
    assert table.loc["sft+align (high)"].aligned_gain == pytest.approx(0.06)
    assert table.loc["sft"].transfer == pytest.approx(0.35) and table.loc["sft"].group == "none"
    with pytest.raises(ValueError, match="'base'"):
        R.table4(_scores(rows), GROUPS, supervised=["en"], baseline="base")


def test_to_english_takes_one_layer_and_the_english_target():
    rows = [(layer, src, tgt, acc, system) for layer, src, tgt, acc, system in [
        (9, "sw", "en", 0.3, "sft"), (9, "en", "sw", 0.9, "sft"), (4, "sw", "en", 0.8, "sft"),
        (9, "el", "en", 0.5, "sft"), (9, "sw", "el", 0.7, "sft"), (9, "sw", "en", 0.5, "x")]]
    table = pd.DataFrame(rows, columns=["layer", "src", "tgt", "accuracy", "system"])
    table = pd.concat([table, table.assign(accuracy=table.accuracy / 2)])  # a second seed
    got = R.to_english(table, 9, ["sw"])
    assert got.to_dict("list") == {"system": ["sft", "x"], "language": ["sw", "sw"],
                                   "accuracy": [pytest.approx(0.225), pytest.approx(0.375)]}
    with pytest.raises(ValueError, match="layer 3"):
        R.to_english(table, 3, ["sw"])


def test_check_groups_names_the_bad_group():
    assert R.check_groups(GROUPS) == GROUPS
    with pytest.raises(ValueError, match="'high'"):
        R.check_groups({"high": ["en", "es"]})
    with pytest.raises(ValueError, match="'low'"):
        R.check_groups({"low": "sw"})
    assert R.group_system("medium") == "sft+align (medium)"
