"""Cached greedy outputs: a system that one notebook evaluated is not decoded again by the next.

The MidAlign notebooks share adapters through the adapter cache (Table 3 reuses Table 2's SFT
and middle-placement adapters; Tables 4, 6 and 8 and Fig. 3 reuse SFT), and each used to
decode the same test sets with them again: on two CPU cores that is tens of seconds per
language and system. Greedy decoding is deterministic given the model weights, the prompts
and the decoding settings, so the outputs are stored as JSON under
``<cache_dir>/generations/<key>.json`` with ``key`` hashing

- the model with its adapters (:func:`xlnb.cache.model_fingerprint`) and its device type,
- the tokenizer (:func:`xlnb.cache.tokenizer_fingerprint`),
- the rendered prompts in order, the budget of new tokens, the batch size (left padding
  shifts float rounding, so a batch size is part of what produced the text) and the stop ids,
- the code of the decoding modules (:mod:`xlnb.generate`, :mod:`xlnb.tasks.chat`) and the
  torch and transformers versions (:func:`xlnb.cache.cache_key`).

Scores are not cached: the task's metric runs on the outputs every time, so a metric fix
applies at once. A file is written atomically and checked on read (its key and its number of
outputs); a damaged one is deleted and decoded again.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from xlnb.cache import (cache_dir, cache_key, code_digest, model_fingerprint, text_digest,
                        tokenizer_fingerprint)
from xlnb.generate import generate
from xlnb.tasks.chat import stop_token_ids

DECODING_MODULES = ("xlnb.generate", "xlnb.tasks.chat")


def generation_key(model, tokenizer, prompts: list[str], *, max_new_tokens: int,
                   batch_size: int, stop_when=None) -> str:
    """The cache key of greedy outputs (see the module docstring for what it covers); a
    ``stop_when`` test adds its name and its module's code."""
    device = next(model.parameters()).device.type
    extra = {} if stop_when is None else {"stop_when": (
        f"{stop_when.__module__}.{stop_when.__qualname__}", code_digest((stop_when.__module__,)))}
    return cache_key(kind="generations", model=model_fingerprint(model), device=device,
                     tokenizer=tokenizer_fingerprint(tokenizer), prompts=text_digest(prompts),
                     n=len(prompts), max_new_tokens=max_new_tokens, batch_size=batch_size,
                     stops=sorted(set(stop_token_ids(tokenizer))),
                     decoding=code_digest(DECODING_MODULES), **extra)


def _path(key: str) -> Path:
    folder = cache_dir() / "generations"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{key}.json"


def _read(path: Path, key: str, n: int) -> list[str] | None:
    """The stored outputs, or None when absent; a file that does not match is removed."""
    if not path.exists():
        return None
    try:
        blob = json.loads(path.read_text(encoding="utf-8"))
        outputs = blob["outputs"]
        if blob.get("key") != key or len(outputs) != n or not all(isinstance(o, str) for o in outputs):
            raise ValueError("key or length mismatch")
        return outputs
    except Exception:  # noqa: BLE001 - any unreadable file is simply decoded again
        path.unlink(missing_ok=True)
        return None


def _write(path: Path, key: str, outputs: list[str]) -> None:
    """A temp file in the same folder, renamed into place when complete."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(dict(key=key, outputs=outputs), fh, ensure_ascii=False)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def cached_generate(model, tokenizer, prompts: list[str], *, max_new_tokens: int,
                    batch_size: int = 16, use_cache: bool = True, stop_when=None) -> list[str]:
    """:func:`xlnb.generate.generate` (greedy, in input order), read from the cache when
    the same model, tokenizer, prompts and settings were decoded before. stop_when: a
    module-level function (its name and module's code are part of the key)."""
    settings = dict(max_new_tokens=max_new_tokens, batch_size=batch_size, stop_when=stop_when)
    if not use_cache:
        return generate(model, tokenizer, prompts, **settings)
    key = generation_key(model, tokenizer, prompts, **settings)
    path = _path(key)
    outputs = _read(path, key, len(prompts))
    if outputs is None:
        outputs = generate(model, tokenizer, prompts, **settings)
        _write(path, key, outputs)
    return outputs


__all__ = ["cached_generate", "generation_key"]
