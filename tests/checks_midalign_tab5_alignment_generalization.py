"""Smoke-output checks of MidAlign Table 5 (alignment generalization): what the notebook
promises, from its smoke params (tiny-llama, 4 blocks; 12 held-out FLORES lines; en, de, sw, cy;
multi = sw + cy with seeds 1 and 2, de-en from FLORES, Tatoeba and IWSLT with seed 1)."""

from __future__ import annotations

from result_rows import one

REF = "midalign/tab5_alignment_generalization"
SETTINGS = {"multi": {"sw", "cy"}, "de-en flores": {"de"}, "de-en tatoeba": {"de"},
            "de-en iwslt": {"de"}}


def _check(read):
    table, aggregate, hits = read(), read("_aggregate"), read("_hits")
    # one row per setting and non-English retrieval language
    assert sorted(table.setting) == sorted(s for s in SETTINGS for _ in range(3))
    assert set(table.language) == {"de", "sw", "cy"}
    for name, langs in SETTINGS.items():
        part = table[table.setting == name]
        assert set(part[part.aligned].language) == langs, name
    assert (table.layer == 2).all()  # the middle of tiny-llama's 4 blocks
    for col in ("before", "after", "before_low", "after_high", "after_seed_min"):
        assert table[col].between(0, 1).all(), col
    for name in ("before", "after", "delta"):
        assert (table[f"{name}_low"] <= table[name] + 1e-12).all()
        assert (table[name] <= table[f"{name}_high"] + 1e-12).all()
    # two seeds for multi, one elsewhere; the seed range brackets the seed mean
    assert set(table[table.setting == "multi"].n_seeds) == {2}
    assert set(table[table.setting != "multi"].n_seeds) == {1}
    assert (table.after_seed_min <= table.after + 1e-12).all()
    assert (table.after <= table.after_seed_max + 1e-12).all()
    assert (table.n_sentences == 12).all()
    # accuracies are multiples of 1/12 per seed; after is a mean over seeds
    assert ((table.before * 12).round(6) % 1 == 0).all()
    assert ((table.delta - (table.after - table.before)).abs() < 1e-9).all()
    # the untrained model is measured once; every trained model on the same 12 sentences
    before = hits[hits.system == "before"]
    assert len(before) == 3 * 12 and set(before.setting) == {"none"}
    assert len(hits[hits.system == "after"]) == 5 * 3 * 12
    assert len(aggregate) == 1 + 5 and aggregate.value.between(0, 1).all()


CHECKS = {REF: _check}


def _row(read, setting, language):
    return one(read(), setting=setting, language=language)


def before_after_text(read, setting, language):
    """``sw 0.010 → 0.130 (seeds 0.120–0.140; Δ +0.120 [0.080, 0.160])`` from the demo table."""
    r = _row(read, setting, language)
    seeds = (f"seeds {r.after_seed_min:.3f}–{r.after_seed_max:.3f}; " if r.n_seeds > 1 else "")
    return (f"{language} {r.before:.3f} → {r.after:.3f} ({seeds}Δ {r.delta:+.3f} "
            f"[{r.delta_low:+.3f}, {r.delta_high:+.3f}])")


def _quote(setting, language):
    return lambda read: before_after_text(read, setting, language)


def _after(setting, language):
    return lambda read: f"{_row(read, setting, language).after:.3f}"


def _both_seeds_clear(read):
    rows = [_row(read, "multi", x) for x in ("sw", "cy")]
    bound = {round(r.before_high, 3) for r in rows}
    ok = all(r.clear_gain for r in rows) and bound == {0.033}
    return ("in both seeds the aligned\nlanguages end above the untrained model's interval "
            "(upper bound 0.033)" if ok else "not both seeds above the untrained interval")


def _welsh_margin(read):
    r = _row(read, "multi", "cy")
    margin = round((r.after_seed_min - r.before_high) * r.n_sentences)
    return f"Welsh clears the bound by {margin} sentences of {r.n_sentences} in its worse seed"


def _nothing_wrecked(read):
    ok = all(_row(read, "multi", x).delta_low > 0 for x in ("de", "hi"))
    return "no measured\nlanguage is wrecked" if ok else "a language drops"


def _short(setting, language):
    """``sw 0.017 → 0.010``: before → after without intervals."""
    def text(read):
        r = _row(read, setting, language)
        return f"{language} {r.before:.3f} → {r.after:.3f}"
    return text


def _within(read, setting, languages):
    ok = all(_row(read, setting, x).delta_low <= 0 <= _row(read, setting, x).delta_high
             for x in languages)
    return "stay within their\nintervals" if ok else "leave their intervals"


QUOTED = {REF: [
    (quoted, _quote(setting, language)) for quoted, setting, language in [
        ("sw 0.017 → 0.068 (seeds 0.067–0.070; Δ +0.052 [+0.028, +0.078])", "multi", "sw"),
        ("cy 0.017 → 0.042 (seeds 0.040–0.043; Δ +0.025 [+0.007, +0.043])", "multi", "cy"),
        ("de 0.543 → 0.640 (seeds 0.617–0.663; Δ +0.097 [+0.038, +0.160])", "multi", "de"),
        ("hi 0.070 → 0.172 (seeds 0.147–0.197; Δ +0.102 [+0.060, +0.147])", "multi", "hi"),
        ("de 0.543 → 0.267 (Δ -0.277 [-0.337, -0.213])", "only de-en", "de"),
        ("hi 0.070 → 0.023 (Δ -0.047 [-0.077, -0.017])", "only de-en", "hi"),
    ]
] + [
    (quoted, _short("only de-en", language)) for quoted, language in [
        ("sw 0.017 → 0.010", "sw"), ("cy 0.017 → 0.007", "cy")]
] + [
    ("stay within their\nintervals", lambda read: _within(read, "only de-en", ("sw", "cy"))),
    ("(0.640 after multi)", lambda read: f"({_after('multi', 'de')(read)} after multi)"),
    ("(0.267 after\nonly de-en)", lambda read: f"({_after('only de-en', 'de')(read)} after\nonly de-en)"),
    (("in both seeds the aligned\nlanguages end above the untrained model's interval "
      "(upper bound 0.033)"), _both_seeds_clear),
    ("Welsh clears the bound by 2 sentences of 300 in its worse seed", _welsh_margin),
    ("no measured\nlanguage is wrecked", _nothing_wrecked),
    ("German\nretrieval halves", lambda read: "German\nretrieval halves" if abs(
        _row(read, "only de-en", "de").after / _row(read, "only de-en", "de").before - 0.5) < 0.05
     else "German retrieval does not halve"),
]}
