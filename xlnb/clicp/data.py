"""Parallel texts for CL-ICP Fig. 2: XQuAD (the paper's data) besides ``xlnb.data``'s sources.

``load_texts("xquad", langs, n=..., field="question")`` returns ``{lang: [text, ...]}``
line-aligned like :func:`xlnb.data.load_parallel` (which serves every other source).

XQuAD (Artetxe et al., 2020): 240 SQuAD v1.1 paragraphs and their 1190 questions,
professionally translated into 11 languages. ``field`` picks the questions (one sentence
each, aligned by question id) or the paragraphs (``context``, deduplicated in order).
With ``path``: the original release files ``xquad.{lang}.json`` (SQuAD format) in ``path``.
Without: the hub dataset ``google/xquad``, config ``xquad.{lang}``, split ``validation``,
columns id, context, question, answers.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

from xlnb.data import load_parallel
from xlnb.data.languages import get_language

__all__ = ["load_texts", "XQUAD_LANGUAGES", "XQUAD_HUB_ID"]

XQUAD_HUB_ID = "google/xquad"
XQUAD_LANGUAGES = ("ar", "de", "el", "en", "es", "hi", "ro", "ru", "th", "tr", "vi", "zh")
XQUAD_FIELDS = ("question", "context")


def _rows_from_json(file: Path) -> list[dict]:
    """SQuAD-format file -> rows with id, context, question (file order)."""
    data = json.loads(file.read_text(encoding="utf-8"))["data"]
    return [dict(id=qa["id"], context=par["context"], question=qa["question"])
            for article in data for par in article["paragraphs"] for qa in par["qas"]]


def _rows_from_hub(iso: str) -> list[dict]:
    import datasets

    return list(datasets.load_dataset(XQUAD_HUB_ID, f"xquad.{iso}", split="validation"))


def _xquad(langs: Sequence[str], field: str, path) -> dict[str, list[str]]:
    out = {}
    for lang in langs:
        iso = get_language(lang).iso1
        if iso not in XQUAD_LANGUAGES:
            raise ValueError(f"XQuAD has no {lang!r}; its languages: {', '.join(XQUAD_LANGUAGES)}")
        if path is not None:
            file = Path(path) / f"xquad.{iso}.json"
            if not file.is_file():
                raise FileNotFoundError(f"no XQuAD file for {lang!r}: expected {file}")
            rows = _rows_from_json(file)
        else:
            rows = _rows_from_hub(iso)
        rows.sort(key=lambda r: r["id"])
        texts = [r[field] for r in rows]
        if field == "context":
            texts = list(dict.fromkeys(texts))
        out[lang] = texts
    return out


def load_texts(source: str, langs: Sequence[str], *, n: int | None = None,
               split: str = "devtest", path=None, field: str = "question") -> dict[str, list[str]]:
    """``{lang: [text_1..text_n]}``, text i of every language translating text i of the
    others. ``xquad`` is read here (see module docstring); any other source goes to
    :func:`xlnb.data.load_parallel` (``field`` is then ignored)."""
    if source != "xquad":
        return load_parallel(source, langs, split=split, n=n, path=path)
    if field not in XQUAD_FIELDS:
        raise ValueError(f"field must be one of {XQUAD_FIELDS}, got {field!r}")
    if isinstance(langs, str) or not langs:
        raise ValueError(f"langs must be a non-empty list of codes, got {langs!r}")
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n <= 0):
        raise ValueError(f"n must be a positive integer or None, got {n!r}")
    texts = _xquad(list(langs), field, path)
    counts = {lang: len(v) for lang, v in texts.items()}
    if len(set(counts.values())) != 1:
        raise ValueError(f"XQuAD {field} counts differ across languages: {counts}")
    return {lang: v[:n] for lang, v in texts.items()}
