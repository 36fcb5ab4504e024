"""NASCA per layer, per sentence and per language pair (NeuronXA eq. 4, Fig. 2, Table 2).

:func:`xlnb.alignment.pivot_scores` gives one score per layer; the paper's figures also need
*which* sentences are aligned, so that intervals can resample sentences. Here eq. 4 is
kept per sentence::

    hit_l(i) = 1( c_ii > {c_ij, c_ji}_{j != i} )   with C = C(l), the cosine matrix of layer l

so that ``mu_C(l) = mean_i hit_l(i)``, and NeuronXA's layer-averaged score (§2.2: "mean
pooling over multiple layers") is ``mean_l mu_C(l) = mean_i s(i)`` with the per-sentence
score ``s(i) = mean_l hit_l(i)``: a bootstrap over sentences of ``s`` gives its interval.
The plots of Fig. 2 (a heat map of languages x layers and per-language curves) live here
too.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import torch
from matplotlib.ticker import MaxNLocator, PercentFormatter

from xlnb.metrics import bootstrap_ci, cosine_matrix, mutual_nn_hits_from_similarity
from xlnb.metrics._checks import layer_labels
from xlnb.style import font, styled

__all__ = ["mutual_nn_hits", "pair_layer_hits", "layer_table", "language_scores",
           "layer_heatmap", "language_curves"]


def mutual_nn_hits(src, tgt) -> np.ndarray:
    """Per-sentence indicator of NeuronXA eq. 4 at one layer: bool ``[N]``.

    src, tgt: ``[N, d]`` parallel sentence vectors (row i of both the same sentence), N >= 2.
    Entry i is True when ``c_ii`` is STRICTLY greater than every other entry of row i and of
    column i of ``C = cos(src, tgt)`` (float64, :func:`xlnb.metrics.cosine_matrix`); its mean
    is :func:`xlnb.metrics.mutual_nn_score`.
    """
    c = cosine_matrix(src, tgt)
    if c.shape[0] != c.shape[1]:
        raise ValueError(f"src and tgt must have the same number of rows, got {c.shape}")
    if c.shape[0] < 2:
        raise ValueError(f"need at least 2 sentences, got {c.shape[0]}")
    return mutual_nn_hits_from_similarity(c)


def pair_layer_hits(reps: Mapping, pairs: Sequence[tuple[str, str]]) -> torch.Tensor:
    """Eq. 4 per sentence for each language pair at every layer: bool ``[L, P, N]``.

    reps: language -> ``[L, N, d]`` (tensors or lazy handles of
    :func:`xlnb.layerwise.language_reps`), the same shape for every language. pairs:
    ``(a, b)`` language pairs; eq. 4 is symmetric in its two languages, so ``(a, b)`` and
    ``(b, a)`` give the same hits. Layers are read one at a time, each language once per
    layer, so memory stays at one layer of every language.
    """
    pairs = [tuple(p) for p in pairs]
    if not pairs:
        raise ValueError("pairs is empty: give at least one (a, b) language pair")
    bad = [p for p in pairs if len(p) != 2 or p[0] == p[1] or not set(p) <= set(reps)]
    if bad:
        raise ValueError(f"pairs {bad} are not pairs of two different languages among "
                         f"{list(reps)}")
    used = sorted({lang for p in pairs for lang in p})
    shapes = {lang: tuple(reps[lang].shape) for lang in used}
    if len(set(shapes.values())) != 1 or len(shapes[used[0]]) != 3:
        raise ValueError(f"every language needs the same [L, N, d] shape, got {shapes}")
    n_layers, n = shapes[used[0]][:2]
    out = torch.zeros(n_layers, len(pairs), n, dtype=torch.bool)
    if n < 2:
        raise ValueError(f"need at least 2 sentences, got {n}")
    for layer in range(n_layers):
        # each language read once per layer: float64 rows [N, d]
        rows = {lang: torch.as_tensor(reps[lang][layer]).to(torch.float64) for lang in used}
        bad = [lang for lang, x in rows.items() if not torch.isfinite(x).all()]
        if bad:
            raise ValueError(f"layer {layer}: {bad} contain NaN or infinite values")
        for p, (a, b) in enumerate(pairs):
            out[layer, p] = torch.from_numpy(mutual_nn_hits(rows[a], rows[b]))
    return out


def layer_table(pairs: Sequence[tuple[str, str]], hits: torch.Tensor, *,
                layers=None) -> pd.DataFrame:
    """Score per layer and pair (``mu_C(l)`` of eq. 4): columns ``src, tgt, layer, score``.

    pairs, hits: as from :func:`pair_layer_hits` (``hits: [L, P, N]``); layers: labels of the
    L rows (default 1..L, the block numbers).
    """
    labels = layer_labels(layers, hits.shape[0], start=1)
    if hits.shape[1] != len(pairs):
        raise ValueError(f"{len(pairs)} pairs for hits of shape {tuple(hits.shape)}")
    acc = hits.double().mean(dim=2)  # [L, P]
    rows = [(a, b, label, acc[li, pi].item()) for pi, (a, b) in enumerate(pairs)
            for li, label in enumerate(labels)]
    return pd.DataFrame(rows, columns=["src", "tgt", "layer", "score"])


def language_scores(pairs: Sequence[tuple[str, str]], hits: torch.Tensor, *,
                    n_boot: int = 1000, alpha: float = 0.05, seed: int = 0) -> pd.DataFrame:
    """Layer-averaged score per pair (NeuronXA §2.2) with a bootstrap interval over sentences.

    hits: ``[L, P, N]`` from :func:`pair_layer_hits`. The score of a pair is
    ``mean_l mu_C(l)``; the interval resamples the per-sentence scores ``s(i) = mean_l
    hit_l(i)`` (see the module docstring). Columns ``src, tgt, score, ci_low, ci_high``.
    """
    if hits.dim() != 3 or hits.shape[1] != len(pairs):
        raise ValueError(f"hits must be [L, {len(pairs)}, N], got {tuple(hits.shape)}")
    per_sentence = hits.double().mean(dim=0).numpy()  # [P, N]
    rows = []
    for (a, b), scores in zip(pairs, per_sentence):
        est, low, high = bootstrap_ci(scores, n_boot=n_boot, alpha=alpha, seed=seed)
        rows.append((a, b, est, low, high))
    return pd.DataFrame(rows, columns=["src", "tgt", "score", "ci_low", "ci_high"])


@styled
def layer_heatmap(scores: pd.DataFrame, *, row: str = "lang", title: str | None = None,
                  order: Sequence[str] | None = None, annotate: bool | None = None):
    """Heat map of ``score`` (in %) with one row per ``row`` value and one column per layer
    (NeuronXA Fig. 2 as a grid). scores: columns ``row, layer, score`` in [0, 1]. order:
    the rows top to bottom (default: by layer-averaged score, best first). annotate: write
    the values in the cells (default: when there are at most 400 cells)."""
    missing = {row, "layer", "score"} - set(scores.columns)
    if missing:
        raise ValueError(f"scores lacks columns {sorted(missing)}")
    grid = scores.pivot_table(index=row, columns="layer", values="score") * 100
    if order is None:
        order = grid.mean(axis=1).sort_values(ascending=False).index
    grid = grid.loc[list(order)]
    annotate = grid.size <= 400 if annotate is None else annotate
    fig, ax = plt.subplots(figsize=(max(6.0, 0.38 * grid.shape[1] + 2.5),
                                    max(3.0, 0.3 * grid.shape[0] + 1.4)))
    sns.heatmap(grid, ax=ax, cmap="viridis", vmin=0, vmax=100, annot=annotate, fmt=".0f",
                annot_kws={"fontsize": font("annotation")}, cbar_kws={"label": "NASCA (%)"})
    ax.set_xlabel("Layer (block)")
    ax.set_ylabel("Language" if row == "lang" else row)
    ax.tick_params(axis="y", labelrotation=0)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


@styled
def language_curves(scores: pd.DataFrame, levels: Mapping[str, str], *,
                    title: str | None = None, ylabel: str = "NASCA (%)"):
    """Per-language curves of ``score`` against ``layer`` (NeuronXA Fig. 2): one thin line per
    language coloured by its resource level, the level's mean as a thick line; the three
    languages with the highest and the lowest layer-averaged score are labelled.

    scores: columns ``lang, layer, score`` in [0, 1]; levels: language -> level name.
    """
    missing = sorted(set(scores["lang"]) - set(levels))
    if missing:
        raise ValueError(f"no resource level for languages {missing}")
    data = scores.assign(level=scores["lang"].map(levels), score=scores["score"] * 100)
    palette = dict(zip(sorted(set(data.level)), sns.color_palette("tab10")))
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for lang, part in data.groupby("lang"):
        ax.plot(part.layer, part.score, color=palette[part.level.iloc[0]], lw=0.8, alpha=0.45)
    means = data.groupby(["level", "layer"], as_index=False).score.mean()
    for level, part in means.groupby("level"):
        n = data.loc[data.level == level, "lang"].nunique()
        ax.plot(part.layer, part.score, color=palette[level], lw=2.6, marker="o", ms=3,
                label=f"{level}: mean of {n} language{'s' if n != 1 else ''}")
    _label_extremes(ax, data)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_formatter(PercentFormatter(decimals=0))
    ax.set_xlabel("Layer (block)")
    ax.set_ylabel(ylabel)
    ax.set_ylim(-2, 102)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2,
              frameon=False)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def _label_extremes(ax, data: pd.DataFrame, n: int = 3, gap: float = 4.5) -> None:
    """Write the names of the n best and n worst languages (layer average) right of their
    curve's end, spread at least ``gap`` points of the y axis apart so they do not overlap."""
    average = data.groupby("lang").score.mean().sort_values()
    end = data.layer.max()
    last = data[data.layer == end].set_index("lang").score
    picks = list(dict.fromkeys(list(average.index[:n]) + list(average.index[-n:])))
    placed = []
    for lang in sorted(picks, key=lambda x: last[x]):
        y = max(last[lang], placed[-1] + gap) if placed else last[lang]
        placed.append(y)
        ax.annotate(lang, (end, last[lang]), xytext=(end + 0.04 * max(end, 1), y),
                    fontsize=font("annotation"), va="center",
                    arrowprops=dict(arrowstyle="-", lw=0.4, color="0.5"))
    ax.set_xlim(right=end + 0.12 * max(end, 1))


def fig2_headlines(per_layer: pd.DataFrame, *, data_label: str,
                   score: str = "NASCA") -> list[dict]:
    """Headline rows of Fig. 2 (:func:`xlnb.outputs.save_headlines`): per model, the block
    where the mean score over languages peaks and the mean at the first, peak and top
    blocks. The paper gives the shape, not numbers: lowest at the bottom and top layers,
    highest in the middle.

    per_layer: columns ``model, lang, layer, value`` (layers numbered 1..n).
    """
    rows = []
    for model, part in per_layer.groupby("model", sort=False):
        curve = part.groupby("layer")["value"].mean()
        peak, top = int(curve.idxmax()), int(curve.index.max())
        rows += [dict(quantity=f"Fig. 2 peak block of the mean {score}", paper="middle layers",
                      ours=f"{peak} of {top}", model=model, data=data_label)]
        for label, layer in (("first", int(curve.index.min())), ("peak", peak), ("top", top)):
            rows.append(dict(quantity=f"Fig. 2 mean {score} at the {label} block ({layer})",
                             paper="lowest" if label != "peak" else "highest",
                             ours=round(float(curve[layer]), 3), model=model, data=data_label))
    return rows
