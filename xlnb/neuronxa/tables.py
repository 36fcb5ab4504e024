"""NeuronXA Table 2 (NASCA of high/low-resource language pairs) with bootstrap intervals
over sentences, and the per-layer figure of Table 1 (whose numbers live in
:mod:`xlnb.neuronxa.table1`, re-exported here).
"""

from __future__ import annotations

import itertools
from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import torch
from matplotlib.ticker import MaxNLocator, PercentFormatter

from xlnb.metrics import bootstrap_ci
from xlnb.metrics.retrieval import DIRECTIONS
from xlnb.neuronxa.table1 import (LAYER_POOLINGS, bitext_pivot_hits, bootstrap_groups,
                                  choose_layers, head_long_tail, layer_accuracy,
                                  max_over_layers, paper_layout, retrieval_summary,
                                  selection_split, table1_runs)
from xlnb.style import styled

__all__ = ["DIRECTIONS", "LAYER_POOLINGS", "head_long_tail", "max_over_layers",
           "selection_split", "choose_layers", "bitext_pivot_hits", "table1_runs", "bootstrap_groups",
           "retrieval_summary", "layer_accuracy", "paper_layout", "retrieval_layer_figure",
           "resource_pair_groups", "pair_group_summary", "pair_group_figure"]

PAIR_GROUPS = ("high→high", "high→low", "low→low")


@styled
def retrieval_layer_figure(per_layer: pd.DataFrame, *, title: str | None = None):
    """Mean accuracy over each group's languages per layer (one panel per group), one colour
    per representation and one line style per BOS variant. per_layer: rows of
    :func:`layer_accuracy` for one direction, with ``representation`` and ``bos``; layers
    are block numbers (the output of block i, the FFN neurons of block i)."""
    data = per_layer.assign(accuracy=per_layer["accuracy"] * 100).rename(
        columns={"bos": "BOS token"})
    grid = sns.relplot(data=data, x="layer", y="accuracy", col="group", hue="representation",
                       style="BOS token" if "BOS token" in data else None, kind="line", marker="o",
                       errorbar=None, height=3.4, aspect=1.15,
                       facet_kws=dict(sharey=True))
    for ax in grid.axes.flat:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.yaxis.set_major_formatter(PercentFormatter(decimals=0))
        ax.grid(alpha=0.3)
    grid.set_axis_labels("Layer (block)", "Retrieval accuracy")
    grid.set_titles("{col_name} languages")
    grid.tight_layout()  # FacetGrid's own: keeps room for the legend at the right
    if title:
        grid.figure.suptitle(title)
        grid.figure.subplots_adjust(top=0.84)
    return grid.figure


def resource_pair_groups(languages: Sequence[str], low: Sequence[str],
                         pairs: Sequence[Sequence[str]] | None = None) -> dict[str, list]:
    """NeuronXA Table 2's pair groups: ``high→high``, ``high→low``, ``low→low``.

    languages: the languages; low: the low-resource ones among them (the rest are high).
    pairs: the pairs to group (default: every unordered pair of ``languages``, in order).
    A mixed pair is stored high language first. Empty groups are kept (as empty lists).
    """
    langs = list(languages)
    stray = sorted(set(low) - set(langs))
    if stray:
        raise ValueError(f"low-resource languages {stray} are not among {langs}")
    pairs = list(itertools.combinations(langs, 2)) if pairs is None else [tuple(p) for p in pairs]
    bad = [p for p in pairs if len(p) != 2 or p[0] == p[1] or not set(p) <= set(langs)]
    if bad:
        raise ValueError(f"pairs {bad} are not pairs of two different languages among {langs}")
    out = {name: [] for name in PAIR_GROUPS}
    for a, b in pairs:
        n_low = (a in low) + (b in low)
        if n_low == 1 and a in low:
            a, b = b, a
        out[PAIR_GROUPS[n_low]].append((a, b))
    return out


def pair_group_summary(pairs: Sequence[tuple[str, str]], hits: torch.Tensor,
                       groups: Mapping[str, Sequence[tuple[str, str]]], *,
                       n_boot: int = 1000, alpha: float = 0.05, seed: int = 0) -> pd.DataFrame:
    """Mean layer-averaged NASCA over each group's pairs (NeuronXA Table 2), with an interval.

    pairs, hits: from :func:`xlnb.neuronxa.layers.pair_layer_hits` (``[L, P, N]``). A pair's
    score is the mean over layers and sentences of its eq. 4 hits; the group's is the mean
    over its pairs; the interval resamples sentences (each sentence scored by its mean hit
    over the group's pairs and the layers). Columns ``group, score, ci_low, ci_high,
    n_pairs``; empty groups are left out.
    """
    index = {tuple(p): i for i, p in enumerate(pairs)}
    missing = [p for members in groups.values() for p in members
               if tuple(p) not in index and tuple(p)[::-1] not in index]
    if missing:
        raise ValueError(f"group pairs {missing} have no hits")
    rows = []
    for name, members in groups.items():
        cols = [index.get(tuple(p), index.get(tuple(p)[::-1])) for p in members]
        if not cols:
            continue
        per_sentence = hits[:, cols, :].double().mean(dim=(0, 1)).numpy()  # [N]
        est, low, high = bootstrap_ci(per_sentence, n_boot=n_boot, alpha=alpha, seed=seed)
        rows.append((name, est, low, high, len(cols)))
    if not rows:
        raise ValueError("every group is empty")
    return pd.DataFrame(rows, columns=["group", "score", "ci_low", "ci_high", "n_pairs"])


@styled
def pair_group_figure(per_pair: pd.DataFrame, summary: pd.DataFrame, *,
                      title: str | None = None, ylabel: str = "NASCA, mean over layers"):
    """Layer-averaged score of every pair (dots) and each group's mean with its interval
    (bar and whisker), one column per group, as NeuronXA Table 2 in a picture.

    per_pair: columns ``group, score`` (one row per pair); summary: rows of
    :func:`pair_group_summary`.
    """
    order = [g for g in PAIR_GROUPS if g in set(summary.group)]
    fig, ax = plt.subplots(figsize=(6, 3.8))
    means = summary.set_index("group").loc[order]
    x = np.arange(len(order))
    ax.bar(x, means.score * 100, color=sns.color_palette("pastel")[:len(order)], width=0.6,
           yerr=[(means.score - means.ci_low) * 100, (means.ci_high - means.score) * 100],
           capsize=5, error_kw=dict(zorder=4, lw=1.5), label="group mean, 95% CI")
    for i, group in enumerate(order):
        points = per_pair.loc[per_pair.group == group, "score"].to_numpy() * 100
        jitter = np.random.default_rng(i).uniform(-0.18, 0.18, size=len(points))
        ax.scatter(i + jitter, points, s=12, color="0.25", alpha=0.7, zorder=3,
                   label="one language pair" if i == 0 else None)
    ax.set_xticks(x, [f"{g}\n({int(n)} pair{'s' if n != 1 else ''})"
                   for g, n in zip(order, means.n_pairs)])
    ax.yaxis.set_major_formatter(PercentFormatter(decimals=0))
    ax.set_ylim(0, 100)
    ax.set_ylabel(ylabel)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="upper right")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig
