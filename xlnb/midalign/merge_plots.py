"""MidAlign Table 6 as a figure: task scores and retrieval of merged adapters against the task
weight w (the task adapter alone is w = 1, the alignment adapter alone w = 0), with joint
training as a reference line, and the per-block gap between the two merge methods."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from xlnb.style import font, styled

PANELS = (("f1", "supervised", "Slot F1 supervised (%)"),
          ("f1", "transfer", "Slot F1 transfer (%)"),
          ("retrieval_acc", "all", "Retrieval accuracy (%)"))
REFERENCES = {"sft+align": ("joint (sft+align)", "--"), "base": ("base model", ":")}


@styled
def merge_sweep(table: pd.DataFrame, gaps: pd.DataFrame | None = None, *,
                title: str | None = None):
    """One panel per quantity of :data:`PANELS` against w, one line per merge method (its
    ends: ``sft`` at w = 1, ``align`` at w = 0 where measured), reference systems as
    horizontal lines; a last panel with the mean gap per block of ``gaps``
    (:func:`xlnb.midalign.merging.gap_table`), one line per w.

    table: rows ``system, method, w, metric, group, value`` (0-1 scale)."""
    needed = {"system", "method", "w", "metric", "group", "value"}
    if not needed <= set(table.columns):
        raise ValueError(f"table needs columns {sorted(needed)}, has {list(table.columns)}")
    panels = [p for p in PANELS if not table[(table.metric == p[0]) & (table.group == p[1])].empty]
    n = len(panels) + (gaps is not None and not gaps.empty)
    fig, axes = plt.subplots(1, n, figsize=(3.6 * n, 3.3), squeeze=False)
    for ax, (metric, group, label) in zip(axes[0], panels):
        part = table[(table.metric == metric) & (table.group == group)]
        _sweep_panel(ax, part)
        ax.set_ylabel(label)
        ax.set_title(label.split(" (")[0], fontsize=font("body"))
    if n > len(panels):
        ax = axes[0][-1]
        per_block = gaps.groupby(["w", "block"], as_index=False)["gap"].mean()
        for w, line in per_block.groupby("w"):
            ax.plot(line.block, line.gap, marker="o", ms=3, label=f"w={w:g}")
        ax.set_xlabel("block")
        ax.set_ylabel("relative gap, average vs delta")
        ax.set_title("||dW_avg - dW_delta|| / ||dW_delta||")
        ax.legend()
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def _sweep_panel(ax, part: pd.DataFrame) -> None:
    ends = {"sft": 1.0, "align": 0.0}
    for method in sorted(m for m in part.method.dropna().unique() if m in ("average", "delta")):
        line = part[(part.method == method) | part.system.isin(list(ends))]
        line = line.assign(x=line.system.map(ends).fillna(line.w)).sort_values("x")
        ax.plot(line.x, 100 * line.value, marker="o", ms=4, label=f"merge {method}")
    for system, (label, style) in REFERENCES.items():
        row = part[part.system == system]
        if not row.empty:
            ax.axhline(100 * row.value.mean(), ls=style, color="gray", lw=1, label=label)
    ax.set_xlabel("task weight w")
    ax.grid(alpha=0.3)
    ax.legend()
