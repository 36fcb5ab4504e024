"""Forward hooks that capture pooled states, one context manager per purpose.

Hook points (TransformerLens-style names, shapes of what the hook sees):
- ``model.embed_tokens``            -> ``[B, T, d]``   (representation index 0)
- ``model.layers.{i}``             -> ``[B, T, d]``   (representation index i + 1)
- ``model.layers.{i}.mlp.gate_proj`` -> ``[B, T, d_ff]``, passed through ``act_fn``
  (NeuronXA's neuron activation of block i)

Each hook pools its tensor at once (``reduce``), so token-level states of all layers never
coexist; after the deepest hook needed it raises :class:`StopForward`, so later blocks and
the LM head are never computed.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Callable

import torch

from xlnb.arch import blocks_of, embedding_of, gated_mlp


class StopForward(Exception):
    """Raised by the deepest capturing hook to end the forward pass early."""


def run_decoder(decoder, **inputs) -> None:
    """Run the decoder stack (never the LM head) until a hook stops it."""
    try:
        decoder(**inputs, use_cache=False)
    except StopForward:
        pass


def run_model(model, **inputs) -> None:
    """Run the top-level model (a ``*ForCausalLM`` or a PEFT wrapper, so LoRA adapters and
    soft prompts apply) until a capturing hook raises :class:`StopForward`; the layers after
    the deepest hook and the LM head are never computed."""
    try:
        model(**inputs, use_cache=False)
    except StopForward:
        pass


@contextmanager
def capture_residual(model, layers: list[int], reduce: Callable[[torch.Tensor], torch.Tensor]):
    """Capture ``reduce(hidden)`` at representation indices ``layers`` (0 = embeddings,
    i = output of block i, Hugging Face ``hidden_states`` numbering, no final norm).
    Yields a dict index -> reduced tensor, filled during the forward pass."""
    captured: dict[int, torch.Tensor] = {}
    deepest = max(layers)

    def make_hook(index: int):
        def hook(module, args, output):
            hidden = output[0] if isinstance(output, tuple) else output  # [B, T, d]
            captured[index] = reduce(hidden)
            if index == deepest:
                raise StopForward
        return hook

    modules = {i: embedding_of(model) if i == 0 else blocks_of(model)[i - 1] for i in layers}
    handles = [modules[i].register_forward_hook(make_hook(i)) for i in sorted(set(layers))]
    try:
        yield captured
    finally:
        for handle in handles:
            handle.remove()


@contextmanager
def capture_ffn_activations(model, blocks: list[int],
                            reduce: Callable[[torch.Tensor], torch.Tensor]):
    """Capture ``reduce(act_fn(gate_proj(x)))`` for each block in ``blocks`` (0-based),
    the FFN activation before the up-projection (NeuronXA §2.2). Yields dict block -> tensor.
    The hook sits on ``gate_proj`` and applies the block's own ``act_fn``, so it works
    whether or not the model shares one activation module across blocks."""
    captured: dict[int, torch.Tensor] = {}
    deepest = max(blocks)
    parts = {b: gated_mlp(model, b) for b in blocks}  # validates before any forward

    def make_hook(block: int, act_fn):
        def hook(module, args, output):
            captured[block] = reduce(act_fn(output))  # [B, T, d_ff] -> reduced
            if block == deepest:
                raise StopForward
        return hook

    handles = [gate.register_forward_hook(make_hook(b, act)) for b, (gate, act) in parts.items()]
    try:
        yield captured
    finally:
        for handle in handles:
            handle.remove()
