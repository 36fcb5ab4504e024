"""Plotting helpers: one call per figure, the paper's look (font sizes from
:mod:`xlnb.style`), nothing saved here (``xlnb.outputs.save_figure`` does that)."""

from __future__ import annotations

import itertools

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib.ticker import MaxNLocator

from xlnb.style import styled

_DASHES = ["-", "--", ":", "-."]


@styled
def layer_curves(curves: pd.DataFrame, *, x: str = "layer", y: str = "accuracy",
                 hue: str = "group", style: str | None = None, title: str | None = None,
                 ylabel: str = "Retrieval accuracy (%)", percent: bool = True,
                 band: tuple[str, str] | None = None):
    """Line plot of ``y`` against ``x``, one colour per ``hue`` value and one line style per
    ``style`` value, like MidAlign Fig. 1a. band: optional (low, high) column names drawn as
    a shaded interval in the line's colour. Returns the matplotlib Figure."""
    scale = 100.0 if percent else 1.0
    hues = list(dict.fromkeys(curves[hue]))
    styles = list(dict.fromkeys(curves[style])) if style else [None]
    colours = dict(zip(hues, sns.color_palette(n_colors=len(hues))))
    dashes = dict(zip(styles, itertools.cycle(_DASHES)))
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    for h, s in itertools.product(hues, styles):
        part = curves[(curves[hue] == h) & ((curves[style] == s) if style else True)]
        if part.empty:
            continue
        part = part.sort_values(x)
        label = h if style is None else (s if len(hues) == 1 else f"{h}, {s}")
        ax.plot(part[x], part[y] * scale, dashes[s], marker="o", ms=3.5, color=colours[h],
                label=label)
        if band is not None:
            ax.fill_between(part[x], part[band[0]] * scale, part[band[1]] * scale,
                            color=colours[h], alpha=0.18, lw=0)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("Layer")
    ax.set_ylabel(ylabel)
    ax.set_title(title if not (style and len(hues) == 1) else f"{title or ''} — {hues[0]}")
    ax.grid(alpha=0.3)
    ax.legend(frameon=False)
    fig.tight_layout()
    return fig
