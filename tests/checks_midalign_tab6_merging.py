"""Smoke-output checks of notebooks/midalign/tab6_merging (loaded by tests/test_notebooks.py)."""

import math

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
