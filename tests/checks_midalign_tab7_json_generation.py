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


def _system_text(read, system):
    en = one(read("_languages"), system=system, language="en", metric="f1")
    return "English F1 {} [{}, {}], transfer {} (aligned sv/ru/zh {}, unaligned de/pt {})".format(
        _pct(en.value), _pct(en.ci_low), _pct(en.ci_high), _pct(_group(read, system, "transfer")),
        _pct(_group(read, system, "transfer aligned")), _pct(_group(read, system, "transfer other")))


def _unparseable_range(read, system):
    part = read("_languages")
    rates = part[(part.system == system) & (part.metric == "unparseable")].value
    return f"{_pct(rates.min())}–{_pct(rates.max())} %"


def _gain(read, language):
    r = one(read("_gain"), language=language)
    return f"{language} {100 * r.value:+.1f} [{100 * r.ci_low:+.1f}, {100 * r.ci_high:+.1f}]"


def _more_unparseable(read):
    """Whether joint training's unparseable rate is above SFT's in every language."""
    rate = read("_languages").query("metric == 'unparseable'").pivot(
        index="language", columns="system", values="value")
    every = (rate["sft+align"] > rate["sft"]).all()
    return ("more\nunparseable answers than SFT in every language" if every
            else "not in every language")


QUOTED = {"midalign/tab7_json_generation": [
    ("English F1 13.3 [0.0, 34.8], transfer 6.6 (aligned sv/ru/zh 4.4, unaligned de/pt 9.8)",
     lambda read: _system_text(read, "sft")),
    ("English F1 14.3 [0.0, 44.4], transfer 8.0 (aligned sv/ru/zh 7.7, unaligned de/pt 8.3)",
     lambda read: _system_text(read, "sft+align")),
    ("unparseable outputs 6.2–12.5 % per language", lambda read: "unparseable outputs {} per language".format(
        _unparseable_range(read, "sft"))),
    ("unparseable outputs 25.0–50.0 % per language", lambda read: "unparseable outputs {} per language".format(
        _unparseable_range(read, "sft+align"))),
    ("ru +8.7 [+0.0, +30.8], zh +0.2 [-2.4, +2.9]",
     lambda read: f"{_gain(read, 'ru')}, {_gain(read, 'zh')}"),
    ("sv +0.8 [-1.2, +7.5] F1", lambda read: f"{_gain(read, 'sv')} F1"),
    ("(de +2.0 [+0.0, +6.8], pt -4.9 [-22.2, +4.8])",
     lambda read: f"({_gain(read, 'de')}, {_gain(read, 'pt')})"),
    ("but every interval reaches zero", lambda read: "but every interval reaches zero" if all(
        one(read("_gain"), language=x).ci_low <= 0 for x in ("ru", "zh", "sv")) else "a clear gain"),
    ("both intervals\n  reaching zero too", lambda read: "both intervals\n  reaching zero too" if all(
        one(read("_gain"), language=x).ci_low <= 0 <= one(read("_gain"), language=x).ci_high
        for x in ("de", "pt")) else "an interval clear of zero"),
    ("more\nunparseable answers than SFT in every language", _more_unparseable),
    ("F1 intervals reach up to 44.4", lambda read: "F1 intervals reach up to {}".format(_pct(
        read("_languages").query("metric == 'f1'").ci_high.max()))),
]}
