"""Translation retrieval with LASER's xSIM semantics (MidAlign §2, §4.2; NeuronXA Table 1).

Sentences are L2-normalised, compared by cosine, and each query picks among its k nearest
candidates the one with the best *ratio margin* (Artetxe & Schwenk, 2019a, eq. 2 with the
ratio margin)::

    margin(x, y) = cos(x, y) / ( sum_{z in NN_k(x)} cos(x, z) / 2k
                                + sum_{z in NN_k(y)} cos(y, z) / 2k )

NN_k(x) are x's k nearest targets and NN_k(y) y's k nearest sources. Accuracy is the share
of queries whose pick is the gold (same-index) sentence. ``margin="cosine"`` is plain
nearest-neighbour retrieval (LASER's ``absolute`` margin).
"""

from __future__ import annotations

import itertools
from typing import Mapping

import pandas as pd
import torch

MARGINS = ("ratio", "cosine")


def retrieval_accuracy(src: torch.Tensor, tgt: torch.Tensor, *, margin: str = "ratio",
                       k: int = 4) -> float:
    """Share of ``src`` rows whose retrieved ``tgt`` row is the same index (src -> tgt).

    src, tgt: ``[N, d]``, row i of one the translation of row i of the other.
    """
    _check_pair(src, tgt, margin, k)
    sim = _cosine(src[None].double(), tgt[None].double())  # [1, N, N]
    return float(_hits(sim, margin, k)[0].double().mean())


def all_pairs_retrieval(reps: Mapping[str, torch.Tensor], *, margin: str = "ratio", k: int = 4,
                        layers=None) -> pd.DataFrame:
    """Retrieval accuracy for all N(N-1) ordered language pairs at every layer.

    reps: language -> ``[L, N, d]`` (e.g. from :func:`xlnb.reps.sentence_reps`), the same L
    and N for every language; values may be loaded lazily (any Mapping works). layers: labels
    of the L rows (default 0..L-1). Each unordered pair's similarity matrix is computed once,
    batched over layers, and serves both directions. Returns a tidy DataFrame with columns
    ``layer, src, tgt, accuracy``.
    """
    langs = list(reps)
    if len(langs) < 2:
        raise ValueError(f"need at least two languages, got {langs}")
    shapes = {lang: tuple(reps[lang].shape) for lang in langs}
    if len(set(shapes.values())) != 1 or len(next(iter(shapes.values()))) != 3:
        raise ValueError(f"every language needs the same [L, N, d] shape, got {shapes}")
    n_layers = shapes[langs[0]][0]
    labels = list(range(n_layers)) if layers is None else list(layers)
    if len(labels) != n_layers:
        raise ValueError(f"{len(labels)} layer labels for {n_layers} layers")
    rows = []
    for a, b in itertools.combinations(langs, 2):
        rep_a, rep_b = reps[a], reps[b]  # load once: values may be lazy
        for layer in range(n_layers):
            _check_pair(rep_a[layer], rep_b[layer], margin, k)
        sim = _cosine(rep_a.double(), rep_b.double())  # [L, N, N]
        forward = _hits(sim, margin, k).double().mean(dim=1)
        backward = _hits(sim.transpose(1, 2), margin, k).double().mean(dim=1)
        for layer, fwd, bwd in zip(labels, forward.tolist(), backward.tolist()):
            rows.append((layer, a, b, fwd))
            rows.append((layer, b, a, bwd))
    return pd.DataFrame(rows, columns=["layer", "src", "tgt", "accuracy"])


def _cosine(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """``[L, N, d] x [L, M, d] -> [L, N, M]`` cosine similarities."""
    x = torch.nn.functional.normalize(x, dim=-1)
    y = torch.nn.functional.normalize(y, dim=-1)
    return x @ y.transpose(1, 2)


def _hits(sim: torch.Tensor, margin: str, k: int) -> torch.Tensor:
    """``sim [L, N, M]`` (queries x candidates) -> bool ``[L, N]``: query i retrieves i."""
    gold = torch.arange(sim.shape[1], device=sim.device)
    if margin == "cosine":
        return sim.argmax(dim=2) == gold
    top_sim, top_idx = sim.topk(k, dim=2)  # the query's k nearest candidates   [L, N, k]
    query_nn = top_sim.mean(dim=2)  # mean cos of each query to its k NN        [L, N]
    cand_nn = sim.topk(k, dim=1).values.mean(dim=1)  # each candidate's k NN    [L, M]
    denom = (query_nn[:, :, None] + torch.gather(
        cand_nn[:, None, :].expand(-1, sim.shape[1], -1), 2, top_idx)) / 2
    best = (top_sim / denom).argmax(dim=2, keepdim=True)
    return torch.gather(top_idx, 2, best).squeeze(2) == gold


def _check_pair(src: torch.Tensor, tgt: torch.Tensor, margin: str, k: int) -> None:
    if margin not in MARGINS:
        raise ValueError(f"unknown margin {margin!r}; use one of {MARGINS}")
    if not isinstance(src, torch.Tensor) or not isinstance(tgt, torch.Tensor):
        raise TypeError(f"src and tgt must be tensors, got {type(src).__name__}, "
                        f"{type(tgt).__name__}")
    if src.dim() != 2 or src.shape != tgt.shape:
        raise ValueError(f"src and tgt must both be [N, d] of one shape, got {tuple(src.shape)} "
                         f"and {tuple(tgt.shape)}")
    if src.shape[0] == 0:
        raise ValueError("src and tgt are empty")
    if margin == "ratio" and not 1 <= k <= src.shape[0]:
        raise ValueError(f"k={k} must be between 1 and the number of candidates "
                         f"({src.shape[0]})")
    for name, t in (("src", src), ("tgt", tgt)):
        if not torch.isfinite(t).all():
            raise ValueError(f"{name} contains NaN or infinite values")
