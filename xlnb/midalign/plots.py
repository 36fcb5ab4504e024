"""MidAlign training figures: per-language task scores of the Table 2 systems, and the
retrieval curve by layer for each alignment placement (Fig. 4)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from xlnb.plots import layer_curves
from xlnb.style import styled

MAIN_METRIC = {"slot_filling": "f1", "mt": "bleu"}
LABELS = {"f1": "Slot F1 (%)", "bleu": "BLEU", "chrf": "chrF", "comet": "COMET"}


@styled
def systems_by_language(table: pd.DataFrame, *, title: str | None = None):
    """One panel per task: its main metric (slot F1, BLEU) per language, one bar per system,
    error bars = standard deviation over seeds when there are several. table: rows ``task,
    system, language, metric, value`` (and ``std``), as the Table 2 notebook writes."""
    tasks = [t for t in MAIN_METRIC if t in set(table.task)]
    if not tasks:
        raise ValueError(f"no task with a main metric in the table: {sorted(set(table.task))}")
    fig, axes = plt.subplots(1, len(tasks), figsize=(4.2 * len(tasks), 3.4), squeeze=False)
    for ax, task in zip(axes[0], tasks):
        metric = MAIN_METRIC[task]
        part = table[(table.task == task) & (table.metric == metric)].copy()
        scale = 100.0 if metric == "f1" else 1.0
        part["shown"] = part["value"] * scale
        sns.barplot(part, x="language", y="shown", hue="system", ax=ax, errorbar=None)
        if "std" in part.columns and part["std"].notna().any():
            _error_bars(ax, part, scale)
        ax.set_ylabel(LABELS.get(metric, metric))
        ax.set_xlabel("")
        ax.set_title(task.replace("_", " "))
        ax.grid(axis="y", alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def _error_bars(ax, part: pd.DataFrame, scale: float) -> None:
    """Seed standard deviations on seaborn's bars (bars are drawn hue by hue)."""
    systems = list(dict.fromkeys(part.system))
    langs = list(dict.fromkeys(part.language))
    for container, system in zip(ax.containers, systems):
        for bar, lang in zip(container, langs):
            row = part[(part.system == system) & (part.language == lang)]
            if row.empty or pd.isna(row["std"].iloc[0]):
                continue
            ax.errorbar(bar.get_x() + bar.get_width() / 2, bar.get_height(),
                        yerr=row["std"].iloc[0] * scale, color="black", lw=0.8, capsize=2)


def placement_curves(curve: pd.DataFrame, *, title: str | None = None):
    """Fig. 4: retrieval accuracy by layer, one line per system (placement). curve: rows
    ``system, layer, accuracy`` (mean over pairs; ``ci_low`` / ``ci_high`` drawn as bands
    when present)."""
    band = ("ci_low", "ci_high") if {"ci_low", "ci_high"} <= set(curve.columns) else None
    return layer_curves(curve, hue="system", band=band, title=title)
