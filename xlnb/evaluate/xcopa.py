"""XCOPA (Ponti et al., 2020) and English COPA as a multiple-choice task, lm-eval's prompt.

Sources
-------
local ``path``: the XCOPA release layout, ``{path}/{lang}/test.{lang}.jsonl`` and
    ``val.{lang}.jsonl`` (English COPA: ``en/test-en.jsonl``, ``val-en.jsonl``,
    ``train-en.jsonl``); JSON lines with premise, choice1, choice2, question
    (cause | effect), label (0 | 1).
hub: ``cambridgeltl/xcopa``, config = language, splits validation / test, same columns.
    English is not in it; lm-eval's ``xcopa_en`` reads ``pkavumba/balanced-copa``
    (splits train / test), which is used here too.

Prompt (lm-evaluation-harness ``tasks/xcopa/utils.py``; ``copa`` for English)
    context = premise without its final character (the full stop) + " " + connector,
    the connector being the language's "because" (cause) or "therefore" (effect);
    options = choice1, choice2 with the first letter lower-cased, joined with a space.
"""

from __future__ import annotations

import json
from pathlib import Path

from xlnb.evaluate.spec import TaskSpec, check_label, hub_rows, local_file

HUB_ID = "cambridgeltl/xcopa"
HUB_ID_EN = "pkavumba/balanced-copa"

# language -> (cause, effect) connectors, from lm-eval's xcopa/utils.py and super_glue copa
CONNECTORS = {
    "en": ("because", "therefore"),
    "et": ("sest", "seetõttu"),
    "ht": ("poukisa", "donk sa"),
    "id": ("karena", "maka"),
    "it": ("perché", "quindi"),
    "qu": ("imataq", "chaymi"),
    "sw": ("kwa sababu", "kwa hiyo"),
    "ta": ("காரணமாக", "எனவே"),
    "th": ("เพราะ", "ดังนั้น"),
    "tr": ("çünkü", "bu yüzden"),
    "vi": ("bởi vì", "vì vậy"),
    "zh": ("因为", "所以"),
}
QUESTIONS = ("cause", "effect")
FIELDS = ("premise", "choice1", "choice2", "question", "label")
_FILE_STEM = {"validation": "val", "test": "test", "train": "train"}


def check_doc(row: dict, where: str) -> dict:
    """A COPA doc with the five fields, a known question and a 0/1 label."""
    missing = [f for f in FIELDS if f not in row]
    if missing:
        raise ValueError(f"{where}: missing field(s) {', '.join(missing)}")
    for field in ("premise", "choice1", "choice2"):
        if not isinstance(row[field], str) or not row[field].strip():
            raise ValueError(f"{where}: {field} must be a non-empty string, got {row[field]!r}")
    if row["question"] not in QUESTIONS:
        raise ValueError(f"{where}: question {row['question']!r} is not cause or effect")
    doc = {f: row[f] for f in FIELDS}
    doc["label"] = check_label(row["label"], 2, where)
    return doc


def read_jsonl(file: Path):
    """Docs of one XCOPA/COPA jsonl file; ValueError naming file and line when malformed."""
    with open(file, encoding="utf-8") as handle:
        for lineno, line in enumerate(handle, 1):
            if not line.strip():
                continue
            where = f"{file}:{lineno}"
            try:
                row = json.loads(line)
            except json.JSONDecodeError as err:
                raise ValueError(f"{where}: not valid JSON ({err.msg})") from None
            if not isinstance(row, dict):
                raise ValueError(f"{where}: expected a JSON object, got {type(row).__name__}")
            yield check_doc(row, where)


def read(lang: str, split: str, path=None):
    """COPA docs of ``lang`` from ``path`` (release layout) or the hub."""
    if lang != "en" and split == "train":
        raise ValueError(f"XCOPA has no train split for {lang!r} (only English COPA has one)")
    if path is not None:
        stem = _FILE_STEM[split]
        file = local_file(Path(path) / lang, f"{stem}.{lang}.jsonl", f"{stem}-{lang}.jsonl")
        yield from read_jsonl(file)
        return
    if lang == "en":
        if split == "validation":
            raise ValueError(f"{HUB_ID_EN} has no validation split; use train or test, or path=")
        rows = hub_rows(HUB_ID_EN, None, split)
    else:
        rows = hub_rows(HUB_ID, lang, split)
    for i, row in enumerate(rows):
        yield check_doc(row, f"{HUB_ID if lang != 'en' else HUB_ID_EN}[{lang}] {split} row {i}")


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def doc_to_text(doc: dict, lang: str) -> str:
    connector = CONNECTORS[lang][QUESTIONS.index(doc["question"])]
    return doc["premise"].strip()[:-1] + f" {connector}"


def doc_to_choice(doc: dict, lang: str) -> list[str]:
    return [_lower_first(doc["choice1"]), _lower_first(doc["choice2"])]


XCOPA = TaskSpec(name="xcopa", languages=tuple(CONNECTORS), read=read, doc_to_text=doc_to_text,
                 doc_to_choice=doc_to_choice, splits=("test", "validation", "train"),
                 default_split="test", fewshot_split="validation",
                 aliases=(("val", "validation"), ("dev", "validation")))
