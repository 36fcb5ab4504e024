"""On-disk cache of representations: safetensors (no pickle), atomic writes, verified reads.

A tensor is stored under ``<cache_dir>/reps/<key>.safetensors`` where ``key`` hashes
everything the tensor depends on (model fingerprint, sentences, pooling, kind, layers,
:data:`CODE_VERSION`). The file carries a checksum of its tensor bytes in its metadata: a
truncated, corrupt or foreign file is detected on read, deleted and recomputed.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Callable

import torch

# Bump when a change to the extraction code changes the numbers it produces.
CODE_VERSION = "1"


def cache_dir() -> Path:
    """``$XLNB_CACHE_DIR``, else ``~/.cache/xlnb`` (created on demand)."""
    root = Path(os.environ.get("XLNB_CACHE_DIR") or Path.home() / ".cache" / "xlnb")
    root.mkdir(parents=True, exist_ok=True)
    return root


def cache_key(**parts) -> str:
    """A stable hash of JSON-serialisable ``parts`` plus :data:`CODE_VERSION`."""
    blob = json.dumps({**parts, "code_version": CODE_VERSION}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def text_digest(sentences) -> str:
    """Hash of an ordered list of sentences (order and boundaries both matter)."""
    h = hashlib.sha256()
    for s in sentences:
        h.update(s.encode("utf-8"))
        h.update(b"\x00")
    return h.hexdigest()


def model_fingerprint(model) -> str:
    """Name, config and a cheap sample of every weight tensor: two fine-tuned copies of one
    base model get different fingerprints without hashing gigabytes."""
    h = hashlib.sha256()
    h.update(str(getattr(model, "name_or_path", "")).encode())
    config = getattr(model, "config", None)
    h.update((config.to_json_string() if config is not None else "").encode())
    with torch.no_grad():
        for name, param in model.named_parameters():
            flat = param.detach().reshape(-1)[:4096].float()
            h.update(name.encode())
            h.update(f"{flat.sum().item():.6e}{flat.abs().sum().item():.6e}".encode())
    return h.hexdigest()[:32]


def _path(key: str) -> Path:
    folder = cache_dir() / "reps"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{key}.safetensors"


def _checksum(tensor: torch.Tensor) -> str:
    return hashlib.blake2b(tensor.contiguous().cpu().numpy().tobytes(), digest_size=16).hexdigest()


def load_tensor(key: str) -> torch.Tensor | None:
    """The cached tensor, or None when absent or unreadable (a bad file is removed)."""
    from safetensors import safe_open

    path = _path(key)
    if not path.exists():
        return None
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
            tensor = f.get_tensor("reps")
        if meta.get("key") != key or meta.get("checksum") != _checksum(tensor):
            raise ValueError("checksum or key mismatch")
        return tensor
    except Exception:  # noqa: BLE001 - any unreadable file is simply recomputed
        path.unlink(missing_ok=True)
        return None


def save_tensor(key: str, tensor: torch.Tensor, info: dict | None = None) -> Path:
    """Write atomically: a temp file in the same folder, renamed into place when complete."""
    from safetensors.torch import save_file

    path = _path(key)
    tensor = tensor.contiguous().cpu()
    meta = {"key": key, "checksum": _checksum(tensor),
            "info": json.dumps(info or {}, sort_keys=True, default=str)}
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    os.close(fd)
    try:
        save_file({"reps": tensor}, tmp, metadata=meta)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def cached(key: str, compute: Callable[[], torch.Tensor], *, enabled: bool = True,
           info: dict | None = None) -> torch.Tensor:
    """Return the cached tensor for ``key`` or compute, store and return it."""
    if enabled:
        hit = load_tensor(key)
        if hit is not None:
            return hit
    tensor = compute()
    if enabled:
        save_tensor(key, tensor, info)
    return tensor
