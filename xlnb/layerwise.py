"""Layer curves: per-language representations and per-group means of pairwise retrieval
with bootstrap intervals (MidAlign Fig. 1a; reused by the NeuronXA layer figures)."""

from __future__ import annotations

from functools import partial
from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
import torch

from xlnb.metrics._checks import layer_labels
from xlnb.metrics.stats import bootstrap_item_means
from xlnb.reps import neuron_states, sentence_reps

GROUP_RULES = ("any", "both", "src")
KINDS = ("hidden", "nas", "nav")


def language_reps(model, tokenizer, texts: Mapping[str, list[str]], *, kind: str = "hidden",
                  **kwargs) -> dict:
    """Representations per language: language -> ``[layers, N, width]``.

    kind: ``hidden`` -> :func:`xlnb.reps.sentence_reps` (representation index 0 =
    embeddings, i = output of block i); ``nas`` / ``nav`` -> :func:`xlnb.reps.neuron_states`
    (the FFN neurons of block i, blocks numbered 1..n, so by default row r is block r + 1).
    texts: language -> line-aligned sentences (:func:`xlnb.data.load_parallel`); kwargs go
    to the extraction function (pooling, layers, batch_size, ``lazy=True`` for handles that
    read layers from the disk cache on demand, ...).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown representation kind {kind!r}; use one of {KINDS}")
    if not texts:
        raise ValueError("texts is empty: give at least one language")
    extract = sentence_reps if kind == "hidden" else partial(neuron_states, kind=kind)
    return {lang: extract(model, tokenizer, sents, **kwargs) for lang, sents in texts.items()}


def bitext_reps(model, tokenizer, bitexts: Mapping[str, Mapping[str, list[str]]], *,
                kind: str = "hidden", **kwargs) -> dict[str, dict]:
    """:func:`language_reps` of each bitext: language -> ``{pivot: reps, language: reps}``.

    bitexts: :func:`xlnb.data.load_bitexts` output. A pivot side shared by several
    languages (FLORES, the micro set) is extracted once and then read from the cache.
    """
    if not bitexts:
        raise ValueError("bitexts is empty: give at least one language")
    return {lang: language_reps(model, tokenizer, pair, kind=kind, **kwargs)
            for lang, pair in bitexts.items()}


def pair_groups(languages: Iterable[str], groups: Mapping[str, Iterable[str]],
                rule: str = "src") -> dict[str, set[tuple[str, str]]]:
    """Which ordered pairs count toward each group's curve.

    MidAlign Fig. 1a shows low-resource languages' alignment without saying how pairs are
    counted; we choose ``src`` (a pair counts when its query language is in the group), and
    offer ``any`` (its source or target is in the group) and ``both`` (both are).
    """
    if rule not in GROUP_RULES:
        raise ValueError(f"unknown group rule {rule!r}; use one of {GROUP_RULES}")
    langs = list(languages)
    rules = {"any": lambda a, b, m: a in m or b in m, "both": lambda a, b, m: a in m and b in m,
             "src": lambda a, b, m: a in m}
    out = {}
    for name, members in groups.items():
        members = set(members)
        unknown = members - set(langs)
        if unknown:
            raise ValueError(f"group {name!r} has languages not in the data: {sorted(unknown)}")
        out[name] = {(a, b) for a in langs for b in langs
                     if a != b and rules[rule](a, b, members)}
    return out


def group_curves(pairs: Sequence[tuple[str, str]], hits: torch.Tensor,
                 groups: Mapping[str, set[tuple[str, str]]], *, layers=None,
                 n_boot: int = 1000, alpha: float = 0.05, seed: int = 0) -> pd.DataFrame:
    """Mean retrieval accuracy per layer over each group's pairs, with a bootstrap interval.

    pairs, hits: from :func:`xlnb.metrics.all_pairs_hits` (``hits: [L, P, N]``). The
    interval resamples sentences (each sentence's score is its mean hit over the group's
    pairs; the candidate pool stays fixed), since with ~100 sentences the sentence sample is
    the main source of chance variation; one resample serves every layer and group.
    Columns ``group, layer, accuracy, ci_low, ci_high, n_pairs``; empty groups are left out.
    """
    labels = layer_labels(layers, hits.shape[0])
    index = {pair: i for i, pair in enumerate(pairs)}
    cols = {name: [index[p] for p in sorted(members) if p in index]
            for name, members in groups.items()}
    cols = {name: c for name, c in cols.items() if c}
    if not cols:
        raise ValueError("every group is empty")
    # each sentence's mean hit over a group's pairs: the group mean is linear in them
    per_sentence = torch.stack([hits[:, c].double().mean(dim=1) for c in cols.values()], 1)
    est, low, high = bootstrap_item_means(per_sentence, n_boot=n_boot, alpha=alpha,
                                          seed=seed)  # [L, groups]
    rows = [(name, label, est[li, gi], low[li, gi], high[li, gi], len(c))
            for gi, (name, c) in enumerate(cols.items()) for li, label in enumerate(labels)]
    return pd.DataFrame(rows, columns=["group", "layer", "accuracy", "ci_low", "ci_high",
                                       "n_pairs"])


def peak_layers(curves: pd.DataFrame, value: str = "accuracy",
                by: Sequence[str] = ("model", "group")) -> pd.DataFrame:
    """The row of each curve at its highest ``value`` (where a curve peaks)."""
    keys = [c for c in by if c in curves.columns]
    best = curves.groupby(keys)[value].idxmax() if keys else [curves[value].idxmax()]
    return curves.loc[np.asarray(best)].reset_index(drop=True)


def fig1a_headlines(curves: pd.DataFrame, *, data_label: str, value: str = "value",
                    low: str = "low-resource", total: str = "all pairs") -> list[dict]:
    """Headline rows of MidAlign Fig. 1a (:func:`xlnb.outputs.save_headlines`): per model the
    peak layer and accuracy of the all-pairs curve and the low-resource curve at that layer
    as a share of it. The paper reads them off its figure: a peak in the middle (layer 16
    of 32 for Llama 3 8B), below 50 % on average, low-resource below half the average.

    curves: columns ``model, group, layer, <value>`` (representation indices, 0 = embeddings).
    """
    rows = []
    for model, part in curves.groupby("model", sort=False):
        every = part[part.group == total].set_index("layer")[value]
        peak, top = int(every.idxmax()), int(every.index.max())
        rows += [dict(quantity="Fig. 1a peak layer (all pairs)", paper="16 of 32 (Llama 3 8B)",
                      ours=f"{peak} of {top}", model=model, data=data_label),
                 dict(quantity="Fig. 1a peak accuracy, all pairs (%)", paper="< 50",
                      ours=round(100 * float(every[peak]), 1), model=model, data=data_label)]
        lows = part[part.group == low].set_index("layer")[value]
        if peak in lows.index and every[peak] > 0:
            rows.append(dict(quantity="Fig. 1a low-resource / all pairs at the peak layer",
                             paper="< 0.5", ours=round(float(lows[peak] / every[peak]), 2),
                             model=model, data=data_label))
    return rows
