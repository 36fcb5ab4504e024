"""MidAlign aggregate columns against values worked out by hand."""

import math

import pandas as pd
import pytest

from xlnb.midalign import tables
from xlnb.midalign.systems import system_configs
from xlnb.train import TrainConfig


def _scores():
    rows = []
    f1 = {"sft": {"en": 0.8, "de": 0.5, "sw": 0.2, "ja": 0.4},
          "sft+align": {"en": 0.9, "de": 0.6, "sw": 0.5, "ja": 0.3}}
    for system, per_lang in f1.items():
        for lang, value in per_lang.items():
            rows.append(dict(task="slot_filling", system=system, language=lang, metric="f1",
                             value=value, seed=1))
    return pd.DataFrame(rows)


def test_language_groups_split_supervised_aligned_and_other():
    groups = tables.language_groups(["en", "de", "sw", "ja"], ["en"], ["sw", "cy"])
    assert groups == {"supervised": ["en"], "transfer": ["de", "sw", "ja"],
                      "transfer aligned": ["sw"], "transfer other": ["de", "ja"]}


def test_group_means_by_hand():
    groups = tables.language_groups(["en", "de", "sw", "ja"], ["en"], ["sw"])
    got = tables.group_means(_scores(), groups).set_index(["system", "group"])["value"]
    assert got[("sft", "supervised")] == pytest.approx(0.8)
    assert got[("sft", "transfer")] == pytest.approx((0.5 + 0.2 + 0.4) / 3)
    assert got[("sft+align", "transfer aligned")] == pytest.approx(0.5)
    assert got[("sft+align", "transfer other")] == pytest.approx((0.6 + 0.3) / 2)


def test_transfer_gain_sd_is_the_sample_sd_of_per_language_gains():
    got = tables.transfer_gain_sd(_scores(), ["de", "sw", "ja"]).set_index("system")
    gains = [0.1, 0.3, -0.1]  # de, sw, ja: sft+align minus sft
    mean = sum(gains) / 3
    sd = math.sqrt(sum((g - mean) ** 2 for g in gains) / 2)
    assert got.loc["sft+align", "mean_gain"] == pytest.approx(mean)
    assert got.loc["sft+align", "sd_gain"] == pytest.approx(sd)
    assert "sft" not in got.index
    with pytest.raises(ValueError, match="baseline"):
        tables.transfer_gain_sd(_scores(), ["de"], baseline="base")


def test_retrieval_aggregate_uses_even_layers_above_zero_only():
    rows = [dict(system="s", layer=layer, src="a", tgt="b", accuracy=acc)
            for layer, acc in [(0, 1.0), (1, 0.9), (2, 0.2), (3, 0.9), (4, 0.4)]]
    got = tables.retrieval_aggregate(pd.DataFrame(rows))
    assert got.value.item() == pytest.approx(0.3)  # (0.2 + 0.4) / 2, not 0.68 over all layers
    assert got.n_layers.item() == 2


def test_seed_spread_and_pick():
    frame = pd.DataFrame(dict(system=["a", "a", "b"], value=[0.2, 0.4, 0.5]))
    got = tables.seed_spread(frame, ["system"]).set_index("system")
    assert got.loc["a", "mean"] == pytest.approx(0.3)
    assert got.loc["a", "std"] == pytest.approx(math.sqrt(0.02))
    assert math.isnan(got.loc["b", "std"])
    assert tables.pick(got.reset_index().rename(columns={"mean": "value"}), system="a",
                       scale=100) == 30.0
    assert tables.pick(frame, system="c") is None
    with pytest.raises(ValueError, match="2 rows"):
        tables.pick(frame, system="a")


def test_system_configs_map_names_to_modes_and_layers():
    configs = system_configs(TrainConfig(layer="middle"),
                             ["base", "sft", "sft+align", "sft+align@top", "align@4"])
    assert configs["base"] is None
    assert configs["sft"].mode == "task"
    assert (configs["sft+align"].mode, configs["sft+align"].layer) == ("joint", "middle")
    assert configs["sft+align@top"].layer == "top"
    assert (configs["align@4"].mode, configs["align@4"].layer) == ("align", 4)
    with pytest.raises(ValueError, match="unknown system 'dpo'"):
        system_configs(TrainConfig(), ["dpo"])
