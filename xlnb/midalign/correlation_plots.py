"""MidAlign Fig. 1b as a figure: one point per transfer language, base-model retrieval
accuracy at the middle layer (x) against transfer F1 after SFT (y), a least-squares line and
the coefficients of :func:`xlnb.midalign.correlation.correlation_table` in the title."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from xlnb.style import font, styled


@styled
def alignment_scatter(points: pd.DataFrame, correlations: pd.DataFrame | None = None, *,
                      title: str | None = None, xlabel: str = "Retrieval accuracy, middle layer (%)",
                      ylabel: str = "Transfer F1 after SFT (%)"):
    """points: rows ``language, alignment, transfer`` (0-1); correlations: rows ``method,
    r, p, ci_low, ci_high`` (NaN r is written as "undefined")."""
    if not {"language", "alignment", "transfer"} <= set(points.columns):
        raise ValueError(f"points need columns language, alignment, transfer: {list(points.columns)}")
    fig, ax = plt.subplots(figsize=(4.4, 3.6))
    x, y = 100 * points.alignment.to_numpy(float), 100 * points.transfer.to_numpy(float)
    ax.scatter(x, y, s=22)
    for lang, xi, yi in zip(points.language, x, y):
        ax.annotate(lang, (xi, yi), textcoords="offset points", xytext=(3, 3), fontsize=font("annotation"))
    if len(points) >= 2 and np.ptp(x) > 0:
        slope, intercept = np.polyfit(x, y, 1)
        grid = np.linspace(x.min(), x.max(), 20)
        ax.plot(grid, slope * grid + intercept, color="gray", lw=1, ls="--")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    lines = [title] if title else []
    if correlations is not None:
        lines.append(", ".join(_describe(row) for row in correlations.itertuples()))
    if lines:
        ax.set_title("\n".join(lines), fontsize=font("small"))
    fig.tight_layout()
    return fig


def _describe(row) -> str:
    name = {"pearson": "Pearson r", "spearman": "Spearman ρ"}.get(row.method, row.method)
    if not math.isfinite(row.r):
        return f"{name} undefined"
    return f"{name} {row.r:.2f} (p={row.p:.2g}, 95% CI {row.ci_low:.2f}–{row.ci_high:.2f})"
