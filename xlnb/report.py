"""Paper vs ours: gather every notebook's headline numbers of a profile into one table.

Each notebook writes ``results/<profile>/<name>_headlines.csv`` with
:func:`xlnb.outputs.save_headlines` (columns notebook, quantity, paper, ours, model, data);
:func:`headline_table` reads them all and :func:`headlines_markdown` renders the markdown
table that ``xlnb report --profile demo`` prints and the README shows.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd

from xlnb.outputs import HEADLINE_COLUMNS, atomic_write
from xlnb.paths import project_root, relative_to_root

__all__ = ["figure_gallery", "format_value", "headline_files", "headline_table",
           "headlines_markdown", "merge_gallery", "merge_report", "read_block", "replace_block",
           "report", "unrecorded_files", "update_readme"]

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


def _finished_runs(profile: str) -> list[dict]:
    """The manifests of ``runs/<profile>/`` whose run finished (status ok), by notebook."""
    import json

    runs = project_root() / "runs" / profile
    found = []
    for path in sorted(runs.rglob("*.json")) if runs.is_dir() else []:
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(manifest, dict) and manifest.get("status") == "ok":
            found.append(manifest)
    return sorted(found, key=lambda m: m.get("notebook", ""))


def _title(ref: str) -> str:
    """The first line of a notebook's title cell, without the ``#``."""
    import nbformat

    path = project_root() / "notebooks" / f"{ref}.ipynb"
    if not path.is_file():
        return ref
    cells = nbformat.read(path, as_version=4).cells
    first = next((c.source for c in cells if c.cell_type == "markdown"), ref)
    return first.strip().splitlines()[0].lstrip("#").strip()


def figure_gallery(profile: str) -> str:
    """One collapsed ``<details>`` section per finished run with its PNG figures, in markdown;
    the README shows the demo profile's (its PNGs are committed under ``figures/demo/``)."""
    sections = []
    for manifest in _finished_runs(profile):
        pngs = [o for o in manifest.get("outputs", []) if str(o).endswith(".png")]
        if not pngs:
            continue
        ref = manifest["notebook"]
        images = "\n".join(f"![{ref}: {Path(p).stem}]({p})" for p in pngs)
        sections.append(f"<details><summary><code>{ref}</code>: {_title(ref)}</summary>\n\n"
                        f"{images}\n\n</details>\n")
    return "\n".join(sections)


def read_block(text: str, name: str) -> str:
    """What lies between ``<!-- name:start -->`` and ``<!-- name:end -->`` (markers' own
    lines excluded); ValueError when a marker is missing."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    if text.count(start) != 1 or text.count(end) != 1 or text.index(start) > text.index(end):
        raise ValueError(f"expected one {start} ... {end} block")
    return text.split(start)[1].split(end)[0].removeprefix("\n")


def replace_block(text: str, name: str, body: str) -> str:
    """``text`` with what lies between ``<!-- name:start -->`` and ``<!-- name:end -->``
    replaced by ``body``; ValueError when a marker is missing."""
    read_block(text, name)
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    head, rest = text.split(start)
    return head + start + "\n" + body + end + rest.split(end, 1)[1]


_ROW = re.compile(r"^\| `([^`]+)` \|")
_SECTION = re.compile(r"<details><summary><code>([^<]+)</code>.*?</details>\n", re.DOTALL)


def merge_report(old: str, new: str) -> str:
    """``new``'s paper-vs-ours table plus the rows ``old`` has for notebooks that ``new``
    lacks, ordered by notebook: rerunning some notebooks replaces their rows and keeps the
    others' (a notebook's rows go only when deleted by hand)."""
    rows: dict[str, list[str]] = {}
    for table in (old, new):
        found: dict[str, list[str]] = {}
        for line in table.splitlines(keepends=True):
            if match := _ROW.match(line):
                found.setdefault(match.group(1), []).append(line)
        rows.update(found)  # a notebook of ``new`` replaces all its rows of ``old``
    header = "".join(new.splitlines(keepends=True)[:2])
    return header + "".join(line for ref in sorted(rows) for line in rows[ref])


def merge_gallery(old: str, new: str) -> str:
    """:func:`figure_gallery` sections of ``new`` plus those of ``old`` for other notebooks,
    ordered by notebook (as :func:`merge_report`)."""
    sections = {m.group(1): m.group(0) for m in _SECTION.finditer(old)}
    sections.update({m.group(1): m.group(0) for m in _SECTION.finditer(new)})
    return "\n".join(sections[ref] for ref in sorted(sections))


def update_readme(profile: str, readme: str | Path) -> Path:
    """Rewrite the ``demo-report`` (paper vs ours) and ``demo-figures`` blocks of ``readme``
    from ``profile``'s headline files and finished runs; notebooks without results here keep
    their rows and figures (:func:`merge_report`, :func:`merge_gallery`)."""
    readme = Path(readme)
    text = readme.read_text(encoding="utf-8")
    for name, merge, new in ((f"{profile}-report", merge_report, report(profile)),
                             (f"{profile}-figures", merge_gallery, figure_gallery(profile))):
        text = replace_block(text, name, merge(read_block(text, name), new))
    atomic_write(readme, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"), log=False)
    return readme
