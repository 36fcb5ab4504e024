"""Layer-wise sentence representations and FFN neuron states of a decoder-only model.

Both functions encode length-sorted batches, run the top-level model (so PEFT adapters and
soft prompts apply), pool inside forward hooks (``xlnb.hooks``) so no token-level states of
all layers are kept, stop the forward after the deepest layer needed (never computing the LM
head), return results in input order and cache them on disk (``xlnb.cache``).
Layer numbering (:mod:`xlnb.hooks`): representation index 0..n for ``sentence_reps``, block
number 1..n for ``neuron_states``; the FFN of block i feeds representation index i.
"""

from __future__ import annotations

from typing import Sequence

import torch

from xlnb import cache
from xlnb.arch import model_device, n_blocks, soft_prompt_tokens
from xlnb.hooks import (
    capture_ffn_activations,
    capture_residual,
    resolve_block,
    resolve_layer,
    run_model,
)
from xlnb.pooling import POOLINGS, pool
from xlnb.progress import progress

__all__ = ["pool", "sentence_reps", "neuron_states", "NEURON_KINDS"]

NEURON_KINDS = ("nas", "nav")


def sentence_reps(model, tokenizer, sentences: Sequence[str], *, pooling: str = "mean",
                  layers: Sequence[int | str] | None = None, final_norm: bool = True,
                  batch_size: int = 32, max_length: int | None = None,
                  exclude_special: bool = False, use_cache: bool = True, lazy: bool = False,
                  store: str = "float16") -> torch.Tensor:
    """Pooled hidden states -> float32 ``[len(layers), N, d]`` (all: ``[n_blocks + 1, N, d]``).

    layers: representation indices (Hugging Face ``hidden_states`` numbering: 0 = embedding
        output, i = output of block i, n = top) or placement names ``bottom`` / ``middle`` /
        ``top`` (:func:`xlnb.hooks.resolve_layer`); None: all, 0..n.
    final_norm: the top index n is ``hidden_states[-1]``, with the model's final norm
        applied (default, what MEXA's code and most users read); False gives the raw output
        of the last block, as in MidAlign's reference code. Other indices are unaffected.
    pooling: ``mean`` (MidAlign §2), ``weighted`` (NeuronXA eq. 3 / MEXA) or ``last``.
    exclude_special: leave BOS and other special tokens out of the pooled tokens. The
        papers' code keeps BOS (default False); on Gemma 3 270M, block 9, leaving it out
        doubles en-de retrieval, so notebooks say which they use.
    use_cache, lazy, store: results are cached on disk (:mod:`xlnb.cache`) as scaled
        float16 (``store="float32"`` keeps every bit); ``lazy=True`` returns a
        :class:`xlnb.cache.CachedTensor` that reads layers from disk on indexing, so many
        languages at paper scale need not fit in memory at once.
    A prompt-tuned model (PEFT prompt tuning / p-tuning) runs with its virtual tokens
    prepended; they are never pooled (only the sentence's own tokens are).
    """
    layers = _check_layers(model, layers, resolve_layer, 0)
    if pooling not in POOLINGS:
        raise ValueError(f"unknown pooling {pooling!r}; use one of {POOLINGS}")

    def capture(pool_mask):
        return capture_residual(model, layers, lambda hidden: pool(hidden, pool_mask, pooling),
                                final_norm=final_norm)  # [B, T, d] -> [B, d]

    return _extract(model, tokenizer, sentences, layers, capture,
                    key=dict(what="sentence_reps", pooling=pooling, final_norm=final_norm),
                    batch_size=batch_size, max_length=max_length,
                    exclude_special=exclude_special, use_cache=use_cache, lazy=lazy,
                    store=store)


def neuron_states(model, tokenizer, sentences: Sequence[str], *, kind: str = "nas",
                  pooling: str = "weighted", layers: Sequence[int | str] | None = None,
                  batch_size: int = 32, max_length: int | None = None,
                  exclude_special: bool = False, use_cache: bool = True,
                  lazy: bool = False, store: str = "float16") -> torch.Tensor:
    """FFN neuron states (NeuronXA §2.2) -> float32 ``[len(layers), N, d_ff]``.

    layers: block numbers 1..n (the FFN inside block i, whose output is representation
    index i of :func:`sentence_reps`) or placement names; None: all blocks, 1..n, so row
    ``r`` of the result is block ``r + 1``. For block i the activation
    a = act_fn(gate_proj(x)), before the up-projection; ``nas`` = 1[a > 0] (binary neuron
    activation state), ``nav`` = |a| (absolute neuron activation value), pooled over tokens
    with ``pooling`` (position-weighted by default, NeuronXA eq. 3). Needs a gated MLP
    (Llama, Qwen2, Mistral, Gemma families). use_cache, lazy, store: as in
    :func:`sentence_reps`.
    """
    if kind not in NEURON_KINDS:
        raise ValueError(f"unknown neuron state kind {kind!r}; use one of {NEURON_KINDS}")
    if pooling not in POOLINGS:
        raise ValueError(f"unknown pooling {pooling!r}; use one of {POOLINGS}")
    layers = _check_layers(model, layers, resolve_block, 1)
    state = (lambda a: (a > 0).float()) if kind == "nas" else torch.abs

    def capture(pool_mask):  # [B, T, d_ff] -> [B, d_ff]
        return capture_ffn_activations(model, layers,
                                       lambda act: pool(state(act), pool_mask, pooling))

    return _extract(model, tokenizer, sentences, layers, capture,
                    key=dict(what="neuron_states", kind=kind, pooling=pooling),
                    batch_size=batch_size, max_length=max_length,
                    exclude_special=exclude_special, use_cache=use_cache, lazy=lazy,
                    store=store)


def _extract(model, tokenizer, sentences, layers, capture, *, key, batch_size, max_length,
             exclude_special, use_cache, lazy, store):
    sentences = _check_sentences(sentences)
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    virtual = soft_prompt_tokens(model)
    full_key = None if not use_cache else cache.cache_key(
        **key, store=store, model=cache.model_fingerprint(model),
        tokenizer=cache.tokenizer_fingerprint(tokenizer), text=cache.text_digest(sentences),
        layers=layers, max_length=max_length, exclude_special=exclude_special)

    def compute():
        ids, special = _encode(tokenizer, sentences, max_length)
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        device = model_device(model)
        out = None
        steps = range(0, len(order), batch_size)
        with torch.inference_mode():
            for start in progress(steps, total=len(steps), desc=key["what"]):
                idx = order[start:start + batch_size]
                batch = _collate([ids[i] for i in idx], [special[i] for i in idx], tokenizer,
                                 exclude_special, device, virtual)
                with capture(batch.pop("pool_mask")) as got:
                    run_model(model, **batch)
                stacked = torch.stack([got[i] for i in layers]).cpu()  # [L, B, width]
                if out is None:
                    out = torch.empty(len(layers), len(ids), stacked.shape[-1])
                out[:, idx] = stacked
        _check_finite(out, key["what"])
        return out

    return cache.cached(full_key, compute, enabled=use_cache, lazy=lazy, store=store,
                        info=dict(key, n=len(sentences), layers=layers))


def _encode(tokenizer, sentences, max_length):
    enc = tokenizer(list(sentences), add_special_tokens=True, truncation=max_length is not None,
                    max_length=max_length, return_special_tokens_mask=True)
    return enc["input_ids"], enc["special_tokens_mask"]


def _collate(ids, special, tokenizer, exclude_special, device, virtual: int = 0) -> dict:
    """Pad a batch on the tokenizer's padding side; positions count real tokens only, so
    left and right padding give each token the position it has when encoded alone.

    virtual: soft-prompt tokens the model prepends (:func:`xlnb.arch.soft_prompt_tokens`).
    PEFT then ignores position_ids, so the batch is right-padded (real tokens keep their
    positions) and the pool mask gets ``virtual`` leading zeros (soft tokens are not pooled).
    """
    width = max(len(x) for x in ids)
    left = tokenizer.padding_side == "left" and not virtual
    input_ids = torch.full((len(ids), width), tokenizer.pad_token_id, dtype=torch.long)
    attention = torch.zeros((len(ids), width), dtype=torch.long)
    pool_mask = torch.zeros((len(ids), virtual + width), dtype=torch.long)
    for row, (seq, spec) in enumerate(zip(ids, special)):
        cols = slice(width - len(seq), width) if left else slice(0, len(seq))
        input_ids[row, cols] = torch.tensor(seq)
        attention[row, cols] = 1
        keep = [0 if (exclude_special and s) else 1 for s in spec]
        if not any(keep):
            raise ValueError(f"sentence {tokenizer.decode(seq)!r} has no token left to pool "
                             "once special tokens are excluded")
        pool_mask[row, virtual + cols.start:virtual + cols.stop] = torch.tensor(keep)
    batch = dict(input_ids=input_ids.to(device), attention_mask=attention.to(device),
                 pool_mask=pool_mask.to(device))
    if not virtual:
        batch["position_ids"] = (attention.cumsum(dim=1) - 1).clamp(min=0).to(device)
    return batch


def _check_sentences(sentences) -> list[str]:
    if isinstance(sentences, str) or not isinstance(sentences, Sequence):
        raise TypeError(f"sentences must be a list of strings, got {type(sentences).__name__}")
    if len(sentences) == 0:
        raise ValueError("sentences is empty")
    for i, s in enumerate(sentences):
        if not isinstance(s, str) or not s.strip():
            raise ValueError(f"sentence {i} is empty or not a string: {s!r}")
    return list(sentences)


def _check_layers(model, layers, resolve, lowest: int) -> list[int]:
    """Resolved layer numbers (ints or placement names); None: all from ``lowest`` to n."""
    if layers is None:
        return list(range(lowest, n_blocks(model) + 1))
    if isinstance(layers, (str, bytes)):
        raise TypeError(f"layers must be a list of ints or names, got {layers!r}")
    layers = [resolve(model, i) for i in layers]
    if not layers:
        raise ValueError("layers is empty")
    return layers


def _check_finite(tensor: torch.Tensor, what: str) -> None:
    if not torch.isfinite(tensor).all():
        bad = (~torch.isfinite(tensor)).nonzero()[0].tolist()
        raise ValueError(f"{what}: non-finite value at [layer, sentence, dim] = {bad}; "
                         "try dtype='float32' or a smaller max_length")
