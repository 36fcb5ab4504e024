"""Smoke-output checks of MidAlign Table 5 (alignment generalization): what the notebook
promises, from its smoke params (tiny-llama, 4 blocks; 12 held-out FLORES lines; en, de, sw, cy;
multi = sw + cy with seeds 1 and 2, de-en from FLORES, Tatoeba and IWSLT with seed 1)."""

from __future__ import annotations

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
    table = read()
    rows = table[(table.setting == setting) & (table.language == language)]
    assert len(rows) == 1, (setting, language)
    return rows.iloc[0]


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
        ("sw 0.010 → 0.040 (seeds 0.030–0.050; Δ +0.030 [+0.000, +0.065])", "multi", "sw"),
        ("cy 0.020 → 0.055 (seeds 0.050–0.060; Δ +0.035 [-0.005, +0.080])", "multi", "cy"),
        ("de 0.630 → 0.625 (seeds 0.580–0.670; Δ -0.005 [-0.110, +0.095])", "multi", "de"),
        ("hi 0.070 → 0.200 (seeds 0.200–0.200; Δ +0.130 [+0.060, +0.205])", "multi", "hi"),
        ("de 0.630 → 0.520 (Δ -0.110 [-0.240, +0.030])", "de-en tatoeba", "de"),
        ("hi 0.070 → 0.270 (Δ +0.200 [+0.110, +0.290])", "de-en tatoeba", "hi"),
        ("sw 0.010 → 0.060 (Δ +0.050 [+0.010, +0.090])", "de-en tatoeba", "sw"),
    ]
]}
