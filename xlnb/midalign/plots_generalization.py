"""MidAlign Table 5 as a figure: retrieval to English at the aligned layer before and after
alignment-only training, per setting and language, with bootstrap intervals."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from xlnb.style import styled


@styled
def before_after_dots(table: pd.DataFrame, *, title: str | None = None):
    """One panel per setting: for each language a grey dot (before) and a coloured dot
    (after; filled when the language was aligned in the setting), each with its 95 %
    bootstrap interval, and the seeds' range as a thin bar when there are several seeds.
    table: :func:`xlnb.midalign.generalization.before_after` rows."""
    needed = {"setting", "language", "aligned", "before", "before_low", "before_high",
              "after", "after_low", "after_high", "after_seed_min", "after_seed_max"}
    missing = needed - set(table.columns)
    if missing:
        raise ValueError(f"the table lacks columns {sorted(missing)}")
    settings = list(dict.fromkeys(table.setting))
    fig, axes = plt.subplots(1, len(settings), figsize=(3.2 * len(settings) + 0.6, 3.4),
                             squeeze=False, sharey=True)
    for ax, setting in zip(axes[0], settings):
        part = table[table.setting == setting].reset_index(drop=True)
        x = pd.Series(range(len(part)), dtype=float)
        for shift, name, color in ((-0.15, "before", "0.55"), (0.15, "after", "C0")):
            y = part[name] * 100
            err = [(part[name] - part[f"{name}_low"]) * 100,
                   (part[f"{name}_high"] - part[name]) * 100]
            ax.errorbar(x + shift, y, yerr=err, fmt="none", ecolor=color, lw=1, capsize=2)
            faces = [color if (name == "before" or a) else "white" for a in part.aligned]
            ax.scatter(x + shift, y, facecolors=faces, edgecolors=color, zorder=3, s=22,
                       label=name)
        spread = part.after_seed_max > part.after_seed_min
        ax.vlines(x[spread] + 0.28, part.after_seed_min[spread] * 100,
                  part.after_seed_max[spread] * 100, color="C3", lw=2, label="seed range")
        ax.set_xticks(x, part.language)
        ax.set_title(setting)
        ax.grid(axis="y", alpha=0.3)
    axes[0][0].set_ylabel("retrieval to English (%)")
    axes[0][-1].legend(loc="upper right")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
