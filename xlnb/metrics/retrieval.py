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

from xlnb.metrics._checks import check_pair_tensors, layer_labels
from xlnb.metrics.knn import nearest

MARGINS = ("ratio", "cosine")


def retrieval_accuracy(src: torch.Tensor, tgt: torch.Tensor, *, margin: str = "ratio",
                       k: int = 4) -> float:
    """Share of ``src`` rows whose retrieved ``tgt`` row is the same index (src -> tgt).

    src, tgt: ``[N, d]``, row i of one the translation of row i of the other.
    """
    _check_pair(src, tgt, margin, k)
    sim = _cosine(src[None].double(), tgt[None].double())  # [1, N, N]
    return float(_both_hits(sim, margin, k)[0][0].double().mean())


def all_pairs_hits(reps: Mapping[str, torch.Tensor], *, margin: str = "ratio", k: int = 4,
                   memory_gb: float = 2.0, device=None):
    """Per-query hits for all N(N-1) ordered language pairs at every layer.

    reps: language -> ``[L, N, d]`` (:func:`xlnb.reps.sentence_reps`), the same shape for
    every language. Values may be lazy (a :class:`xlnb.cache.CachedTensor` or anything with
    ``.shape`` and row slicing): layers are read a chunk at a time, the chunk sized so that
    all languages' rows of it stay under ``memory_gb``. Within a chunk each language is
    normalised once and each unordered pair's similarity matrix serves both directions.
    Returns ``(pairs, hits)``: the ordered ``(src, tgt)`` pairs and bool ``[L, P, N]``,
    True where query n of ``src`` retrieves its translation in ``tgt``.
    """
    langs = list(reps)
    if len(langs) < 2:
        raise ValueError(f"need at least two languages, got {langs}")
    pairs = [(a, b) for a, b in itertools.combinations(langs, 2)]
    pairs = [p for a, b in pairs for p in ((a, b), (b, a))]
    chunks, pair_hits = [], _PairHits(margin, k)
    for _, chunk in _layer_chunks(reps, None, margin, k, memory_gb, device):
        per_pair = []
        for a, b in itertools.combinations(langs, 2):
            per_pair += pair_hits(chunk[a], chunk[b])  # [c, N] each
        chunks.append(torch.stack(per_pair, dim=1).cpu())  # [c, P, N]
    return pairs, torch.cat(chunks)


def all_pairs_retrieval(reps: Mapping[str, torch.Tensor], *, margin: str = "ratio", k: int = 4,
                        layers=None, memory_gb: float = 2.0, device=None) -> pd.DataFrame:
    """Retrieval accuracy for all N(N-1) ordered language pairs at every layer (MidAlign §2):
    a tidy DataFrame with columns ``layer, src, tgt, accuracy``. layers: labels of the L
    rows (default 0..L-1); the rest as in :func:`all_pairs_hits`."""
    pairs, hits = all_pairs_hits(reps, margin=margin, k=k, memory_gb=memory_gb, device=device)
    return hits_table(pairs, hits, layers=layers)


def hits_table(pairs, hits: torch.Tensor, *, layers=None) -> pd.DataFrame:
    """``(pairs, hits [L, P, N])`` from :func:`all_pairs_hits` -> accuracy per layer and
    ordered pair: columns ``layer, src, tgt, accuracy``."""
    labels = layer_labels(layers, hits.shape[0])
    acc = hits.double().mean(dim=2)  # [L, P]
    rows = [(label, a, b, acc[li, pi].item()) for li, label in enumerate(labels)
            for pi, (a, b) in enumerate(pairs)]
    return pd.DataFrame(rows, columns=["layer", "src", "tgt", "accuracy"])


DIRECTIONS = ("pivot_to_xx", "xx_to_pivot", "bidirectional")


def pivot_hits(reps: Mapping[str, torch.Tensor], pivot: str = "en", *, margin: str = "ratio",
               k: int = 4, memory_gb: float = 2.0, device=None):
    """Per-sentence retrieval between a pivot and every other language, in the three
    directions of NeuronXA Table 1: ``pivot_to_xx`` (pivot queries), ``xx_to_pivot`` and
    ``bidirectional`` (a sentence counts only when both directions retrieve it).

    Returns ``(langs, hits)``: the non-pivot languages in order and, per direction, bool
    ``[L, G, N]`` (G = len(langs)). Arguments as in :func:`all_pairs_hits`.
    """
    if pivot not in reps:
        raise ValueError(f"pivot {pivot!r} is not among the languages {list(reps)}")
    langs = [lang for lang in reps if lang != pivot]
    if not langs:
        raise ValueError("need at least one language besides the pivot")
    fwd, bwd, pair_hits = [], [], _PairHits(margin, k)
    for _, chunk in _layer_chunks(reps, None, margin, k, memory_gb, device):
        pairs = [pair_hits(chunk[pivot], chunk[lang]) for lang in langs]
        fwd.append(torch.stack([f for f, _ in pairs], dim=1).cpu())  # [c, G, N]
        bwd.append(torch.stack([b for _, b in pairs], dim=1).cpu())
    fwd, bwd = torch.cat(fwd), torch.cat(bwd)
    return langs, dict(zip(DIRECTIONS, (fwd, bwd, fwd & bwd)))


def pivot_retrieval(reps: Mapping[str, torch.Tensor], pivot: str = "en", *,
                    margin: str = "ratio", k: int = 4, layers=None, memory_gb: float = 2.0,
                    device=None) -> pd.DataFrame:
    """Accuracy of :func:`pivot_hits` per layer, language and direction: columns ``layer,
    lang, direction, accuracy``. layers: labels of the L rows (default 0..L-1)."""
    langs, hits = pivot_hits(reps, pivot, margin=margin, k=k, memory_gb=memory_gb,
                             device=device)
    labels = layer_labels(layers, hits[DIRECTIONS[0]].shape[0])
    rows = []
    for gi, lang in enumerate(langs):
        for direction in DIRECTIONS:
            acc = hits[direction][:, gi].double().mean(dim=1).tolist()
            rows += [(label, lang, direction, a) for label, a in zip(labels, acc)]
    return pd.DataFrame(rows, columns=["layer", "lang", "direction", "accuracy"])


def _layer_chunks(reps, layers, margin, k, memory_gb, device):
    """Yield ``(labels, {lang: normalised float32 [c, N, d]})`` over chunks of layers."""
    shapes = {lang: tuple(reps[lang].shape) for lang in reps}
    if len(set(shapes.values())) != 1 or len(next(iter(shapes.values()))) != 3:
        raise ValueError(f"every language needs the same [L, N, d] shape, got {shapes}")
    n_layers, n, d = next(iter(shapes.values()))
    labels = layer_labels(layers, n_layers)
    _check_options(margin, k, n)
    per_layer = 4 * len(shapes) * n * d  # languages' rows; similarities use a fixed block
    step = max(1, min(n_layers, int(memory_gb * 2**30 // per_layer)))
    for start in range(0, n_layers, step):
        chunk = {}
        for lang in reps:
            rows = torch.as_tensor(reps[lang][start:start + step]).to(device=device,
                                                                       dtype=torch.float32)
            _check_finite(rows, lang)
            chunk[lang] = torch.nn.functional.normalize(rows, dim=-1)
        yield labels[start:start + step], chunk


class _PairHits:
    """Normalised ``x, y [c, N, d]`` -> bool ``[c, N]`` hits x -> y and y -> x.

    The similarity matrices (once for both directions) are made a few layers at a time in
    one block of at most ``block_bytes``, reused for every pair of a call: a fresh 19-layer
    block per pair cost a third more than the matmul itself, in page faults and cache misses.
    On the CPU a block holds as many layers as torch has threads: the batched matmul splits
    its batch over the threads, and 3 layers on 2 threads ran a third slower per layer than
    2 or 4. On a GPU it holds as many as fit.
    """

    def __init__(self, margin: str, k: int, block_bytes: int = 16 * 2**20):
        self.margin, self.k, self.block_bytes, self.work = margin, k, block_bytes, None

    def __call__(self, x: torch.Tensor, y: torch.Tensor):
        work, hits = self._block(x, y), ([], [])
        step = work.shape[0]
        for a in range(0, x.shape[0], step):
            xs, ys = x[a:a + step], y[a:a + step]
            sim = torch.bmm(xs, ys.transpose(1, 2), out=work[:xs.shape[0]])  # [s, N, N]
            for found, part in zip(hits, _both_hits(sim, self.margin, self.k)):
                found.append(part)
        return [torch.cat(found) for found in hits]

    def _block(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        n, m = x.shape[1], y.shape[1]
        fits = self.block_bytes // (n * m * x.element_size())
        threads = torch.get_num_threads() if x.device.type == "cpu" else fits
        layers = max(1, min(x.shape[0], threads, fits))
        w = self.work
        if (w is None or w.shape[1:] != (n, m) or w.shape[0] < layers
                or (w.dtype, w.device) != (x.dtype, x.device)):
            self.work = w = torch.empty(layers, n, m, dtype=x.dtype, device=x.device)
        return w[:layers]


def _cosine(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """``[L, N, d] x [L, M, d] -> [L, N, M]`` cosine similarities."""
    x = torch.nn.functional.normalize(x, dim=-1)
    y = torch.nn.functional.normalize(y, dim=-1)
    return x @ y.transpose(1, 2)


def _both_hits(sim: torch.Tensor, margin: str, k: int):
    """``sim [c, N, N]`` (rows: x queries, columns: y) -> hits x -> y and y -> x, ``[c, N]``.

    The k nearest neighbours along rows and along columns are computed once and serve
    both directions: each is one direction's candidate list and the other's margin term.
    """
    gold = torch.arange(sim.shape[1], device=sim.device)
    if margin == "cosine":
        return [sim.argmax(dim=2) == gold, sim.argmax(dim=1) == gold]
    row_sim, row_idx, col_sim, col_idx = nearest(sim, k)  # x's k nearest y, y's x [c, N, k]
    x_nn, y_nn = row_sim.mean(dim=2), col_sim.mean(dim=2)  # mean cos to k NN   [c, N]
    forward = _pick(row_sim, row_idx, x_nn, y_nn) == gold
    backward = _pick(col_sim, col_idx, y_nn, x_nn) == gold
    return [forward, backward]


def _pick(top_sim, top_idx, query_nn, cand_nn):
    """Among each query's k candidates, the one with the best ratio margin -> ``[c, N]``."""
    cand = torch.gather(cand_nn, 1, top_idx.reshape(top_idx.shape[0], -1)).view_as(top_idx)
    margin = top_sim / ((query_nn[..., None] + cand) / 2)  # Artetxe & Schwenk eq. 2, ratio
    return torch.gather(top_idx, 2, margin.argmax(dim=2, keepdim=True)).squeeze(2)


def _check_options(margin: str, k: int, n: int) -> None:
    if margin not in MARGINS:
        raise ValueError(f"unknown margin {margin!r}; use one of {MARGINS}")
    if n == 0:
        raise ValueError("no sentences to retrieve among")
    if margin == "ratio" and not 1 <= k <= n:
        raise ValueError(f"k={k} must be between 1 and the number of candidates ({n})")


def _check_finite(t: torch.Tensor, name: str) -> None:
    # min and max in one pass without a mask the size of t; NaN propagates to both
    if t.numel() and not all(torch.isfinite(v) for v in torch.aminmax(t)):
        raise ValueError(f"{name} contains NaN or infinite values")


def _check_pair(src: torch.Tensor, tgt: torch.Tensor, margin: str, k: int) -> None:
    check_pair_tensors(src, tgt)
    _check_options(margin, k, src.shape[0])
    _check_finite(src, "src")
    _check_finite(tgt, "tgt")
