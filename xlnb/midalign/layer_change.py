"""Does fine-tuning change alignment? Retrieval accuracy by layer per system with intervals,
and each system's per-layer change against the base model (MidAlign §2, Fig. 3: "task-specific
fine-tuning shows minimal impact on semantic alignment").

Input: the per-pair retrieval table of :func:`xlnb.midalign.systems.retrieval` (columns
``system, layer, src, tgt, accuracy``, plus ``seed`` / ``task``). Seeds are averaged per
ordered pair first. Intervals are percentile bootstraps over the ordered language pairs (the
paper draws no intervals; resampling pairs is our choice, and it shows how much the mean
depends on which pairs were measured, not sentence-level noise).
"""

from __future__ import annotations

import pandas as pd

from xlnb.metrics.stats import bootstrap_ci

PAIR = ["src", "tgt"]


def _per_pair(retrieval: pd.DataFrame) -> pd.DataFrame:
    missing = {"system", "layer", "src", "tgt", "accuracy"} - set(retrieval.columns)
    if missing:
        raise ValueError(f"the retrieval table lacks columns {sorted(missing)}")
    return retrieval.groupby(["system", "layer"] + PAIR, sort=False)["accuracy"].mean().reset_index()


def curve_intervals(retrieval: pd.DataFrame, *, n_boot: int = 1000, alpha: float = 0.05,
                    seed: int = 0) -> pd.DataFrame:
    """Fig. 3's curves: per system and layer the mean accuracy over ordered pairs with a
    bootstrap interval over pairs. Columns ``system, layer, accuracy, ci_low, ci_high,
    n_pairs``."""
    rows = []
    for (system, layer), part in _per_pair(retrieval).groupby(["system", "layer"], sort=False):
        est, low, high = bootstrap_ci(part.accuracy.to_numpy(), n_boot=n_boot, alpha=alpha,
                                      seed=seed)
        rows.append(dict(system=system, layer=layer, accuracy=est, ci_low=low, ci_high=high,
                         n_pairs=len(part)))
    return pd.DataFrame(rows)


def change_from_base(retrieval: pd.DataFrame, *, baseline: str = "base", n_boot: int = 1000,
                     alpha: float = 0.05, seed: int = 0) -> pd.DataFrame:
    """Per system (other than ``baseline``) and layer: the mean over ordered pairs of the
    paired difference ``accuracy(system) - accuracy(baseline)``, with a bootstrap interval
    over pairs. Columns ``system, layer, change, ci_low, ci_high, n_pairs``. Raises when the
    baseline is missing or a system lacks a (layer, pair) the baseline has."""
    per_pair = _per_pair(retrieval)
    if baseline not in set(per_pair.system):
        raise ValueError(f"baseline system {baseline!r} is not in the table "
                         f"(systems: {sorted(set(per_pair.system))})")
    base = per_pair[per_pair.system == baseline].drop(columns="system")
    rows = []
    for system in dict.fromkeys(per_pair.system):
        if system == baseline:
            continue
        both = base.merge(per_pair[per_pair.system == system], on=["layer"] + PAIR,
                          how="left", suffixes=("_base", ""))
        if both.accuracy.isna().any():
            raise ValueError(f"system {system!r} lacks layers or pairs the baseline has")
        for layer, part in both.groupby("layer", sort=True):
            diff = (part.accuracy - part.accuracy_base).to_numpy()
            est, low, high = bootstrap_ci(diff, n_boot=n_boot, alpha=alpha, seed=seed)
            rows.append(dict(system=system, layer=layer, change=est, ci_low=low, ci_high=high,
                             n_pairs=len(part)))
    return pd.DataFrame(rows)


def largest_change(changes: pd.DataFrame, system: str) -> pd.Series:
    """The row of ``change_from_base`` with the largest absolute change for ``system``."""
    part = changes[changes.system == system]
    if part.empty:
        raise ValueError(f"no rows for system {system!r} (systems: {sorted(set(changes.system))})")
    return part.loc[part.change.abs().idxmax()]
