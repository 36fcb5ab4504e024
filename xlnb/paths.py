"""Project layout: the root, notebooks and their params per profile, output directories.

Notebooks live at ``notebooks/<paper>/<name>.ipynb`` and are referred to as
``<paper>/<name>``; their parameters per profile at ``params/<profile>/<paper>/<name>.yaml``.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import nbformat

PROFILE_ORDER = ("smoke", "demo", "paper")


def project_root() -> Path:
    """``$XLNB_PROJECT_ROOT`` if set, else the nearest ancestor of the cwd holding both
    ``notebooks/`` and ``params/``, else the cwd."""
    env = os.environ.get("XLNB_PROJECT_ROOT")
    if env:
        return Path(env).expanduser().resolve()
    cwd = Path.cwd().resolve()
    for candidate in (cwd, *cwd.parents):
        if (candidate / "notebooks").is_dir() and (candidate / "params").is_dir():
            return candidate
    return cwd


def _profile_dir(kind: str, profile: str) -> Path:
    """``<root>/<kind>/<profile>``, created on demand."""
    if not profile or not isinstance(profile, str) or "/" in profile or "\\" in profile:
        raise ValueError(f"profile must be a name without path separators, got {profile!r}")
    path = project_root() / kind / profile
    path.mkdir(parents=True, exist_ok=True)
    return path


def figures_dir(profile: str) -> Path:
    """``<root>/figures/<profile>``: PNG and PDF figures."""
    return _profile_dir("figures", profile)


def results_dir(profile: str) -> Path:
    """``<root>/results/<profile>``: CSV tables."""
    return _profile_dir("results", profile)


def runs_dir(profile: str) -> Path:
    """``<root>/runs/<profile>``: executed notebooks and their manifests."""
    return _profile_dir("runs", profile)


def profiles() -> list[str]:
    """Profiles that have a directory under ``params/`` (smoke, demo, paper first)."""
    root = project_root() / "params"
    names = [p.name for p in root.iterdir() if p.is_dir()] if root.is_dir() else []
    rank = {name: i for i, name in enumerate(PROFILE_ORDER)}
    return sorted(names, key=lambda n: (rank.get(n, len(rank)), n))


def notebook_refs() -> list[str]:
    """Every notebook reference ``<paper>/<name>`` under ``notebooks/``."""
    root = project_root() / "notebooks"
    paths = root.rglob("*.ipynb") if root.is_dir() else []
    refs = [p.relative_to(root).with_suffix("").as_posix() for p in paths]
    return sorted(r for r in refs if ".ipynb_checkpoints" not in r)


def resolve_ref(ref: str | Path) -> str:
    """Normalise ``midalign/x``, ``midalign/x.ipynb`` or ``notebooks/midalign/x.ipynb``.

    Raises LookupError naming close matches when the notebook does not exist.
    """
    text = str(ref).replace("\\", "/")
    path = Path(text)
    if path.suffix == ".ipynb" and path.exists():
        try:
            text = path.resolve().relative_to(project_root() / "notebooks").as_posix()
        except ValueError:
            pass
    text = text.removesuffix(".ipynb").removeprefix("./").removeprefix("notebooks/")
    refs = notebook_refs()
    if text in refs:
        return text
    near = [r for r in refs if text and text in r] or difflib.get_close_matches(text, refs, 3, 0.4)
    hint = f"; did you mean: {', '.join(near[:3])}" if near else "; see `xlnb list`"
    raise LookupError(f"unknown notebook {str(ref)!r}{hint}")


def notebook_path(ref: str) -> Path:
    """``notebooks/<ref>.ipynb``."""
    return project_root() / "notebooks" / f"{ref}.ipynb"


def params_path(ref: str, profile: str) -> Path:
    """``params/<profile>/<ref>.yaml``."""
    return project_root() / "params" / profile / f"{ref}.yaml"


def run_paths(ref: str, profile: str) -> dict[str, Path]:
    """Executed, failed, in-progress notebook and manifest paths of a run under ``runs/``."""
    base = runs_dir(profile) / ref
    base.parent.mkdir(parents=True, exist_ok=True)
    return {
        "executed": base.with_name(f"{base.name}.ipynb"),
        "failed": base.with_name(f"{base.name}.failed.ipynb"),
        "manifest": base.with_name(f"{base.name}.json"),
        "partial": base.with_name(f".{base.name}.{os.getpid()}.partial.ipynb"),
    }


def relative_to_root(path: str | Path) -> str:
    """``path`` relative to the project root (POSIX form) when inside it, else as given."""
    try:
        return Path(path).resolve().relative_to(project_root()).as_posix()
    except ValueError:
        return str(path)


def notebook_title(path: Path) -> str:
    """The first markdown heading of the notebook (it names the paper figure or table)."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for line in cell.source.splitlines():
            if line.lstrip().startswith("#"):
                return line.strip().lstrip("#").strip()
    return ""


def list_notebooks() -> list[dict]:
    """One dict per notebook: ``notebook`` (ref), ``title``, ``profiles`` with params."""
    known = profiles()
    return [
        {
            "notebook": ref,
            "title": notebook_title(notebook_path(ref)),
            "profiles": [p for p in known if params_path(ref, p).is_file()],
        }
        for ref in notebook_refs()
    ]
