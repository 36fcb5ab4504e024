"""Smoke-output checks of notebooks/midalign/fig1b_alignment_vs_transfer (loaded by
tests/test_notebooks.py)."""

import math


def _check_fig1b(read):
    table, points, scores, retrieval = (read(s) for s in ("", "_points", "_scores",
                                                          "_retrieval"))
    # base-model retrieval at the middle layer only: tiny-llama has 4 blocks -> index 2;
    # 5 languages -> 20 ordered pairs, 12 FLORES lines each
    assert set(retrieval.layer) == {2} and len(retrieval) == 20
    assert ((retrieval.accuracy * 12).round(6) % 1 == 0).all()
    # one point per transfer language (English is supervised), x = mean of both directions
    assert sorted(points.language) == ["da", "de", "it", "nl"]
    for row in points.itertuples():
        both = retrieval[((retrieval.src == row.language) & (retrieval.tgt == "en"))
                         | ((retrieval.src == "en") & (retrieval.tgt == row.language))]
        assert len(both) == 2 and math.isclose(row.alignment, both.accuracy.mean(), abs_tol=1e-12)
        f1 = scores[(scores.metric == "f1") & (scores.language == row.language)].value.mean()
        assert math.isclose(row.transfer, f1, abs_tol=1e-12)
    assert points.alignment.between(0, 1).all() and points.transfer.between(0, 1).all()
    # xSID: 4 test utterances per language, slot F1 on 0-1
    f1 = scores[scores.metric == "f1"]
    assert set(f1.language) == {"en", "de", "da", "it", "nl"} and (f1.n == 4).all()
    assert set(table.method) == {"pearson", "spearman"} and (table.n_languages == 4).all()
    for row in table.itertuples():  # undefined (all-zero F1 of a random model) or a coefficient
        if isinstance(row.r, float) and math.isnan(row.r):
            assert isinstance(row.note, str) and row.note
        else:
            assert -1 <= row.ci_low <= row.ci_high <= 1 and -1 <= row.r <= 1 and 0 <= row.p <= 1


CHECKS = {"midalign/fig1b_alignment_vs_transfer": _check_fig1b}


def coefficient(read, method):
    """``r = 0.56 (p = 0.012, 95 % CI [0.20, 0.85])`` of one method from the demo table."""
    row = read()
    row = row[row.method == method].iloc[0]
    return f"r = {row.r:.2f} (p = {row.p:.3f}, 95 % CI [{row.ci_low:.2f}, {row.ci_high:.2f}])"


def f1_of(read, language):
    scores = read("_scores")
    return f"{100 * scores[(scores.metric == 'f1') & (scores.language == language)].value.mean():.1f}"


def point(read, language):
    """``ja (retrieval 12.5 %, F1 3.0)``."""
    row = read("_points").set_index("language").loc[language]
    return f"{language} (retrieval {100 * row.alignment:.1f} %, F1 {100 * row.transfer:.1f})"


QUOTED = {"midalign/fig1b_alignment_vs_transfer": [
    ("English slot F1 40.0", lambda read: f"English slot F1 {f1_of(read, 'en')}"),
    ("Pearson r = 0.44 (p = 0.202, 95 % CI [-0.21, 0.84])",
     lambda read: f"Pearson {coefficient(read, 'pearson')}"),
    ("Spearman r = 0.47 (p = 0.172, 95 % CI [-0.27, 0.91])",
     lambda read: f"Spearman {coefficient(read, 'spearman')}"),
    ("kk (retrieval 3.5 %, F1 1.1)", lambda read: point(read, "kk")),
    ("id (retrieval 71.5 %, F1 21.7)", lambda read: point(read, "id")),
    ("zh (retrieval 86.0 %, F1 8.5)", lambda read: point(read, "zh")),
    ("ja (retrieval 48.5 %, F1 2.1)", lambda read: point(read, "ja")),
]}
