"""The quantities behind CL-ICP Fig. 2 (§4; App. B.1), from token states ``[L, T, d]`` of
line-aligned sentences (see :mod:`xlnb.clicp.tokens`). Pure functions of arrays.

(a) :func:`token_cosine_matrix`: cosines among the tokens of a translated pair, within and
    across the two languages; (b) :func:`pooled` + :func:`pca_points`: mean-pooled sentence
    representations projected to 2-D per layer, and :func:`sentence_cosines`, the cosine of
    a translation pair against that of a random same-language pair; (c)
    :func:`deviation_tables`: cosine deviation with ``xlnb.metrics.corpus_cosine_deviation``.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from xlnb.metrics import bootstrap_ci, corpus_cosine_deviation, cosine_deviation, top_cosine
from xlnb.metrics.mexa import cosine_matrix

__all__ = ["random_partners", "pooled", "token_cosine_matrix", "pca_points",
           "sentence_cosines", "deviation_tables"]


def random_partners(n: int, seed: int = 0) -> np.ndarray:
    """[n] ints: for each sentence i a random other sentence j != i of the same language
    (App. B.1's "random sentence selected from language s"); reproducible given ``seed``."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 2:
        raise ValueError(f"need at least 2 sentences to pick random partners, got n={n!r}")
    rng = np.random.default_rng(seed)
    return (np.arange(n) + rng.integers(1, n, size=n)) % n


def _arrays(states: Sequence, name: str) -> list[np.ndarray]:
    arrs = [np.asarray(s, dtype=np.float64) for s in states]
    if not arrs or any(a.ndim != 3 for a in arrs):
        raise ValueError(f"{name} must be a non-empty list of [L, T, d] arrays")
    if len({(a.shape[0], a.shape[2]) for a in arrs}) != 1:
        raise ValueError(f"{name}: every sentence needs the same L and d, got "
                         f"{sorted({(a.shape[0], a.shape[2]) for a in arrs})}")
    return arrs


def pooled(states: Sequence) -> np.ndarray:
    """Average pooling over tokens (Fig. 2(b)): list of N ``[L, T_i, d]`` -> ``[L, N, d]``."""
    return np.stack([a.mean(axis=1) for a in _arrays(states, "states")], axis=1)


def token_cosine_matrix(H_s, H_t) -> np.ndarray:
    """Fig. 2(a): cosines among the tokens of a sentence (H_s: [T_s, d]) and its
    translation (H_t: [T_t, d]), both stacked -> [T_s + T_t, T_s + T_t] (float64)."""
    both = np.concatenate([np.asarray(H_s, dtype=np.float64),
                           np.asarray(H_t, dtype=np.float64)])
    return cosine_matrix(both, both)


def pca_points(src, tgt, layer_positions: Sequence[int]) -> pd.DataFrame:
    """Fig. 2(b): per layer, project both languages' pooled vectors (src, tgt: [L, N, d])
    on the first two principal components of their union. Rows: position (into L), lang
    ('src'/'tgt'), sentence, pc1, pc2."""
    src, tgt = np.asarray(src, dtype=np.float64), np.asarray(tgt, dtype=np.float64)
    if src.shape != tgt.shape or src.ndim != 3:
        raise ValueError(f"src and tgt must both be [L, N, d], got {src.shape}, {tgt.shape}")
    rows = []
    for pos in layer_positions:
        both = np.concatenate([src[pos], tgt[pos]])  # [2N, d]
        centred = both - both.mean(axis=0)
        _, _, vt = np.linalg.svd(centred, full_matrices=False)
        xy = centred @ vt[:2].T  # [2N, 2]
        n = src.shape[1]
        for k, (x, y) in enumerate(xy):
            rows.append(dict(position=pos, lang="src" if k < n else "tgt",
                             sentence=k % n, pc1=x, pc2=y))
    return pd.DataFrame(rows)


def _row_cos(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cosine of [N, d] and [N, d] -> [N]."""
    return np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def sentence_cosines(src, tgt, partners, *, n_boot: int = 1000, seed: int = 0) -> pd.DataFrame:
    """Per layer, mean cosine of pooled translation pairs cos(s_i, t_i) and of random
    same-language pairs cos(s_i, s_partner(i)); src, tgt: [L, N, d], partners: [N].
    Rows: position, metric (sentence_cos_translation / sentence_cos_random), value,
    ci_low, ci_high (percentile bootstrap over sentences)."""
    src, tgt = np.asarray(src, dtype=np.float64), np.asarray(tgt, dtype=np.float64)
    rows = []
    for pos in range(src.shape[0]):
        for metric, other in (("sentence_cos_translation", tgt[pos]),
                              ("sentence_cos_random", src[pos][partners])):
            value, low, high = bootstrap_ci(_row_cos(src[pos], other), n_boot=n_boot, seed=seed)
            rows.append(dict(position=pos, metric=metric, value=value, ci_low=low, ci_high=high))
    return pd.DataFrame(rows)


def deviation_tables(src_states: Sequence, tgt_states: Sequence, partners, *, top: int = 10,
                     n_boot: int = 1000, seed: int = 0) -> tuple[dict, pd.DataFrame]:
    """Cosine deviation (App. B.1) of N line-aligned sentences, lists of ``[L, T_i, d]``.

    Returns (overall, per_layer). overall: dict(value, ci_low, ci_high), value =
    ``corpus_cosine_deviation`` over the triples (s_i, t_i, s_partner(i)), the CI a bootstrap
    over the per-sentence values. per_layer rows: position, metric (cos_dev,
    top_cos_translation, top_cos_random: the mean top-k token cosine to the translation and
    to the random sentence, cos_dev = random - translation), value, ci_low, ci_high.
    """
    s, t = _arrays(src_states, "src_states"), _arrays(tgt_states, "tgt_states")
    if len(s) != len(t) or len(partners) != len(s):
        raise ValueError(f"need as many translations and partners as sentences, got "
                         f"{len(s)}, {len(t)}, {len(partners)}")
    triples = [(s[i], t[i], s[j]) for i, j in enumerate(partners)]
    per_sentence = [cosine_deviation(a, b, r, top=top) for a, b, r in triples]
    value = corpus_cosine_deviation(triples, top=top)
    _, low, high = bootstrap_ci(per_sentence, n_boot=n_boot, seed=seed)
    rows = []
    for pos in range(s[0].shape[0]):
        trans = [top_cosine(a[pos], b[pos], top=top).mean() for a, b, _ in triples]
        rand = [top_cosine(a[pos], r[pos], top=top).mean() for a, _, r in triples]
        for metric, vals in (("cos_dev", np.subtract(rand, trans)),
                             ("top_cos_translation", trans), ("top_cos_random", rand)):
            est, lo, hi = bootstrap_ci(vals, n_boot=n_boot, seed=seed)
            rows.append(dict(position=pos, metric=metric, value=est, ci_low=lo, ci_high=hi))
    return dict(value=value, ci_low=low, ci_high=high), pd.DataFrame(rows)


def fig2_headlines(deviation: pd.DataFrame, curves: pd.DataFrame, *,
                   data_label: str) -> list[dict]:
    """Headline rows of Fig. 2 (:func:`xlnb.outputs.save_headlines`): per model and pair the
    cosine deviation (App. B.1) and, at the middle analysed layer, the pooled cosine of
    translations minus that of random same-language pairs (panel b). The paper prints no
    numbers for either; it says the better-transferring model has the smaller deviation
    and closer translations in the middle layers.

    deviation: rows ``model, pair, value``; curves: rows ``model, pair, layer, metric,
    value`` with ``sentence_cos_translation`` and ``sentence_cos_random``.
    """
    rows = [dict(quantity=f"cosine deviation {rec.pair} (App. B.1; lower = better aligned)",
                 paper=None, ours=round(float(rec.value), 4), model=rec.model, data=data_label)
            for rec in deviation.itertuples()]
    for (model, pair), part in curves.groupby(["model", "pair"], sort=False):
        layers = sorted(part.layer.unique())
        middle = layers[len(layers) // 2]
        at = part[part.layer == middle].set_index("metric").value
        gap = at["sentence_cos_translation"] - at["sentence_cos_random"]
        rows.append(dict(quantity=f"(b) pooled cosine, translation − random, {pair}, layer {middle}",
                         paper="> 0 in the middle layers", ours=round(float(gap), 4),
                         model=model, data=data_label))
    return rows
