"""Smoke-output checks of notebooks/midalign/tab6_merging (loaded by tests/test_notebooks.py)."""

import math

from result_rows import one

WEIGHTS = (0.5, 0.7, 0.9)
MERGES = {f"merge {m} w={w:g}" for m in ("average", "delta") for w in WEIGHTS}


def _check_tab6(read):
    table, languages, gaps, retrieval = (read(s) for s in ("", "_languages", "_gaps",
                                                            "_retrieval"))
    f1 = table[table.metric == "f1"]
    # task scores: the task adapter, six merges and joint training; never base or align alone
    assert set(f1.system) == MERGES | {"sft", "sft+align"}
    assert set(f1.group) == {"supervised", "transfer", "transfer aligned", "transfer other"}
    assert f1.value.between(0, 1).all()
    per_lang = languages[languages.metric == "f1"]
    assert len(per_lang) == 8 * 3 and set(per_lang.language) == {"en", "de", "sw"}
    # the supervised group is English alone, transfer the mean of de and sw
    for system, part in per_lang.groupby("system"):
        by_lang = part.set_index("language").value
        row = f1[f1.system == system].set_index("group").value
        assert math.isclose(row["supervised"], by_lang["en"], abs_tol=1e-12)
        assert math.isclose(row["transfer"], (by_lang["de"] + by_lang["sw"]) / 2, abs_tol=1e-12)
    # method and weight columns say what each merge is
    merges = table[table.system.isin(MERGES)]
    assert set(zip(merges.method, merges.w)) == {(m, w) for m in ("average", "delta")
                                                 for w in WEIGHTS}
    # retrieval: base and align alone too, and the aggregate is the mean of even layers > 0
    retr = table[table.metric == "retrieval_acc"]
    assert set(retr.system) == MERGES | {"sft", "sft+align", "align", "base"}
    one = retrieval[retrieval.system == "merge delta w=0.9"]
    assert sorted(one.layer.unique()) == [0, 1, 2, 3, 4] and len(one) == 5 * 6
    got = retr[retr.system == "merge delta w=0.9"].value.item()
    assert math.isclose(got, one[one.layer.isin([2, 4])].accuracy.mean(), abs_tol=1e-12)
    # tiny-llama: 4 blocks x 7 projections per weight. The average differs from the delta
    # merge by -w(1-w)(B_t - B_a)(A_t - A_a): zero when the two A matrices agree. Both smoke
    # adapters use seed 1, so their A start equal, and two updates (the first at warm-up
    # learning rate 0, while B is still 0) leave A where it started: the gap is rounding only.
    assert len(gaps) == 3 * 4 * 7 and sorted(gaps.block.unique()) == [1, 2, 3, 4]
    assert set(gaps.proj) == {"q", "k", "v", "o", "gate", "up", "down"}
    assert gaps.gap.between(0, 1e-5).all()


CHECKS = {"midalign/tab6_merging": _check_tab6}


def _value(read, system, group, metric="f1"):
    return float(one(read(), system=system, group=group, metric=metric).value)


def _f1s(read, system):
    """``22.2 / 6.2`` supervised / transfer slot F1 (×100) of one system."""
    return "{:.1f} / {:.1f}".format(100 * _value(read, system, "supervised"),
                                    100 * _value(read, system, "transfer"))


def _retrieval(read, system):
    return f"{100 * _value(read, system, 'all', 'retrieval_acc'):.1f} %"


def _gap(read, w):
    gaps = read("_gaps")
    return f"{gaps[gaps.w == w].gap.mean():.2f}"


def _merge_retrieval_range(read):
    table = read()
    merged = table[table.system.str.startswith("merge") & (table.metric == "retrieval_acc")].value
    return f"{100 * merged.min():.1f} %", f"{100 * merged.max():.1f} %"


_SYSTEMS = [("SFT alone", "sft"), ("delta w=0.9", "merge delta w=0.9"),
            ("average w=0.9", "merge average w=0.9"), ("joint training", "sft+align")]

QUOTED = {"midalign/tab6_merging": [
    (("SFT alone 30.0 / 7.2; delta w=0.9 20.6 / 2.5; average w=0.9 23.3 / 2.7; "
      "joint training 24.0 / 9.3"),
     lambda read: "; ".join(f"{label} {_f1s(read, s)}" for label, s in _SYSTEMS)),
    ("w = 0.7: delta 14.0 / 1.6, average 10.2 / 0.0",
     lambda read: "w = 0.7: delta {}, average {}".format(
         _f1s(read, "merge delta w=0.7"), _f1s(read, "merge average w=0.7"))),
    ("delta 3.5 / 0.0, average 2.6 / 0.0",
     lambda read: "delta {}, average {}".format(
         _f1s(read, "merge delta w=0.5"), _f1s(read, "merge average w=0.5"))),
    ("base 20.8 %, SFT 21.0 %, alignment adapter alone 21.8 %, joint 21.6 %",
     lambda read: "base {}, SFT {}, alignment adapter alone {}, joint {}".format(
         *(_retrieval(read, s) for s in ("base", "sft", "align", "sft+align")))),
    ("merges 21.2 % to 22.2 %", lambda read: "merges {} to {}".format(*_merge_retrieval_range(read))),
    ("0.19 at w = 0.5, 0.13 at w = 0.7 and 0.04 at w = 0.9",
     lambda read: f"{_gap(read, 0.5)} at w = 0.5, {_gap(read, 0.7)} at w = 0.7 and {_gap(read, 0.9)} at w = 0.9"),
    ("At the paper's w = 0.9 the average keeps a\nlittle more of SFT's F1 than the exact merge",
     lambda read: "At the paper's w = 0.9 the average keeps a\nlittle more of SFT's F1 than the exact merge"
     if all(_value(read, "merge average w=0.9", g) > _value(read, "merge delta w=0.9", g)
            for g in ("supervised", "transfer")) else "the exact merge keeps more"),
]}
