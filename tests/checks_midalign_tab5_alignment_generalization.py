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


QUOTED = {REF: [
    (quoted, _quote(setting, language)) for quoted, setting, language in [
        ("sw 0.017 → 0.120 (seeds 0.117–0.123; Δ +0.103 [+0.068, +0.138])", "multi flores", "sw"),
        ("cy 0.017 → 0.060 (seeds 0.057–0.063; Δ +0.043 [+0.022, +0.065])", "multi flores", "cy"),
        ("de 0.543 → 0.285 (seeds 0.260–0.310; Δ -0.258 [-0.325, -0.197])", "multi flores", "de"),
        ("hi 0.070 → 0.213 (seeds 0.200–0.227; Δ +0.143 [+0.097, +0.193])", "multi flores", "hi"),
        ("sw 0.017 → 0.045 (seeds 0.033–0.057; Δ +0.028 [+0.010, +0.045])", "multi", "sw"),
        ("cy 0.017 → 0.033 (seeds 0.027–0.040; Δ +0.017 [+0.000, +0.035])", "multi", "cy"),
        ("de 0.543 → 0.582 (seeds 0.567–0.597; Δ +0.038 [-0.022, +0.098])", "multi", "de"),
        ("hi 0.070 → 0.147 (seeds 0.123–0.170; Δ +0.077 [+0.042, +0.118])", "multi", "hi"),
        ("de 0.543 → 0.483 (Δ -0.060 [-0.130, +0.013])", "de-en tatoeba", "de"),
        ("hi 0.070 → 0.177 (Δ +0.107 [+0.057, +0.157])", "de-en tatoeba", "hi"),
    ]
] + [
    ("the worst seed stays inside the untrained model's interval\nfor both",
     lambda read: "the worst seed stays inside the untrained model's interval\nfor both"
     if not any(_row(read, "multi", x).clear_gain for x in ("sw", "cy")) else "a clear gain"),
    ("The Swahili interval excludes\nzero, the Welsh one touches it",
     lambda read: "The Swahili interval excludes\nzero, the Welsh one touches it"
     if _row(read, "multi", "sw").delta_low > 0 and abs(_row(read, "multi", "cy").delta_low) < 1e-9
     else "other intervals"),
    ("Hindi, which no setting aligns, gains in every setting",
     lambda read: "Hindi, which no setting aligns, gains in every setting"
     if all(_row(read, s, "hi").delta_low > 0 for s in ("multi", "multi flores", "de-en tatoeba"))
     else "Hindi does not gain everywhere"),
]}
