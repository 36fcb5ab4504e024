"""Per-layer alignment of every language with a pivot (NeuronXA §3-§5, MEXA).

One score function, many representations: NASCA = mutual-NN score on NAS states, NAVCA
on NAV states, MEXA on position-weighted hidden states (NeuronXA eq. 4); the baselines
CKA, SVCCA and ANC take the same inputs. Languages are scored one at a time against the
pivot and layers are read one at a time, so lazy per-language sources (``lazy=True`` in
:func:`xlnb.layerwise.language_reps`) keep memory flat at paper scale.
"""

from __future__ import annotations

from typing import Mapping

import pandas as pd

from xlnb.metrics import anc, linear_cka, mutual_nn_score, svcca
from xlnb.metrics._checks import layer_labels

SCORES = {"mutual_nn": mutual_nn_score, "cka": linear_cka, "svcca": svcca, "anc": anc}


def pivot_scores(reps: Mapping, pivot: str = "en", *, score: str = "mutual_nn", layers=None,
                 **score_kwargs) -> pd.DataFrame:
    """``score`` of each language against ``pivot`` at every layer.

    reps: language -> ``[L, N, d]`` (tensors or lazy handles), row n of every language the
    same sentence. layers: labels of the L rows (default 0..L-1). score_kwargs go to the
    score (``k`` for SVCCA, ``absolute`` for ANC). Returns columns ``lang, layer, score,
    value``.
    """
    if score not in SCORES:
        raise ValueError(f"unknown score {score!r}; use one of {sorted(SCORES)}")
    if pivot not in reps:
        raise ValueError(f"pivot {pivot!r} is not among the languages {list(reps)}")
    labels = layer_labels(layers, reps[pivot].shape[0])
    fn = SCORES[score]
    rows = []
    for lang in reps:
        if lang == pivot:
            continue
        if tuple(reps[lang].shape[:2]) != tuple(reps[pivot].shape[:2]):
            raise ValueError(f"{lang} has shape {tuple(reps[lang].shape)}, the pivot "
                             f"{tuple(reps[pivot].shape)}: layers and sentences must match")
        for i, label in enumerate(labels):
            rows.append((lang, label, score, fn(reps[pivot][i], reps[lang][i], **score_kwargs)))
    return pd.DataFrame(rows, columns=["lang", "layer", "score", "value"])


def aggregate_layers(scores: pd.DataFrame, how: str = "mean") -> pd.DataFrame:
    """One value per language (and score): the mean (NeuronXA, MEXA) or max (MEXA) over
    layers of :func:`pivot_scores` output."""
    if how not in ("mean", "max"):
        raise ValueError(f"unknown aggregation {how!r}; use 'mean' or 'max'")
    keys = [c for c in scores.columns if c not in ("layer", "value")]
    return scores.groupby(keys, as_index=False)["value"].agg(how)


def bitext_pivot_scores(reps: Mapping[str, Mapping], pivot: str = "en", **kwargs) -> pd.DataFrame:
    """:func:`pivot_scores` of each language against its own pivot side.

    reps: language -> ``{pivot: [L, N, d], language: [L, N, d]}``
    (:func:`xlnb.layerwise.bitext_reps`), for sources whose pivot sentences differ per
    language (Tatoeba); kwargs as in :func:`pivot_scores`. Same columns.
    """
    if not reps:
        raise ValueError("reps is empty: give at least one language")
    return pd.concat([pivot_scores(pair, pivot, **kwargs) for pair in reps.values()],
                     ignore_index=True)
