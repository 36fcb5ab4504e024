"""MidAlign Fig. 1b (§2): does a language's cross-lingual alignment in the base model predict
its transfer score after supervised fine-tuning? One point per transfer language: retrieval
accuracy at the middle layer of the base model (x) against task F1 after SFT (y), with
Pearson and Spearman coefficients, their p-values (:func:`xlnb.metrics.stats.correlation`)
and percentile-bootstrap intervals over languages.

The paper does not say which retrieval accuracy a language gets (its §2 averages all
N(N-1) pairs); :func:`language_alignment` offers the mean of the two directions with a pivot
(``partners="pivot"``, English: the language of the task data; our default) or the mean
over every pair the language takes part in (``partners="all"``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats as sps

from xlnb.metrics._checks import check_choice, check_int
from xlnb.metrics.stats import correlation

PARTNERS = ("pivot", "all")
METHODS = ("pearson", "spearman")


def language_alignment(retrieval: pd.DataFrame, *, layer: int, pivot: str = "en",
                       partners: str = "pivot") -> pd.DataFrame:
    """Per language, its retrieval accuracy at representation index ``layer``.

    retrieval: rows ``layer, src, tgt, accuracy`` (:func:`xlnb.midalign.systems.retrieval`).
    partners: ``pivot`` -> mean of ``lang -> pivot`` and ``pivot -> lang`` (the pivot
    itself gets no row); ``all`` -> mean over the ordered pairs with the language as source
    or target. Returns columns ``language, alignment, n_pairs``."""
    check_choice(partners, "partners", PARTNERS)
    part = retrieval[retrieval.layer == layer]
    if part.empty:
        raise ValueError(f"no retrieval rows at layer {layer}; layers: "
                         f"{sorted(retrieval.layer.unique())}")
    langs = list(dict.fromkeys([*part.src, *part.tgt]))
    if partners == "pivot" and pivot not in langs:
        raise ValueError(f"pivot {pivot!r} is not among the retrieval languages {langs}")
    rows = []
    for lang in langs:
        if partners == "pivot":
            if lang == pivot:
                continue
            mask = ((part.src == lang) & (part.tgt == pivot)) | ((part.src == pivot) & (part.tgt == lang))
        else:
            mask = (part.src == lang) | (part.tgt == lang)
        rows.append(dict(language=lang, alignment=float(part[mask].accuracy.mean()),
                         n_pairs=int(mask.sum())))
    return pd.DataFrame(rows, columns=["language", "alignment", "n_pairs"])


def transfer_points(alignment: pd.DataFrame, scores: pd.DataFrame, *, supervised,
                    metric: str = "f1") -> pd.DataFrame:
    """Fig. 1b's points: transfer languages (not ``supervised``) with both an alignment
    (:func:`language_alignment`) and a ``metric`` score (rows ``language, metric, value``;
    seeds averaged). Columns ``language, alignment, transfer``."""
    part = scores[(scores.metric == metric) & ~scores.language.isin(list(supervised))]
    transfer = part.groupby("language", sort=False)["value"].mean().rename("transfer")
    points = alignment.set_index("language")[["alignment"]].join(transfer, how="inner")
    return points.reset_index()


def bootstrap_correlation(x, y, *, method: str = "pearson", n_boot: int = 2000,
                          alpha: float = 0.05, seed: int = 0) -> tuple[float, float, int]:
    """Percentile bootstrap interval of the correlation over languages: ``(low, high,
    n_used)``. Each of ``n_boot`` resamples draws the n (x, y) pairs with replacement;
    resamples in which x or y is constant (the coefficient is undefined) are dropped and
    ``n_used`` counts the others. Spearman is Pearson on the ranks within the resample
    (ties get average ranks, as :func:`scipy.stats.spearmanr`). Written here rather than
    with :func:`xlnb.metrics.stats.bootstrap_ci` because that one resamples a single score
    per item and cannot drop undefined resamples."""
    check_choice(method, "method", METHODS)
    n_boot = check_int(n_boot, "n_boot", minimum=1)
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    a, b = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if a.ndim != 1 or a.shape != b.shape or a.size < 3:
        raise ValueError(f"x and y must be 1-D of one length >= 3, got {a.shape} and {b.shape}")
    idx = np.random.default_rng(seed).integers(0, a.size, size=(n_boot, a.size))
    xs, ys = a[idx], b[idx]
    if method == "spearman":
        xs, ys = sps.rankdata(xs, axis=1), sps.rankdata(ys, axis=1)
    xs = xs - xs.mean(axis=1, keepdims=True)
    ys = ys - ys.mean(axis=1, keepdims=True)
    sxx, syy = (xs ** 2).sum(axis=1), (ys ** 2).sum(axis=1)
    ok = (sxx > 1e-24) & (syy > 1e-24)
    if not ok.any():
        return float("nan"), float("nan"), 0
    r = (xs * ys).sum(axis=1)[ok] / np.sqrt(sxx[ok] * syy[ok])
    low, high = np.quantile(np.clip(r, -1, 1), [alpha / 2, 1 - alpha / 2])
    return float(low), float(high), int(ok.sum())


def correlation_table(points: pd.DataFrame, *, x: str = "alignment", y: str = "transfer",
                      methods=METHODS, n_boot: int = 2000, alpha: float = 0.05,
                      seed: int = 0) -> pd.DataFrame:
    """One row per method: ``method, r, p, ci_low, ci_high, n_languages, n_boot_used, note``.
    With fewer than 3 languages or a constant column the coefficient is undefined: r, p and
    the interval are NaN and ``note`` says why (never an error, so a small demo still
    writes its table)."""
    rows = []
    for method in methods:
        row = dict(method=method, r=np.nan, p=np.nan, ci_low=np.nan, ci_high=np.nan,
                   n_languages=len(points), n_boot_used=0, note="")
        try:
            row["r"], row["p"] = correlation(points[x], points[y], method=method)
        except ValueError as err:
            row["note"] = str(err)
        else:
            low, high, used = bootstrap_correlation(points[x], points[y], method=method,
                                                    n_boot=n_boot, alpha=alpha, seed=seed)
            row.update(ci_low=low, ci_high=high, n_boot_used=used)
        rows.append(row)
    return pd.DataFrame(rows)


__all__ = ["bootstrap_correlation", "correlation_table", "language_alignment",
           "transfer_points"]
