"""The k nearest neighbours of every row and every column of a similarity matrix.

Ratio-margin retrieval (Artetxe & Schwenk, 2019a, eq. 2; MidAlign §2) needs both lists of
one similarity matrix ``sim [c, n, m]``: each query's k nearest candidates (along rows) and
each candidate's k nearest queries (along columns). The column lists of an ``x -> y``
matrix are the row lists of ``y -> x``, so one matrix serves both directions.

Why not ``torch.topk`` twice on the CPU: each call partially sorts every row, and two of
them cost about half the matmul that made the matrix (``benchmarks/bench_retrieval.py``).
The numba kernel here reads the matrix once and keeps a running top-k per row and per
column; an element costs one comparison, and insertions are rare (about
``k * (1 + ln(n / k))`` per row or column). On other devices ``torch.topk`` is used.

Ties: the kernel keeps the lower index first (scan order); ``torch.topk`` does not promise
an order among equal values.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from numba import get_num_threads, njit, prange


def nearest(sim: torch.Tensor, k: int):
    """Top-``k`` values and indices along rows and along columns of ``sim [c, n, m]``.

    Returns ``(row_sim, row_idx, col_sim, col_idx)``: ``[c, n, k]`` (row i's k largest
    entries, descending, and their column indices) and ``[c, m, k]`` (column j's k largest
    entries and their row indices). Same dtype and device as ``sim``.
    """
    if sim.dim() != 3:
        raise ValueError(f"sim must be [c, n, m], got shape {tuple(sim.shape)}")
    if not 1 <= k <= min(sim.shape[1:]):
        raise ValueError(f"k={k} must be between 1 and min(n, m) = {min(sim.shape[1:])}")
    if sim.device.type != "cpu" or sim.dtype not in (torch.float32, torch.float64):
        row_sim, row_idx = sim.topk(k, dim=2)
        col_sim, col_idx = sim.topk(k, dim=1)
        return row_sim, row_idx, col_sim.transpose(1, 2), col_idx.transpose(1, 2)
    # row blocks per layer, so that layers x blocks splits evenly over the threads (3 layers
    # on 2 threads as 3 tasks would leave one thread idle half the time)
    threads = get_num_threads()
    parts = min(threads // math.gcd(sim.shape[0], threads), sim.shape[1] // k)
    out = _scan(sim.detach().contiguous().numpy(), k, parts)
    return tuple(torch.from_numpy(a) for a in out)


@njit(inline="always")
def _insert(vals, idx, s, j, k):
    """Put ``s`` (index ``j``) into the descending list ``vals[:k]``; equal values keep
    their order, so the lower index stays first."""
    p = k - 1
    while p > 0 and s > vals[p - 1]:
        vals[p] = vals[p - 1]
        idx[p] = idx[p - 1]
        p -= 1
    vals[p] = s
    idx[p] = j


@njit(parallel=True, cache=True)
def _scan(sim, k, parts):
    """One pass over ``sim [c, n, m]``. Each task owns one layer's block of rows: its rows'
    lists are final, its columns' lists cover only its rows and are merged afterwards."""
    c, n, m = sim.shape
    row_v = np.full((c, n, k), -np.inf, sim.dtype)
    row_i = np.zeros((c, n, k), np.int64)
    part_v = np.full((c, parts, m, k), -np.inf, sim.dtype)
    part_i = np.zeros((c, parts, m, k), np.int64)
    for task in prange(c * parts):
        layer, p = task // parts, task % parts
        col_v, col_i = part_v[layer, p], part_i[layer, p]
        col_min = np.full(m, -np.inf, sim.dtype)  # each column's k-th best so far
        for i in range(p * n // parts, (p + 1) * n // parts):
            row, v, ix = sim[layer, i], row_v[layer, i], row_i[layer, i]
            row_min = v[k - 1]
            for j in range(m):
                s = row[j]
                if s > row_min or s > col_min[j]:  # rare after the first rows and columns
                    if s > row_min:
                        _insert(v, ix, s, j, k)
                        row_min = v[k - 1]
                    if s > col_min[j]:
                        _insert(col_v[j], col_i[j], s, i, k)
                        col_min[j] = col_v[j, k - 1]
    col_v, col_i = _merge(part_v, part_i, k)
    return row_v, row_i, col_v, col_i


@njit(parallel=True, cache=True)
def _merge(part_v, part_i, k):
    """Merge the row blocks' column lists ``[c, parts, m, k]`` -> ``[c, m, k]``. Blocks are
    in row order and inserted in that order, so ties still keep the lower row first."""
    c, parts, m, _ = part_v.shape
    col_v = part_v[:, 0].copy()
    col_i = part_i[:, 0].copy()
    for task in prange(c * m):
        layer, j = task // m, task % m
        v, ix = col_v[layer, j], col_i[layer, j]
        for p in range(1, parts):
            for q in range(k):
                s = part_v[layer, p, j, q]
                if s > v[k - 1]:
                    _insert(v, ix, s, part_i[layer, p, j, q], k)
    return col_v, col_i
