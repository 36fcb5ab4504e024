"""The NeuronXA paper's own numbers, and the headline rows that set a run's numbers beside
them (:func:`xlnb.outputs.save_headlines`).

Values are transcribed from the paper's tables (Llama 3.1 8B unless said otherwise):
Table 1 and App. C Table 5 (retrieval accuracy, %), Table 2 (NASCA of language pairs),
Table 4 (average Pearson r over nine models), App. E (the chance example).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["TABLE1", "TABLE2", "TABLE4_AVG", "APPE_EXAMPLE", "table1_headlines",
           "table2_headlines", "tab4_headlines"]

# (data, pivot, representation, direction, group) -> accuracy in %
TABLE1 = {}
for _data, _values in {
    "flores200": {"Embedding": (90.12, 88.60, 83.78, 50.71, 47.74, 40.95),
                  "NAS": (93.10, 89.82, 87.07, 50.49, 46.95, 42.20)},
    "tatoeba": {"Embedding": (23.93, 54.66, 16.86, 13.28, 41.95, 10.12),
                "NAS": (67.77, 65.05, 57.78, 42.12, 38.60, 32.47)},
}.items():
    for _rep, _v in _values.items():
        for _i, (_group, _dir) in enumerate([(g, d) for g in ("head", "long-tail") for d in
                                             ("pivot_to_xx", "xx_to_pivot", "bidirectional")]):
            TABLE1[(_data, "en", _rep, _dir, _group)] = _v[_i]
for _pivot, _values in {"fr": {"Embedding": (86.31, 81.16, 78.53, 49.69, 41.14, 38.74),
                               "NAS": (93.35, 88.29, 86.03, 51.57, 45.91, 42.02)},
                        "it": {"Embedding": (85.96, 81.99, 78.77, 49.30, 42.27, 39.15),
                               "NAS": (92.48, 88.60, 85.84, 50.92, 46.71, 41.89)},
                        "de": {"Embedding": (86.69, 82.51, 79.48, 50.16, 43.15, 40.05),
                               "NAS": (94.40, 89.00, 87.01, 52.53, 46.54, 42.48)}}.items():
    for _rep, _v in _values.items():
        for _i, (_group, _dir) in enumerate([(g, d) for g in ("head", "long-tail") for d in
                                             ("pivot_to_xx", "xx_to_pivot", "bidirectional")]):
            TABLE1[("flores200", _pivot, _rep, _dir, _group)] = _v[_i]

# Table 2: (src, tgt) ISO codes -> NASCA
TABLE2 = {("en", "de"): 0.7300, ("it", "fr"): 0.8372, ("de", "fr"): 0.7628,
          ("fr", "zh"): 0.6922, ("de", "szl"): 0.5222, ("fr", "pa"): 0.2872,
          ("it", "bjn"): 0.4353, ("it", "ug"): 0.1831, ("az", "tk"): 0.3862,
          ("hu", "yi"): 0.3821, ("gu", "bjn"): 0.2191, ("kk", "tt"): 0.5291}

# Table 4, AVG column (mean Pearson r over nine models), weighted pooling
TABLE4_AVG = {("m_arc", "mexa"): 0.9256, ("m_arc", "nasca"): 0.9472, ("m_arc", "navca"): 0.9712,
              ("m_mmlu", "mexa"): 0.9061, ("m_mmlu", "nasca"): 0.9620,
              ("m_mmlu", "navca"): 0.9550, ("belebele", "mexa"): 0.8540,
              ("belebele", "nasca"): 0.9576, ("belebele", "navca"): 0.9011}

APPE_EXAMPLE = {"n": 100, "k": 5, "p": 0.00016}

ARROWS = {"pivot_to_xx": "{p}→xx", "xx_to_pivot": "xx→{p}", "bidirectional": "{p}⇔xx"}


def table1_headlines(summary: pd.DataFrame, *, data: str, pivot: str, data_label: str,
                     paper_groups: bool, directions=("bidirectional",)) -> list[dict]:
    """Headline rows of Table 1: accuracy (%) per model, layer pooling, BOS variant,
    representation, direction and group, beside the paper's value.

    summary: the notebook's table (``model, layers_pooled, bos, representation, direction,
    group, accuracy``). data: the data source (``flores200`` and ``tatoeba`` have paper
    values; the multi-way parallel micro set is set beside the FLORES column);
    paper_groups: whether the head / long-tail groups are App. A's (otherwise the long-tail
    row gets no paper value: the groups differ); data_label: the ``data`` column.
    """
    rows = []
    name = pivot.capitalize()
    data = {"micro": "flores200"}.get(data, data)
    for rec in summary[summary.direction.isin(directions)].itertuples():
        paper = TABLE1.get((data, pivot, rec.representation, rec.direction, rec.group))
        if rec.group != "head" and not paper_groups:
            paper = None
        quantity = (f"Table 1 {ARROWS[rec.direction].format(p=name)} {rec.group} "
                    f"{rec.representation} (%), {rec.layers_pooled}, BOS {rec.bos}")
        rows.append(dict(quantity=quantity, paper=paper, ours=round(100 * rec.accuracy, 1),
                         model=rec.model, data=data_label))
    return rows


def table2_headlines(summary: pd.DataFrame, per_pair: pd.DataFrame, *,
                     data_label: str) -> list[dict]:
    """Headline rows of Table 2: each group's mean NASCA (the paper gives a range of four
    pairs), and every pair that the paper also lists, beside its value."""
    spans = {}
    for (a, b), v in TABLE2.items():
        group = _table2_group(a, b)
        lo, hi = spans.get(group, (v, v))
        spans[group] = (min(lo, v), max(hi, v))
    rows = [dict(quantity=f"Table 2 {rec.group} mean NASCA ({int(rec.n_pairs)} pairs)",
                 paper=(f"{spans[rec.group][0]:.2f}–{spans[rec.group][1]:.2f} (4 pairs)"
                        if rec.group in spans else None),
                 ours=round(rec.score, 3), model=rec.model, data=data_label)
            for rec in summary.itertuples()]
    for rec in per_pair.itertuples():
        key = next((k for k in ((rec.src, rec.tgt), (rec.tgt, rec.src)) if k in TABLE2), None)
        if key is not None:
            rows.append(dict(quantity=f"Table 2 NASCA {key[0]}→{key[1]}", paper=TABLE2[key],
                             ours=round(rec.score, 3), model=rec.model, data=data_label))
    return rows


def _table2_group(a: str, b: str) -> str:
    low = {"szl", "pa", "bjn", "ug", "az", "tk", "hu", "yi", "gu", "kk", "tt"}
    return ("high→high", "high→low", "low→low")[(a in low) + (b in low)]


def tab4_headlines(corr: pd.DataFrame, *, data_label: str) -> list[dict]:
    """Headline rows of Table 4: Pearson r of the weighted-pooling MEXA / NASCA / NAVCA
    scores per model and benchmark, beside Table 4's AVG column where the benchmark is the
    paper's (``belebele``, ``arc`` = m-ARC, ``m_mmlu``). Any other benchmark (the demo's
    untuned 0-shot XNLI) is not a quantity of the paper and gets no paper value."""
    names = {"belebele": "belebele", "arc": "m_arc", "m_arc": "m_arc", "m_mmlu": "m_mmlu"}
    pe = corr[(corr.stat == "pearson") & (corr.pooling == "weighted")
              & corr.method.isin(["mexa", "nasca", "navca"])]
    rows = []
    for rec in pe.itertuples():
        paper = TABLE4_AVG.get((names.get(rec.benchmark), rec.method))
        what = "Table 4 AVG, nine models" if paper is not None else "not in the paper"
        rows.append(dict(quantity=f"Pearson r, {rec.method.upper()} weighted vs {rec.benchmark} "
                                  f"({int(rec.n_langs)} languages; paper: {what})",
                         paper=paper, ours=None if np.isnan(rec.r) else round(float(rec.r), 3),
                         model=getattr(rec, "model", "-"), data=data_label))
    return [r for r in rows if r["ours"] is not None] or [
        dict(quantity="Pearson r", paper=None,
             ours="undefined: constant scores or accuracies", model="-", data=data_label)]
