"""Forward hooks on a decoder-only model: capture, replace, early exit. One naming scheme.

Residual points are named by **representation index** (Hugging Face ``hidden_states``
numbering): 0 = embedding output, i = output of block i (blocks counted from 1), n = top.
FFN points are named by **block number** 1..n (the FFN inside block i, whose block output is
representation index i). Hook points, TransformerLens-style (module path -> what the hook sees):

- ``model.layers.0`` input (pre-hook)  -> ``[B, T, d]``     index 0 = ``hidden_states[0]``
  (the embedding output, a soft prompt's virtual tokens included)
- ``model.layers.{i-1}`` output        -> ``[B, T, d]``     index i, 1 <= i <= n (raw block
  output; for i = n only with ``final_norm=False``)
- ``model.norm`` output                -> ``[B, T, d]``     index n with ``final_norm=True``
  (the default) = ``hidden_states[-1]``
- ``model.layers.{b-1}.mlp.gate_proj`` output, passed through ``mlp.act_fn``
                                       -> ``[B, T, d_ff]``  FFN activation of block b
  (NeuronXA §2.2)

Each purpose has one context manager (:func:`capture_residual`, :func:`replace_residual`,
:func:`capture_ffn_activations`) whose hooks are removed in ``finally``, on error too. A
capturing hook can end the forward pass after the deepest point it needs by raising
:class:`StopForward` (early exit: later blocks and the LM head never run); :func:`run_model`
runs the top-level model -- a ``*ForCausalLM`` or a PEFT wrapper, so LoRA adapters and soft
prompts apply -- and swallows it. Outside ``torch.inference_mode()`` captured tensors keep
their autograd graph. Block hooks stay outside transformers' gradient checkpointing (it
checkpoints ``forward``, not ``__call__``), so capture with gradients works with it.

The code of this module (docstrings aside) is part of every cache key
(:data:`xlnb.cache.VALUE_MODULES`): editing it retrains every cached adapter and re-extracts
every cached representation. A hook that changes no representation (the task loss's
:func:`xlnb.train.objectives.lm_head_rows`) lives with its user instead.
"""

from __future__ import annotations

import operator
from contextlib import contextmanager
from typing import Callable, Mapping

import torch

from xlnb.arch import blocks_of, final_norm_of, gated_mlp, n_blocks

PLACEMENTS = ("bottom", "middle", "top")


class StopForward(Exception):
    """Raised by the deepest capturing hook to end the forward pass early."""


def run_model(model, **inputs) -> None:
    """Run the top-level model (a ``*ForCausalLM`` or a PEFT wrapper, so LoRA adapters and
    soft prompts apply) until a capturing hook raises :class:`StopForward`; the layers after
    the deepest hook and the LM head are never computed."""
    try:
        model(**inputs, use_cache=False)
    except StopForward:
        pass


def run_decoder(decoder, **inputs) -> None:
    """Run the inner decoder stack until a hook stops it. Skips a prompt-tuning adapter's
    virtual tokens: prefer :func:`run_model`."""
    try:
        decoder(**inputs, use_cache=False)
    except StopForward:
        pass


def _resolve(model, layer, lowest: int, what: str) -> int:
    n = n_blocks(model)
    named = {"bottom": n // 4, "middle": n // 2, "top": n}
    if isinstance(layer, str):
        if layer not in named:
            raise ValueError(f"unknown layer name {layer!r}; use one of {PLACEMENTS} or an int "
                             f"{what} in {lowest}..{n}")
        return named[layer]
    try:
        if isinstance(layer, bool):
            raise TypeError
        index = operator.index(layer)
    except TypeError:
        raise TypeError(f"layer must be an int or one of {PLACEMENTS}, got {layer!r}") from None
    if not lowest <= index <= n:
        raise ValueError(f"{what} {index} out of range: this model has {n} blocks, so use "
                         f"{lowest}..{n} (0 = embedding output, i = block i, {n} = top) or "
                         f"one of {PLACEMENTS} = {n // 4}, {n // 2}, {n}")
    return index


def resolve_layer(model, layer) -> int:
    """A representation index 0..n from an int or a placement name (MidAlign §5.2):
    ``bottom`` = n // 4, ``middle`` = n // 2, ``top`` = n for a model of n blocks
    (32 blocks -> 8 / 16 / 32; 18 blocks, Gemma 3 270M -> 4 / 9 / 18). ``top`` is
    ``hidden_states[-1]`` (final norm applied) wherever ``final_norm=True``, the default.
    Raises ValueError / TypeError naming the value and the valid range."""
    return _resolve(model, layer, 0, "representation index")


def resolve_block(model, block) -> int:
    """A block number 1..n (an FFN point) from an int or a placement name (as
    :func:`resolve_layer`: the FFN of block i feeds representation index i)."""
    return _resolve(model, block, 1, "block number")


def _resolve_all(model, values, resolve) -> list[int]:
    """Sorted distinct numbers of a list of ints / placement names."""
    if isinstance(values, (str, bytes, int)) or not hasattr(values, "__iter__"):
        raise TypeError(f"expected a list of layers, got {values!r}")
    numbers = sorted({resolve(model, v) for v in values})
    if not numbers:
        raise ValueError("the list of layers is empty")
    return numbers


def _residual_point(model, index: int, final_norm: bool):
    """(module, "pre" | "post") whose input / output is representation index ``index``."""
    blocks = blocks_of(model)
    if index == 0:
        return blocks[0], "pre"
    if index == len(blocks) and final_norm:
        return final_norm_of(model), "post"
    return blocks[index - 1], "post"


def _hidden_of(value):
    return value[0] if isinstance(value, tuple) else value  # [B, T, d]


def _register(module, kind: str, fn: Callable):
    """Register ``fn(hidden) -> new hidden or None`` as a pre- or forward hook of ``module``."""
    if kind == "pre":
        def pre_hook(mod, args, kwargs):
            if args:
                new = fn(args[0])
                return None if new is None else ((new,) + tuple(args[1:]), kwargs)
            new = fn(kwargs["hidden_states"])
            return None if new is None else (args, {**kwargs, "hidden_states": new})
        return module.register_forward_pre_hook(pre_hook, with_kwargs=True)

    def post_hook(mod, args, output):
        new = fn(_hidden_of(output))
        if new is None:
            return None
        return (new,) + tuple(output[1:]) if isinstance(output, tuple) else new
    return module.register_forward_hook(post_hook)


@contextmanager
def _hooked(register_calls):
    handles = []
    try:
        for register in register_calls:
            handles.append(register())
        yield
    finally:
        for handle in handles:
            handle.remove()


@contextmanager
def capture_residual(model, layers, reduce: Callable[[torch.Tensor], torch.Tensor], *,
                     final_norm: bool = True, stop: bool = True):
    """Capture ``reduce(hidden)`` (hidden ``[B, T, d]``) at representation indices ``layers``
    (ints or placement names, see :func:`resolve_layer`). Yields a dict int index -> reduced
    tensor, filled during the forward pass.

    final_norm: index n is ``hidden_states[-1]`` (the model's final norm applied, default) or,
        when False, the raw output of the last block (MidAlign's reference code).
    stop: raise :class:`StopForward` after the deepest index (run with :func:`run_model`).
    """
    indices = _resolve_all(model, layers, resolve_layer)
    captured: dict[int, torch.Tensor] = {}

    def make(index: int):
        def fn(hidden):
            captured[index] = reduce(hidden)
            if stop and index == indices[-1]:
                raise StopForward
        return fn

    points = {i: _residual_point(model, i, final_norm) for i in indices}
    with _hooked([lambda i=i: _register(*points[i], make(i)) for i in indices]):
        yield captured


@contextmanager
def replace_residual(model, replacements: Mapping, *, final_norm: bool = True):
    """Replace the hidden state at representation indices: ``{index: fn}`` with
    ``fn(hidden [B, T, d]) -> new hidden [B, T, d]`` (keys are ints or placement names).

    The new state is what every later point sees: replacing index i changes the input of
    block i + 1 (1-based). ShifCon's "before block L add v" is ``{L - 1: lambda h: h + v}``.
    At index n with ``final_norm=True`` (default) the replacement is the final norm's output
    (the LM head's input); with False, the last block's raw output, normed afterwards.
    Index 0 replaces the input of the first block (virtual tokens of a soft prompt included).
    A :func:`capture_residual` entered inside this context sees the replaced state.
    """
    fns = {resolve_layer(model, i): fn for i, fn in replacements.items()}
    if not fns:
        raise ValueError("replacements is empty")

    def checked(index, fn):
        def apply(hidden):
            new = fn(hidden)
            if not isinstance(new, torch.Tensor) or new.shape != hidden.shape:
                raise ValueError(f"replacement at index {index} must return a tensor of shape "
                                 f"{tuple(hidden.shape)}, got {getattr(new, 'shape', new)!r}")
            return new
        return apply

    with _hooked([lambda i=i, fn=fn: _register(*_residual_point(model, i, final_norm),
                                               checked(i, fn)) for i, fn in fns.items()]):
        yield


@contextmanager
def capture_ffn_activations(model, blocks, reduce: Callable[[torch.Tensor], torch.Tensor], *,
                            stop: bool = True):
    """Capture ``reduce(act_fn(gate_proj(x)))`` (``[B, T, d_ff]``) for each block number in
    ``blocks`` (1..n or placement names), the FFN activation before the up-projection
    (NeuronXA §2.2). Yields dict block -> tensor. The hook sits on ``gate_proj`` and applies
    the block's own ``act_fn``, so it works whether or not the model shares one activation
    module across blocks. stop: end the forward pass after the deepest block."""
    numbers = _resolve_all(model, blocks, resolve_block)
    parts = {b: gated_mlp(model, b) for b in numbers}  # validates before any forward
    captured: dict[int, torch.Tensor] = {}

    def make(block: int, act_fn):
        def hook(module, args, output):
            captured[block] = reduce(act_fn(output))  # [B, T, d_ff] -> reduced
            if stop and block == numbers[-1]:
                raise StopForward
        return hook

    with _hooked([lambda b=b: parts[b][0].register_forward_hook(make(b, parts[b][1]))
                  for b in numbers]):
        yield captured
