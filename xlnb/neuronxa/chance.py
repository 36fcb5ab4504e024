"""How far a NeuronXA score is from chance (NeuronXA App. E, eq. 5).

:func:`xlnb.metrics.chance_probability` gives ``P(X >= k)`` for ``X ~ Binomial(n, 1/(2n-1))``,
the number of diagonal entries of a random ``n x n`` matrix that beat every other entry of
their row and column. This module tabulates it over ``n`` and ``k``, finds the smallest
``k`` that chance rarely reaches, compares observed scores with it, and simulates the score
of random representations to check the binomial model.

Eq. 5 is the chance of one matrix's score: it applies to the score of one layer, not to a
mean over layers. :func:`observed_vs_chance` is therefore applied per layer, and
:func:`layer_summary` says per language how many layers clear the critical k. A test of
the layer mean would need the joint law of the L layer scores of the same sentences,
which are far from independent; the simple valid alternative used here is Bonferroni: a
language is above chance at level alpha when its best layer's p-value is below alpha / L.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from xlnb.metrics import chance_probability, mutual_nn_score
from xlnb.style import styled

__all__ = ["chance_grid", "critical_k", "observed_vs_chance", "layer_summary",
           "simulate_random_scores", "unpaired_scores", "chance_figure"]


def chance_grid(ns, ks=None) -> pd.DataFrame:
    """``P(X >= k)`` for every ``n`` in ``ns`` and ``k`` in ``ks`` (default ``0..n``).

    Returns columns ``n, k, score, p`` with ``score = k / n`` (the eq. 4 score that ``k``
    aligned pairs give); pairs with ``k > n`` are skipped.
    """
    rows = []
    for n in ns:
        for k in (range(int(n) + 1) if ks is None else ks):
            if k <= n:
                rows.append((n, k, k / n, chance_probability(n, k)))
    if not rows:
        raise ValueError(f"no (n, k) pair with k <= n in ns={list(ns)}, ks={ks}")
    return pd.DataFrame(rows, columns=["n", "k", "score", "p"])


def critical_k(n: int, alpha: float = 0.05) -> int:
    """Smallest ``k`` with ``P(X >= k) < alpha``: a score of ``k / n`` or more is unlikely by
    chance at level ``alpha``. For ``n = 100``: 3 at 0.05 and 5 at 0.001."""
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    for k in range(n + 1):
        if chance_probability(n, k) < alpha:
            return k
    raise ValueError(f"no k <= n = {n} has chance probability below {alpha}")


def observed_vs_chance(scores: pd.DataFrame, n: int, alphas=(0.05, 0.001)) -> pd.DataFrame:
    """Observed scores against the chance level of ``n`` parallel sentences.

    scores: a table with a ``value`` column of eq. 4 scores in [0, 1], each the score of one
    n x n matrix (per language and layer: eq. 5 does not apply to a mean over layers). Adds
    ``k = round(value * n)`` (aligned pairs), ``p_chance = P(X >= k)``, and per alpha the
    critical k and whether the score clears it (``above_0.05``...).
    """
    if "value" not in scores:
        raise ValueError(f"scores needs a 'value' column, got {list(scores.columns)}")
    values = scores["value"].to_numpy(dtype=float)
    if not np.all((values >= 0) & (values <= 1)):
        raise ValueError(f"scores must lie in [0, 1], got {values.min()}..{values.max()}")
    out = scores.copy()
    out["n"] = n
    out["k"] = np.rint(values * n).astype(int)
    out["p_chance"] = [chance_probability(n, int(k)) for k in out["k"]]
    for alpha in alphas:
        out[f"k_crit_{alpha:g}"] = critical_k(n, alpha)
        out[f"above_{alpha:g}"] = out["k"] >= out[f"k_crit_{alpha:g}"]
    return out


def layer_summary(observed: pd.DataFrame, alphas=(0.05, 0.001),
                  by=("model", "lang")) -> pd.DataFrame:
    """Per language, eq. 5 over its layers: ``n_layers``, ``best_layer``, ``best_k``,
    ``min_p``, ``median_k`` and per alpha ``layers_above_<alpha>`` (how many layers clear
    the critical k) and ``bonferroni_<alpha>`` (``min_p < alpha / n_layers``: above chance
    at level alpha once the L layers tried are accounted for).

    observed: :func:`observed_vs_chance` per layer (columns ``layer``, ``k``, ``p_chance``
    and the ``above_*`` flags, plus ``by``).
    """
    keys = [c for c in by if c in observed.columns]
    rows = []
    for key, part in observed.groupby(keys, sort=False):
        best = part.loc[part["p_chance"].idxmin()]
        row = dict(zip(keys, key if isinstance(key, tuple) else (key,)),
                   n_layers=len(part), best_layer=best["layer"], best_k=int(best["k"]),
                   min_p=float(best["p_chance"]), median_k=float(part["k"].median()))
        for alpha in alphas:
            row[f"layers_above_{alpha:g}"] = int(part[f"above_{alpha:g}"].sum())
            row[f"bonferroni_{alpha:g}"] = bool(row["min_p"] < alpha / len(part))
        rows.append(row)
    return pd.DataFrame(rows)


def simulate_random_scores(n: int, d: int, *, trials: int = 200, kind: str = "gaussian",
                           seed: int = 0) -> np.ndarray:
    """Eq. 4 scores of ``trials`` pairs of random, unrelated representations ``[n, d]``.

    kind: ``gaussian`` (standard normal entries, like hidden states or NAV) or ``binary``
    (fair 0/1 entries, like un-pooled NAS states). Under the model of App. E the mean is
    ``1 / (2n - 1)``. Returns float64 ``[trials]``.
    """
    if kind not in ("gaussian", "binary"):
        raise ValueError(f"unknown kind {kind!r}; use 'gaussian' or 'binary'")
    if n < 2 or d < 1 or trials < 1:
        raise ValueError(f"need n >= 2, d >= 1, trials >= 1; got {n}, {d}, {trials}")
    rng = np.random.default_rng(seed)
    draw = ((lambda: rng.standard_normal((n, d))) if kind == "gaussian"
            else (lambda: rng.integers(0, 2, (n, d)).astype(float)))
    return np.array([mutual_nn_score(draw(), draw()) for _ in range(trials)])


def unpaired_scores(src, tgt, *, trials: int = 100, seed: int = 0) -> np.ndarray:
    """Eq. 4 scores of real representations of sentences that are NOT translations.

    src, tgt: [N, d] line-aligned (N >= 4). Each trial splits the N rows at random into two
    halves A and B and scores ``src[A]`` against ``tgt[B]``: an ``m x m`` matrix, m = N // 2,
    in which no row's translation is present, so only chance and the geometry of the space
    (hubs, anisotropy) remain; the App. E mean is ``1 / (2m - 1)``. (Merely permuting the
    rows would leave each true translation in the matrix, off the diagonal, and push the
    score below chance.) Returns float64 ``[trials]``.
    """
    a = np.asarray(src.numpy() if hasattr(src, "numpy") else src, dtype=np.float64)
    b = np.asarray(tgt.numpy() if hasattr(tgt, "numpy") else tgt, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 2 or a.shape[0] < 4:
        raise ValueError(f"src and tgt must share a shape [N >= 4, d], got {a.shape}, {b.shape}")
    rng = np.random.default_rng(seed)
    m = len(a) // 2
    out = []
    for _ in range(trials):
        perm = rng.permutation(len(a))
        out.append(mutual_nn_score(a[perm[:m]], b[perm[m:2 * m]]))
    return np.array(out)


@styled
def chance_figure(grid: pd.DataFrame, observed: pd.DataFrame, simulated=None,
                  alphas=(0.05, 0.001)):
    """Two panels: (a) ``P(X >= k)`` against ``k`` per ``n`` on a log scale with the alpha
    lines; (b) observed aligned pairs ``k`` of every layer (one dot each) per language
    against the critical ``k`` of its ``n`` (and, when given, the 99th percentile of
    ``simulated`` random scores x n, scores of ``n x n`` matrices).
    grid: :func:`chance_grid`; observed: :func:`observed_vs_chance` with a ``lang`` column
    (one row per layer, or one per language). Returns the matplotlib Figure."""
    import matplotlib.pyplot as plt

    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 3.8), gridspec_kw={"width_ratios": [1, 1.4]})
    for n, part in grid.groupby("n"):
        part = part[part.p > 1e-12]
        ax.semilogy(part.k, part.p, marker=".", label=f"n = {n}")
    for alpha, style in zip(alphas, ("--", ":")):
        ax.axhline(alpha, color="grey", ls=style, lw=1, label=f"p = {alpha:g}")
    ax.set(xlabel="aligned pairs k", ylabel="P(X ≥ k) by chance", title="(a) chance level, eq. 5",
           xlim=(0, 12))
    ax.legend()
    ax.grid(alpha=0.3)
    n = int(observed["n"].iloc[0])
    order = observed.groupby("lang")["k"].median().sort_values().index.tolist()
    x = {lang: i for i, lang in enumerate(order)}
    jitter = np.random.default_rng(0).uniform(-0.2, 0.2, size=len(observed))
    bx.scatter([x[lang] for lang in observed["lang"]] + jitter, observed["k"], s=10,
               color="tab:blue", alpha=0.6, label="observed k = score × n, one dot per layer")
    bx.set_xticks(range(len(order)), order)
    for alpha, style in zip(alphas, ("--", ":")):
        bx.axhline(critical_k(n, alpha), color="tab:red", ls=style, lw=1.2,
                   label=f"critical k, p < {alpha:g}")
    if simulated is not None:
        bx.axhline(np.quantile(simulated, 0.99) * n, color="black", lw=1,
                   label="random reps, 99th pct")
    bx.set(ylabel=f"aligned pairs (of n = {n})", title="(b) observed score per layer vs chance")
    bx.legend(loc="upper left")
    bx.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    return fig


def appE_headlines(summary: pd.DataFrame, checks: pd.DataFrame, *, alphas=(0.05, 0.001),
                   data_label: str) -> list[dict]:
    """Headline rows of App. E (:func:`xlnb.outputs.save_headlines`): the paper's example
    recomputed, per model the number of languages above chance (Bonferroni over layers, the
    strictest alpha) and the share of (language, layer) scores above the critical k, and
    the random-vector control against 1 / (2n - 1). The paper reports per-language scores
    only through its correlations, so those rows have no paper value."""
    from xlnb.metrics import chance_probability

    alpha = min(alphas)
    rows = [dict(quantity="App. E P(X ≥ 5), n = 100", paper=0.00016,
                 ours=float(f"{chance_probability(100, 5):.2g}"), model="-", data="eq. 5")]
    for model, part in summary.groupby("model", sort=False):
        rows.append(dict(quantity=f"languages above chance (p < {alpha:g} / L layers)",
                         paper=None, ours=f"{int(part[f'bonferroni_{alpha:g}'].sum())} of {len(part)}",
                         model=model, data=data_label))
        share = part[f"layers_above_{alpha:g}"].sum() / part["n_layers"].sum()
        rows.append(dict(quantity=f"share of (language, layer) scores above critical k (p < {alpha:g})",
                         paper=None, ours=round(float(share), 3), model=model, data=data_label))
    gauss = checks[checks.control == "gaussian"]
    for rec in gauss.itertuples():
        rows.append(dict(quantity="random Gaussian vectors: mean score (theory 1 / (2n − 1))",
                         paper=round(rec.chance_mean, 4), ours=round(rec.mean_score, 4),
                         model=rec.model, data=f"simulation, n = {rec.n}"))
    return rows
