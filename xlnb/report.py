"""Paper vs ours: gather every notebook's headline numbers of a profile into one table.

Each notebook writes ``results/<profile>/<name>_headlines.csv`` with
:func:`xlnb.outputs.save_headlines` (columns notebook, quantity, paper, ours, model, data);
:func:`headline_table` reads them all and :func:`headlines_markdown` renders the markdown
table that ``xlnb report --profile demo`` prints and the README shows.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from xlnb.outputs import HEADLINE_COLUMNS, atomic_write
from xlnb.paths import project_root, relative_to_root

__all__ = ["format_value", "headline_files", "headline_table", "headlines_markdown", "report",
           "unrecorded_files"]

MISSING = "—"  # shown where the paper reports no value


def headline_files(profile: str) -> list[Path]:
    """``results/<profile>/*_headlines.csv``, sorted by name."""
    folder = project_root() / "results" / profile
    return sorted(folder.glob("*_headlines.csv")) if folder.is_dir() else []


def headline_table(profile: str) -> pd.DataFrame:
    """All headline rows of ``profile``, as text, ordered by notebook (rows of one notebook
    keep their written order). FileNotFoundError when there are none."""
    files = headline_files(profile)
    if not files:
        folder = project_root() / "results" / profile
        raise FileNotFoundError(f"no *_headlines.csv in {folder}; "
                                f"run `xlnb reproduce --profile {profile}` first")
    frames = []
    for path in files:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        missing = [c for c in HEADLINE_COLUMNS if c not in frame.columns]
        if missing:
            raise ValueError(f"{path}: missing columns {missing}")
        frame = frame[list(HEADLINE_COLUMNS)]
        frame.loc[frame["notebook"] == "", "notebook"] = path.name.removesuffix("_headlines.csv")
        frames.append(frame)
    table = pd.concat(frames, ignore_index=True)
    return table.sort_values("notebook", kind="stable").reset_index(drop=True)


def format_value(text: str) -> str:
    """A cell for display: numbers to 4 significant digits (integers as integers), other
    text as written, an empty cell as a dash."""
    text = str(text).strip()
    if not text:
        return MISSING
    try:
        number = float(text)
    except ValueError:
        return text
    if not math.isfinite(number):
        return text
    if number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    return f"{number:.4g}"


def _cell(text: str) -> str:
    """Markdown-safe cell text: pipes escaped, line breaks joined."""
    return " ".join(str(text).split()).replace("|", "\\|")


def headlines_markdown(table: pd.DataFrame) -> str:
    """A GitHub markdown table with the columns notebook, quantity, paper, ours, model, data."""
    lines = ["| " + " | ".join(HEADLINE_COLUMNS) + " |",
             "| " + " | ".join("---" for _ in HEADLINE_COLUMNS) + " |"]
    for row in table.itertuples(index=False):
        values = row._asdict()
        cells = [f"`{values['notebook']}`", values["quantity"], format_value(values["paper"]),
                 format_value(values["ours"]), values["model"], values["data"]]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


def unrecorded_files(profile: str) -> list[Path]:
    """Headline files that no manifest under ``runs/<profile>/`` lists: written by an
    interactive run, a failed run, or a notebook since renamed. They are still reported;
    ``xlnb report`` names them so a stale number is not mistaken for a fresh one."""
    import json

    recorded = set()
    runs = project_root() / "runs" / profile
    for path in runs.rglob("*.json") if runs.is_dir() else []:
        try:
            recorded.update(json.loads(path.read_text(encoding="utf-8")).get("outputs", []))
        except (OSError, ValueError, AttributeError):
            continue
    return [f for f in headline_files(profile) if relative_to_root(f) not in recorded]


def report(profile: str, out: str | Path | None = None) -> str:
    """The markdown table of ``profile``'s headlines; also written to ``out`` when given."""
    text = headlines_markdown(headline_table(profile))
    if out is not None:
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(out, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"), log=False)
    return text
