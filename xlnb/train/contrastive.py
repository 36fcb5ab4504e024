"""The alignment objective: MidAlign eq. 1, an in-batch contrastive loss on pooled states."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from xlnb.metrics._checks import check_pair_tensors


def contrastive_loss(src: torch.Tensor, tgt: torch.Tensor, temperature: float = 0.1,
                     symmetric: bool = False, same: torch.Tensor | None = None) -> torch.Tensor:
    """MidAlign eq. 1 over a batch of n parallel pairs, averaged over the pairs.

    src: ``[n, d]`` pooled states of the non-English sentences; tgt: ``[n, d]`` of their
    English translations, row i of one the translation of row i of the other. For each
    source row i::

        loss_i = -log( exp(cos(s_i, t_i) / tau) / sum_j exp(cos(s_i, t_j) / tau) )

    the other rows of the batch being the negatives. ``sim`` is cosine (§3) divided by the
    temperature tau (the paper tunes tau in {0.1, 1, 1.5, 2}; 0.1 for Llama, 1.5 for Qwen).
    One direction, non-English -> English, as the reference code; the paper does not say
    which, so ``symmetric=True`` averages it with the English -> non-English direction.
    same: optional bool ``[n, n]``, True where pair j is also a correct match of pair i
    (the same English or non-English sentence); those j != i leave the sum over j, so a
    duplicate is not pushed away as a negative (our addition, off when None; see
    :func:`duplicate_mask`). The mask is symmetrised (i masks j iff j masks i), so with
    ``symmetric=True`` both directions drop the same negatives. Computed in float32 whatever
    the inputs' dtype (autocast); returns a scalar.
    """
    check_pair_tensors(src, tgt)
    if src.shape[0] < 2:
        raise ValueError(f"a contrastive batch needs at least 2 pairs (the other rows are the "
                         f"negatives), got {src.shape[0]}")
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) \
            or not math.isfinite(temperature) or temperature <= 0:
        raise ValueError(f"temperature must be a positive number, got {temperature!r}")
    src_n = F.normalize(src.float(), dim=-1)
    tgt_n = F.normalize(tgt.float(), dim=-1)
    logits = src_n @ tgt_n.T / temperature  # [n, n]: cos(s_i, t_j) / tau
    if same is not None:
        if same.shape != logits.shape:
            raise ValueError(f"same must be [n, n] = {list(logits.shape)}, got {list(same.shape)}")
        off_diagonal = same.to(torch.bool) & ~torch.eye(len(same), dtype=torch.bool,
                                                        device=same.device)
        logits = logits.masked_fill(off_diagonal | off_diagonal.T, float("-inf"))
    gold = torch.arange(src.shape[0], device=src.device)
    loss = F.cross_entropy(logits, gold)
    if symmetric:
        loss = (loss + F.cross_entropy(logits.T, gold)) / 2
    return loss


def duplicate_mask(src_keys: torch.Tensor, tgt_keys: torch.Tensor) -> torch.Tensor:
    """bool ``[n, n]``: pairs i and j share their non-English or their English text.
    Keys are one integer per distinct text (``[n]`` each)."""
    return (src_keys[:, None] == src_keys[None, :]) | (tgt_keys[:, None] == tgt_keys[None, :])
