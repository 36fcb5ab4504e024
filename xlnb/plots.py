"""Plotting helpers: one call per figure, the paper's look, nothing saved here
(``xlnb.outputs.save_figure`` does that)."""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.ticker import MaxNLocator
import pandas as pd
import seaborn as sns


def layer_curves(curves: pd.DataFrame, *, x: str = "layer", y: str = "accuracy",
                 hue: str = "group", style: str | None = None, title: str | None = None,
                 ylabel: str = "Retrieval accuracy (%)", percent: bool = True,
                 band: tuple[str, str] | None = None):
    """Line plot of ``y`` against ``x`` per ``hue`` (and ``style``), like MidAlign Fig. 1a.

    band: optional (low, high) column names drawn as a shaded interval.
    Returns the matplotlib Figure.
    """
    data = curves.copy()
    scale = 100.0 if percent else 1.0
    data[y] = data[y] * scale
    fig, ax = plt.subplots(figsize=(6, 3.6))
    sns.lineplot(data=data, x=x, y=y, hue=hue, style=style, marker="o", ax=ax)
    if band is not None:
        keys = [c for c in (hue, style) if c]
        for _, part in data.groupby(keys):
            ax.fill_between(part[x], part[band[0]] * scale, part[band[1]] * scale, alpha=0.2)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("Layer")
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig
