"""MidAlign Table 7 (§6.4): JSON generation on UNER scored from the generated outputs —
entity F1 and the unparseable rate per system and language with bootstrap intervals over
sentences, the paired gain of alignment over SFT on the same sentences, and their figure."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import torch

from xlnb.metrics.stats import bootstrap_item_means
from xlnb.style import styled
from xlnb.tasks.json_ner import entity_counts, parse_entities

KEYS = ("system", "seed", "language")


def _f1(means: torch.Tensor) -> torch.Tensor:
    """Micro F1 from per-example means of (tp, predicted, gold): 2 tp / (pred + gold) — the
    same as from the sums; 0 where nothing was predicted or expected. means: [..., 3+]."""
    tp, denom = means[..., 0], means[..., 1] + means[..., 2]
    return torch.where(denom > 0, 2 * tp / denom.clamp_min(1e-300), torch.zeros_like(tp))


def _counts(part: pd.DataFrame) -> np.ndarray:
    """[4, n] (tp, predicted, gold, unparseable) of the outputs in ``part`` (rows: output,
    target), the gold entities read back from the reference answer."""
    gold = [parse_entities(t).entities for t in part.target]
    return np.asarray(entity_counts(list(part.output), gold), dtype=np.float64).T


def language_table(outputs: pd.DataFrame, *, n_boot: int = 1000, alpha: float = 0.05,
                   seed: int = 0) -> pd.DataFrame:
    """F1 and unparseable rate (0-1) per system, seed and language, with percentile
    bootstrap intervals over the test sentences (one resample of the sentences serves both).

    outputs: one row per generated answer with ``system, seed, language, output, target``
    (:func:`xlnb.midalign.experiment.run_systems`). Returns rows ``system, seed, language,
    metric (f1 | unparseable), value, ci_low, ci_high, n``."""
    rows = []
    for key, part in outputs.groupby(list(KEYS), sort=False):
        counts = _counts(part)
        if counts.shape[1] < 2:
            raise ValueError(f"{dict(zip(KEYS, key))}: fewer than 2 outputs, no interval")

        def stat(means):  # [B, 4] -> [B, 2]: F1 and the unparseable rate
            return torch.stack([_f1(means), means[..., 3]], dim=-1)

        est, low, high = bootstrap_item_means(counts, stat, n_boot=n_boot, alpha=alpha,
                                              seed=seed)
        for i, metric in enumerate(("f1", "unparseable")):
            rows.append({**dict(zip(KEYS, key)), "metric": metric, "value": float(est[i]),
                         "ci_low": float(low[i]), "ci_high": float(high[i]),
                         "n": counts.shape[1]})
    return pd.DataFrame(rows)


def paired_gain(outputs: pd.DataFrame, *, system: str = "sft+align", baseline: str = "sft",
                n_boot: int = 1000, alpha: float = 0.05, seed: int = 0) -> pd.DataFrame:
    """F1 of ``system`` minus F1 of ``baseline`` per seed and language on the same test
    sentences (matched by ``id``), with a paired bootstrap interval: each resample draws
    the sentences once for both systems. Rows ``seed, language, system, baseline, value,
    ci_low, ci_high, n``."""
    rows = []
    for (run_seed, language), part in outputs.groupby(["seed", "language"], sort=False):
        a = part[part.system == system].set_index("id")
        b = part[part.system == baseline].set_index("id")
        ids = a.index.intersection(b.index)
        if len(ids) < 2:
            continue
        both = np.stack([_counts(a.loc[ids]), _counts(b.loc[ids])])  # [2, 4, n]
        est, low, high = bootstrap_item_means(
            both, lambda m: _f1(m[:, 0, :]) - _f1(m[:, 1, :]), n_boot=n_boot, alpha=alpha,
            seed=seed)
        rows.append({"seed": run_seed, "language": language, "system": system,
                     "baseline": baseline, "value": float(est), "ci_low": float(low),
                     "ci_high": float(high), "n": len(ids)})
    return pd.DataFrame(rows)


@styled
def f1_by_language(table: pd.DataFrame, groups: dict[str, list[str]], *,
                   title: str | None = None):
    """Two panels: entity F1 and the unparseable rate (%) per language, one bar per system,
    languages ordered and labelled by Table 7's groups, error bars = the bootstrap interval
    of the first seed. table: :func:`language_table` rows."""
    order = [x for g in ("supervised", "transfer aligned", "transfer other")
             for x in groups.get(g, [])]
    part = table[table.seed == table.seed.min()].copy()
    part["shown"] = part.value * 100
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), gridspec_kw={"width_ratios": [3, 2]})
    labels = {"f1": "Entity F1 (%)", "unparseable": "Unparseable outputs (%)"}
    for ax, metric in zip(axes, ("f1", "unparseable")):
        rows = part[part.metric == metric]
        sns.barplot(rows, x="language", y="shown", hue="system", order=order, ax=ax,
                    errorbar=None)
        for container, system in zip(ax.containers, list(dict.fromkeys(rows.system))):
            for bar, lang in zip(container, order):
                row = rows[(rows.system == system) & (rows.language == lang)]
                if not row.empty:
                    ax.errorbar(bar.get_x() + bar.get_width() / 2, bar.get_height(),
                                yerr=[[bar.get_height() - row.ci_low.iloc[0] * 100],
                                      [row.ci_high.iloc[0] * 100 - bar.get_height()]],
                                color="black", lw=0.8, capsize=2)
        ax.set_xticks(range(len(order)),
                      [f"{x}\n{_group_tag(x, groups)}" for x in order])
        ax.set_xlabel("")
        ax.set_ylim(0, 100)
        ax.set_ylabel(labels[metric])
        ax.grid(axis="y", alpha=0.3)
        if metric == "unparseable" and ax.get_legend() is not None:
            ax.get_legend().remove()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def _group_tag(language: str, groups: dict[str, list[str]]) -> str:
    tags = {"supervised": "sup.", "transfer aligned": "aligned", "transfer other": "other"}
    return next((tags[g] for g in tags if language in groups.get(g, [])), "")


__all__ = ["f1_by_language", "language_table", "paired_gain"]
