"""Mutual-nearest-neighbour alignment score of MEXA and NeuronXA (NeuronXA eq. 4).

For ``n`` parallel sentences in languages L1 and L2, build the cosine matrix ``C`` with
``c_ij = cos(src_i, tgt_j)`` and score

    mu_C = 1/n * sum_i 1( c_ii > {c_ij, c_ji}_{j != i} ),

the share of pairs whose diagonal entry is STRICTLY larger than every other entry of its
row and of its column. The same score is used on different sentence representations:

* MEXA (Kargaran et al. 2024): position-weighted pooled hidden states, ``w_t = t / sum(t)``;
* NASCA (NeuronXA): position-weighted pooled NAS states ``1[act_fn(gate_proj(x)) > 0]``;
* NAVCA (NeuronXA): position-weighted pooled NAV states ``|act_fn(gate_proj(x))|``.

Per-layer scores are then aggregated over layers (NeuronXA sec. 3 and MEXA: mean; MEXA also
reports max), see :func:`aggregate`. Pooling and neuron-state extraction live elsewhere;
this module only scores given vectors.
"""

from __future__ import annotations

import numpy as np
import torch

from xlnb.metrics._checks import as_float_array, check_choice, check_min_rows

__all__ = ["cosine_matrix", "mutual_nn_hits_from_similarity", "mutual_nn_from_similarity", "mutual_nn_score", "layer_scores",
           "aggregate"]


def cosine_matrix(src, tgt) -> np.ndarray:
    """Float64 cosine matrix ``C[i, j] = cos(src_i, tgt_j)``.

    src: [N, d], tgt: [M, d] -> [N, M]. Dot products are taken on the raw float64 vectors
    and divided by the product of norms afterwards (instead of normalising first), so
    integer-valued inputs such as summed NAS states give exact dot products and identical
    vectors give exactly tied cosines. A zero vector has cosine 0 with everything (the
    scikit-learn convention).
    """
    s = as_float_array(src, "src", ndim=2)
    t = as_float_array(tgt, "tgt", ndim=2)
    if s.shape[1] != t.shape[1]:
        raise ValueError(
            f"src and tgt must have the same width d, got {s.shape[1]} and {t.shape[1]}"
        )
    dots = s @ t.T
    denom = np.outer(np.linalg.norm(s, axis=1), np.linalg.norm(t, axis=1))
    out = np.zeros_like(dots)
    np.divide(dots, denom, out=out, where=denom > 0)
    return out


def mutual_nn_hits_from_similarity(sim) -> np.ndarray:
    """Per-sentence indicator of NeuronXA eq. 4 on a square ``sim: [N, N]`` (N >= 2): bool
    ``[N]``, True where ``sim[i, i]`` is strictly greater than every other entry of row
    ``i`` and of column ``i`` (ties with any off-diagonal entry do not count). Its mean is
    the score; per-sentence values let callers bootstrap over sentences."""
    c = as_float_array(sim, "sim", ndim=2)
    if c.shape[0] != c.shape[1]:
        raise ValueError(f"sim must be square, got shape {tuple(c.shape)}")
    check_min_rows(c, "sim", 2)
    diag = np.diag(c).copy()
    off = c.copy()
    np.fill_diagonal(off, -np.inf)
    return (diag > off.max(axis=1)) & (diag > off.max(axis=0))


def mutual_nn_from_similarity(sim) -> float:
    """NeuronXA eq. 4 on a given square similarity matrix ``sim: [N, N]`` (N >= 2): the
    share of sentences of :func:`mutual_nn_hits_from_similarity`."""
    return float(np.mean(mutual_nn_hits_from_similarity(sim)))


def mutual_nn_score(src, tgt) -> float:
    """MEXA / NASCA / NAVCA alignment score of one layer (NeuronXA eq. 4), in [0, 1].

    src: [N, d] sentence vectors in language L1; tgt: [N, d] the parallel sentences in the
    pivot language L2 (row i of both is the same sentence), N >= 2. Cosines in float64
    (see :func:`cosine_matrix`). MEXA feeds pooled hidden states, NASCA pooled NAS states,
    NAVCA pooled NAV states.
    """
    s = as_float_array(src, "src", ndim=2)
    t = as_float_array(tgt, "tgt", ndim=2)
    if s.shape != t.shape:
        raise ValueError(
            f"src and tgt must have the same shape [N, d], got {s.shape} and {t.shape}"
        )
    check_min_rows(s, "src", 2)
    return mutual_nn_from_similarity(cosine_matrix(s, t))


def layer_scores(src, tgt) -> torch.Tensor:
    """Per-layer :func:`mutual_nn_score`.

    src: [L, N, d], tgt: [L, N, d] (layer-stacked sentence vectors) -> float64 tensor [L].
    Layers are converted to float64 one at a time, so large neuron-state stacks (e.g. NAV
    states with d = d_ff) are never copied whole.
    """
    s = src if isinstance(src, torch.Tensor) else np.asarray(src)
    t = tgt if isinstance(tgt, torch.Tensor) else np.asarray(tgt)
    if s.ndim != 3 or tuple(s.shape) != tuple(t.shape):
        raise ValueError(
            f"src and tgt must both have shape [L, N, d], got {tuple(s.shape)} and {tuple(t.shape)}"
        )
    scores = []
    for layer in range(s.shape[0]):
        try:
            scores.append(mutual_nn_score(s[layer], t[layer]))
        except (ValueError, TypeError) as exc:
            raise type(exc)(f"layer {layer}: {exc}") from exc
    return torch.tensor(scores, dtype=torch.float64)


def aggregate(scores, how: str = "mean") -> float:
    """Aggregate per-layer scores ``scores: [L]`` into one number.

    how: ``"mean"`` (NeuronXA's and MEXA's default: mean over layers) or ``"max"`` (MEXA's
    max-over-layers variant). Select a layer range by slicing ``scores`` beforehand.
    """
    check_choice(how, "how", ("mean", "max"))
    arr = as_float_array(scores, "scores", ndim=1)
    return float(arr.mean() if how == "mean" else arr.max())
