"""Per-language alignment scores joined with downstream accuracy, and their correlations
(NeuronXA §4.3, Tables 3 and 4; App. C.2, Tables 8-10).

The paper scores every language against English with MEXA (hidden states), NASCA (NAS
neuron states) and NAVCA (NAV neuron states), each under weighted (eq. 3), mean and last
pooling, plus the baselines CKA, SVCCA and ANC; a score is the mean over layers of the
per-layer score (§2.2, "mean pooling over multiple layers"). It then reports, per model
and benchmark, the Pearson correlation across languages between a score and accuracy.

Layers: all L decoder blocks for every method. For neuron states that is block i's FFN
activation; for hidden states the output of block i (representation index i, the embedding
output, index 0, is left out), so every method averages over the same L blocks. The
baselines use hidden states with ``baseline_pooling`` (weighted by default; the paper does
not say which representation they use).

Downstream accuracy comes from :mod:`xlnb.neuronxa.downstream`.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd

from xlnb.alignment import aggregate_layers, pivot_scores
from xlnb.metrics import correlation
from xlnb.neuronxa.downstream import (  # noqa: F401 - re-exported for callers of this module
    downstream_accuracy,
    lm_eval_accuracy,
    resolve_data_path,
)
from xlnb.style import font, styled

__all__ = ["METHODS", "BASELINES", "POOLINGS", "resolve_data_path", "score_reps",
           "alignment_scores", "downstream_accuracy", "lm_eval_accuracy", "join_accuracy",
           "correlation_table", "correlation_figure"]

# method -> (representation kind for language_reps, score for pivot_scores)
METHODS = {"mexa": ("hidden", "mutual_nn"), "nasca": ("nas", "mutual_nn"),
           "navca": ("nav", "mutual_nn")}
BASELINES = {"cka": ("hidden", "cka"), "svcca": ("hidden", "svcca"), "anc": ("hidden", "anc")}
POOLINGS = ("weighted", "mean", "last")
SCORE_COLUMNS = ["lang", "method", "pooling", "value"]


def _check_names(names, known: dict, what: str) -> list[str]:
    names = list(names)
    bad = [n for n in names if n not in known]
    if bad:
        raise ValueError(f"unknown {what} {bad}; use some of {sorted(known)}")
    return names


def score_reps(reps: dict, pivot: str = "en", *, how: str = "mean",
               **score_kwargs) -> pd.DataFrame:
    """Layer-aggregated pivot scores of already extracted representations.

    reps: ``(method, pooling) -> {lang: [L, N, d]}``, method in :data:`METHODS` or
    :data:`BASELINES`, rows of every language the same sentences; or, per key, bitext reps
    ``{lang: {pivot: [L, N, d], lang: [L, N, d]}}`` (Tatoeba, App. D Table 11). Each language other than
    ``pivot`` gets the method's score per layer (:func:`xlnb.alignment.pivot_scores`),
    aggregated over layers with ``how`` (``mean``, the paper; or ``max``).
    Returns columns ``lang, method, pooling, value`` (one row per language x key).
    """
    from xlnb.alignment import bitext_pivot_scores

    known = {**METHODS, **BASELINES}
    frames = []
    for (method, pooling), by_lang in reps.items():
        _check_names([method], known, "method")
        bitext = isinstance(next(iter(by_lang.values()), None), Mapping)
        scorer = bitext_pivot_scores if bitext else pivot_scores
        per_layer = scorer(by_lang, pivot, score=known[method][1], **score_kwargs)
        agg = aggregate_layers(per_layer, how).drop(columns="score")
        frames.append(agg.assign(method=method, pooling=pooling))
    if not frames:
        raise ValueError("reps is empty: give at least one (method, pooling)")
    return pd.concat(frames, ignore_index=True)[SCORE_COLUMNS]


def _extraction_plan(model, methods, poolings, baselines, baseline_pooling) -> dict:
    """``(method, pooling) -> (kind, layers)``: which representations to extract."""
    from xlnb.arch import n_blocks

    n = n_blocks(model)
    layers = {"hidden": list(range(1, n + 1)), "nas": None, "nav": None}  # L blocks each
    plan = {(m, p): METHODS[m] for m in _check_names(methods, METHODS, "method")
            for p in poolings}
    plan.update({(b, baseline_pooling): BASELINES[b]
                 for b in _check_names(baselines, BASELINES, "baseline")})
    bad = sorted({p for _, p in plan} - set(POOLINGS))
    if bad:
        raise ValueError(f"unknown pooling {bad}; use some of {POOLINGS}")
    return {key: (kind, layers[kind]) for key, (kind, _) in plan.items()}


def alignment_scores(model, tokenizer, texts: dict, *, pivot: str = "en",
                     methods=tuple(METHODS), poolings=POOLINGS, baselines=tuple(BASELINES),
                     baseline_pooling: str = "weighted", how: str = "mean",
                     **extract_kwargs) -> pd.DataFrame:
    """Every method x pooling score of every language against ``pivot`` (Tables 3, 4, 8-10).

    texts: ``{lang: [sentence] * N}`` line-aligned (:func:`xlnb.data.load_parallel`),
    including ``pivot``, or bitexts ``{lang: {pivot: [...], lang: [...]}}``
    (:func:`xlnb.data.load_bitexts`, for Tatoeba). extract_kwargs go to :func:`xlnb.layerwise.language_reps`
    (batch_size, max_length, exclude_special). Representations are extracted once per
    (kind, pooling), lazily from the disk cache. Returns :func:`score_reps`'s table.
    """
    from xlnb.layerwise import bitext_reps, language_reps

    bitext = isinstance(next(iter(texts.values()), None), Mapping)
    if not bitext and pivot not in texts:
        raise ValueError(f"pivot {pivot!r} is not among the languages {list(texts)}")
    extract = bitext_reps if bitext else language_reps
    plan = _extraction_plan(model, methods, poolings, baselines, baseline_pooling)
    extracted, reps = {}, {}
    for key, (kind, layers) in plan.items():
        spec = (kind, key[1])
        if spec not in extracted:
            extracted[spec] = extract(model, tokenizer, texts, kind=kind, pooling=key[1],
                                      layers=layers, lazy=True, **extract_kwargs)
        reps[key] = extracted[spec]
    return score_reps(reps, pivot, how=how)


def join_accuracy(scores: pd.DataFrame, accuracy: pd.DataFrame) -> pd.DataFrame:
    """One row per language x method x pooling x benchmark: ``score`` beside ``accuracy``.

    scores: :func:`alignment_scores` output (plus optional ``model``); accuracy:
    :func:`downstream_accuracy` / :func:`lm_eval_accuracy` output (plus optional ``model``).
    Languages missing on either side are dropped.
    """
    keys = ["lang"] + (["model"] if "model" in scores and "model" in accuracy else [])
    acc = accuracy.rename(columns={"value": "accuracy"})
    return scores.rename(columns={"value": "score"}).merge(acc, on=keys, how="inner")


def correlation_table(joined: pd.DataFrame, methods=("pearson", "spearman")) -> pd.DataFrame:
    """Correlation across languages of score and accuracy, per (model,) benchmark, method,
    pooling: columns ``[model,] benchmark, method, pooling, stat, r, p, n_langs``.

    joined: :func:`join_accuracy` output. A group with fewer than 3 languages or a constant
    score gets NaN (and is kept, so a reader sees it), not an error.
    """
    keys = [k for k in ("model", "benchmark", "method", "pooling") if k in joined]
    rows = []
    for key, part in joined.groupby(keys, sort=False):
        for stat in methods:
            try:
                r, p = correlation(part["score"].to_numpy(), part["accuracy"].to_numpy(), stat)
            except ValueError:
                r, p = np.nan, np.nan
            rows.append((*key, stat, r, p, len(part)))
    return pd.DataFrame(rows, columns=keys + ["stat", "r", "p", "n_langs"])


def _label(method: str, pooling: str) -> str:
    return f"{method.upper()} {pooling}" if method in METHODS else method.upper()


@styled
def correlation_figure(scores: pd.DataFrame, corr: pd.DataFrame | None = None,
                       joined: pd.DataFrame | None = None, *, highlight=("nasca", "weighted")):
    """(a) per-language scores, one row per method x pooling; (b) Pearson r per benchmark;
    (c) ``highlight``'s score against accuracy per language. (b) and (c) only when given.
    Inputs: :func:`alignment_scores`, :func:`correlation_table`, :func:`join_accuracy`
    (first model, when several). Returns the matplotlib Figure."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    first = (lambda df: df[df.model == df.model.iloc[0]] if "model" in df else df)
    panels = 1 + (corr is not None) + (joined is not None)
    fig, axes = plt.subplots(1, panels, figsize=(5.2 * panels, 4.6), squeeze=False)
    sc = first(scores).assign(config=lambda d: [_label(m, p) for m, p in zip(d.method, d.pooling)])
    order = list(dict.fromkeys(sc.config))
    sns.heatmap(sc.pivot(index="config", columns="lang", values="value").loc[order], annot=True,
                fmt=".2f", cmap="viridis", vmin=0, vmax=1, ax=axes[0, 0], cbar=False)
    axes[0, 0].set(title="(a) alignment score (layer mean)", xlabel="", ylabel="")
    if corr is not None:
        pe = first(corr)[first(corr).stat == "pearson"]
        pe = pe.assign(config=[_label(m, p) for m, p in zip(pe.method, pe.pooling)])
        r = pe.pivot(index="config", columns="benchmark", values="r").loc[order]
        p = pe.pivot(index="config", columns="benchmark", values="p").loc[order]
        text = r.round(2).astype(str) + "\n(p " + p.round(2).astype(str) + ")"
        sns.heatmap(r, annot=text, fmt="", cmap="RdBu_r", vmin=-1, vmax=1, ax=axes[0, 1],
                    annot_kws={"fontsize": font("annotation")})
        axes[0, 1].set(title=f"(b) Pearson r over {int(pe.n_langs.max())} languages",
                       xlabel="", ylabel="")
    if joined is not None:
        ax = axes[0, -1]
        pts = first(joined)
        pts = pts[(pts.method == highlight[0]) & (pts.pooling == highlight[1])]
        pts = pts[pts.benchmark == pts.benchmark.iloc[0]]
        err = np.vstack([pts.accuracy - pts.ci_low, pts.ci_high - pts.accuracy])
        ax.errorbar(pts.score, pts.accuracy, yerr=err, fmt="o", capsize=3)
        for rec in pts.itertuples():
            ax.annotate(rec.lang, (rec.score, rec.accuracy), xytext=(4, 4),
                        textcoords="offset points")
        ax.set(xlabel=f"{_label(*highlight)} score", ylabel=f"{pts.benchmark.iloc[0]} accuracy",
               title="(c) score vs accuracy (95% CI)")
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig
