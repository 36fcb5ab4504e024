"""Pooled states for the alignment loss, with gradients, computed only up to the aligned layer."""

from __future__ import annotations

import torch

from xlnb.arch import n_blocks
from xlnb.hooks import capture_residual, run_model
from xlnb.pooling import pool

LAYER_NAMES = ("bottom", "middle", "top")


def resolve_layer(model, layer) -> int:
    """Representation index of ``layer``: an int in 0..n_blocks, or ``bottom`` = n // 4,
    ``middle`` = n // 2, ``top`` = n for a model of n blocks (MidAlign §5.2; 32 blocks:
    8 / 16 / 32, 18 blocks: 4 / 9 / 18). Raises ValueError naming the value otherwise."""
    n = n_blocks(model)
    if isinstance(layer, str):
        named = {"bottom": n // 4, "middle": n // 2, "top": n}
        if layer not in named:
            raise ValueError(f"unknown layer name {layer!r}; use an index 0..{n} or one of "
                             f"{', '.join(LAYER_NAMES)}")
        return named[layer]
    if isinstance(layer, bool) or not isinstance(layer, int) or not 0 <= layer <= n:
        raise ValueError(f"layer {layer!r} is outside the model: it has {n} blocks, so "
                         f"representation indices 0..{n} (0 = embeddings)")
    return layer


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
    ``bottom`` / ``middle`` / ``top`` (see :func:`resolve_layer`); index i is the output of
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
