"""Figures of CL-ICP Fig. 1 (toy gradient alignment) and Fig. 2 (token/sentence cosines,
cosine deviation). One call per figure; nothing is saved here (``xlnb.outputs``)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from xlnb.style import font, styled

__all__ = ["fig1_cases_plot", "eq2_check_plot", "token_heatmaps", "sentence_scatter",
           "deviation_bars"]

_TRAIN, _TARGET = "#1f77b4", "#d62728"


def _draw_case(ax, case: dict, row: pd.Series) -> None:
    """One panel of Fig. 1: p1/p2 axes, the two features, their projections on p1."""
    Q, lam = case["Q"], case["lambdas"]
    for m, style in ((0, "-"), (1, "--")):
        q = Q[:, m]
        ax.plot(*np.c_[-1.5 * q, 1.5 * q], color="0.55", ls=style, lw=1.2)
        ax.annotate(f"$p_{m + 1}$ ($\\lambda_{m + 1}$={lam[m]:g})", 1.5 * q, color="0.3",
                    fontsize=font("small"), ha="center", va="bottom")
    p1 = Q[:, 0]
    for key, color, label in (("x_train", _TRAIN, "$x_{train}$"), ("x_t", _TARGET, "$x_t$")):
        x = case[key]
        ax.annotate("", xy=x, xytext=(0, 0),
                    arrowprops=dict(arrowstyle="-|>", color=color, lw=2))
        ax.annotate(label, x, xytext=(4, 4), textcoords="offset points", color=color)
        foot = (x @ p1) * p1
        ax.plot(*np.c_[x, foot], color=color, ls=":", lw=1)
        ax.plot(*foot, "o", color=color, ms=5)
    r1, r2, g = (0.0 if abs(v) < 1e-12 else v
                 for v in (row.rep_align_1, row.rep_align_2, row.autograd))
    text = (f"RepAlign 1 = {r1:+.3f}\nRepAlign 2 = {r2:+.3f}\n"
            f"$\\langle\\nabla L_{{train}}, \\nabla L_t\\rangle$ = {g:+.3f}")
    ax.text(0.03, 0.03, text, transform=ax.transAxes, fontsize=font("small"), va="bottom",
            bbox=dict(boxstyle="round", fc="white", ec="0.7"))
    ax.set_title(case["title"])
    ax.set_xlim(-1.6, 1.6)
    ax.set_ylim(-1.6, 1.6)
    ax.set_aspect("equal")
    ax.axhline(0, color="0.9", lw=0.8, zorder=0)
    ax.axvline(0, color="0.9", lw=0.8, zorder=0)
    ax.set_xticks([])
    ax.set_yticks([])


@styled
def fig1_cases_plot(cases: dict[str, dict], summary: pd.DataFrame):
    """CL-ICP Fig. 1: the three 2-D cases side by side. ``cases`` from
    :func:`xlnb.clicp.cases.fig1_cases`, ``summary`` from ``fig1_summary``."""
    fig, axes = plt.subplots(1, len(cases), figsize=(4 * len(cases), 4.3))
    for ax, (name, case) in zip(np.atleast_1d(axes), cases.items()):
        _draw_case(ax, case, summary.set_index("case").loc[name])
    fig.suptitle("Gradient alignment set by representation alignment (eq. 2); "
                 "dots: projections on $p_1$", fontsize=font("title"))
    fig.tight_layout()
    return fig


@styled
def eq2_check_plot(checks: pd.DataFrame):
    """Autograd gradient inner product (x) against the eq. 2 decomposition (y), one point
    per random draw, with the identity line."""
    fig, ax = plt.subplots(figsize=(4.2, 4))
    ax.scatter(checks["autograd"], checks["eq2"], s=12, alpha=0.7)
    lim = [min(checks["autograd"].min(), checks["eq2"].min()),
           max(checks["autograd"].max(), checks["eq2"].max())]
    ax.plot(lim, lim, color="0.4", lw=1, ls="--", label="y = x")
    ax.set_xscale("symlog", linthresh=1.0)
    ax.set_yscale("symlog", linthresh=1.0)
    ax.set_xlabel("$\\langle\\nabla L_{train}, \\nabla L_t\\rangle$ (autograd)")
    ax.set_ylabel("eq. 2: $\\gamma\\,\\sum$ RepAlign 1 $\\times$ RepAlign 2")
    ax.set_title(f"{len(checks)} random draws; max |diff| = {checks['abs_diff'].max():.1e}",
                 fontsize=font("body"))
    ax.legend(loc="upper left")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------- Fig. 2
_CJK_FONT_HINTS = ("CJK", "WenQuanYi", "wqy", "DroidSansFallback", "SourceHan", "Unifont")


def _cjk_font() -> str | None:
    """Name of an installed font that draws Han/Hangul/kana, if any: a system font
    (Debian's ``fonts-noto-cjk``) or the Noto Sans CJK shipped by ``mplfonts`` (the
    ``cjk`` extra), which matplotlib only sees once it is registered."""
    from matplotlib import font_manager

    for path in font_manager.findSystemFonts() + _bundled_cjk_fonts():
        if any(h.lower() in path.lower() for h in _CJK_FONT_HINTS):
            font_manager.fontManager.addfont(path)
            return font_manager.FontProperties(fname=path).get_name()
    return None


def _bundled_cjk_fonts() -> list[str]:
    """Font files of the ``mplfonts`` package, found without importing it (its import
    changes matplotlib settings)."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("mplfonts")
    if spec is None or spec.origin is None:
        return []
    return sorted(str(p) for p in (Path(spec.origin).parent / "fonts").glob("NotoSansCJK*"))


def _tick_labels(tokens: list[str], prefix: str, drawable) -> list[str]:
    """Token strings as tick labels; a token the fonts cannot draw shows its position."""
    return [f"{tok.strip() or '␣'}" if drawable(tok) else f"{prefix}{i}"
            for i, tok in enumerate(tokens)]


@styled
def token_heatmaps(panels: list[dict]):
    """Fig. 2(a): one heat map per panel of the cosines among the tokens of a sentence and
    its translation (both stacked), lines separating the languages. The colour range spans
    the off-diagonal values of each panel (raw cosines of LLM states often all exceed 0.9).
    Each panel: dict(title, C [T_s+T_t, T_s+T_t], tokens_s, tokens_t, lang_s, lang_t)."""
    cjk = _cjk_font()
    family = ["DejaVu Sans", cjk] if cjk else ["DejaVu Sans"]

    def drawable(tok):  # DejaVu Sans covers Latin, Greek, Cyrillic, Armenian, Georgian...
        return cjk is not None or all(ord(ch) < 0x0590 or 0x10A0 <= ord(ch) < 0x1100
                                      for ch in tok)

    size = max(p["C"].shape[0] for p in panels)
    side = min(max(4.0, 0.17 * size + 2.0), 9.0)
    fig, axes = plt.subplots(1, len(panels), figsize=(side * len(panels) + 1, side), squeeze=False)
    for ax, p in zip(axes[0], panels):
        ns = len(p["tokens_s"])
        labels = (_tick_labels(p["tokens_s"], f"{p['lang_s']}:", drawable)
                  + _tick_labels(p["tokens_t"], f"{p['lang_t']}:", drawable))
        off = p["C"][~np.eye(len(p["C"]), dtype=bool)]  # the diagonal is 1 by definition
        im = ax.imshow(p["C"], cmap="viridis", vmin=off.min(), vmax=off.max())
        for edge in (ns - 0.5,):
            ax.axhline(edge, color="white", lw=1.5)
            ax.axvline(edge, color="white", lw=1.5)
        step = max(1, len(labels) // 40)
        ticks = range(0, len(labels), step)
        shown = [labels[i] for i in ticks]
        ax.set_xticks(list(ticks), shown, rotation=90, fontsize=font("tiny"), fontfamily=family)
        ax.set_yticks(list(ticks), shown, fontsize=font("tiny"), fontfamily=family)
        ax.set_title(p["title"], fontsize=font("body"))
        fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04,
                     label="cosine (off-diagonal range)")
    fig.tight_layout()
    return fig


def _scatter_panel(ax, part: pd.DataFrame, names: dict) -> None:
    """PCA scatter of one layer: both languages, grey lines joining translations."""
    s = part[part.lang == "src"].set_index("sentence")
    t = part[part.lang == "tgt"].set_index("sentence").loc[s.index]
    ax.plot(np.c_[s.pc1, t.pc1].T, np.c_[s.pc2, t.pc2].T, color="0.8", lw=0.5, zorder=0)
    for lang, color in (("src", _TRAIN), ("tgt", _TARGET)):
        sel = part[part.lang == lang]
        ax.scatter(sel.pc1, sel.pc2, s=9, color=color, label=names[lang], alpha=0.8)
    ax.set_xticks([])
    ax.set_yticks([])


def _cosine_panel(ax, part: pd.DataFrame, lang_s: str, lang_t: str) -> None:
    """Mean pooled cosine of translation vs random same-language pairs by layer."""
    for metric, color, label in (("sentence_cos_translation", _TARGET,
                                  f"{lang_s}-{lang_t} translations"),
                                 ("sentence_cos_random", "0.4", f"{lang_s}-{lang_s} random")):
        m = part[part.metric == metric].sort_values("layer")
        ax.plot(m.layer, m.value, marker="o", ms=3, color=color, label=label)
        ax.fill_between(m.layer, m.ci_low, m.ci_high, color=color, alpha=0.2)
    ax.set_xlabel("layer", fontsize=font("small"))
    ax.set_ylabel("mean cosine (pooled)", fontsize=font("small"))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=font("annotation"))


@styled
def sentence_scatter(points: pd.DataFrame, curves: pd.DataFrame):
    """Fig. 2(b): one row per (model, pair); per chosen layer a PCA scatter (first two
    components of both languages together) of mean-pooled sentence vectors, grey lines
    joining translations, and a last panel with the mean cosine of translation pairs vs
    random same-language pairs by layer.

    points: model, pair ("en-zh"), layer, lang (src/tgt), sentence, pc1, pc2;
    curves: model, pair, layer, metric (sentence_cos_translation / sentence_cos_random),
    value, ci_low, ci_high.
    """
    rows = list(dict.fromkeys(zip(points["model"], points["pair"])))
    layers = sorted(points["layer"].unique())
    fig, axes = plt.subplots(len(rows), len(layers) + 1, squeeze=False,
                             figsize=(3.0 * (len(layers) + 1), 2.9 * len(rows)))
    for r, (model, pair) in enumerate(rows):
        lang_s, lang_t = pair.split("-", 1)
        sel = (points.model == model) & (points.pair == pair)
        for c, layer in enumerate(layers):
            _scatter_panel(axes[r, c], points[sel & (points.layer == layer)],
                           {"src": lang_s, "tgt": lang_t})
            axes[r, c].set_title(f"{model}, {pair}: layer {layer}", fontsize=font("small"))
        axes[r, 0].legend(fontsize=font("annotation"), loc="best")
        _cosine_panel(axes[r, -1], curves[(curves.model == model) & (curves.pair == pair)],
                      lang_s, lang_t)
    fig.tight_layout()
    return fig


@styled
def deviation_bars(table: pd.DataFrame):
    """Cosine deviation (App. B.1; smaller = better aligned) per language pair (x) and model
    (hue), with bootstrap CIs; not Fig. 2(c), which plots it against XQuAD transfer F1 (no
    transfer score here). table: model, pair, value, ci_low, ci_high."""
    pairs = list(dict.fromkeys(table["pair"]))
    models = list(dict.fromkeys(table["model"]))
    width = 0.8 / len(models)
    fig, ax = plt.subplots(figsize=(max(4.5, 1.4 * len(pairs) * max(1, len(models) / 2)), 3.6))
    colors = sns.color_palette("deep", len(models))
    for k, model in enumerate(models):
        part = table[table.model == model].set_index("pair").loc[pairs]
        x = np.arange(len(pairs)) + (k - (len(models) - 1) / 2) * width
        err = np.vstack([part.value - part.ci_low, part.ci_high - part.value])
        ax.bar(x, part.value, width, yerr=err, capsize=3, color=colors[k], label=model)
    ax.axhline(0, color="0.3", lw=0.8)
    ax.set_xticks(np.arange(len(pairs)), pairs)
    ax.set_ylabel("cosine deviation (lower = aligned)")
    ax.set_title("Cosine deviation: top-k token cosine to a random same-language sentence\n"
                 "minus to the translation, averaged over layers", fontsize=font("body"))
    ax.legend()
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig
