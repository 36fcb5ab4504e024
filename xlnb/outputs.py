"""Saving figures, tables and headline numbers atomically, and logging each written path.

A notebook calls :func:`save_figure` / :func:`save_table` / :func:`save_headlines`; when
``XLNB_OUTPUT_LOG`` names a file (the runner sets it), every written path is appended to it
as one line, which is how a run's manifest learns the notebook's outputs.
"""

from __future__ import annotations

import math
import numbers
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from xlnb.paths import figures_dir, results_dir

OUTPUT_LOG_ENV = "XLNB_OUTPUT_LOG"
NOTEBOOK_ENV = "XLNB_NOTEBOOK"  # the runner sets it to the notebook's ref, e.g. midalign/fig1a_...
HEADLINE_COLUMNS = ("notebook", "quantity", "paper", "ours", "model", "data")


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


def _file_mode() -> int:
    """The mode a file created with ``open`` gets: 0666 less the process umask."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


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
        os.chmod(tmp, _file_mode())  # mkstemp's 0600 would make outputs private
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if log:
        _log_output(path)
    return path


def _show_and_close(fig) -> None:
    """Show ``fig`` as the cell's output when in a Jupyter kernel (a closed figure is not
    drawn at the end of the cell), then close it so figures do not pile up in memory."""
    import matplotlib.pyplot as plt

    from xlnb.progress import in_jupyter_kernel

    if in_jupyter_kernel():
        from IPython.display import display

        display(fig)
    plt.close(fig)


def save_figure(fig, name: str, *, profile: str, close: bool = True) -> list[Path]:
    """Write ``figures/<profile>/<name>.png`` (dpi 150) and ``.pdf``; return both paths.

    Saved in :func:`xlnb.style.figure_style`, so the PDF embeds TrueType (Type 42) fonts,
    never Type 3. With ``close`` (default) the figure is then shown (in Jupyter) and
    closed; pass ``close=False`` to keep drawing on it.
    """
    from xlnb.style import figure_style

    _check_name(name)
    _check_profile(profile)
    out = figures_dir(profile)
    with figure_style():
        png = atomic_write(out / f"{name}.png",
                           lambda tmp: fig.savefig(tmp, format="png", dpi=150))
        pdf = atomic_write(
            out / f"{name}.pdf",
            lambda tmp: fig.savefig(tmp, format="pdf", metadata={"CreationDate": None}),
        )
        if close:
            _show_and_close(fig)
    return [png, pdf]


def save_table(df, name: str, *, profile: str) -> Path:
    """Write ``results/<profile>/<name>.csv`` without the index; return its path."""
    _check_name(name)
    _check_profile(profile)
    out = results_dir(profile)
    return atomic_write(out / f"{name}.csv", lambda tmp: df.to_csv(tmp, index=False))


def _missing(value) -> bool:
    """None, NaN or an empty string: no value."""
    if value is None:
        return True
    if isinstance(value, numbers.Real) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def headline_rows(rows, *, notebook: str) -> list[dict]:
    """Check headline rows and complete their ``notebook`` field; one dict per row.

    rows: mappings (or a DataFrame) with ``quantity``, ``ours``, ``model``, ``data`` and
    optionally ``paper`` (missing: the paper states no value) and ``notebook`` (default:
    ``notebook``).
    """
    if hasattr(rows, "to_dict"):
        rows = rows.to_dict(orient="records")
    rows = [dict(r) for r in rows]
    if not rows:
        raise ValueError("no headline rows given")
    out = []
    for i, row in enumerate(rows):
        unknown = set(row) - set(HEADLINE_COLUMNS)
        if unknown:
            raise ValueError(f"headline row {i}: unknown keys {sorted(unknown)}; "
                             f"allowed: {', '.join(HEADLINE_COLUMNS)}")
        for key in ("quantity", "ours", "model", "data"):
            if _missing(row.get(key)):
                raise ValueError(f"headline row {i} ({row.get('quantity')!r}): {key!r} missing")
        paper = row.get("paper")
        out.append({**row, "notebook": row.get("notebook") or notebook,
                    "paper": None if _missing(paper) else paper})
    return out


def save_headlines(rows, name: str, *, profile: str, notebook: str | None = None) -> Path:
    """Write ``results/<profile>/<name>_headlines.csv``: the notebook's numbers beside the
    paper's, one row per quantity (columns :data:`HEADLINE_COLUMNS`).

    ``paper`` stays empty where the paper reports no value; ``ours`` is this run's number
    (or a short text such as a layer). ``xlnb report`` gathers every such file of a profile
    into one table. The ``notebook`` column defaults to ``notebook``, else the runner's
    ``$XLNB_NOTEBOOK`` (the notebook's ref), else ``name``. Rows are checked by
    :func:`headline_rows`; the file is written atomically and logged for the run's
    manifest like :func:`save_table`.
    """
    import pandas as pd

    _check_name(name)
    _check_profile(profile)
    notebook = notebook or os.environ.get(NOTEBOOK_ENV) or name
    frame = pd.DataFrame(headline_rows(rows, notebook=notebook), columns=list(HEADLINE_COLUMNS),
                         dtype=object)  # object: an int paper value stays "16", not "16.0"
    out = results_dir(profile)
    return atomic_write(out / f"{name}_headlines.csv", lambda tmp: frame.to_csv(tmp, index=False))
