"""MidAlign's aggregate columns, computed from the tidy per-language tables of
:mod:`xlnb.midalign.systems`: supervised / transfer averages (Table 2), the standard deviation
of transfer gains (Table 3), the retrieval aggregate (§4.2) and its layer curve (Fig. 4)."""

from __future__ import annotations

from typing import Sequence

import pandas as pd


def language_groups(languages: Sequence[str], supervised: Sequence[str],
                    aligned: Sequence[str]) -> dict[str, list[str]]:
    """Table 2's column groups: ``supervised`` (task training languages), ``transfer`` (all
    others), ``transfer aligned`` (others with alignment pairs) and ``transfer other``."""
    transfer = [x for x in languages if x not in supervised]
    return {"supervised": [x for x in languages if x in supervised],
            "transfer": transfer,
            "transfer aligned": [x for x in transfer if x in aligned],
            "transfer other": [x for x in transfer if x not in aligned]}


def group_means(scores: pd.DataFrame, groups: dict[str, list[str]]) -> pd.DataFrame:
    """Mean of ``value`` over each group's languages, per task, system, metric (and seed
    when present): columns ``task, system, metric, group, value, n_languages``. Empty
    groups are left out."""
    keys = [c for c in ("task", "system", "metric", "seed") if c in scores.columns]
    rows = []
    for name, langs in groups.items():
        part = scores[scores.language.isin(langs)]
        if part.empty:
            continue
        agg = part.groupby(keys, sort=False)["value"].agg(["mean", "count"]).reset_index()
        rows.append(agg.rename(columns={"mean": "value", "count": "n_languages"})
                    .assign(group=name))
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()


def seed_spread(table: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """Mean, standard deviation (ddof=1; NaN with one seed), min and max of ``value`` over
    seeds for each combination of ``keys``."""
    agg = table.groupby(list(keys), sort=False)["value"].agg(["mean", "std", "min", "max",
                                                               "count"])
    return agg.rename(columns={"count": "n_seeds"}).reset_index()


def transfer_gain_sd(scores: pd.DataFrame, transfer: Sequence[str], *, baseline: str = "sft",
                     metric: str = "f1") -> pd.DataFrame:
    """Table 3's "Transfer SD": the standard deviation over transfer languages of each
    system's per-language gain over ``baseline`` (ddof=1; the paper does not say which, we
    take the sample SD), with the mean gain. Columns ``system, metric, mean_gain, sd_gain,
    n_languages``; seeds are averaged first."""
    part = scores[(scores.metric == metric) & scores.language.isin(transfer)]
    per_lang = part.groupby(["system", "language"])["value"].mean().unstack("language")
    if baseline not in per_lang.index:
        raise ValueError(f"baseline system {baseline!r} is not in the scores "
                         f"(systems: {list(per_lang.index)})")
    gains = per_lang.sub(per_lang.loc[baseline], axis=1).drop(index=baseline)
    return pd.DataFrame({"system": gains.index, "metric": metric,
                         "mean_gain": gains.mean(axis=1).values,
                         "sd_gain": gains.std(axis=1, ddof=1).values,
                         "n_languages": gains.notna().sum(axis=1).values})


def retrieval_aggregate(table: pd.DataFrame) -> pd.DataFrame:
    """MidAlign §4.2's single retrieval number per system: accuracy averaged over all
    ordered pairs at even-numbered layers, the embedding layer (index 0) left out. Columns
    ``system, value, n_layers`` (plus ``task`` and ``seed`` when present)."""
    keys = _keys(table, "task", "system", "seed")
    even = table[(table.layer > 0) & (table.layer % 2 == 0)]
    if even.empty:
        raise ValueError("no even-numbered layer above 0 in the retrieval table")
    agg = even.groupby(keys, sort=False).agg(value=("accuracy", "mean"),
                                             n_layers=("layer", "nunique"))
    return agg.reset_index()


def retrieval_curve(table: pd.DataFrame) -> pd.DataFrame:
    """Fig. 4: accuracy per system (and seed) and layer, averaged over ordered pairs."""
    keys = _keys(table, "task", "system", "layer", "seed")
    return table.groupby(keys, sort=False)["accuracy"].mean().reset_index()


def _keys(table: pd.DataFrame, *names: str) -> list[str]:
    """The grouping columns among ``names`` that the table has (system is required)."""
    if "system" not in table.columns:
        raise ValueError(f"the table has no 'system' column: {list(table.columns)}")
    return [n for n in names if n in table.columns]


def pick(table: pd.DataFrame, *, scale: float = 1.0, digits: int = 1, **where) -> float | None:
    """The ``value`` of the one row matching ``where`` (column=value), times ``scale`` and
    rounded; None when no row matches. Raises when several rows match."""
    mask = pd.Series(True, index=table.index)
    for column, value in where.items():
        mask &= table[column] == value
    rows = table[mask]
    if rows.empty:
        return None
    if len(rows) > 1:
        raise ValueError(f"{len(rows)} rows match {where}; add a column to tell them apart")
    return round(float(rows["value"].iloc[0]) * scale, digits)
