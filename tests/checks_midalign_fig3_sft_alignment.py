"""Smoke-output checks of notebooks/midalign/fig3_sft_alignment (loaded by tests/test_notebooks.py),
and the demo numbers its text quotes."""

from result_rows import one

SYSTEMS = {"base", "English-only", "multilingual"}


def _check_fig3(read):
    curve, change, retrieval = read(), read("_change"), read("_retrieval")
    # tiny-llama: 4 blocks -> indices 0..4; 3 languages -> 6 ordered pairs of 12 lines each
    assert set(retrieval.system) == SYSTEMS and len(retrieval) == 3 * 5 * 6
    assert ((retrieval.accuracy * 12).round(6) % 1 == 0).all()
    assert set(curve.system) == SYSTEMS and sorted(curve.layer.unique()) == [0, 1, 2, 3, 4]
    assert (curve.n_pairs == 6).all() and curve.accuracy.between(0, 1).all()
    assert ((curve.ci_low <= curve.accuracy + 1e-12) & (curve.accuracy <= curve.ci_high + 1e-12)).all()
    # the curve is the plain mean over pairs of the per-pair table
    means = retrieval.groupby(["system", "layer"]).accuracy.mean()
    assert (curve.set_index(["system", "layer"]).accuracy - means).abs().max() < 1e-12
    # change from base = difference of the two curves, layer by layer (paired mean)
    assert set(change.system) == {"English-only", "multilingual"} and len(change) == 2 * 5
    for row in change.itertuples():
        assert abs(row.change - (means[(row.system, row.layer)] - means[("base", row.layer)])) < 1e-12
        assert row.ci_low <= row.change + 1e-12 <= row.ci_high + 2e-12


CHECKS = {"midalign/fig3_sft_alignment": _check_fig3}


def _largest_change(read, system):
    part = read("_change")
    part = part[part.system == system]
    row = part.loc[part.change.abs().idxmax()]
    return f"{system} {100 * row.change:+.1f} points at block {int(row.layer)}"


def _peak(read):
    curve = read()
    base = curve[curve.system == "base"]
    layer = int(base.loc[base.accuracy.idxmax()].layer)
    acc = {s: 100 * one(curve, system=s, layer=layer).accuracy
           for s in ("base", "English-only", "multilingual")}
    return ("The peak stays at block {}: base {:.1f} %, English-only {:.1f} %, multilingual "
            "{:.1f} %").format(layer, acc["base"], acc["English-only"], acc["multilingual"])


def _peak_everywhere(read):
    curve = read()
    peaks = {s: int(part.loc[part.accuracy.idxmax()].layer) for s, part in curve.groupby("system")}
    return "The peak stays" if len(set(peaks.values())) == 1 else f"peaks move: {peaks}"


def _excluding_zero(read):
    change = read("_change")
    outside = (change.ci_low > 0) | (change.ci_high < 0)
    counts = outside.groupby(change.system).sum()
    n_layers = change.layer.nunique()
    both = (change.ci_low > 0).any() and (change.ci_high < 0).any()
    return ("The intervals of {} (English-only) and {} (multilingual) of the {} layers\n  "
            "exclude zero{}").format(counts["English-only"], counts["multilingual"], n_layers,
                                     ", in both directions" if both else "")


QUOTED = {"midalign/fig3_sft_alignment": [
    ("English-only +2.2 points at block 13", lambda read: _largest_change(read, "English-only")),
    ("multilingual +2.5\n  points at block 6",
     lambda read: _largest_change(read, "multilingual").replace(" points", "\n  points")),
    ("The peak stays at block 11: base 41.1 %, English-only 41.0 %, multilingual 43.0 %", _peak),
    ("The peak stays", _peak_everywhere),
    ("The intervals of 8 (English-only) and 6 (multilingual) of the 19 layers\n  "
     "exclude zero, in both directions", _excluding_zero),
]}
