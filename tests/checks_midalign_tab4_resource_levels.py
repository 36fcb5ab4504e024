"""Smoke-output checks of MidAlign Table 4 (resource levels): what the notebook promises, from
its smoke params (tiny-llama, 4 blocks; SFT on en, test en/de/sw; groups low = sw, medium =
hi, high = es; retrieval on en, de, sw, hi, es)."""

from __future__ import annotations

REF = "midalign/tab4_resource_levels"
SYSTEMS = ["sft", "sft+align (low)", "sft+align (medium)", "sft+align (high)"]


def _check(read):
    table, per_lang, english = read(), read("_languages"), read("_retrieval")
    assert list(table.system) == SYSTEMS
    assert list(table.group) == ["none", "low", "medium", "high"]
    assert table.supervised.between(0, 1).all() and table.transfer.between(0, 1).all()
    # only sw (low) is a tested transfer language among the groups' languages
    low = table[table.group == "low"].iloc[0]
    assert low.aligned_tested == "sw" and low.aligned_total == 1
    assert table[table.group.isin(["none", "medium", "high"])].aligned_gain.isna().all()
    f1 = per_lang[per_lang.metric == "f1"]
    assert set(f1.system) == set(SYSTEMS)
    for system in SYSTEMS:
        assert set(f1[f1.system == system].language) == {"en", "de", "sw"}
    # transfer is the mean of de and sw, supervised is en
    for system, row in table.set_index("system").iterrows():
        part = f1[f1.system == system].set_index("language").value
        assert abs(row.transfer - (part["de"] + part["sw"]) / 2) < 1e-9
        assert abs(row.supervised - part["en"]) < 1e-9
    # retrieval to English at the middle of 4 blocks, for each aligned language and system
    assert (english.layer == 2).all() and english.accuracy.between(0, 1).all()
    assert set(english.language) == {"sw", "hi", "es"} and set(english.system) == set(SYSTEMS)
    assert len(english) == 3 * 4
    assert ((english.accuracy * 12).round(6) % 1 == 0).all()
    assert set(english[english.in_group].apply(lambda r: (r.group, r.language), axis=1)) == {
        ("low", "sw"), ("medium", "hi"), ("high", "es")}


CHECKS = {REF: _check}
