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
