"""Trained adapters that notebooks share: trained once, found again by what made them.

``<cache_dir>/adapters/<key>/`` holds ``meta.json`` (model, task, data description and
digest, seed, config, package versions; written before training), then what
:func:`xlnb.train.train` writes: the peft adapter, ``train_config.json``, ``history.csv``,
``train_result.json`` and, last, an empty ``complete`` marker. The key hashes the model
name, the :class:`TrainConfig` (all but where checkpoints go), the caller's ``data_key`` and
a digest of the data itself, so another seed, setting or data set is another adapter. A
folder without the marker is an interrupted run: the next call resumes it from its
checkpoints, and it is never loaded as a finished adapter.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from pathlib import Path

from xlnb.cache import cache_dir, cache_key
from xlnb.train.batches import as_pairs, check_task_data, data_digest
from xlnb.train.config import TrainConfig
from xlnb.train.trainer import COMPLETE, train

ADAPTER_FILE = "adapter_model.safetensors"


def adapter_key(model_name: str, config: TrainConfig, data_key: dict, digest: str) -> str:
    """A readable, unique folder name: ``<model>-<task>-<mode>-<hash>``."""
    try:
        json.dumps(data_key)
    except TypeError as err:
        raise ValueError(f"data_key must be a JSON-serialisable dict, got {data_key!r}") from err
    digest_key = cache_key(what="adapter", model=model_name, config=config.result_dict(),
                           data_key=data_key, data=digest)
    slug = f"{model_name}-{data_key.get('task', 'data')}-{config.mode}"
    return re.sub(r"[^A-Za-z0-9._-]+", "-", slug)[-60:].strip("-") + "-" + digest_key[:16]


def is_complete(path) -> bool:
    return (Path(path) / COMPLETE).is_file()


def trained_adapter(model_name: str, config: TrainConfig, *, task_data=None,
                    dev_task_data=None, pairs=None, dev_pairs=None, data_key: dict,
                    load_kwargs: dict | None = None) -> Path:
    """The folder of the adapter ``config`` trains on ``model_name`` with this data: reused
    when a finished one exists, else trained (resuming an interrupted run) and saved.

    data_key: a small description of the data (e.g. ``{"task": "slot_filling",
        "languages": ["en"], "n": 1000, "pairs": "tatoeba"}``), stored in ``meta.json``;
        the data's own digest is part of the key too. Its ``task`` names the folder.
    load_kwargs: passed to :func:`xlnb.models.load_model` (``dtype``, ``device``, ...);
        4-bit loading follows ``config.load_in_4bit``.
    Checkpoints go to ``config.checkpoint_dir/<key>`` when set (e.g. on Google Drive), else
    into the adapter folder.
    """
    from xlnb.models import load_model

    if not isinstance(data_key, dict):
        raise TypeError(f"data_key must be a dict describing the data, got {data_key!r}")
    load_kwargs = dict(load_kwargs or {})
    if load_kwargs.pop("load_in_4bit", config.load_in_4bit) != config.load_in_4bit:
        raise ValueError("load_kwargs['load_in_4bit'] differs from config.load_in_4bit")
    digest = _digest(task_data, dev_task_data, pairs, dev_pairs)
    key = adapter_key(model_name, config, data_key, digest)
    path = cache_dir() / "adapters" / key
    if is_complete(path):
        return path
    checkpoints = Path(config.checkpoint_dir) / key if config.checkpoint_dir else path / "checkpoints"
    run_config = dataclasses.replace(config, checkpoint_dir=str(checkpoints))
    model, tokenizer = load_model(model_name, load_in_4bit=config.load_in_4bit, **load_kwargs)
    path.mkdir(parents=True, exist_ok=True)
    meta = {"model": model_name, "task": data_key.get("task"), "data_key": data_key,
            "data_digest": digest, "seed": config.seed, "config": config.to_dict(),
            "versions": _versions()}
    _write_atomic(path / "meta.json", json.dumps(meta, indent=2, default=str))
    train(model, tokenizer, run_config, task_data=task_data, dev_task_data=dev_task_data,
          pairs=pairs, dev_pairs=dev_pairs, output_dir=path)
    return path


def load_trained(model_name: str, path, **load_kwargs):
    """``(model, tokenizer)``: ``model_name`` loaded with :func:`xlnb.models.load_model`
    (4-bit when the adapter was trained so, unless ``load_in_4bit`` is given) and the
    adapter at ``path`` applied, in eval mode. Refuses an unfinished adapter and one trained
    on another model or whose modules and shapes do not fit."""
    from xlnb.models import load_model

    path = Path(path)
    _check_finished(path)
    meta_file = path / "meta.json"
    meta = json.loads(meta_file.read_text(encoding="utf-8")) if meta_file.is_file() else None
    if meta is not None and meta["model"] != model_name:
        raise ValueError(f"adapter {path} was trained on {meta['model']!r}, not {model_name!r}")
    if (path / "train_config.json").is_file():
        config = TrainConfig.from_json(path / "train_config.json")
        load_kwargs.setdefault("load_in_4bit", config.load_in_4bit)
    model, tokenizer = load_model(model_name, **load_kwargs)
    return load_adapter(model, path).eval(), tokenizer


def load_adapter(model, path, adapter_name: str = "default"):
    """Apply the peft adapter at ``path`` to ``model`` (a base model, or a peft model that
    gets it as ``adapter_name``). Checks first that every adapted module exists in the model
    with the shapes of the saved LoRA matrices; raises ValueError naming the first misfit."""
    from peft import PeftModel

    path = Path(path)
    _check_finished(path)
    if not (path / ADAPTER_FILE).is_file():
        raise FileNotFoundError(f"no adapter at {path}: {ADAPTER_FILE} is missing")
    check_fits(model, path)
    if hasattr(model, "peft_config"):
        model.load_adapter(str(path), adapter_name=adapter_name)
        return model
    return PeftModel.from_pretrained(model, str(path), adapter_name=adapter_name)


def check_fits(model, path) -> None:
    """Every ``...lora_A/B.weight`` of the saved adapter must sit on a module of ``model``
    whose in / out features match."""
    from safetensors import safe_open

    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    modules = dict(base.named_modules())
    with safe_open(str(Path(path) / ADAPTER_FILE), framework="pt") as f:
        for name in f.keys():  # noqa: SIM118 - safe_open has no __iter__
            match = re.match(r"^base_model\.model\.(.+)\.lora_([AB])(?:\.[^.]+)?\.weight$", name)
            if match is None:
                continue
            target, kind = match.groups()
            module = modules.get(target)
            if module is None:
                raise ValueError(f"adapter {path} does not fit the model: it adapts {target}, "
                                 f"which {type(base).__name__} does not have")
            shape = tuple(f.get_slice(name).get_shape())
            want = module.in_features if kind == "A" else module.out_features
            have = shape[1] if kind == "A" else shape[0]
            if have != want:
                raise ValueError(f"adapter {path} does not fit the model: {target} has "
                                 f"{'in' if kind == 'A' else 'out'}_features {want}, the "
                                 f"adapter's lora_{kind} expects {have}")


def _check_finished(path: Path) -> None:
    """Refuse a folder of an unfinished xlnb run (it has a run's files but no marker); a
    plain peft folder from elsewhere passes."""
    ours = any((path / name).exists() for name in ("meta.json", "train_config.json",
                                                   "checkpoints"))
    if ours and not is_complete(path):
        raise ValueError(f"adapter {path} is unfinished (no '{COMPLETE}' marker: training was "
                         "interrupted); call trained_adapter or train again to resume it")


def _digest(task_data, dev_task_data, pairs, dev_pairs) -> str:
    parts = [data_digest(check_task_data(task_data) if task_data else None,
                         as_pairs(pairs) if pairs else None),
             data_digest(check_task_data(dev_task_data, "dev_task_data") if dev_task_data
                         else None, as_pairs(dev_pairs, "dev_pairs") if dev_pairs else None)]
    return cache_key(what="data", parts=parts)


def _versions() -> dict:
    from importlib import metadata

    out = {}
    for package in ("xlnb", "torch", "transformers", "peft", "bitsandbytes"):
        try:
            out[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            out[package] = None
    return out


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
