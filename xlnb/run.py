"""Run the parameterized notebooks with papermill, per profile, with trustworthy manifests.

A run of ``notebooks/<ref>.ipynb`` under profile ``P`` takes its parameters from
``params/P/<ref>.yaml`` (plus overrides), checks them against the notebook's ``parameters``
cell before any kernel starts, writes the executed notebook to ``runs/P/<ref>.ipynb`` and,
last, a manifest ``runs/P/<ref>.json``. A manifest exists only after a complete successful
run, so :func:`reproduce` can skip a notebook whose manifest still matches: same params,
same notebook code and same xlnb code (a hash of the package's files). The manifest also
records the versions of xlnb, torch, transformers and peft, the git commit, and the device;
those are a record, not part of the skip check (use ``force`` after an upgrade).
"""

from __future__ import annotations

import fnmatch
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import papermill

from xlnb.manifest import code_hash, environment, up_to_date, write_manifest
from xlnb.params import check_profile, load_params, notebook_parameters, validate_params
from xlnb.paths import (
    list_notebooks,
    notebook_path,
    notebook_refs,
    params_path,
    profiles,
    project_root,
    resolve_ref,
    run_paths,
)

__all__ = [
    "RunResult", "code_hash", "environment", "list_notebooks", "load_params",
    "notebook_parameters", "profiles", "reproduce", "resolve_ref", "run_notebook",
    "split_overrides", "up_to_date", "validate_params",
]

KERNEL_NAME = "python3"


@dataclass
class RunResult:
    """Outcome of one notebook under one profile; ``status`` is ok, skipped or failed."""

    notebook: str
    profile: str
    status: str
    seconds: float = 0.0
    outputs: list[Path] = field(default_factory=list)
    params: dict = field(default_factory=dict)
    error: str | None = None
    executed: Path | None = None
    ignored: list[str] = field(default_factory=list)  # reproduce overrides it does not declare


# ---------------------------------------------------------------- execution
def kernel_manager_class(env: dict[str, str]):
    """A kernel manager starting ipykernel on ``sys.executable`` with ``env`` added.

    It ignores registered kernelspecs, so a fresh machine (ipykernel installed, no
    kernelspec) works and the kernel always imports the same xlnb as the runner.
    """
    from ipykernel.kernelspec import RESOURCES, get_kernel_dict
    from jupyter_client.kernelspec import KernelSpec
    from jupyter_client.manager import AsyncKernelManager

    class RunnerKernelManager(AsyncKernelManager):
        @property
        def kernel_spec(self):
            if self._kernel_spec is None:
                spec = {**get_kernel_dict(), "env": dict(env)}
                self._kernel_spec = KernelSpec(resource_dir=RESOURCES, **spec)
            return self._kernel_spec

    return RunnerKernelManager


def _kernel_env(output_log: str, ref: str = "") -> dict[str, str]:
    """Environment of the kernel: batch mode, project root, output log, notebook ref, this
    xlnb."""
    env = {
        "XLNB_BATCH": "1", "XLNB_PROJECT_ROOT": str(project_root()), "XLNB_OUTPUT_LOG": output_log,
        "XLNB_NOTEBOOK": ref,
    }
    package_parent = Path(__file__).resolve().parent.parent
    if package_parent.name not in {"site-packages", "dist-packages"}:
        current = os.environ.get("PYTHONPATH")
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(package_parent), current]))
    return env


def _error_line(exc: Exception) -> str:
    """A one-line description of a failed execution."""
    if isinstance(exc, papermill.PapermillExecutionError):
        return f"{exc.ename}: {exc.evalue} (cell In [{exc.exec_count}])"
    return f"{type(exc).__name__}: {exc}"


def _read_log(path: str) -> list[Path]:
    """Distinct output paths logged by the notebook, in order."""
    lines = Path(path).read_text(encoding="utf-8").splitlines() if Path(path).exists() else []
    return [Path(p) for p in dict.fromkeys(line.strip() for line in lines if line.strip())]


def _execute(ref: str, params: dict, out: Path, output_log: str) -> None:
    """Execute the notebook with papermill into ``out`` on this interpreter's ipykernel."""
    nb_path = notebook_path(ref)
    papermill.execute_notebook(
        str(nb_path), str(out), parameters=params, cwd=str(nb_path.parent),
        kernel_name=KERNEL_NAME, language="python", log_output=True,
        progress_bar=sys.stderr.isatty(),
        kernel_manager_class=kernel_manager_class(_kernel_env(output_log, ref)),
    )


def _execute_logged(ref: str, params: dict, out: Path) -> tuple[str | None, list[Path], float]:
    """Execute into ``out``; return (error line or None, logged outputs, seconds).

    An interrupted run removes ``out`` and re-raises.
    """
    fd, output_log = tempfile.mkstemp(prefix="xlnb-outputs-", suffix=".log")
    os.close(fd)
    start, error = time.monotonic(), None
    try:
        _execute(ref, params, out, output_log)
    except Exception as exc:  # a failing notebook is reported, not raised
        error = _error_line(exc)
    except BaseException:
        out.unlink(missing_ok=True)
        raise
    finally:
        outputs = _read_log(output_log)
        Path(output_log).unlink(missing_ok=True)
    return error, outputs, time.monotonic() - start


def run_notebook(
    ref: str, profile: str, overrides: dict | None = None, *, force: bool = False
) -> RunResult:
    """Run one notebook under ``profile``; skip it when a matching run exists, unless ``force``.

    Bad parameters raise (ValueError, TypeError, FileNotFoundError, LookupError) before any
    kernel starts; a failing notebook returns a ``failed`` result, its executed copy kept
    as ``runs/<profile>/<ref>.failed.ipynb``.
    """
    ref = resolve_ref(ref)
    params = load_params(ref, profile, overrides)
    code = code_hash()
    previous = None if force else up_to_date(ref, profile, params, code)
    paths = run_paths(ref, profile)
    if previous is not None:
        return RunResult(ref, profile, "skipped", 0.0, previous, params, None, paths["executed"])
    paths["manifest"].unlink(missing_ok=True)
    error, outputs, seconds = _execute_logged(ref, params, paths["partial"])
    if error is not None:
        if paths["partial"].exists():
            os.replace(paths["partial"], paths["failed"])
        executed = paths["failed"] if paths["failed"].exists() else None
        return RunResult(ref, profile, "failed", seconds, outputs, params, error, executed)
    os.replace(paths["partial"], paths["executed"])
    paths["failed"].unlink(missing_ok=True)
    write_manifest(ref, profile, params, outputs, seconds, code)
    return RunResult(ref, profile, "ok", seconds, outputs, params, None, paths["executed"])


def split_overrides(refs: list[str], overrides: dict) -> dict[str, tuple[dict, list[str]]]:
    """``{ref: (overrides the notebook declares, names it does not)}`` for a profile-wide
    ``-p``. Checked before any kernel starts: a name no selected notebook declares is a
    ValueError (a typo), a wrong type for a notebook that declares it a TypeError."""
    if "profile" in overrides:
        raise ValueError("choose the profile with the profile option, not as a parameter override")
    declared = {ref: notebook_parameters(notebook_path(ref)) for ref in refs}
    unused = [k for k in overrides if not any(k in names for names in declared.values())]
    if unused:
        raise ValueError(f"no selected notebook has a parameter {', '.join(map(repr, unused))}")
    split = {}
    for ref in refs:
        applied = {k: v for k, v in overrides.items() if k in declared[ref]}
        validate_params(notebook_path(ref), applied)
        split[ref] = (applied, [k for k in overrides if k not in applied])
    return split


def reproduce(profile: str, only: str | None = None, force: bool = False,
              overrides: dict | None = None) -> list[RunResult]:
    """Run every notebook with params for ``profile`` (``only``: fnmatch glob on refs).

    overrides: parameters applied to every notebook that declares them (e.g.
    ``load_in_4bit=True`` for a whole profile on a small GPU); notebooks that do not declare
    one run without it and list it in their result's ``ignored`` (see
    :func:`split_overrides` for the checks). Up-to-date notebooks are skipped unless
    ``force``; a failure is recorded and the remaining notebooks still run.
    """
    check_profile(profile)
    refs = [r for r in notebook_refs() if params_path(r, profile).is_file()]
    if only:
        refs = [r for r in refs if fnmatch.fnmatch(r, only)]
        if not refs:
            raise LookupError(f"no notebook with params for profile {profile!r} matches {only!r}")
    split = split_overrides(refs, dict(overrides or {}))
    results = []
    for ref in refs:
        applied, ignored = split[ref]
        try:
            result = run_notebook(ref, profile, applied, force=force)
        except Exception as exc:  # bad params of one notebook must not stop the others
            result = RunResult(ref, profile, "failed", error=_error_line(exc))
        result.ignored = ignored
        results.append(result)
    return results
