"""How far a NeuronXA score is from chance (NeuronXA App. E, eq. 5).

:func:`xlnb.metrics.chance_probability` gives ``P(X >= k)`` for ``X ~ Binomial(n, 1/(2n-1))``,
the number of diagonal entries of a random ``n x n`` matrix that beat every other entry of
their row and column. This module tabulates it over ``n`` and ``k``, finds the smallest
``k`` that chance rarely reaches, compares observed scores with it, and simulates the score
of random representations to check the binomial model.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from xlnb.metrics import chance_probability, mutual_nn_score

__all__ = ["chance_grid", "critical_k", "observed_vs_chance", "simulate_random_scores",
           "unpaired_scores", "chance_figure"]


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

    scores: a table with a ``value`` column of eq. 4 scores in [0, 1] (per language, or per
    language and layer). Adds ``k = round(value * n)`` (aligned pairs; a layer mean is
    rounded), ``p_chance = P(X >= k)``, and per alpha the critical k and whether the score
    clears it (``above_0.05``...).
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


def chance_figure(grid: pd.DataFrame, observed: pd.DataFrame, simulated=None,
                  alphas=(0.05, 0.001)):
    """Two panels: (a) ``P(X >= k)`` against ``k`` per ``n`` on a log scale with the alpha
    lines; (b) observed aligned pairs ``k`` per language against the critical ``k`` of its
    ``n`` (and, when given, the 99th percentile of ``simulated`` random scores x n, scores
    of ``n x n`` matrices).
    grid: :func:`chance_grid`; observed: :func:`observed_vs_chance` with a ``lang`` column.
    Returns the matplotlib Figure."""
    import matplotlib.pyplot as plt

    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 3.8), gridspec_kw={"width_ratios": [1, 1.4]})
    for n, part in grid.groupby("n"):
        part = part[part.p > 1e-12]
        ax.semilogy(part.k, part.p, marker=".", label=f"n = {n}")
    for alpha, style in zip(alphas, ("--", ":")):
        ax.axhline(alpha, color="grey", ls=style, lw=1, label=f"p = {alpha:g}")
    ax.set(xlabel="aligned pairs k", ylabel="P(X ≥ k) by chance", title="(a) chance level, eq. 5",
           xlim=(0, 12))
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    obs = observed.sort_values("k")
    n = int(obs["n"].iloc[0])
    bx.bar(obs["lang"], obs["k"], color="tab:blue", label="observed k = score × n")
    for alpha, style in zip(alphas, ("--", ":")):
        bx.axhline(critical_k(n, alpha), color="tab:red", ls=style, lw=1.2,
                   label=f"critical k, p < {alpha:g}")
    if simulated is not None:
        bx.axhline(np.quantile(simulated, 0.99) * n, color="black", lw=1,
                   label="random reps, 99th pct")
    bx.set(ylabel=f"aligned pairs (of n = {n})", title="(b) observed score vs chance")
    bx.legend(fontsize=8, loc="upper left")
    bx.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    return fig
