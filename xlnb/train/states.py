"""Pooled states for the alignment loss, with gradients, computed only up to the aligned layer."""

from __future__ import annotations

import torch

from xlnb.hooks import capture_residual, resolve_layer, run_model
from xlnb.pooling import pool

__all__ = ["alignment_states", "resolve_layer", "special_token_mask"]


def special_token_mask(model, input_ids: torch.Tensor) -> torch.Tensor:
    """1 where ``input_ids`` holds the model config's BOS, EOS or pad id, else 0."""
    config = getattr(model, "config", None)
    ids = set()
    for name in ("bos_token_id", "eos_token_id", "pad_token_id"):
        value = getattr(config, name, None)
        ids.update(value if isinstance(value, (list, tuple)) else [value])
    ids.discard(None)
    specials = torch.tensor(sorted(ids), device=input_ids.device, dtype=input_ids.dtype)
    return torch.isin(input_ids, specials).long()


def alignment_states(model, input_ids: torch.Tensor, attention_mask: torch.Tensor, layer,
                     exclude_special: bool = False,
                     special_mask: torch.Tensor | None = None) -> torch.Tensor:
    """Masked mean of representation index ``layer`` -> float32 ``[B, d]`` with its autograd
    graph (MidAlign §3: h^i of eq. 1, mean-pooled).

    input_ids, attention_mask: ``[B, T]`` (right or left padding). layer: an index or
    ``bottom`` / ``middle`` / ``top`` = n // 4, n // 2, n for n blocks (32 blocks: 8 / 16 /
    32; 18 blocks: 4 / 9 / 18), see :func:`xlnb.hooks.resolve_layer`; index i is the output of
    block i as in the reference code, without the final norm, except the top index, which
    is ``hidden_states[-1]`` of Hugging Face (final norm applied). The top-level model runs
    (a PEFT model's adapters apply) and stops right after that block: later blocks and the
    LM head are never computed.
    exclude_special: leave special tokens out of the mean: those marked 1 in
        ``special_mask`` ``[B, T]`` (the tokenizer's ``special_tokens_mask``), or, without
        it, the config's BOS / EOS / pad ids.
    """
    index = resolve_layer(model, layer)
    if input_ids.dim() != 2 or attention_mask.shape != input_ids.shape:
        raise ValueError(f"expected input_ids and attention_mask [B, T] of one shape, got "
                         f"{tuple(input_ids.shape)} and {tuple(attention_mask.shape)}")
    pool_mask = attention_mask
    if exclude_special:
        if special_mask is None:
            special_mask = special_token_mask(model, input_ids)
        if special_mask.shape != input_ids.shape:
            raise ValueError(f"special_mask {tuple(special_mask.shape)} does not match "
                             f"input_ids {tuple(input_ids.shape)}")
        pool_mask = attention_mask * (1 - special_mask.to(attention_mask.dtype))

    def reduce(hidden):  # model.layers.{index-1} -> [B, T, d] -> [B, d]
        return pool(hidden, pool_mask, "mean")

    with capture_residual(model, [index], reduce) as captured:
        run_model(model, input_ids=input_ids, attention_mask=attention_mask)
    return captured[index]
