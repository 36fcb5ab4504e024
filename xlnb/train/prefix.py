"""The prompt that every example of a task micro-batch shares, run once.

App. D.2's slot-filling prompt is mostly a fixed system prompt and instruction: in a batch of
8 MASSIVE examples for Gemma 3, the first 48 of about 75 tokens are the same in every row.
:func:`shared_prefix_length` finds that prefix; :func:`prefix_cache` runs it once, with
gradients, and repeats its keys and values over the batch, so the rest of the batch attends
to them as to its own. Without dropout the loss and its gradients are those of the full
forward (tested to float rounding); with LoRA dropout the shared tokens get one dropout mask
per micro-batch instead of one per row: the same expected loss with more correlated noise,
which is why ``TrainConfig.shared_prefix`` is off by default.

Written here because no library does it for training: transformers' prefix caching is for
generation (no gradients), and peft's prompt tuning caches learned tokens, not a prompt.
"""

from __future__ import annotations

import inspect

import torch


def shared_prefix_length(input_ids: torch.Tensor, attention_mask: torch.Tensor,
                         limit: int) -> int:
    """Length of the token prefix that all rows of ``input_ids`` ``[B, T]`` share, at most
    ``limit`` (the first position whose output is needed must stay in the rest) and never
    into padding. Right padding only: a left-padded batch shares no prefix (returns 0)."""
    same = (input_ids == input_ids[:1]).all(dim=0) & attention_mask.bool().all(dim=0)
    length = int(same.long().cumprod(dim=0).sum())
    return max(0, min(length, limit))


def prefix_cache(model, prefix_ids: torch.Tensor, batch_size: int):
    """Run ``prefix_ids`` ``[1, P]`` through ``model`` (the top-level model, so adapters
    apply; the LM head sees no position) and return its key/value cache repeated to
    ``batch_size`` rows, with the autograd graph of the prefix."""
    out = model(input_ids=prefix_ids, attention_mask=torch.ones_like(prefix_ids),
                use_cache=True, logits_to_keep=1)
    cache = getattr(out, "cache", None) or getattr(out, "past_key_values", None)
    if cache is None or not hasattr(cache, "batch_repeat_interleave"):
        raise ValueError(f"{type(model).__name__} returned no repeatable key/value cache; "
                         f"train with shared_prefix=False")
    cache.batch_repeat_interleave(batch_size)
    return cache


def cache_kwarg(model) -> str:
    """The forward keyword for a key/value cache: ``cache`` (transformers >= 5.2x) or
    ``past_key_values`` (earlier releases)."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    return "cache" if "cache" in inspect.signature(base.forward).parameters else \
        "past_key_values"
