"""Resource level of the alignment languages (MidAlign §6.1, Table 4).

SFT + alignment is trained three times, aligning a low- ({cy, ja, jv, sw, tl}, Table 2's
set), medium- ({el, hi, th, tr}) or high-resource group ({ar, es, ru, zh}, which also have
task training data in the paper) to English with Tatoeba pairs, and compared with SFT on
supervised F1, transfer F1 and the F1 gain on the group's own languages ("Gain on Aligned
(4/5 lang.)"). Each group is one :func:`xlnb.midalign.experiment.task_setup`; the SFT
adapter does not depend on the alignment pairs, so it is trained (or reused) once.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import pandas as pd

from xlnb.midalign.tables import language_groups

GROUP_ORDER = ("low", "medium", "high")


def group_system(group: str) -> str:
    """The system name of SFT + alignment with ``group``: ``sft+align (low)``."""
    return f"sft+align ({group})"


def check_groups(groups: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    """``groups`` as name -> list of non-English codes; ValueError naming a bad entry."""
    if not isinstance(groups, Mapping) or not groups:
        raise ValueError(f"groups must be a non-empty mapping name -> languages, got {groups!r}")
    out = {}
    for name, langs in groups.items():
        if isinstance(langs, str) or not langs or "en" in langs:
            raise ValueError(f"group {name!r}: languages must be a non-empty list of "
                             f"non-English codes, got {langs!r}")
        out[str(name)] = list(langs)
    return out


def run_groups(model_name: str, base_config, setups: Mapping[str, dict], *, seeds,
               texts=None, **run_kwargs):
    """SFT once and SFT + alignment for every group: ``(scores, outputs, retrieval)`` as
    :func:`xlnb.midalign.experiment.run_systems` with systems ``sft`` and
    :func:`group_system` names and a ``group`` column (``none`` for SFT).

    setups: group -> ``{"slot_filling": task_setup(...)}`` with that group's alignment pairs
    and the same task data (so SFT, trained on the first group's setup, is every group's)."""
    from xlnb.midalign.experiment import run_systems
    from xlnb.midalign.systems import system_configs

    if not setups:
        raise ValueError("setups is empty: give at least one group")
    configs = system_configs(base_config, ["sft", "sft+align"])
    frames = [run_systems(model_name, {"sft": configs["sft"]}, next(iter(setups.values())),
                          seeds=seeds, texts=texts, **run_kwargs)]
    frames[0] = tuple(f.assign(group="none") for f in frames[0])
    for group, setup in setups.items():
        got = run_systems(model_name, {group_system(group): configs["sft+align"]}, setup,
                          seeds=seeds, texts=texts, **run_kwargs)
        frames.append(tuple(f.assign(group=group) for f in got))
    return tuple(pd.concat([f[i] for f in frames], ignore_index=True) for i in range(3))


def table4(scores: pd.DataFrame, groups: Mapping[str, Sequence[str]], *,
           supervised: Sequence[str], metric: str = "f1", baseline: str = "sft") -> pd.DataFrame:
    """Table 4 from per-language scores (mean over seeds first): one row per system with
    ``supervised`` and ``transfer`` mean F1 (transfer = every tested language outside
    ``supervised``), ``aligned_gain``: the mean over the group's *tested* transfer languages
    of the system's F1 minus the ``baseline``'s (NaN when none of them is tested), and
    ``aligned_tested`` / ``aligned_total``: how many of the group's languages that covers
    (the paper: 4 or 5 of 4 or 5; offline MASSIVE tests only en, de, sw)."""
    part = scores[scores.metric == metric]
    per_lang = part.groupby(["system", "language"])["value"].mean().unstack("language")
    if baseline not in per_lang.index:
        raise ValueError(f"baseline system {baseline!r} is not in the scores "
                         f"(systems: {list(per_lang.index)})")
    split = language_groups(list(per_lang.columns), supervised, [])
    rows = []
    for system, values in per_lang.iterrows():
        group = next((g for g in groups if group_system(g) == system), None)
        aligned = list(groups[group]) if group else []
        tested = [x for x in aligned if x in split["transfer"] and pd.notna(values.get(x))]
        gain = ((values[tested] - per_lang.loc[baseline, tested]).mean() if tested
                else float("nan"))
        rows.append(dict(system=system, group=group or "none", metric=metric,
                         supervised=values[split["supervised"]].mean(),
                         transfer=values[split["transfer"]].mean(),
                         aligned_gain=gain if group else float("nan"),
                         aligned_tested="/".join(tested), aligned_total=len(aligned)))
    order = {baseline: -1, **{group_system(g): i for i, g in enumerate(groups)}}
    return (pd.DataFrame(rows).assign(_o=lambda d: d.system.map(order))
            .sort_values("_o").drop(columns="_o").reset_index(drop=True))


def to_english(retrieval: pd.DataFrame, layer: int, languages: Sequence[str]) -> pd.DataFrame:
    """Retrieval accuracy of each language to English at representation index ``layer``
    per system (mean over seeds): columns ``group, system, language, accuracy`` — whether
    the group's alignment reached its own languages' representations."""
    part = retrieval[(retrieval.layer == layer) & (retrieval.tgt == "en")
                     & retrieval.src.isin(languages)]
    if part.empty:
        raise ValueError(f"no retrieval to English at layer {layer} for {list(languages)}")
    keys = [c for c in ("group", "system") if c in part.columns] + ["src"]
    out = part.groupby(keys, sort=False)["accuracy"].mean().reset_index()
    return out.rename(columns={"src": "language"})
