"""English-only vs multilingual SFT (MidAlign Table 8, Fig. 3): the disjoint per-id split of
a test file into training lines, the two training sets, Table 8's groups and the paper's
numbers, and the per-layer change against the base model — against values worked out by hand."""

from pathlib import Path

import pandas as pd
import pytest
import yaml

from xlnb.midalign import experiment, layer_change
from xlnb.midalign import multilingual as M
from xlnb.tasks.base import Example


def _pool(ids):
    return [Example(id=i, language="de", source=f"s{i}", target=f"t{i}") for i in ids]


def test_disjoint_draw_by_hand():
    # sha256("0:<id>") orders the ids 0..7 as 7, 4, 3, 2, 6, 0, 5, 1 (worked out once with
    # hashlib by hand); excluding 4 leaves 7, 3 | 2, 6, 0 | ..., each part in file order
    got = M.disjoint_draw(_pool([str(i) for i in range(8)]), {"train": 2, "dev": 3},
                          exclude_ids={"4"}, seed=0)
    assert [e.id for e in got["train"]] == ["3", "7"]
    assert [e.id for e in got["dev"]] == ["0", "2", "6"]


def test_disjoint_draw_other_seed_and_no_exclusion():
    # seed 1 orders them 7, 4, 6, 5, 2, 3, 0, 1
    got = M.disjoint_draw(_pool([str(i) for i in range(8)]), {"a": 3}, seed=1)
    assert [e.id for e in got["a"]] == ["4", "6", "7"]


def test_disjoint_draw_errors_name_the_problem():
    with pytest.raises(ValueError, match="need 5 examples, but only 3 remain"):
        M.disjoint_draw(_pool(["a", "b", "c", "d"]), {"train": 4, "dev": 1}, exclude_ids={"a"})
    with pytest.raises(ValueError, match="duplicate ids"):
        M.disjoint_draw(_pool(["a", "a"]), {"train": 1})
    with pytest.raises(ValueError, match="'dev'.*-1"):
        M.disjoint_draw(_pool(["a", "b"]), {"train": 1, "dev": -1})


def test_sft_setups_split_german_test_file_by_id(shared_data):
    sizes = dict(n_train=20, n_dev=5, n_test=8, data_root=str(shared_data), seed=1)
    setups = M.sft_setups(english_languages=["en"], multilingual_languages=["en", "de"],
                          test_languages=["en", "de", "sw"], train_from_test=["de"], **sizes)
    english, multi = setups["English-only"], setups["multilingual"]
    # English-only is exactly the Table 2 SFT setup (the same adapter cache key and data)
    tab2 = experiment.task_setup("slot_filling", train_languages=["en"],
                                 test_languages=["en", "de", "sw"], n_pairs=None, **sizes)
    assert [e.id for e in english["train"]] == [e.id for e in tab2["train"]]
    assert [e.id for e in english["dev"]] == [e.id for e in tab2["dev"]]
    assert english["supervised"] == ["en"] and multi["supervised"] == ["en", "de"]
    # the multilingual set: the same English lines, then 20 train / 5 dev German lines
    assert [e.id for e in multi["train"][:20]] == [e.id for e in english["train"]]
    de_train = [e for e in multi["train"] if e.language == "de"]
    de_dev = [e for e in multi["dev"] if e.language == "de"]
    assert len(multi["train"]) == 40 and len(de_train) == 20 and len(de_dev) == 5
    assert all(e.meta["locale"] == "de-DE" for e in de_train + de_dev)
    # disjoint by id from every test set (German, and the translations in en / sw) and each other
    test = {e.id for lang in ("en", "de", "sw") for e in multi["tests"][lang]}
    assert len(test) == 8  # MASSIVE ids are shared across locales: the same 8 utterances
    train_ids, dev_ids = {e.id for e in de_train}, {e.id for e in de_dev}
    assert not train_ids & test and not dev_ids & test and not train_ids & dev_ids
    assert multi["borrowed"] == {"de": {"train": [e.id for e in de_train],
                                        "dev": [e.id for e in de_dev]}}
    for lang in ("en", "de", "sw"):
        assert [e.id for e in english["tests"][lang]] == [e.id for e in multi["tests"][lang]]


def test_sft_setups_reject_bad_languages(shared_data):
    kwargs = dict(english_languages=["en"], test_languages=["en"], n_train=4, n_dev=2,
                  n_test=2, data_root=str(shared_data))
    with pytest.raises(ValueError, match=r"train_from_test \['sw'\]"):
        M.sft_setups(multilingual_languages=["en", "de"], train_from_test=["sw"], **kwargs)
    with pytest.raises(ValueError, match="needs n_train and n_dev"):
        M.sft_setups(multilingual_languages=["en", "de"], train_from_test=["de"],
                     **{**kwargs, "n_dev": None})


def test_paper_table8_group_means_match_table2():
    transfer = ["cy", "ja", "jv", "sw", "tl", "af", "az", "de", "el", "fr", "hi", "is", "th",
                "tr", "ur"]
    # sums by hand: 818.5 / 15 and 902.3 / 15; 383.1 / 5 (Table 2 Llama SFT: 60.2, 76.6)
    assert M.paper_group_mean("English-only", transfer) == 54.6
    assert M.paper_group_mean("multilingual", transfer) == 60.2
    assert M.paper_group_mean("multilingual", M.PAPER_MULTILINGUAL) == 76.6
    assert M.paper_group_mean("multilingual", []) is None
    with pytest.raises(ValueError, match="'xx'"):
        M.paper_group_mean("multilingual", ["xx"])


def test_comparison_groups_and_roles():
    groups = M.comparison_groups(["en", "de", "sw"], ["en"], ["en", "de"])
    assert groups == {"English-only training": ["en"], "added by multilingual": ["de"],
                      "transfer": ["sw"]}
    scores = pd.DataFrame(dict(system=["English-only", "multilingual", "multilingual", "base"],
                               language=["de", "de", "sw", "en"]))
    setups = {"English-only": {"supervised": ["en"]}, "multilingual": {"supervised": ["en", "de"]}}
    roles = M.language_roles(scores, setups).role.tolist()
    assert roles == ["transfer", "supervised", "transfer", "zero-shot"]


def test_run_variants_rejects_unknown_system():
    with pytest.raises(ValueError, match="'bilingual'"):
        M.run_variants("tiny-llama", None, {"English-only": {}}, systems=["bilingual"], seeds=[1])


def _retrieval():
    rows = []
    values = {"base": {0: (0.5, 0.7), 1: (0.2, 0.4)},
              "sft": {0: (0.6, 0.5), 1: (0.2, 0.4)}}
    for system, layers in values.items():
        for layer, accs in layers.items():
            for (src, tgt), acc in zip([("a", "b"), ("b", "a")], accs):
                rows.append(dict(system=system, layer=layer, src=src, tgt=tgt, accuracy=acc,
                                 seed=1))
    # a second sft seed at layer 0, a->b: 0.8 (the pair's seed mean becomes 0.7)
    rows.append(dict(system="sft", layer=0, src="a", tgt="b", accuracy=0.8, seed=2))
    return pd.DataFrame(rows)


def test_change_from_base_is_the_paired_mean_difference():
    got = layer_change.change_from_base(_retrieval(), n_boot=200).set_index("layer")
    # layer 0: (0.7 - 0.5 + 0.5 - 0.7) / 2 = 0; layer 1: identical, so the paired interval
    # is exactly [0, 0] (an unpaired one would not be)
    assert got.loc[0, "change"] == pytest.approx(0.0)
    assert got.loc[1, ["change", "ci_low", "ci_high"]].tolist() == pytest.approx([0, 0, 0])
    assert (got.n_pairs == 2).all() and set(got.system) == {"sft"}
    assert got.loc[0, "ci_low"] <= -0.2 + 1e-9 and got.loc[0, "ci_high"] >= 0.2 - 1e-9
    with pytest.raises(ValueError, match="'none'"):
        layer_change.change_from_base(_retrieval(), baseline="none")


def test_curve_intervals_and_largest_change():
    curve = layer_change.curve_intervals(_retrieval(), n_boot=200).set_index(["system", "layer"])
    assert curve.loc[("base", 0), "accuracy"] == pytest.approx(0.6)
    assert curve.loc[("sft", 0), "accuracy"] == pytest.approx(0.6)  # (0.7 + 0.5) / 2
    assert curve.loc[("base", 1), "accuracy"] == pytest.approx(0.3)
    assert ((curve.ci_low <= curve.accuracy + 1e-12) & (curve.accuracy <= curve.ci_high + 1e-12)).all()
    changes = pd.DataFrame(dict(system=["s", "s", "s"], layer=[0, 1, 2],
                                change=[0.02, -0.05, 0.04]))
    assert layer_change.largest_change(changes, "s").layer == 1  # |-0.05|, not max 0.04


SETTINGS = Path(__file__).resolve().parents[2] / "shared" / "papers" / "settings.yaml"


@pytest.mark.parametrize("ref", ["midalign/tab8_english_only", "midalign/fig3_sft_alignment"])
def test_paper_profiles_are_table8s_setting(ref):
    """The paper profiles train English-only vs the paper's five languages from the hub and
    test on Table 8's 20 languages (settings.yaml, App. A and §4.1; typed in below too)."""
    from xlnb.params import load_params

    params = load_params(ref, "paper")
    assert params["english_train_languages"] == ["en"]
    assert params["slot_train_languages"] == ["ar", "en", "es", "ru", "zh"]
    assert params["train_from_test"] == [] and params["data_root"] is None
    assert sorted(params["slot_test_languages"]) == sorted(M.PAPER_TABLE8["multilingual"])
    assert params["n_train"] is None and params["max_steps"] is None
    if SETTINGS.is_file():
        data = yaml.safe_load(SETTINGS.read_text())["midalign"]["data"]["slot_filling"]
        assert params["slot_train_languages"] == data["train_languages"]
        assert set(params["slot_test_languages"]) == set(data["train_languages"]) | set(
            data["transfer_languages"])
