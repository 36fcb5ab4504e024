"""Token -> sentence pooling (MidAlign §2 mean pooling, NeuronXA eq. 3 / MEXA weighting)."""

from __future__ import annotations

import torch

POOLINGS = ("mean", "weighted", "last")


def pool(hidden: torch.Tensor, attention_mask: torch.Tensor, mode: str = "mean") -> torch.Tensor:
    """Pool token states into one vector per sentence.

    hidden: ``[B, T, d]``; attention_mask: ``[B, T]``, 1 on the tokens to pool (real tokens;
    left or right padding both work). Returns float32 ``[B, d]``.

    - ``mean``: masked mean (MidAlign §2).
    - ``weighted``: w_t = t / sum_t t with t = 1, 2, ... counting the pooled tokens only
      (NeuronXA eq. 3, MEXA): later tokens, which have seen more of the sentence, weigh more.
    - ``last``: the last pooled token.
    """
    if mode not in POOLINGS:
        raise ValueError(f"unknown pooling {mode!r}; use one of {POOLINGS}")
    if hidden.dim() != 3 or attention_mask.shape != hidden.shape[:2]:
        raise ValueError(f"expected hidden [B, T, d] and mask [B, T], got {tuple(hidden.shape)} "
                         f"and {tuple(attention_mask.shape)}")
    mask = attention_mask.to(device=hidden.device, dtype=torch.float32)
    empty = (mask.sum(1) == 0).nonzero().flatten()
    if len(empty):
        raise ValueError(f"rows {empty.tolist()} have no token to pool (all-zero mask)")
    hidden = hidden.float()
    if mode == "last":
        positions = torch.arange(mask.shape[1], device=mask.device, dtype=torch.float32)
        last = (positions * mask).argmax(dim=1)  # index of the last 1 in each row
        return hidden[torch.arange(hidden.shape[0], device=hidden.device), last]
    weights = mask.cumsum(dim=1) * mask if mode == "weighted" else mask
    weights = weights / weights.sum(dim=1, keepdim=True)
    return torch.einsum("btd,bt->bd", hidden, weights)
