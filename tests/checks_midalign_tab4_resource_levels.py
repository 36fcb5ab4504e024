"""Smoke-output checks of MidAlign Table 4 (resource levels): what the notebook promises, from
its smoke params (tiny-llama, 4 blocks; SFT on en, test en/de/sw; groups low = sw, medium =
hi, high = es; retrieval on en, de, sw, hi, es), and the demo numbers its text quotes."""

from __future__ import annotations

import pandas as pd
from result_rows import one

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


# The demo numbers the "What we see" text quotes, recomputed from the demo tables.

NAMES = {"sft": "SFT", "low": "+ low group", "medium": "+ medium group", "high": "+ high group"}


def _pct(value):
    return f"{100 * value:.1f}"


def _table_row(group):
    def text(read):
        r = one(read(), group=group)
        gain = ("| " if group == "none" else
                f"| {100 * r.aligned_gain:.1f} ({r.aligned_tested}) " if pd.notna(r.aligned_tested)
                else "| no test language ")
        name = NAMES["sft" if group == "none" else group]
        return f"| {name} | {_pct(r.supervised)} | {_pct(r.transfer)} {gain}|"
    return text


def _sw(read):
    f1 = read("_languages")
    f1 = f1[(f1.metric == "f1") & (f1.language == "sw")].set_index("group").value
    return f"rises from {_pct(f1['none'])} to {_pct(f1['low'])} F1"


def _sw_recall(read):
    r = one(read("_languages"), group="low", language="sw", metric="recall")
    return f"(recall {_pct(r.value)} %)"


def _trade(read):
    t = read().set_index("group")
    return (f"(English\n  {_pct(t.supervised['none'])} → {_pct(t.supervised['low'])}, transfer "
            f"{_pct(t.transfer['none'])} → {_pct(t.transfer['low'])})")


def _retrieval(group, languages):
    def text(read):
        r = read("_retrieval")
        acc = r.set_index(["group", "language"]).accuracy
        return ", ".join(f"{x} {acc[('none', x)]:.2f} → {acc[(group, x)]:.2f}" for x in languages)
    return text


def _falls(language):
    def text(read):
        acc = read("_retrieval").set_index(["group", "language"]).accuracy
        return " / ".join(f"{acc[(g, language)]:.2f}" for g in ("low", "high"))
    return text


QUOTED = {REF: [
    ("| SFT | 30.0 | 7.2 | |", _table_row("none")),
    ("| + low group | 24.0 | 9.3 | 6.2 (sw) |", _table_row("low")),
    ("| + high group | 28.0 | 5.6 | no test language |", _table_row("high")),
    ("rises from 0.0 to 6.2 F1", _sw),
    ("(recall 9.5 %)", _sw_recall),
    ("(English\n  30.0 → 24.0, transfer 7.2 → 9.3)", _trade),
    ("sw 0.03 → 0.04, cy 0.03 → 0.03, jv 0.07 → 0.09, tl 0.07 → 0.14, ja 0.40 → 0.32",
     _retrieval("low", ["sw", "cy", "jv", "tl", "ja"])),
    ("ar 0.27 → 0.25, es 0.72 → 0.48, ru 0.49 → 0.47, zh 0.78 → 0.57",
     _retrieval("high", ["ar", "es", "ru", "zh"])),
    ("es falls to\n  0.60 / 0.48", lambda read: "es falls to\n  " + _falls("es")(read)),
    ("zh to 0.55 / 0.57", lambda read: "zh to " + _falls("zh")(read)),
]}
