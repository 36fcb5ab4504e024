"""XNLI (Conneau et al., 2018) as a multiple-choice task, with lm-eval's prompt.

Sources
-------
local ``path``: the XTREME layout, ``{path}/dev-{lang}.tsv`` (split ``validation``, alias
    ``dev``) or ``test-{lang}.tsv``: tab-separated ``premise, hypothesis, label`` without a
    header, label a word (entailment / neutral / contradiction) or its index.
hub: ``facebook/xnli``, config = language, splits train / validation / test, columns
    premise, hypothesis, label (0 entailment, 1 neutral, 2 contradiction).

Prompt (lm-evaluation-harness ``tasks/xnli``, after XGLM and mGPT)
    context ``"{premise}, {QUESTION}?"``; options ``"{YES}, {hypothesis}"``,
    ``"{ALSO}, {hypothesis}"``, ``"{NO}, {hypothesis}"`` in label order, joined with a space.
    The per-language words are lm-eval's (word-by-word machine translations of
    "right", "Yes", "Also", "No").
"""

from __future__ import annotations

from pathlib import Path

from xlnb.evaluate.spec import TaskSpec, check_label, hub_rows, local_file

HUB_ID = "facebook/xnli"
LABELS = ("entailment", "neutral", "contradiction")

# language -> (question word, entailment, neutral, contradiction), from lm-eval's xnli/utils.py
WORDS = {
    "ar": ("صحيح", "نعم", "لذا", "رقم"),
    "bg": ("правилно", "да", "така", "не"),
    "de": ("richtig", "Ja", "Auch", "Nein"),
    "el": ("σωστός", "Ναί", "Έτσι", "όχι"),
    "en": ("right", "Yes", "Also", "No"),
    "es": ("correcto", "Sí", "Asi que", "No"),
    "fr": ("correct", "Oui", "Aussi", "Non"),
    "hi": ("सही", "हाँ", "इसलिए", "नहीं"),
    "ru": ("правильно", "Да", "Так", "Нет"),
    "sw": ("sahihi", "Ndiyo", "Hivyo", "Hapana"),
    "th": ("ถูกต้อง", "ใช่", "ดังนั้น", "ไม่"),
    "tr": ("doğru", "Evet", "Böylece", "Hayır"),
    "ur": ("صحیح", "جی ہاں", "اس لئے", "نہیں"),
    "vi": ("đúng", "Vâng", "Vì vậy", "Không"),
    "zh": ("正确", "是的", "所以", "不是的"),
}

_FILE_PREFIX = {"validation": "dev", "test": "test", "train": "train"}


def parse_label(raw: str, where: str) -> int:
    """A label word (entailment / neutral / contradiction) or its index 0-2."""
    word = raw.strip().lower()
    if word in LABELS:
        return LABELS.index(word)
    if word.isdigit():
        return check_label(int(word), 3, where)
    raise ValueError(f"{where}: label {raw!r} is not one of {', '.join(LABELS)} or 0-2")


def read_tsv(file: Path):
    """Docs of an XTREME-layout XNLI file; ValueError naming file and line when malformed."""
    with open(file, encoding="utf-8") as handle:
        for lineno, line in enumerate(handle, 1):
            line = line.rstrip("\n").rstrip("\r")
            if not line.strip():
                continue
            fields = line.split("\t")
            where = f"{file}:{lineno}"
            if len(fields) != 3:
                raise ValueError(f"{where}: expected 3 tab-separated fields "
                                 f"(premise, hypothesis, label), got {len(fields)}")
            if lineno == 1 and fields[2].strip().lower() == "label":
                continue  # a header row
            premise, hypothesis = fields[0].strip(), fields[1].strip()
            if not premise or not hypothesis:
                raise ValueError(f"{where}: empty premise or hypothesis")
            yield dict(premise=premise, hypothesis=hypothesis, label=parse_label(fields[2], where))


def read(lang: str, split: str, path=None):
    """XNLI docs ``{premise, hypothesis, label}`` from ``path`` or the hub."""
    if path is not None:
        yield from read_tsv(local_file(path, f"{_FILE_PREFIX[split]}-{lang}.tsv"))
        return
    for i, row in enumerate(hub_rows(HUB_ID, lang, split)):
        where = f"{HUB_ID}[{lang}] {split} row {i}"
        try:
            premise, hypothesis = row["premise"], row["hypothesis"]
        except KeyError as err:
            raise ValueError(f"{where}: missing column {err}") from None
        yield dict(premise=premise, hypothesis=hypothesis,
                   label=check_label(row.get("label"), 3, where))


def doc_to_text(doc: dict, lang: str) -> str:
    return f"{doc['premise']}, {WORDS[lang][0]}?"


def doc_to_choice(doc: dict, lang: str) -> list[str]:
    return [f"{word}, {doc['hypothesis']}" for word in WORDS[lang][1:]]


XNLI = TaskSpec(name="xnli", languages=tuple(WORDS), read=read, doc_to_text=doc_to_text,
                doc_to_choice=doc_to_choice, splits=("validation", "test", "train"),
                default_split="validation", fewshot_split="validation",
                aliases=(("dev", "validation"),))
