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
    return f"falls from {_pct(f1['none'])} to {_pct(f1['low'])} F1"


def _ranges(read):
    t = read()
    return (f"(English\n  {_pct(t.supervised.min())} to {_pct(t.supervised.max())}, transfer "
            f"{_pct(t.transfer.min())} to {_pct(t.transfer.max())})")


def _retrieval(group, languages):
    def text(read):
        r = read("_retrieval")
        acc = r.set_index(["group", "language"]).accuracy
        return ", ".join(f"{x} {acc[('none', x)]:.2f} → {acc[(group, x)]:.2f}" for x in languages)
    return text


def _falls(language):
    def text(read):
        acc = read("_retrieval").set_index(["group", "language"]).accuracy
        return " / ".join(f"{acc[(g, language)]:.2f}" for g in ("low", "medium", "high"))
    return text


QUOTED = {REF: [
    ("| SFT | 22.2 | 6.2 | |", _table_row("none")),
    ("| + low group | 18.5 | 5.9 | -1.3 (sw) |", _table_row("low")),
    ("| + medium group | 29.8 | 6.8 | no test language |", _table_row("medium")),
    ("| + high group | 26.4 | 8.4 | no test language |", _table_row("high")),
    ("falls from 3.9 to 2.6 F1", _sw),
    ("(English\n  18.5 to 29.8, transfer 5.9 to 8.4)", _ranges),
    ("sw 0.03 → 0.03, cy 0.03 → 0.02, tl 0.07 → 0.10, ja 0.39 → 0.25",
     _retrieval("low", ["sw", "cy", "tl", "ja"])),
    ("hi 0.17 → 0.26", _retrieval("medium", ["hi"])),
    ("el 0.07 → 0.09, th 0.25 → 0.18, tr 0.25 → 0.21", _retrieval("medium", ["el", "th", "tr"])),
    ("ar 0.26 → 0.13, es 0.72 → 0.50, ru 0.51 → 0.34, zh 0.79 → 0.54",
     _retrieval("high", ["ar", "es", "ru", "zh"])),
    ("es falls\n  to 0.54 / 0.36 / 0.50", lambda read: "es falls\n  to " + _falls("es")(read)),
    ("zh to 0.53 / 0.40 / 0.54", lambda read: "zh to " + _falls("zh")(read)),
]}
