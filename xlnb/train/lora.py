"""LoRA / QLoRA adapters with peft (MidAlign App. D.1: r=8, alpha=16, dropout 0.1 on the
attention and MLP projections of every block)."""

from __future__ import annotations

import re

import torch

from xlnb.arch import blocks_of, decoder_of

# Short names of the config -> module path inside a decoder block. The same in the Llama,
# Qwen2/3, Mistral, Gemma 1-3 and OLMo 2 families; :func:`target_modules` checks that the
# model really has them, so an architecture with fused projections gets a clear error.
MODULE_PATHS = {"q": "self_attn.q_proj", "k": "self_attn.k_proj", "v": "self_attn.v_proj",
                "o": "self_attn.o_proj", "gate": "mlp.gate_proj", "up": "mlp.up_proj",
                "down": "mlp.down_proj"}


def is_quantized(model) -> bool:
    """Whether the model was loaded in 4 or 8 bit (bitsandbytes)."""
    return bool(getattr(model, "is_loaded_in_4bit", False)
                or getattr(model, "is_loaded_in_8bit", False))


def target_modules(model, targets) -> str:
    """A peft ``target_modules`` regex matching exactly the ``targets`` projections of the
    decoder blocks (never, e.g., a vision tower's). Raises ValueError when a block lacks one."""
    block = blocks_of(model)[0]
    names = dict(block.named_modules())
    missing = [MODULE_PATHS[t] for t in targets if MODULE_PATHS[t] not in names]
    if missing:
        model_type = getattr(getattr(model, "config", None), "model_type", type(model).__name__)
        raise ValueError(f"{model_type} blocks have no module {missing}: LoRA targets are "
                         f"defined for the Llama, Qwen2, Mistral and Gemma layouts "
                         f"({', '.join(MODULE_PATHS.values())})")
    decoder = decoder_of(model)
    prefix = next(name for name, module in model.named_modules() if module is decoder)
    paths = "|".join(re.escape(MODULE_PATHS[t]) for t in targets)
    return rf"{re.escape(prefix)}\.layers\.\d+\.({paths})"


def add_lora(model, config):
    """Wrap ``model`` in a peft LoRA model for :class:`xlnb.train.TrainConfig` ``config``.

    A 4-bit model (``load_model(..., load_in_4bit=True)``) first goes through peft's
    ``prepare_model_for_kbit_training`` (QLoRA: frozen NF4 weights, norms in fp32).
    ``config.gradient_checkpointing`` turns on non-reentrant gradient checkpointing, which
    leaves module hooks outside the recomputation, so the early exit of the alignment step
    still works. LoRA's A matrices are initialised from ``config.seed``.
    """
    from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training

    if hasattr(model, "peft_config"):
        raise ValueError("the model already has peft adapters; pass the base model")
    if config.load_in_4bit != is_quantized(model):
        raise ValueError(f"config.load_in_4bit={config.load_in_4bit} but the model is "
                         f"{'' if is_quantized(model) else 'not '}quantized: load it with "
                         f"load_model(name, load_in_4bit={config.load_in_4bit})")
    checkpointing = {"use_reentrant": False}
    if is_quantized(model):
        model = prepare_model_for_kbit_training(
            model, use_gradient_checkpointing=config.gradient_checkpointing,
            gradient_checkpointing_kwargs=checkpointing)
    elif config.gradient_checkpointing:
        if hasattr(model, "activation_checkpointing_enable"):  # transformers >= 5
            model.activation_checkpointing_enable(activation_checkpointing_kwargs=checkpointing)
        else:
            model.gradient_checkpointing_enable(gradient_checkpointing_kwargs=checkpointing)
    lora = LoraConfig(r=config.lora_r, lora_alpha=config.lora_alpha,
                      lora_dropout=config.lora_dropout, bias="none", task_type="CAUSAL_LM",
                      target_modules=target_modules(model, config.lora_targets))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        return get_peft_model(model, lora)


def trainable_parameters(model) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def lora_parameter_count(hf_config, r: int = 8, targets=tuple(MODULE_PATHS)) -> int:
    """r * (d_in + d_out) summed over the ``targets`` projections of every block, from a
    Hugging Face config's shapes (MidAlign App. D.1: 20,971,520 for Llama 3 8B)."""
    d = hf_config.hidden_size
    head_dim = getattr(hf_config, "head_dim", None) or d // hf_config.num_attention_heads
    q_out = hf_config.num_attention_heads * head_dim
    kv_out = (getattr(hf_config, "num_key_value_heads", None)
              or hf_config.num_attention_heads) * head_dim
    ffn = hf_config.intermediate_size
    shapes = {"q": (d, q_out), "k": (d, kv_out), "v": (d, kv_out), "o": (q_out, d),
              "gate": (d, ffn), "up": (d, ffn), "down": (ffn, d)}
    per_block = sum(r * (d_in + d_out) for t, (d_in, d_out) in shapes.items() if t in targets)
    return per_block * hf_config.num_hidden_layers
