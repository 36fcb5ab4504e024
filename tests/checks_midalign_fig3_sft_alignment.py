"""Smoke-output checks of notebooks/midalign/fig3_sft_alignment (loaded by tests/test_notebooks.py)."""

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
