"""NeuronXA Table 1 (retrieval: embeddings vs NAS, head vs long-tail; App. C Table 5 with
other pivots) and Table 2 (NASCA of high/low-resource language pairs), with bootstrap
intervals over sentences.

Table 1 (§3.1, §4.1): every language is retrieved against a pivot in three directions,
``pivot_to_xx``, ``xx_to_pivot`` and ``bidirectional`` (both must succeed), at every layer.
One number per language comes from the layers by ``layers_pooled``:

* ``max`` — the paper "applies max-pooling" over the model's depth (§3.1); we read this as
  the best layer's accuracy, chosen per language and direction (optimistic: the choice is
  made on the evaluation sentences themselves);
* ``mean`` — the mean over layers (how §2.3 aggregates NASCA);
* ``single`` — one layer, e.g. a middle block.

The group value is the mean over the group's languages. Its interval resamples sentences
(the same resample for every language and layer, since the data are multi-way parallel) and
recomputes everything, layer choice included.
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

from xlnb.metrics import bootstrap_ci, bootstrap_item_means
from xlnb.metrics.retrieval import DIRECTIONS

__all__ = ["DIRECTIONS", "LAYER_POOLINGS", "pool_layers",
           "bootstrap_groups", "retrieval_summary", "layer_accuracy", "paper_layout",
           "retrieval_layer_figure", "resource_pair_groups", "pair_group_summary",
           "pair_group_figure"]

LAYER_POOLINGS = ("max", "mean", "single")
PAIR_GROUPS = ("high→high", "high→low", "low→low")


def pool_layers(accuracy: torch.Tensor, how: str, layer: int | None = None) -> torch.Tensor:
    """One value per language from per-layer values: ``accuracy [..., L, G] -> [..., G]``.

    how: ``max`` / ``mean`` over layers, or ``single`` (row ``layer``, 0-based index into
    the L rows; ``None``: the middle row ``L // 2``).
    """
    if how not in LAYER_POOLINGS:
        raise ValueError(f"unknown layer pooling {how!r}; use one of {LAYER_POOLINGS}")
    n_layers = accuracy.shape[-2]
    if how == "max":
        return accuracy.max(dim=-2).values
    if how == "mean":
        return accuracy.mean(dim=-2)
    index = n_layers // 2 if layer is None else layer
    if not isinstance(index, (int, np.integer)) or not 0 <= index < n_layers:
        raise ValueError(f"layer {layer!r} out of range: there are {n_layers} layers "
                         f"(0..{n_layers - 1})")
    return accuracy[..., index, :]


def bootstrap_groups(hits: torch.Tensor, columns: Mapping[str, Sequence[int]], how: str, *,
                     layer: int | None = None, n_boot: int = 1000, alpha: float = 0.05,
                     seed: int = 0) -> dict[str, tuple[float, float, float]]:
    """Group means of layer-pooled accuracy with percentile bootstrap intervals.

    hits: bool ``[L, G, N]``; columns: group -> indices into G. For each group returns
    ``(estimate, low, high)``: estimate = mean over the group's languages of
    :func:`pool_layers` of the per-layer accuracy; low/high = the ``alpha/2``,
    ``1 - alpha/2`` quantiles of the same statistic over ``n_boot`` resamples of the N
    sentences with replacement (one resample shared by all languages and layers, so the
    max over layers is taken again in every resample).
    """
    if hits.dim() != 3:
        raise ValueError(f"hits must be [L, G, N], got shape {tuple(hits.shape)}")
    empty = [name for name, cols in columns.items() if len(cols) == 0]
    if empty:
        raise ValueError(f"groups {empty} have no languages")
    cols = [list(c) for c in columns.values()]

    def group_means(acc):  # [B, L, G] -> [B, groups]
        pooled = pool_layers(acc, how, layer)
        return torch.stack([pooled[:, c].mean(dim=-1) for c in cols], dim=-1)

    est, low, high = bootstrap_item_means(hits, group_means, n_boot=n_boot, alpha=alpha,
                                          seed=seed)
    return {name: (float(est[i]), float(low[i]), float(high[i]))
            for i, name in enumerate(columns)}


def retrieval_summary(langs: Sequence[str], hits: Mapping[str, torch.Tensor],
                      groups: Mapping[str, Sequence[str]], how: str, *,
                      layer: int | None = None, n_boot: int = 1000, alpha: float = 0.05,
                      seed: int = 0) -> pd.DataFrame:
    """NeuronXA Table 1 for one representation: accuracy per direction and language group.

    langs, hits: from :func:`xlnb.metrics.pivot_hits`; groups: name (``head``, ``long-tail``)
    -> languages; groups with no language among ``langs`` are left out. Columns
    ``direction, group, accuracy, ci_low, ci_high, n_langs``.
    """
    unknown = sorted({x for members in groups.values() for x in members} - set(langs))
    if unknown:
        raise ValueError(f"group languages {unknown} are not among the retrieved {list(langs)}")
    columns = {name: [langs.index(x) for x in members]
               for name, members in groups.items() if members}
    if not columns:
        raise ValueError("every group is empty")
    rows = []
    for direction, h in hits.items():
        got = bootstrap_groups(h, columns, how, layer=layer, n_boot=n_boot, alpha=alpha,
                               seed=seed)
        rows += [(direction, name, *got[name], len(columns[name])) for name in columns]
    return pd.DataFrame(rows, columns=["direction", "group", "accuracy", "ci_low", "ci_high",
                                       "n_langs"])


def layer_accuracy(langs: Sequence[str], hits: Mapping[str, torch.Tensor],
                   groups: Mapping[str, Sequence[str]], *, layers=None) -> pd.DataFrame:
    """Accuracy per language, direction and layer: columns ``lang, group, direction, layer,
    accuracy``. hits: direction -> bool ``[L, G, N]`` (:func:`xlnb.metrics.pivot_hits`);
    layers: labels of the L rows (default 1..L, block numbers)."""
    group_of = {x: name for name, members in groups.items() for x in members}
    rows = []
    for direction, h in hits.items():
        labels = list(range(1, h.shape[0] + 1)) if layers is None else list(layers)
        acc = h.double().mean(dim=2)  # [L, G]
        rows += [(lang, group_of.get(lang), direction, label, acc[li, gi].item())
                 for gi, lang in enumerate(langs) for li, label in enumerate(labels)]
    return pd.DataFrame(rows, columns=["lang", "group", "direction", "layer", "accuracy"])


def paper_layout(table: pd.DataFrame, pivot: str) -> pd.DataFrame:
    """Table 1 as the paper prints it: one row per representation (and BOS variant) and
    direction, one column per group, cells ``"acc [low, high]"`` in percent.

    table: rows of :func:`retrieval_summary` with a ``representation`` column (and
    optionally ``model`` and ``bos``).
    """
    name = pivot.capitalize() if len(pivot) == 2 else pivot
    arrows = {"pivot_to_xx": f"{name}→xx", "xx_to_pivot": f"xx→{name}",
              "bidirectional": f"{name}⇔xx"}
    cells = table.assign(
        direction=table["direction"].map(arrows),
        cell=[f"{100 * a:.1f} [{100 * lo:.1f}, {100 * hi:.1f}]"
              for a, lo, hi in zip(table.accuracy, table.ci_low, table.ci_high)])
    index = [c for c in ("model", "bos", "representation", "direction") if c in table.columns]
    wide = cells.pivot_table(index=index, columns="group", values="cell", aggfunc="first",
                             sort=False)
    return wide.rename_axis(columns=None)


def retrieval_layer_figure(per_layer: pd.DataFrame, *, title: str | None = None):
    """Mean accuracy over each group's languages per layer (one panel per group), one colour
    per representation and one line style per BOS variant. per_layer: rows of
    :func:`layer_accuracy` for one direction, with ``representation`` and ``bos``."""
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
    ax.legend(fontsize=8, loc="upper right")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig
