"""Notebook parameters: read the ``parameters`` cell, load a profile's params file, and
check both before any kernel starts (papermill itself only warns on unknown keys)."""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import papermill
import yaml

from xlnb.paths import notebook_path, params_path, profiles

__all__ = ["notebook_parameters", "validate_params", "check_profile", "load_params"]

CHECKED_TYPES = {
    "int": int, "float": (int, float), "str": str, "bool": bool, "list": list, "dict": dict,
}


def _type_name(annotation: str, fallback: str) -> str:
    """Expected type: the annotation's base type if any, else ``fallback``."""
    if annotation in ("", "None"):
        return fallback
    base = annotation.replace("typing.", "").split("[")[0].strip().lower()
    return "any" if base in ("optional", "union", "any") or "None" in annotation else base


def notebook_parameters(path: str | Path) -> dict[str, tuple[str, object]]:
    """``{name: (type_name, default)}`` of the notebook's ``parameters`` cell.

    ``type_name`` is int, float, str, bool, list, dict, NoneType (anything accepted), the
    name of another literal type, or ``any`` when the default is an expression. Parsing is
    papermill's own (the translator behind ``papermill.inspect_notebook``), used directly
    so that notebooks need no kernelspec metadata and nothing is logged.
    """
    nb = nbformat.read(path, as_version=4)
    cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    translators = papermill.translators.papermill_translators
    translator = translators.find_translator("python3", "python")
    raw = {p.name: p._asdict() for p in translator.inspect(cells[0])} if cells else {}
    result = {}
    for name, info in raw.items():
        try:
            default = ast.literal_eval(info["default"])
            fallback = type(default).__name__
        except (ValueError, SyntaxError, TypeError):  # an expression: its type is not checked
            default, fallback = info["default"], "any"
        result[name] = (_type_name(info["inferred_type_name"], fallback), default)
    return result


def validate_params(nb_path: str | Path, params: dict) -> None:
    """Check ``params`` against the notebook's parameters cell, before any kernel starts.

    Unknown key: ValueError listing the valid keys. Wrong type: TypeError (an int is fine
    where a float is expected; a None default accepts anything; a bool is not an int).
    """
    expected = notebook_parameters(nb_path)
    unknown = [key for key in params if key not in expected]
    if unknown:
        names, valid = ", ".join(repr(k) for k in unknown), ", ".join(expected)
        raise ValueError(f"unknown parameter {names} for {Path(nb_path).name}; valid: {valid}")
    for key, value in params.items():
        type_name = expected[key][0]
        if type_name not in CHECKED_TYPES:
            continue
        wrong_bool = isinstance(value, bool) and type_name != "bool"
        if wrong_bool or not isinstance(value, CHECKED_TYPES[type_name]):
            raise TypeError(
                f"parameter {key!r} of {Path(nb_path).name}: expected {type_name}, "
                f"got {type(value).__name__} ({value!r})"
            )


def check_profile(profile: str) -> None:
    """ValueError unless ``profile`` has a directory under ``params/``."""
    known = profiles()
    if profile not in known:
        names = ", ".join(known) or "none"
        raise ValueError(f"unknown profile {profile!r}; known profiles: {names}")


def load_params(ref: str, profile: str, overrides: dict | None = None) -> dict:
    """The profile's params file merged with ``overrides``, ``profile`` set, validated."""
    check_profile(profile)
    path = params_path(ref, profile)
    if not path.is_file():
        raise FileNotFoundError(f"no params file for {ref} in profile {profile!r}: {path}")
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path} must hold a mapping of parameter names to values")
    overrides = dict(overrides or {})
    if "profile" in overrides:
        raise ValueError("choose the profile with the profile option, not as a parameter override")
    params = {**data, **overrides, "profile": profile}
    validate_params(notebook_path(ref), params)
    return params
