"""Layer curves: per-language representations and per-group means of pairwise scores
(MidAlign Fig. 1a; reused by the NeuronXA layer figures)."""

from __future__ import annotations

from typing import Iterable, Mapping

import pandas as pd
import torch

from xlnb.reps import sentence_reps

GROUP_RULES = ("any", "both", "src")


def language_reps(model, tokenizer, texts: Mapping[str, list[str]], **kwargs) -> dict[str, torch.Tensor]:
    """``sentence_reps`` for each language: language -> ``[n_layers + 1, N, d]``.

    texts: language -> line-aligned sentences (e.g. :func:`xlnb.data.load_parallel`);
    kwargs go to :func:`xlnb.reps.sentence_reps` (pooling, layers, batch_size, ...).
    """
    if not texts:
        raise ValueError("texts is empty: give at least one language")
    return {lang: sentence_reps(model, tokenizer, sents, **kwargs) for lang, sents in texts.items()}


def pair_groups(languages: Iterable[str], groups: Mapping[str, Iterable[str]],
                rule: str = "any") -> dict[str, set[tuple[str, str]]]:
    """Which ordered pairs count toward each group's curve.

    MidAlign Fig. 1a shows low-resource languages' alignment without saying how pairs are
    counted; we choose ``any`` (a pair counts when its source or target is in the group), and
    offer ``both`` (both in the group) and ``src`` (the query language is in the group).
    """
    if rule not in GROUP_RULES:
        raise ValueError(f"unknown group rule {rule!r}; use one of {GROUP_RULES}")
    langs = list(languages)
    pairs = [(a, b) for a in langs for b in langs if a != b]
    out = {}
    for name, members in groups.items():
        members = set(members)
        unknown = members - set(langs)
        if unknown:
            raise ValueError(f"group {name!r} has languages not in the data: {sorted(unknown)}")
        test = {"any": lambda a, b: a in members or b in members,
                "both": lambda a, b: a in members and b in members,
                "src": lambda a, b: a in members}[rule]
        out[name] = {(a, b) for a, b in pairs if test(a, b)}
    return out


def group_curves(scores: pd.DataFrame, groups: Mapping[str, set[tuple[str, str]]],
                 value: str = "accuracy") -> pd.DataFrame:
    """Mean of ``value`` per layer over each group's pairs -> columns ``group, layer, value,
    n_pairs``. ``scores`` has one row per layer x ordered pair (``src``, ``tgt``)."""
    frames = []
    for name, pairs in groups.items():
        if not pairs:
            continue
        mask = [(a, b) in pairs for a, b in zip(scores["src"], scores["tgt"])]
        sub = scores[mask].groupby("layer")[value].agg(["mean", "size"]).reset_index()
        sub = sub.rename(columns={"mean": value, "size": "n_pairs"})
        sub.insert(0, "group", name)
        frames.append(sub)
    if not frames:
        raise ValueError("every group is empty")
    return pd.concat(frames, ignore_index=True)
