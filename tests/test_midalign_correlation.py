"""Fig. 1b's per-language alignment, points and correlations against values worked out by
hand and against scipy on the same resamples."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from xlnb.midalign import correlation as C


def retrieval_table():
    # layer 9: de->en .6, en->de .8, sw->en .2, en->sw .4, de->sw .1, sw->de .3; layer 4 noise
    rows = [(9, "de", "en", .6), (9, "en", "de", .8), (9, "sw", "en", .2), (9, "en", "sw", .4),
            (9, "de", "sw", .1), (9, "sw", "de", .3), (4, "de", "en", .99), (4, "en", "de", .99)]
    return pd.DataFrame(rows, columns=["layer", "src", "tgt", "accuracy"])


def test_language_alignment_with_the_pivot_and_with_all_partners():
    pivot = C.language_alignment(retrieval_table(), layer=9).set_index("language")
    assert list(pivot.index) == ["de", "sw"]  # the pivot gets no row
    assert pivot.alignment["de"] == pytest.approx(0.7) and pivot.alignment["sw"] == pytest.approx(0.3)
    assert (pivot.n_pairs == 2).all()
    every = C.language_alignment(retrieval_table(), layer=9, partners="all").set_index("language")
    assert every.alignment["de"] == pytest.approx((.6 + .8 + .1 + .3) / 4)
    assert every.alignment["en"] == pytest.approx((.6 + .8 + .2 + .4) / 4)
    with pytest.raises(ValueError, match="layer 5"):
        C.language_alignment(retrieval_table(), layer=5)
    with pytest.raises(ValueError, match="'fr'"):
        C.language_alignment(retrieval_table(), layer=9, pivot="fr")


def test_transfer_points_leave_out_supervised_and_unmatched_languages():
    alignment = pd.DataFrame({"language": ["de", "sw", "cy"], "alignment": [.7, .3, .5]})
    scores = pd.DataFrame({"language": ["en", "de", "de", "sw", "sw"],
                           "metric": ["f1", "f1", "f1", "f1", "precision"],
                           "value": [.9, .4, .6, .2, .8]})
    points = C.transfer_points(alignment, scores, supervised=["en"]).set_index("language")
    assert list(points.index) == ["de", "sw"]  # cy has no score, en is supervised
    assert points.transfer["de"] == pytest.approx(0.5)  # two seeds averaged
    assert points.transfer["sw"] == pytest.approx(0.2)  # precision is not F1


def test_bootstrap_matches_scipy_on_the_same_resamples():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=8), rng.normal(size=8)
    x[2] = x[5]  # a tie for the ranks
    for method, fn in (("pearson", sps.pearsonr), ("spearman", sps.spearmanr)):
        low, high, used = C.bootstrap_correlation(x, y, method=method, n_boot=300, seed=7)
        idx = np.random.default_rng(7).integers(0, 8, size=(300, 8))
        rs = [fn(x[i], y[i])[0] for i in idx if len(set(x[i])) > 1 and len(set(y[i])) > 1]
        assert used == len(rs)
        assert (low, high) == pytest.approx(tuple(np.quantile(rs, [0.025, 0.975])))


def test_monotone_points_give_one_and_the_interval_one():
    x = [0.1, 0.2, 0.4, 0.5]
    y = [1.0, 2.0, 3.0, 10.0]  # monotone, not linear: Spearman 1, Pearson below 1
    table = C.correlation_table(pd.DataFrame({"alignment": x, "transfer": y}),
                                n_boot=200).set_index("method")
    assert table.r["spearman"] == pytest.approx(1.0)
    assert table.ci_low["spearman"] == pytest.approx(1.0) and table.ci_high["spearman"] == pytest.approx(1.0)
    assert 0.8 < table.r["pearson"] < 1.0
    assert table.p["pearson"] == pytest.approx(sps.pearsonr(x, y)[1])
    assert (table.n_languages == 4).all() and (table.note == "").all()


def test_two_languages_or_a_constant_column_give_no_correlation():
    two = C.correlation_table(pd.DataFrame({"alignment": [.1, .5], "transfer": [.2, .3]}))
    assert two.r.isna().all() and two.ci_low.isna().all()
    assert two.note.str.contains("at least 3 points").all()
    flat = C.correlation_table(pd.DataFrame({"alignment": [.1, .5, .7], "transfer": [0., 0., 0.]}))
    assert flat.r.isna().all() and flat.note.str.contains("constant").all()
    with pytest.raises(ValueError, match="kendall"):
        C.bootstrap_correlation([1, 2, 3], [1, 2, 3], method="kendall")
    assert math.isnan(C.bootstrap_correlation([1, 1, 1], [1, 2, 3])[0])
