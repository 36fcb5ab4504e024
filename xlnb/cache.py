"""On-disk cache of representations: safetensors (no pickle), atomic writes, verified reads.

A tensor is stored under ``<cache_dir>/reps/<key>.safetensors`` where ``key`` hashes
everything the tensor depends on: the model with its adapters (:func:`model_fingerprint`),
the tokenizer (:func:`tokenizer_fingerprint`), the sentences, pooling, kind, layers, the
source code of the modules that compute the values (:func:`code_digest`) and the torch and
transformers versions. The file carries a checksum of its tensor bytes in its metadata: a
truncated, corrupt or foreign file is detected on read, deleted and recomputed.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib.util
import json
import os
import struct
import tempfile
import weakref
from pathlib import Path
from typing import Callable

import torch

# The modules whose code computes cached values: any change to their code (not to their
# comments, docstrings or layout) gives new cache keys.
VALUE_MODULES = ("xlnb.hooks", "xlnb.reps", "xlnb.pooling", "xlnb.arch")


def cache_dir() -> Path:
    """``$XLNB_CACHE_DIR``, else ``~/.cache/xlnb`` (created on demand)."""
    root = Path(os.environ.get("XLNB_CACHE_DIR") or Path.home() / ".cache" / "xlnb")
    root.mkdir(parents=True, exist_ok=True)
    return root


def _module_source(name: str) -> str:
    """The source text of module ``name`` (read from its file, not imported)."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.origin:
        raise LookupError(f"cannot find the source of module {name!r}")
    return Path(spec.origin).read_text(encoding="utf-8")


def _code_only(source: str) -> str:
    """The syntax tree of ``source`` without docstrings: comments and layout drop out."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (isinstance(body, list) and body and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)):
            node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree)


@functools.lru_cache(maxsize=None)
def code_digest(modules: tuple[str, ...] = VALUE_MODULES) -> str:
    """Hash of the code of ``modules`` (:data:`VALUE_MODULES`), read once per process so it
    describes the code that was imported."""
    h = hashlib.sha256()
    for name in modules:
        h.update(name.encode() + b"\x00" + _code_only(_module_source(name)).encode())
    return h.hexdigest()[:32]


def cache_key(**parts) -> str:
    """A stable hash of JSON-serialisable ``parts`` plus :func:`code_digest` and the torch
    and transformers versions."""
    import transformers

    blob = json.dumps({**parts, "code": code_digest(), "torch": torch.__version__,
                       "transformers": transformers.__version__}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def text_digest(sentences) -> str:
    """Hash of an ordered list of sentences (order and boundaries both matter)."""
    h = hashlib.sha256()
    for s in sentences:
        h.update(s.encode("utf-8"))
        h.update(b"\x00")
    return h.hexdigest()


def model_fingerprint(model) -> str:
    """Name, config, dtypes and a strided sample of every weight tensor (two fine-tuned
    copies of one base model differ without hashing gigabytes), plus, for a PEFT model, its
    adapter configs, which adapters are active and every adapter weight in full (LoRA
    matrices, prompt-tuning embeddings: small)."""
    h = hashlib.sha256()
    h.update(str(getattr(model, "name_or_path", "")).encode())
    config = getattr(model, "config", None)
    h.update((config.to_json_string() if hasattr(config, "to_json_string") else "").encode())
    with torch.no_grad():
        for name, param in model.named_parameters():
            flat = param.detach().reshape(-1)
            sample = flat[::max(1, flat.numel() // 4096)].float()
            h.update(f"{name}{param.dtype}{tuple(param.shape)}".encode())
            h.update(f"{sample.sum().item():.6e}{sample.abs().sum().item():.6e}".encode())
    h.update(_adapter_digest(model).encode())
    return h.hexdigest()[:32]


def _adapter_digest(model) -> str:
    """PEFT adapter configs, active / disabled / merged state and weights; "" without."""
    if not hasattr(model, "peft_config"):
        return ""
    from peft import get_peft_model_state_dict
    from peft.tuners.tuners_utils import BaseTunerLayer

    h = hashlib.sha256()
    configs = {name: cfg.to_dict() for name, cfg in sorted(model.peft_config.items())}
    h.update(json.dumps(configs, sort_keys=True, default=str).encode())
    h.update(str(getattr(model, "active_adapters", getattr(model, "active_adapter", ""))).encode())
    for name, module in model.named_modules():
        if isinstance(module, BaseTunerLayer):
            h.update(f"{name}{module.disable_adapters}{module.merged}"
                     f"{sorted(module.active_adapters)}".encode())
    for adapter in configs:
        state = get_peft_model_state_dict(model, adapter_name=adapter,
                                          save_embedding_layers=False)
        for key in sorted(state):
            h.update(key.encode())
            h.update(state[key].detach().float().contiguous().cpu().numpy().tobytes())
    return h.hexdigest()


# Vocabulary digests by tokenizer object and size (hashing Gemma's 262k entries takes ~1 s).
_VOCAB_DIGESTS = weakref.WeakKeyDictionary()


def _vocab_digest(tokenizer) -> str:
    size = len(tokenizer)
    known = _VOCAB_DIGESTS.get(tokenizer)
    if known is None or known[0] != size:
        tokens = tokenizer.convert_ids_to_tokens(list(range(size)))
        known = (size, hashlib.sha256("\x00".join(map(str, tokens)).encode()).hexdigest())
        _VOCAB_DIGESTS[tokenizer] = known
    return known[1]


def tokenizer_fingerprint(tokenizer) -> str:
    """Class, vocabulary size, a digest of the vocabulary (id order), special tokens, chat
    template and padding side, and the ids of a probe sentence (catches normalisation and
    BOS/EOS handling)."""
    parts = dict(cls=type(tokenizer).__name__, size=len(tokenizer),
                 vocab=_vocab_digest(tokenizer),
                 special=[(t, tokenizer.convert_tokens_to_ids(t))
                          for t in tokenizer.all_special_tokens],
                 special_map=tokenizer.special_tokens_map,
                 chat_template=getattr(tokenizer, "chat_template", None),
                 padding_side=tokenizer.padding_side,
                 probe=tokenizer("Ünïcode probe: 猫 42.")["input_ids"])
    blob = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


STORE_DTYPES = ("float16", "float32")
# Scaled float16: each leading-axis slice (a layer) is divided by max|x| / 2**15 before the
# cast. Measured on Gemma 3 270M: mean-pooled states reach 44k, close to float16's 65504
# limit, so an unscaled cast would overflow on larger models; scaled, all-pairs retrieval
# on the micro set moves by 0.03 points on average (bfloat16: 0.28).
_F16_TOP = 2.0 ** 15


def _path(key: str) -> Path:
    folder = cache_dir() / "reps"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{key}.safetensors"


def _tensor_digest(tensors: dict) -> str:
    """blake2b of the tensors' bytes, in name order (what :func:`_file_digest` reads back)."""
    h = hashlib.blake2b(digest_size=16)
    for name in sorted(tensors):
        h.update(tensors[name].contiguous().view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def _file_digest(path: Path) -> str:
    """The same digest read from disk: each tensor's byte range, in name order, in chunks
    (a truncated file reads short and so mismatches)."""
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as fh:
        header_len = struct.unpack("<Q", fh.read(8))[0]
        header = json.loads(fh.read(header_len))
        for name in sorted(k for k in header if k != "__metadata__"):
            begin, end = header[name]["data_offsets"]
            fh.seek(8 + header_len + begin)
            left = end - begin
            while left > 0:
                chunk = fh.read(min(left, 1 << 24))
                if not chunk:
                    break
                h.update(chunk)
                left -= len(chunk)
    return h.hexdigest()


class CachedTensor:
    """A float32 view of a cached tensor, read lazily: ``handle[i]`` or ``handle[a:b]``
    reads only those rows of the leading axis (a layer, for representations) from disk."""

    def __init__(self, path: Path):
        from safetensors import safe_open

        self.path = Path(path)
        with safe_open(str(self.path), framework="pt") as f:
            self.shape = torch.Size(f.get_slice("reps").get_shape())
            self._scaled = "scale" in f.keys()
        self.dtype = torch.float32

    def __getitem__(self, index) -> torch.Tensor:
        from safetensors import safe_open

        with safe_open(str(self.path), framework="pt") as f:
            rows = f.get_slice("reps")[index].float()
            if self._scaled:
                scale = f.get_tensor("scale")[index]
                rows = rows * scale.reshape(scale.shape + (1,) * (rows.dim() - scale.dim()))
        return rows

    def __len__(self) -> int:
        return self.shape[0]

    def load(self) -> torch.Tensor:
        return self[:]

    def __repr__(self) -> str:
        return f"CachedTensor({self.path.name}, shape={tuple(self.shape)})"


def open_tensor(key: str) -> CachedTensor | None:
    """A lazy handle on the cached tensor, or None when absent or unreadable (a bad file is
    removed so that it gets recomputed)."""
    from safetensors import safe_open

    path = _path(key)
    if not path.exists():
        return None
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
        if meta.get("key") != key or meta.get("checksum") != _file_digest(path):
            raise ValueError("checksum or key mismatch")
        return CachedTensor(path)
    except Exception:  # noqa: BLE001 - any unreadable file is simply recomputed
        path.unlink(missing_ok=True)
        return None


def save_tensor(key: str, tensor: torch.Tensor, info: dict | None = None, *,
                store: str = "float16") -> Path:
    """Write atomically: a temp file in the same folder, renamed into place when complete.
    ``store="float16"`` keeps scaled float16 (see ``_F16_TOP``), ``"float32"`` the values."""
    from safetensors.torch import save_file

    if store not in STORE_DTYPES:
        raise ValueError(f"unknown store dtype {store!r}; use one of {STORE_DTYPES}")
    tensor = tensor.detach().float().contiguous().cpu()
    tensors = {"reps": tensor}
    if store == "float16":
        peak = tensor.abs().reshape(tensor.shape[0], -1).amax(dim=1)
        scale = torch.where(peak > 0, peak / _F16_TOP, torch.ones_like(peak))
        shaped = scale.reshape((-1,) + (1,) * (tensor.dim() - 1))
        tensors = {"reps": (tensor / shaped).half().contiguous(), "scale": scale}
    path = _path(key)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    os.close(fd)
    try:
        save_file(tensors, tmp, metadata={"key": key, "checksum": _tensor_digest(tensors),
                                          "info": json.dumps(info or {}, default=str)})
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def cached(key: str | None, compute: Callable[[], torch.Tensor], *, enabled: bool = True,
           info: dict | None = None, store: str = "float16",
           lazy: bool = False) -> torch.Tensor | CachedTensor:
    """The tensor for ``key``: from the cache, or computed, stored and read back (so a first
    and a later call return the same numbers). ``lazy`` returns a :class:`CachedTensor`.
    key may be None when ``enabled`` is False (nothing is read or written)."""
    if not enabled:
        if lazy:
            raise ValueError("lazy=True needs the cache (use_cache=True)")
        return compute()
    handle = open_tensor(key)
    if handle is None:
        save_tensor(key, compute(), info, store=store)
        handle = open_tensor(key)
    return handle if lazy else handle.load()
