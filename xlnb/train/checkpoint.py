"""Training checkpoints: everything a run needs to continue as if never interrupted.

``<checkpoint_dir>/step-00000200/`` holds the trainable (LoRA) weights and the best ones so
far (safetensors), optimizer, scheduler, gradient-scaler and RNG states (``optim.pt``), and
``trainer.json``: the run identity (config, model, data digest), the data streams' positions,
the loss history and the early-stopping state. A checkpoint is written into a temporary
folder and renamed into place, so a folder named ``step-*`` is always complete; the
:data:`KEEP` newest are kept.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
from pathlib import Path

import numpy as np
import torch

KEEP = 2
_NAME = re.compile(r"^step-(\d+)$")


def trainable_state(model) -> dict[str, torch.Tensor]:
    """The parameters being trained (LoRA A/B), by name, cloned to CPU."""
    return {n: p.detach().to("cpu", copy=True) for n, p in model.named_parameters()
            if p.requires_grad}


def load_trainable(model, state: dict[str, torch.Tensor]) -> None:
    params = {n: p for n, p in model.named_parameters() if p.requires_grad}
    if set(params) != set(state):
        raise ValueError(f"checkpoint weights do not match the model's trainable parameters: "
                         f"{len(set(state) - set(params))} unknown, "
                         f"{len(set(params) - set(state))} missing")
    with torch.no_grad():
        for name, param in params.items():
            param.copy_(state[name])


def latest(directory) -> Path | None:
    """The newest complete checkpoint in ``directory``, or None."""
    directory = Path(directory)
    if not directory.is_dir():
        return None
    found = [(int(m.group(1)), p) for p in directory.iterdir()
             if (m := _NAME.match(p.name)) and (p / "trainer.json").is_file()]
    return max(found)[1] if found else None


def read_trainer_state(path) -> dict:
    return json.loads((Path(path) / "trainer.json").read_text(encoding="utf-8"))


def check_same_run(path, identity: dict) -> None:
    """Raise ValueError when the checkpoint at ``path`` was written by another run
    (another configuration, model or data), naming what differs."""
    saved = read_trainer_state(path)["identity"]
    diffs = []
    for key in sorted(set(saved) | set(identity)):
        old, new = saved.get(key), identity.get(key)
        if isinstance(old, dict) and isinstance(new, dict):
            diffs += [f"{key}.{k}: {old.get(k)!r} -> {new.get(k)!r}"
                      for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)]
        elif old != new:
            diffs.append(f"{key}: {old!r} -> {new!r}")
    if diffs:
        raise ValueError(f"checkpoint {path} was written with another configuration "
                         f"({'; '.join(diffs)}); use another checkpoint_dir or delete it")


def save(directory, step: int, *, model, optimizer, scheduler, scaler, state: dict,
         best: dict | None) -> Path:
    """Write checkpoint ``step`` atomically; return its folder."""
    from safetensors.torch import save_file

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"step-{step:08d}"
    tmp = directory / f".tmp-{target.name}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    save_file(trainable_state(model), str(tmp / "adapter.safetensors"))
    if best is not None:
        save_file(best, str(tmp / "best.safetensors"))
    torch.save({"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                "scaler": scaler.state_dict(), "rng": _rng_state()}, tmp / "optim.pt")
    (tmp / "trainer.json").write_text(json.dumps(state), encoding="utf-8")
    shutil.rmtree(target, ignore_errors=True)
    os.replace(tmp, target)
    _prune(directory)
    return target


def restore(path, *, model, optimizer, scheduler, scaler) -> tuple[dict, dict | None]:
    """Load checkpoint ``path`` into the model and the optimisation objects and restore the
    RNG states; return ``(trainer state, best weights or None)``."""
    from safetensors.torch import load_file

    path = Path(path)
    load_trainable(model, load_file(str(path / "adapter.safetensors")))
    best = (load_file(str(path / "best.safetensors"))
            if (path / "best.safetensors").is_file() else None)
    saved = torch.load(path / "optim.pt", weights_only=True)
    optimizer.load_state_dict(saved["optimizer"])
    scheduler.load_state_dict(saved["scheduler"])
    scaler.load_state_dict(saved["scaler"])
    _set_rng_state(saved["rng"])
    return read_trainer_state(path), best


def _rng_state() -> dict:
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    return {"torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
            "numpy": [kind, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, gauss],
            "python": random.getstate()}


def _set_rng_state(rng: dict) -> None:
    torch.set_rng_state(rng["torch"])
    if rng["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(rng["cuda"])
    kind, keys, pos, has_gauss, gauss = rng["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, gauss))
    version, internal, gauss_next = rng["python"]
    random.setstate((version, tuple(internal), gauss_next))


def _prune(directory: Path) -> None:
    found = sorted((int(m.group(1)), p) for p in directory.iterdir()
                   if (m := _NAME.match(p.name)))
    for _, path in found[:-KEEP]:
        shutil.rmtree(path, ignore_errors=True)
