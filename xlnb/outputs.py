"""Saving figures and tables atomically, and logging each written path for the runner.

A notebook calls :func:`save_figure` / :func:`save_table`; when ``XLNB_OUTPUT_LOG`` names a
file (the runner sets it), every written path is appended to it as one line, which is how
a run's manifest learns the notebook's outputs.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from xlnb.paths import figures_dir, results_dir

OUTPUT_LOG_ENV = "XLNB_OUTPUT_LOG"


def _check_name(name: str) -> None:
    """A file stem: non-empty, no path separators, not a relative-path marker."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"output name must be a non-empty string, got {name!r}")
    separators = {"/", "\\", os.sep, os.altsep} - {None}
    if any(sep in name for sep in separators) or name in {".", ".."}:
        raise ValueError(f"output name must not contain path separators, got {name!r}")


def _check_profile(profile: str) -> None:
    """The profile must be given explicitly (figures of different profiles never mix)."""
    if not isinstance(profile, str) or not profile.strip():
        raise ValueError(f"profile must be a non-empty string, got {profile!r}")


def _log_output(path: Path) -> None:
    """Append ``path`` to the runner's output log, when one is set."""
    log = os.environ.get(OUTPUT_LOG_ENV)
    if log:
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(f"{path}\n")


def atomic_write(path: Path, write: Callable[[str], None], *, log: bool = True) -> Path:
    """Call ``write(tmp_path)`` on a temp file beside ``path``, then rename it into place.

    Readers never see a half-written file; on error the temp file is removed. With ``log``
    the path is appended to the runner's output log.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if log:
        _log_output(path)
    return path


def save_figure(fig, name: str, *, profile: str) -> list[Path]:
    """Write ``figures/<profile>/<name>.png`` (dpi 150) and ``.pdf``; return both paths."""
    _check_name(name)
    _check_profile(profile)
    out = figures_dir(profile)
    png = atomic_write(out / f"{name}.png", lambda tmp: fig.savefig(tmp, format="png", dpi=150))
    pdf = atomic_write(
        out / f"{name}.pdf",
        lambda tmp: fig.savefig(tmp, format="pdf", metadata={"CreationDate": None}),
    )
    return [png, pdf]


def save_table(df, name: str, *, profile: str) -> Path:
    """Write ``results/<profile>/<name>.csv`` without the index; return its path."""
    _check_name(name)
    _check_profile(profile)
    out = results_dir(profile)
    return atomic_write(out / f"{name}.csv", lambda tmp: df.to_csv(tmp, index=False))
