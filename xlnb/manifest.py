"""The record of a notebook run, and when a previous run still counts.

``runs/<profile>/<ref>.json`` is written last, after a complete successful run: its params,
hashes of the notebook's code and of the xlnb package's files, the versions of xlnb, torch,
transformers and peft, the git commit and dirty flag, and the device. :func:`up_to_date`
compares the hashes (versions are a record, not part of the check).
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import nbformat

from xlnb.outputs import atomic_write
from xlnb.paths import notebook_path, project_root, relative_to_root, run_paths

PACKAGE_DIR = Path(__file__).resolve().parent  # the xlnb sources whose hash a run records
RECORDED_PACKAGES = ("xlnb", "torch", "transformers", "peft")


def _sha256(obj) -> str:
    """Stable hash of a JSON-able object."""
    blob = json.dumps(obj, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()


def notebook_hash(path: Path) -> str:
    """Hash of the notebook's code (cell outputs and metadata do not count)."""
    nb = nbformat.read(path, as_version=4)
    return _sha256([c.source for c in nb.cells if c.cell_type == "code"])


def code_hash(package_dir: Path | None = None) -> str:
    """Hash of every file of the xlnb package (relative path and bytes); byte-code caches
    and hidden files do not count. Any edit under ``xlnb/`` changes it."""
    root = Path(package_dir or PACKAGE_DIR)
    digest = hashlib.sha256()
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix not in {".pyc", ".pyo"}
                   and not any(part == "__pycache__" or part.startswith(".")
                               for part in p.relative_to(root).parts))
    for path in files:
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _git_state() -> dict | None:
    """``{"commit", "dirty"}`` of the project's git checkout, or None outside one."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=project_root(), capture_output=True, text=True,
                              check=True, timeout=30).stdout.strip()
    try:
        commit = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": commit, "dirty": dirty}


def _device() -> str:
    """The device notebooks compute on by default (``xlnb.device.default_device``), with
    the GPU's name on CUDA."""
    import torch

    if torch.cuda.is_available():
        return f"cuda ({torch.cuda.get_device_name(0)})"
    return "cpu"


def environment() -> dict:
    """What a run's numbers may depend on besides params and code: package versions (None
    when not installed), python, device, git commit and dirty flag."""
    versions = {}
    for name in RECORDED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {"versions": versions, "python": sys.version.split()[0], "device": _device(),
            "git": _git_state()}


def up_to_date(ref: str, profile: str, params: dict, code: str | None = None) -> list[Path] | None:
    """The outputs of a still-valid previous run, or None when the notebook must run.

    Valid means: a manifest of a successful run with the same params hash, notebook code
    and xlnb code hash (``code``, default :func:`code_hash`), whose executed notebook and
    logged outputs all still exist.
    """
    paths = run_paths(ref, profile)
    try:
        manifest = json.loads(paths["manifest"].read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    outputs = [project_root() / p for p in manifest.get("outputs", [])]
    valid = (
        manifest.get("status") == "ok"
        and manifest.get("params_hash") == _sha256(params)
        and manifest.get("notebook_hash") == notebook_hash(notebook_path(ref))
        and manifest.get("code_hash") == (code or code_hash())
        and paths["executed"].is_file()
        and all(p.is_file() for p in outputs)
    )
    return outputs if valid else None


def write_manifest(ref: str, profile: str, params: dict, outputs: list[Path], seconds: float,
                    code: str):
    """Write ``runs/<profile>/<ref>.json`` atomically: the record of a successful run.

    code: the xlnb code hash taken before the run started (an edit during the run makes the
    next run redo it)."""
    paths = run_paths(ref, profile)
    manifest = json.dumps({
        "notebook": ref, "profile": profile, "status": "ok", "params": params,
        "params_hash": _sha256(params), "notebook_hash": notebook_hash(notebook_path(ref)),
        "code_hash": code, **environment(),
        "outputs": [relative_to_root(p) for p in outputs],
        "executed": relative_to_root(paths["executed"]), "seconds": round(seconds, 3),
        "finished": datetime.now(timezone.utc).isoformat(),
    }, indent=2, default=str)
    atomic_write(paths["manifest"], lambda tmp: Path(tmp).write_text(manifest + "\n"), log=False)
