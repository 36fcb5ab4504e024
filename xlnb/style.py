"""One figure style for every plotting helper: font sizes, embedded TrueType fonts.

Plotting helpers are decorated with :func:`styled`, so the figures they build take their
font sizes from :data:`RC` (a title, legend or tick label needs no ``fontsize=``); text
that is deliberately smaller or larger asks :func:`font` for a named size instead of a
number. :func:`xlnb.outputs.save_figure` saves inside :func:`figure_style`, so PDFs embed
TrueType (Type 42) fonts rather than Type 3, which the ACL PDF checker rejects, whatever
the global matplotlib settings are.

Nothing here changes matplotlib's global ``rcParams``; call :func:`apply` to make a
notebook's own figures look the same.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import matplotlib as mpl

__all__ = ["FONT_SIZES", "RC", "apply", "figure_style", "font", "styled"]

FONT_SIZES = {
    "tiny": 6,         # dense tick labels (one per token)
    "annotation": 7,   # numbers written into heatmap cells, point labels
    "small": 8,        # legends, tick labels, text boxes, labels of small panels
    "body": 9,         # axis labels, figure titles of multi-panel figures
    "title": 10,       # axes titles
    "suptitle": 11,    # a figure's overall title
}

RC = {
    "pdf.fonttype": 42,  # TrueType in PDF: no Type 3 fonts
    "ps.fonttype": 42,
    "font.size": FONT_SIZES["body"],
    "axes.titlesize": FONT_SIZES["title"],
    "axes.labelsize": FONT_SIZES["body"],
    "xtick.labelsize": FONT_SIZES["small"],
    "ytick.labelsize": FONT_SIZES["small"],
    "legend.fontsize": FONT_SIZES["small"],
    "legend.title_fontsize": FONT_SIZES["small"],
    "figure.titlesize": FONT_SIZES["suptitle"],
}


def font(role: str) -> float:
    """The font size (points) of a named role: one of :data:`FONT_SIZES`."""
    try:
        return FONT_SIZES[role]
    except KeyError:
        raise ValueError(f"unknown font role {role!r}; known: {', '.join(FONT_SIZES)}") from None


@contextmanager
def figure_style() -> Iterator[None]:
    """Within the block, figures are built and saved with :data:`RC`."""
    with mpl.rc_context(RC):
        yield


def styled(func: Callable) -> Callable:
    """Decorator: run a figure-building function within :func:`figure_style`."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with figure_style():
            return func(*args, **kwargs)
    return wrapper


def apply() -> None:
    """Set :data:`RC` globally (for figures a notebook draws itself)."""
    mpl.rcParams.update(RC)
