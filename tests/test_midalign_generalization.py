"""Table 5's pieces (MidAlign §6.2) against hand-computed values: settings, held-out FLORES
lines, retrieval to English per sentence, the before / after summary and §4.2's aggregate."""

from __future__ import annotations

import dataclasses
import math
import re

import numpy as np
import pandas as pd
import pytest
import torch

from xlnb.midalign import generalization as G


def test_parse_settings_reads_params_and_names_bad_values():
    got = G.parse_settings({"multi": {"source": "tatoeba", "languages": ["sw", "cy"]},
                            "de flores": {"source": "flores200", "languages": ["de"],
                                          "part": "domain"}})
    assert got == [G.Setting("multi", "tatoeba", ("sw", "cy"), "languages"),
                   G.Setting("de flores", "flores200", ("de",), "domain")]
    with pytest.raises(ValueError, match="'wiki'"):
        G.parse_settings({"x": {"source": "wiki", "languages": ["de"]}})
    with pytest.raises(ValueError, match="'upper'"):
        G.parse_settings({"x": {"source": "tatoeba", "languages": ["de"], "part": "upper"}})
    with pytest.raises(ValueError, match="'x'.*languages"):
        G.parse_settings({"x": {"source": "tatoeba", "languages": ["en", "de"]}})
    with pytest.raises(ValueError, match="unknown keys"):
        G.parse_settings({"x": {"source": "tatoeba", "languages": ["de"], "n": 3}})


def test_parse_settings_n_pairs_defaults_to_the_argument_and_a_setting_overrides_it():
    got = G.parse_settings({"all": {"source": "tatoeba", "languages": ["sw"], "n_pairs": None},
                            "few": {"source": "tatoeba", "languages": ["sw"]},
                            "five": {"source": "tatoeba", "languages": ["sw"], "n_pairs": 5}},
                           n_pairs=200)
    assert [s.n_pairs for s in got] == [None, 200, 5]
    with pytest.raises(ValueError, match="'x'.*n_pairs.*0"):
        G.parse_settings({"x": {"source": "tatoeba", "languages": ["de"], "n_pairs": 0}})


def test_a_setting_may_mask_duplicates_and_otherwise_keeps_the_run_config():
    from xlnb.train import TrainConfig

    got = G.parse_settings({"plain": {"source": "flores200", "languages": ["sw"]},
                            "masked": {"source": "flores200", "languages": ["sw"],
                                       "mask_duplicates": True},
                            "unmasked": {"source": "flores200", "languages": ["sw"],
                                         "mask_duplicates": False}})
    assert [s.mask_duplicates for s in got] == [None, True, False]
    run = TrainConfig(mode="align", mask_duplicates=True, learning_rate=2e-4)
    configs = [G.setting_config(run, s, seed=7) for s in got]
    assert [c.mask_duplicates for c in configs] == [True, True, False]
    assert {c.seed for c in configs} == {7} and {c.learning_rate for c in configs} == {2e-4}
    with pytest.raises(ValueError, match="'x'.*mask_duplicates.*'yes'"):
        G.parse_settings({"x": {"source": "tatoeba", "languages": ["de"],
                                "mask_duplicates": "yes"}})


def test_a_setting_may_train_its_own_number_of_updates():
    from xlnb.train import TrainConfig

    got = G.parse_settings({"multi": {"source": "tatoeba", "languages": ["sw", "cy"]},
                            "de": {"source": "tatoeba", "languages": ["de"], "max_steps": 20}})
    assert [s.max_steps for s in got] == [None, 20]
    run = TrainConfig(mode="align", max_steps=100)
    assert [G.setting_config(run, s, seed=1).max_steps for s in got] == [100, 20]
    assert G.setting_config(run, got[0], seed=1) == dataclasses.replace(run, seed=1)
    for bad in (0, -3, 2.5, True, "20"):
        with pytest.raises(ValueError, match=f"'x'.*max_steps.*{re.escape(repr(bad))}"):
            G.parse_settings({"x": {"source": "tatoeba", "languages": ["de"], "max_steps": bad}})
    with pytest.raises(ValueError, match="unknown keys.*'steps'"):
        G.parse_settings({"x": {"source": "tatoeba", "languages": ["de"], "steps": 20}})


def test_held_out_lines_are_disjoint_and_cover_every_line():
    train, held = G.held_out_lines(20, 6, seed=3)
    assert len(held) == 6 and len(train) == 14
    assert sorted(train + held) == list(range(20))
    assert held == sorted(held) and G.held_out_lines(20, 6, seed=3)[1] == held
    with pytest.raises(ValueError, match="n_eval"):
        G.held_out_lines(5, 6)


def test_select_lines_keeps_the_same_lines_of_every_language():
    texts = {"en": ["a", "b", "c"], "de": ["A", "B", "C"]}
    assert G.select_lines(texts, [2, 0]) == {"en": ["c", "a"], "de": ["C", "A"]}
    with pytest.raises(ValueError, match="line 3"):
        G.select_lines(texts, [3])


def test_to_pivot_hits_at_one_layer_by_hand():
    # layer 1: de sentence 0 is closest to English sentence 0, but de sentences 1 and 2 are
    # swapped (1 is nearest to en 2 and 2 to en 1); layer 0 is all wrong and must be ignored
    en = torch.eye(3)
    de1 = torch.tensor([[1.0, 0.1, 0.0], [0.0, 0.1, 1.0], [0.0, 1.0, 0.1]])
    reps = {"en": torch.stack([en.flip(0), en]), "de": torch.stack([en, de1]),
            "sw": torch.stack([en, en + 0.01])}
    got = G.to_pivot_hits(reps, 1, margin="cosine")
    assert set(got) == {"de", "sw"}
    assert got["de"].tolist() == [True, False, False]
    assert got["sw"].tolist() == [True, True, True]
    with pytest.raises(ValueError, match="layer 2"):
        G.to_pivot_hits(reps, 2)


def _hits(rows):
    return pd.concat([G.hits_frame({lang: h}, setting=s, seed=seed, system=system)
                      for s, seed, system, lang, h in rows], ignore_index=True)


def test_before_after_by_hand():
    setting = G.Setting("multi", "tatoeba", ("sw",))
    hits = _hits([("none", 0, "before", "sw", [0, 0, 1, 0]),
                  ("none", 0, "before", "de", [0, 0, 0, 0]),
                  ("multi", 1, "after", "sw", [1, 1, 1, 0]),
                  ("multi", 2, "after", "sw", [1, 0, 1, 0]),
                  ("multi", 1, "after", "de", [1, 1, 1, 1]),
                  ("multi", 2, "after", "de", [1, 1, 1, 1])])
    table = G.before_after(hits, [setting], layer=9, n_boot=500).set_index("language")
    sw, de = table.loc["sw"], table.loc["de"]
    assert sw.aligned and not de.aligned and sw.layer == 9
    assert sw.before == pytest.approx(0.25) and sw.after == pytest.approx(0.625)
    assert sw.delta == pytest.approx(0.375)
    assert sw.after_seed_min == pytest.approx(0.5) and sw.after_seed_max == pytest.approx(0.75)
    assert sw.after_seed_sd == pytest.approx(math.sqrt(((0.75 - 0.625) ** 2
                                                        + (0.5 - 0.625) ** 2) / 1))
    assert sw.n_seeds == 2 and sw.n_sentences == 4
    for name in ("before", "after", "delta"):
        assert sw[f"{name}_low"] <= sw[name] <= sw[f"{name}_high"]
    # every de sentence gains exactly one: the paired interval of the delta is that point,
    # and the before interval of all-zero hits is [0, 0], so any gain is a clear gain
    assert (de.delta, de.delta_low, de.delta_high) == (1.0, 1.0, 1.0)
    assert (de.before_low, de.before_high) == (0.0, 0.0) and de.clear_gain
    # sw's worst seed (0.5) does not clear the top of before's interval (>= 0.5 for a
    # 1-in-4 hit rate: a resample with two copies of the hit is likely among 500)
    assert sw.before_high >= 0.5 and not sw.clear_gain
    assert math.isnan(G.before_after(hits[hits.seed != 2], [setting], layer=9)
                      .set_index("language").loc["sw", "after_seed_sd"])


def test_before_after_names_missing_data():
    setting = G.Setting("one", "tatoeba", ("sw",))
    hits = _hits([("none", 0, "before", "sw", [0, 1])])
    with pytest.raises(ValueError, match="'one'"):
        G.before_after(hits, [setting], layer=2)
    hits = _hits([("one", 1, "after", "sw", [0, 1])])
    with pytest.raises(ValueError, match="'sw'"):
        G.before_after(hits, [setting], layer=2)


def test_aggregate_is_the_mean_over_even_layers_above_zero():
    rows = [(layer, a, b, acc) for layer, acc in [(0, 1.0), (1, 0.9), (2, 0.2), (3, 0.8),
                                                  (4, 0.4)]
            for a, b in [("en", "de"), ("de", "en")]]
    table = pd.DataFrame(rows, columns=["layer", "src", "tgt", "accuracy"])
    table.loc[(table.layer == 4) & (table.src == "de"), "accuracy"] = 0.6
    got = G.aggregate_frame(table, setting="x", seed=1)
    assert got.value.item() == pytest.approx((0.2 + 0.2 + 0.4 + 0.6) / 4)
    assert got.setting.item() == "x" and got.seed.item() == 1


def test_alignment_only_loop_refuses_another_mode():
    from xlnb.train import TrainConfig

    with pytest.raises(ValueError, match="'joint'"):
        G.run_alignment_only("tiny-llama", TrainConfig(mode="joint"), [], {}, {}, seeds=[1])


def test_hits_frame_columns():
    got = G.hits_frame({"sw": np.array([True, False])}, setting="s", seed=1, system="after")
    assert got.to_dict("list") == {"language": ["sw", "sw"], "sentence": [0, 1],
                                   "hit": [1.0, 0.0], "setting": ["s", "s"], "seed": [1, 1],
                                   "system": ["after", "after"]}


def test_aggregate_is_nan_when_only_the_aligned_layer_was_measured():
    got = G.aggregate_frame(None, setting="x", seed=1, system="after")
    assert math.isnan(got.value.item()) and got.system.item() == "after"


def test_measuring_only_the_aligned_layer_gives_the_same_hits():
    # the early-exit path (forward stops at the layer) against the all-layer extraction
    from xlnb.models import load_model

    model, tok = load_model("tiny-llama")
    texts = {"en": ["a cat sat here", "the dog ran", "one two three", "blue sky today"],
             "de": ["eine Katze sass", "der Hund lief", "eins zwei drei", "blauer Himmel"]}
    full, table = G.measure(model, tok, texts, layer=2, k=2, use_cache=False)
    early, none = G.measure(model, tok, texts, layer=2, k=2, all_layers=False, use_cache=False)
    assert none is None and sorted(table.layer.unique()) == [0, 1, 2, 3, 4]
    assert full["de"].tolist() == early["de"].tolist() and len(full["de"]) == 4
