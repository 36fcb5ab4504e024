"""Statistics for reporting alignment results: bootstrap confidence intervals over items and
correlations between per-language alignment scores and downstream performance (NeuronXA
sec. 5 / Table 11 and CL-ICP Fig. 2(c) report Pearson and Spearman correlations).
"""

from __future__ import annotations

import numbers

import numpy as np
import torch
from scipy import stats as sps

from xlnb.metrics._checks import as_float_array, check_choice, check_int

__all__ = ["bootstrap_ci", "bootstrap_item_means", "correlation"]

# Upper bound on resampled values held in memory at once (float64: 8 bytes each).
_MAX_CHUNK_VALUES = 4_000_000


def _apply_stat(stat, samples: np.ndarray) -> np.ndarray:
    """stat over the last axis of ``samples: [B, n]`` -> [B], with a clear error otherwise."""
    out = np.asarray(stat(samples, axis=-1), dtype=np.float64)
    if out.shape != samples.shape[:1]:
        raise TypeError(
            f"stat must reduce over `axis` (called as stat(a, axis=-1) on shape {samples.shape}) "
            f"and return shape {samples.shape[:1]}, got {out.shape}"
        )
    return out


def _check_alpha(alpha) -> None:
    if not isinstance(alpha, numbers.Real) or isinstance(alpha, bool) or not 0 < alpha < 1:
        raise ValueError(f"alpha must be a number in (0, 1), got {alpha!r}")


def bootstrap_ci(per_item_scores, *, n_boot: int = 1000, alpha: float = 0.05, seed: int = 0,
                 stat=np.mean) -> tuple[float, float, float]:
    """Percentile bootstrap over items: ``(estimate, low, high)``.

    per_item_scores: [n] one score per item (e.g. the 0/1 indicator of eq. 4 per sentence,
    or per-example accuracy), n >= 2. ``estimate = stat(scores)``; ``low``/``high`` are the
    ``alpha/2`` and ``1 - alpha/2`` quantiles of ``stat`` over ``n_boot`` resamples of the n
    items with replacement. ``stat`` must accept ``axis=`` like ``np.mean``/``np.median``.
    Resampling is vectorised (one index matrix per chunk) and reproducible given ``seed``.
    """
    x = as_float_array(per_item_scores, "per_item_scores", ndim=1)
    if x.size < 2:
        raise ValueError(f"per_item_scores needs at least 2 items, got {x.size}")
    n_boot = check_int(n_boot, "n_boot", minimum=1)
    seed = check_int(seed, "seed")
    _check_alpha(alpha)
    if not callable(stat):
        raise TypeError(f"stat must be callable, got {stat!r}")
    rng = np.random.default_rng(seed)
    chunk = max(1, _MAX_CHUNK_VALUES // x.size)
    boots = []
    for start in range(0, n_boot, chunk):
        idx = rng.integers(0, x.size, size=(min(chunk, n_boot - start), x.size))
        boots.append(_apply_stat(stat, x[idx]))
    boot = np.concatenate(boots)
    estimate = float(_apply_stat(stat, x[None, :])[0])
    low, high = np.quantile(boot, [alpha / 2, 1 - alpha / 2])
    return estimate, float(low), float(high)


def bootstrap_item_means(values, statistic=None, *, n_boot: int = 1000, alpha: float = 0.05,
                         seed: int = 0, max_values: int = 2**25):
    """Percentile bootstrap of a statistic of per-item means, one resample for everything.

    values: ``[..., n]`` scores of the same n items (e.g. 0/1 retrieval hits of n sentences
    for every layer and language pair), n >= 2. Each of ``n_boot`` resamples draws n items
    with replacement, the same draw for every leading entry, and averages them:
    ``[B, ...]``; ``statistic`` maps that to ``[B, ...]`` (default: unchanged). Sharing
    the draw matters when the statistic mixes entries, e.g. the best layer of a language
    (NeuronXA Table 1, max pooling) or a group mean over pairs. Returns ``(estimate, low,
    high)``: float64 arrays of the statistic's shape, from the full sample and the
    ``alpha/2``, ``1 - alpha/2`` quantiles. At most ``max_values`` resampled scores are held
    at once.
    """
    x = torch.as_tensor(values, dtype=torch.float64)
    if x.dim() < 1 or x.shape[-1] < 2:
        raise ValueError(f"values must be [..., n] with n >= 2 items, got {tuple(x.shape)}")
    if not torch.isfinite(x).all():
        raise ValueError("values contain NaN or infinite entries")
    n_boot = check_int(n_boot, "n_boot", minimum=1)
    _check_alpha(alpha)
    statistic = statistic or (lambda means: means)
    rng = np.random.default_rng(check_int(seed, "seed"))
    n = x.shape[-1]
    chunk = max(1, max_values // x.numel())
    boots = []
    for start in range(0, n_boot, chunk):
        idx = torch.from_numpy(rng.integers(0, n, size=(min(chunk, n_boot - start), n)))
        boots.append(statistic(x[..., idx].mean(dim=-1).movedim(-1, 0)))  # [B, ...]
    boot = torch.cat(boots).numpy()
    estimate = statistic(x.mean(dim=-1)[None])[0].numpy()
    low, high = np.quantile(boot, [alpha / 2, 1 - alpha / 2], axis=0)
    return estimate, low, high


def correlation(x, y, method: str = "pearson") -> tuple[float, float]:
    """Correlation coefficient and two-sided p-value ``(r, p)`` via scipy.stats.

    x, y: [n] paired values (e.g. alignment score and benchmark accuracy per language),
    n >= 3. method: ``"pearson"`` (linear) or ``"spearman"`` (rank). Raises ValueError for
    fewer than 3 points, mismatched lengths, non-finite or constant input.
    """
    check_choice(method, "method", ("pearson", "spearman"))
    a = as_float_array(x, "x", ndim=1)
    b = as_float_array(y, "y", ndim=1)
    if a.size != b.size:
        raise ValueError(f"x and y must have the same length, got {a.size} and {b.size}")
    if a.size < 3:
        raise ValueError(f"correlation needs at least 3 points, got {a.size}")
    for name, arr in (("x", a), ("y", b)):
        if np.all(arr == arr[0]):
            raise ValueError(f"{name} is constant (all values {arr[0]!r}); correlation undefined")
    res = sps.pearsonr(a, b) if method == "pearson" else sps.spearmanr(a, b)
    return float(res[0]), float(res[1])
