"""Smoke-output checks of notebooks/midalign/tab7_json_generation (loaded by
tests/test_notebooks.py): smoke params test en, de, sv (PUD), 4 sentences each, sv aligned."""

import json
import math

from result_rows import one

LANGS = {"en": "supervised", "sv": "transfer aligned", "de": "transfer other"}
SYSTEMS = {"sft", "sft+align"}


def _gold(target: str) -> list:
    return [(r["TypeName"], r["Text"]) for r in json.loads(target)["Results"]]


def _check_tab7(read):
    table, languages, gain, outputs = (read(s) for s in ("", "_languages", "_gain",
                                                         "_outputs"))
    # outputs: 2 systems x 3 languages x 4 sentences; PUD: the same sentences in each language
    assert len(outputs) == 2 * 3 * 4 and set(outputs.system) == SYSTEMS
    ids = {lang: sorted(i.split(":")[1] for i in part.id.unique())
           for lang, part in outputs.groupby("language")}
    assert set(ids) == set(LANGS) and ids["en"] == ids["de"] == ids["sv"] and len(ids["en"]) == 4
    assert all(t.startswith('{"Results": [') for t in outputs.target)
    assert all(isinstance(_gold(t), list) for t in outputs.target)
    # per language: F1 and unparseable rate with intervals, 4 sentences, Table 7's groups
    assert len(languages) == 2 * 3 * 2 and set(languages.metric) == {"f1", "unparseable"}
    assert (languages.n == 4).all()
    assert languages.set_index("language").group.to_dict() == LANGS
    assert languages.value.between(0, 1).all()
    assert ((languages.ci_low <= languages.value + 1e-12)
            & (languages.value <= languages.ci_high + 1e-12)).all()
    rates = languages[languages.metric == "unparseable"].value * 4
    assert (rates.round(9) % 1 == 0).all()  # a share of 4 outputs
    # the group means (from the task's own scores) agree with the per-language table (from
    # the saved outputs): supervised = en, transfer aligned = sv, transfer = mean(de, sv)
    assert set(table.group) == {"supervised", "transfer", "transfer aligned", "transfer other"}
    assert set(table.system) == SYSTEMS and set(table.metric) == {"f1", "unparseable"}
    for (system, metric), part in languages.groupby(["system", "metric"]):
        by_lang = part.set_index("language").value
        row = table[(table.system == system) & (table.metric == metric)].set_index("group")
        assert math.isclose(row.value["supervised"], by_lang["en"], abs_tol=1e-9)
        assert math.isclose(row.value["transfer aligned"], by_lang["sv"], abs_tol=1e-9)
        assert math.isclose(row.value["transfer"], (by_lang["de"] + by_lang["sv"]) / 2,
                            abs_tol=1e-9)
    # the paired gain is the difference of the two systems' F1 on the same sentences
    f1 = languages[languages.metric == "f1"].pivot(index="language", columns="system",
                                                   values="value")
    assert set(gain.language) == set(LANGS) and (gain.n == 4).all()
    for _, row in gain.iterrows():
        expected = f1.loc[row.language, "sft+align"] - f1.loc[row.language, "sft"]
        assert math.isclose(row.value, expected, abs_tol=1e-9)
        assert row.ci_low <= row.value + 1e-12 and row.value <= row.ci_high + 1e-12


CHECKS = {"midalign/tab7_json_generation": _check_tab7}


def _group(read, system, group, metric="f1"):
    return float(one(read(), system=system, group=group, metric=metric).value)


def _pct(x):
    return f"{100 * x:.1f}"


def _sft_text(read):
    en = one(read("_languages"), system="sft", language="en", metric="f1")
    return "English F1 {} [{}, {}], transfer {} (aligned sv/ru/zh {}, unaligned de/pt {})".format(
        _pct(en.value), _pct(en.ci_low), _pct(en.ci_high), _pct(_group(read, "sft", "transfer")),
        _pct(_group(read, "sft", "transfer aligned")), _pct(_group(read, "sft", "transfer other")))


def _unparseable_range(read, system):
    part = read("_languages")
    rates = part[(part.system == system) & (part.metric == "unparseable")].value
    return f"{_pct(rates.min())}–{_pct(rates.max())} %"


def _joint_zero(read):
    part = read("_languages")
    f1 = part[(part.system == "sft+align") & (part.metric == "f1")].value
    return "F1 0.0 in every language" if (f1 == 0).all() else "some F1 above zero"


QUOTED = {"midalign/tab7_json_generation": [
    ("English F1 13.8 [0.0, 27.0], transfer 7.8 (aligned sv/ru/zh 4.4, unaligned de/pt 12.9)", _sft_text),
    ("F1 0.0 in every language", _joint_zero),
    ("unparseable outputs 0.0–18.8 % per language", lambda read: "unparseable outputs {} per language".format(
        _unparseable_range(read, "sft"))),
    ("0.0–6.2 % unparseable", lambda read: f"{_unparseable_range(read, 'sft+align')} unparseable"),
    ("reach up to 44.4 F1", lambda read: "reach up to {} F1".format(_pct(
        read("_languages").query("system == 'sft' and metric == 'f1'").ci_high.max()))),
]}
