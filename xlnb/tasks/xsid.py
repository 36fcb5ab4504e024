"""Slot filling on xSID (van der Goot et al., 2021) as a generative task, in the format of
MidAlign's MASSIVE slot filling (App. D.2): ``type: value; type: value`` answers, micro F1 over
(type, value) pairs (:mod:`xlnb.tasks.slots`).

xSID 0.7 has parallel test sets in many languages (500 utterances each, Japanese 250) and an
English validation set (300), but its English training data is not in the offline copy. Here
``train`` and ``dev`` are a fixed split of the English validation set (:data:`N_DEV`
utterances for dev, chosen by hash; the rest for training), so an English-only SFT model can be
tested on every language's test set: more transfer languages than the offline MASSIVE copy
(MidAlign Fig. 1b correlates transfer with alignment per language).

Files: CoNLL ``{lang}.test.conll`` / ``en.valid.conll`` with ``# text`` (and ``# id``,
``# text-en``, ``# intent``) comments, then ``index, token, intent, BIO slot tag`` rows.
A slot's value is the stretch of ``# text`` its tokens cover (Japanese and Chinese tokens may
split words that the text writes together); types are xSID's with ``/`` written ``_``
(``weather/attribute`` -> ``weather_attribute``) so the answer parser reads them.
"""

from __future__ import annotations

from pathlib import Path

from xlnb.tasks import register
from xlnb.tasks.base import Example
from xlnb.tasks.massive import SYSTEM_PROMPT, subsample
from xlnb.tasks.slots import parse_slots, slot_f1, target_text

N_DEV = 60  # English validation utterances kept for development (early stopping)
SPLITS = ("train", "dev", "test")


def read_conll(file) -> list[dict]:
    """Sentences of an xSID CoNLL file: ``{"id", "text", "tokens", "tags"}`` (``id``: the
    ``# id`` comment, else the running number from 1). Raises ValueError naming the file
    and line of a malformed row."""
    file = Path(file)
    sentences, current = [], None

    def close():
        if current is not None and current["tokens"]:
            current.setdefault("id", str(len(sentences) + 1))
            sentences.append(current)

    with open(file, encoding="utf-8") as handle:
        for lineno, line in enumerate(handle, 1):
            line = line.rstrip("\n")
            if not line.strip():
                close()
                current = None
                continue
            current = current or {"tokens": [], "tags": []}
            if line.startswith("#"):
                key, sep, value = line[1:].partition("=")
                if sep and key.strip() in ("id", "text"):
                    current[key.strip()] = value.strip()
                continue
            cols = line.split("\t")
            if len(cols) != 4 or not (cols[3] == "O" or cols[3][:2] in ("B-", "I-")):
                raise ValueError(f"{file}, line {lineno}: expected index, token, intent and a "
                                 f"BIO tag separated by tabs, got {line!r}")
            current["tokens"].append(cols[1])
            current["tags"].append(cols[3])
    close()
    for sent in sentences:
        if "text" not in sent:
            raise ValueError(f"{file}: sentence {sent['id']} has no '# text' comment")
    return sentences


def slots_from_bio(text: str, tokens: list[str], tags: list[str]) -> list[tuple[str, str]]:
    """(type, value) pairs of BIO-tagged tokens, in order. The value is ``text`` from the
    first to the last token of the span (tokens found left to right in ``text``); tokens that
    cannot be found are joined with spaces. An ``I-`` tag without a matching span opens one."""
    spans, starts, pos = [], [], 0
    for token in tokens:  # character offsets of every token in text
        found = text.find(token, pos)
        starts.append(None if found < 0 else (found, found + len(token)))
        pos = pos if found < 0 else found + len(token)
    for i, tag in enumerate(tags):
        kind = tag[2:].replace("/", "_").lower()
        if tag == "O":
            continue
        if tag.startswith("I-") and spans and spans[-1][0] == kind and spans[-1][2] == i - 1:
            spans[-1][2] = i
        else:
            spans.append([kind, i, i])
    out = []
    for kind, first, last in spans:
        a, b = starts[first], starts[last]
        value = text[a[0]:b[1]] if a and b else " ".join(tokens[first:last + 1])
        out.append((kind, " ".join(value.split())))
    return out


def xsid_dir(path) -> Path:
    """The folder holding the CoNLL files: ``path`` itself or ``path/xsid``."""
    if path is None:
        raise ValueError("xSID is read from local files: give path (the data root or its "
                         "xsid/ folder); it is not loaded from the hub here")
    root = Path(path).expanduser()
    for folder in (root, root / "xsid"):
        if (folder / "en.valid.conll").is_file():
            return folder
    raise FileNotFoundError(f"no xSID files under {root} (expected en.valid.conll there or in "
                            f"{root / 'xsid'})")


@register("xsid")
class XsidSlotFilling:
    """xSID slot filling in MASSIVE's generative format (module docstring)."""

    name = "xsid"
    hub_id = "mainlp/xsid (local files)"
    max_new_tokens = 48

    def load(self, language: str, split: str, *, n: int | None = None,
             path: str | None = None, seed: int = 0) -> list[Example]:
        """Examples of ``language`` (a file stem: ``de``, ``de-st``, ``gsw``...) and
        ``split``; train and dev exist for English only (module docstring)."""
        if split not in SPLITS:
            raise ValueError(f"unknown split {split!r}; xSID splits here: {', '.join(SPLITS)}")
        folder = xsid_dir(path)
        if split != "test" and language != "en":
            raise ValueError(f"xSID has {split} data for English only (en.valid.conll), not "
                             f"for {language!r}")
        file = folder / ("en.valid.conll" if split != "test" else f"{language}.test.conll")
        if not file.is_file():
            known = sorted(p.name.split(".")[0] for p in folder.glob("*.test.conll"))
            raise FileNotFoundError(f"no xSID test file for {language!r} ({file.name}); "
                                    f"languages: {', '.join(known)}")
        examples = []
        for sent in read_conll(file):
            slots = slots_from_bio(sent["text"], sent["tokens"], sent["tags"])
            examples.append(Example(id=f"{split}-{sent['id']}" if split != "test" else sent["id"],
                                    language=language, source=sent["text"],
                                    target=target_text(slots), meta={"slots": tuple(slots)}))
        if split != "test":
            dev = {e.id for e in subsample(examples, N_DEV, 0, key=lambda e: e.id)}
            examples = [e for e in examples if (e.id in dev) == (split == "dev")]
        return subsample(examples, n, seed, key=lambda e: e.id)

    def messages(self, example: Example, *, zero_shot: bool = False) -> list[dict]:
        """MASSIVE's fine-tuning prompt (App. D.2); there is no zero-shot variant here."""
        if zero_shot:
            raise ValueError("xSID has no zero-shot prompt here: evaluate fine-tuned models")
        return [{"role": "system", "content": SYSTEM_PROMPT},
                {"role": "user", "content": example.source}]

    def parse(self, output: str) -> list[tuple[str, str]]:
        return parse_slots(output)

    def score(self, outputs: list[str], examples: list[Example]) -> dict[str, float]:
        """:func:`xlnb.tasks.slots.slot_f1` against the examples' slots (0-1 scale)."""
        return slot_f1([parse_slots(o) for o in outputs], [e.meta["slots"] for e in examples])
