"""Readers of line-based data files shared by the tasks (MASSIVE, ALMA)."""

from __future__ import annotations

import json
from pathlib import Path


def read_json_lines(path: str | Path) -> list[tuple[int, object]]:
    """``(line number, object)`` for each non-blank line of a JSON-lines file (1-based line
    numbers, for the callers' own error messages). A line that is not JSON raises
    ``ValueError`` naming the file and the line."""
    out = []
    with open(path, encoding="utf-8") as handle:
        for lineno, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                out.append((lineno, json.loads(line)))
            except json.JSONDecodeError as err:
                raise ValueError(f"{path}, line {lineno}: malformed JSON ({err.msg})") from None
    return out
