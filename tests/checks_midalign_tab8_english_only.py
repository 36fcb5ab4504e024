"""Smoke-output checks of notebooks/midalign/tab8_english_only (loaded by tests/test_notebooks.py),
and the demo numbers its text quotes."""

from result_rows import one

SYSTEMS = {"English-only", "multilingual"}


def _check_tab8(read):
    table, summary, outputs = read(), read("_summary"), read("_outputs")
    f1 = table[table.metric == "f1"]
    assert set(f1.system) == SYSTEMS
    for system in SYSTEMS:
        assert set(f1[f1.system == system].language) == {"en", "de", "sw"}
    assert f1.value.between(0, 1).all()
    role = f1.set_index(["system", "language"]).role
    # German: trained by the multilingual system only; Swahili: transfer for both
    assert role[("English-only", "en")] == "supervised" and role[("English-only", "de")] == "transfer"
    assert role[("multilingual", "de")] == "supervised" and role[("multilingual", "sw")] == "transfer"
    paper = f1.set_index(["system", "language"]).paper_f1  # Table 8, typed in from the paper
    assert paper[("English-only", "en")] == 82.5 and paper[("multilingual", "de")] == 75.0
    assert paper[("English-only", "sw")] == 39.8 and paper[("multilingual", "sw")] == 42.8
    groups = summary[(summary.metric == "f1")].set_index(["system", "group"])
    assert set(groups.index.get_level_values("group")) == {"English-only training",
                                                           "added by multilingual", "transfer"}
    # the transfer group is Swahili alone: its mean is the sw row
    for system in SYSTEMS:
        assert abs(groups.loc[(system, "transfer"), "value"] - f1[(f1.system == system)
                   & (f1.language == "sw")].value.item()) < 1e-12
    # 2 systems x 3 languages x n_test = 4, the same test lines (ids) for both systems
    assert len(outputs) == 2 * 3 * 4
    ids = {s: sorted(zip(o.language, o.id.astype(str))) for s, o in outputs.groupby("system")}
    assert ids["English-only"] == ids["multilingual"]


CHECKS = {"midalign/tab8_english_only": _check_tab8}


def _f1(read, system, language):
    return f"{100 * one(read(), system=system, language=language, metric='f1').value:.1f}"


def _row(language):
    def text(read):
        paper = one(read(), system="English-only", language=language, metric="f1").paper_f1
        paper_multi = one(read(), system="multilingual", language=language, metric="f1").paper_f1
        return (f"| {language} | {_f1(read, 'English-only', language)} | "
                f"{_f1(read, 'multilingual', language)} | {paper:.1f} / {paper_multi:.1f} |")
    return text


def _recall(read, system, language):
    """Recall as a fraction of gold slots (``1/21``)."""
    from fractions import Fraction

    value = one(read(), system=system, language=language, metric="recall").value
    return str(Fraction(float(value)).limit_denominator(100))


QUOTED = {"midalign/tab8_english_only": [
    ("| en | 30.0 | 20.0 | 82.5 / 81.7 |", _row("en")),
    ("| de | 14.5 | 16.7 | 71.1 / 75.0 |", _row("de")),
    ("| sw | 0.0 | 4.2 | 39.8 / 42.8 |", _row("sw")),
    ("lifts German only a little, from 14.5 to 16.7 F1",
     lambda read: "lifts German only a little, from {} to {} F1".format(
         _f1(read, "English-only", "de"), _f1(read, "multilingual", "de"))),
    ("costs English more\n  (30.0 → 20.0)", lambda read: "costs English more\n  ({} → {})".format(
        _f1(read, "English-only", "en"), _f1(read, "multilingual", "en"))),
    ("moves from 0.0 to 4.2", lambda read: "moves from {} to {}".format(
        _f1(read, "English-only", "sw"), _f1(read, "multilingual", "sw"))),
    ("(recall 1/21)", lambda read: f"(recall {_recall(read, 'multilingual', 'sw')})"),
]}
