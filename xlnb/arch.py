"""Where the parts of a decoder-only model live, across the Llama, Qwen2, Mistral and Gemma
families (also behind a PEFT wrapper). The only place that knows module paths."""

from __future__ import annotations

import torch


def decoder_of(model) -> torch.nn.Module:
    """The decoder stack without the LM head (``model.model`` for ``*ForCausalLM``)."""
    if hasattr(model, "get_base_model"):  # peft.PeftModel
        model = model.get_base_model()
    inner = getattr(model, "model", None)
    if inner is not None and hasattr(inner, "layers"):
        return inner
    if hasattr(model, "layers") and hasattr(model, "embed_tokens"):
        return model
    if inner is not None and hasattr(inner, "language_model"):  # multimodal Gemma 3
        return inner.language_model
    raise ValueError(f"cannot find the decoder blocks of {type(model).__name__}: expected "
                     "model.model.layers (Llama, Qwen2, Mistral, Gemma families)")


def blocks_of(model) -> torch.nn.ModuleList:
    """``model.layers`` -> the decoder blocks, block i at index i (0-based)."""
    return decoder_of(model).layers


def n_blocks(model) -> int:
    return len(blocks_of(model))


def embedding_of(model) -> torch.nn.Module:
    """``model.embed_tokens``: its output is ``hidden_states[0]`` (Gemma's scaling included)."""
    return decoder_of(model).embed_tokens


def final_norm_of(model) -> torch.nn.Module:
    """``model.norm``: the final norm; its output is ``hidden_states[-1]``."""
    norm = getattr(decoder_of(model), "norm", None)
    if norm is None:
        raise ValueError(f"{type(model).__name__} has no final norm at model.norm")
    return norm


def gated_mlp(model, block: int):
    """``(gate_proj, act_fn)`` of block ``block`` (1-based: the FFN inside
    ``model.layers.{block - 1}``): the FFN activation is act_fn(gate_proj(x)) (NeuronXA §2.2).
    Raises ValueError for a model without a gated MLP."""
    mlp = getattr(blocks_of(model)[block - 1], "mlp", None)
    gate, act = getattr(mlp, "gate_proj", None), getattr(mlp, "act_fn", None)
    if gate is None or act is None:
        raise ValueError(
            f"{type(model).__name__} block {block} has no gated MLP (mlp.gate_proj and "
            "mlp.act_fn): neuron states are defined for Llama, Qwen2, Mistral and Gemma models")
    return gate, act


def model_device(model) -> torch.device:
    return next(model.parameters()).device


# PEFT prompt-learning methods whose virtual tokens are prepended to the input embeddings
# (so every hidden state has them as its first positions) and which ignore position_ids.
_PREPENDING = ("PROMPT_TUNING", "P_TUNING", "MULTITASK_PROMPT_TUNING")
# Methods that put their virtual tokens into the attention keys/values only.
_KEY_VALUE_ONLY = ("PREFIX_TUNING",)


def soft_prompt_tokens(model) -> int:
    """How many virtual tokens an active PEFT prompt-learning adapter prepends to every hidden
    state: ``num_virtual_tokens`` for prompt tuning and p-tuning, 0 for prefix tuning (its
    virtual tokens live in the attention keys and values only), for LoRA-style adapters and
    for a plain model. Raises ValueError for another prompt-learning method."""
    config = getattr(model, "active_peft_config", None)
    if config is None or not getattr(config, "is_prompt_learning", False):
        return 0
    kind = str(getattr(config.peft_type, "value", config.peft_type))
    if kind in _PREPENDING:
        return int(config.num_virtual_tokens)
    if kind in _KEY_VALUE_ONLY:
        return 0
    raise ValueError(f"PEFT prompt-learning method {kind} is not supported here; supported: "
                     f"{', '.join(_PREPENDING + _KEY_VALUE_ONLY)} and LoRA-style adapters")
