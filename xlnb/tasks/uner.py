"""Universal NER (Mayhew et al., 2024) read from its original IOB2 files or the hub, for
MidAlign's JSON generation task (§4.1 "Challenge Task Data", Table 7).

Files: one folder per UNER repository (``UNER_English-EWT/``), each holding
``{treebank}-ud-{split}.iob2`` (``en_ewt-ud-dev.iob2``). A sentence is a block of lines
ended by a blank line: ``# sent_id = ...`` and ``# text = ...`` comments (others ignored),
then one line per token with 5 tab-separated columns: index, token, IOB2 tag (``O``,
``B-PER``, ``I-LOC``; hr/sr also ``OTH``), and two annotation-metadata columns.

Hub: ``universalner/universal_ner``, one config per treebank (``en_ewt``, ``de_pud``, ...;
the names of :data:`TREEBANKS`), splits ``train`` / ``validation`` / ``test``, columns
``idx, text, tokens, ner_tags, annotator`` (``ner_tags`` class ids of :data:`HUB_TAGS`).
That repository is a loading script, which ``datasets`` >= 4 no longer runs: its parquet
conversion (``refs/convert/parquet``) is read, and when it is missing the parquet copy
``BramVanroy/universal_ner`` (same configs and columns). MidAlign itself took the
templated UNER prompts of the Aya collection (``CohereForAI/aya_collection``, config
``templated_uner_llm``); here the prompt is rebuilt from these files (:mod:`json_ner`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from xlnb.tasks import register
from xlnb.tasks.base import Example
from xlnb.tasks.json_ner import (ENTITY_TYPES, Entity, answer_complete, parse_entities,
                                 prompt_text, score_outputs, target_json)

HUB_ID = "universalner/universal_ner"
HUB_REVISION = "refs/convert/parquet"
HUB_MIRROR = "BramVanroy/universal_ner"
HUB_TAGS = ("O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC")

# Every UNER v1 treebank (hub config = file prefix) and its splits.
TREEBANKS = {
    "ceb_gja": ("test",), "da_ddt": ("train", "dev", "test"),
    "de_pud": ("test",), "en_ewt": ("train", "dev", "test"), "en_pud": ("test",),
    "hr_set": ("train", "dev", "test"), "pt_bosque": ("train", "dev", "test"),
    "pt_pud": ("test",), "ru_pud": ("test",), "sk_snk": ("train", "dev", "test"),
    "sr_set": ("train", "dev", "test"), "sv_pud": ("test",),
    "sv_talbanken": ("train", "dev", "test"), "tl_trg": ("test",), "tl_ugnayan": ("test",),
    "zh_gsd": ("train", "dev", "test"), "zh_gsdsimp": ("train", "dev", "test"),
    "zh_pud": ("test",), "qaf_arabizi": ("test",),  # qaf: local files only, not on the hub
}
# ISO 639-1 -> the treebank a bare language code reads (its training treebank where it has
# one; MidAlign Table 1 trains on en, pt, zh and tests on da, hr, sk, sr, sv). Pass a
# treebank name (``"sv_pud"``) for another one, e.g. the parallel PUD test sets.
DEFAULT_TREEBANK = {
    "ceb": "ceb_gja", "da": "da_ddt", "de": "de_pud", "en": "en_ewt", "hr": "hr_set",
    "pt": "pt_bosque", "ru": "ru_pud", "sk": "sk_snk", "sr": "sr_set", "sv": "sv_talbanken",
    "tl": "tl_trg", "zh": "zh_gsdsimp",
}
HUB_SPLITS = {"train": "train", "dev": "validation", "test": "test"}
_TAG = re.compile(r"O|[BI]-[A-Z]+")


@dataclass(frozen=True)
class Sentence:
    """One sentence of a UNER file: its id, ``# text``, tokens and IOB2 tags."""

    id: str
    text: str
    tokens: tuple[str, ...]
    tags: tuple[str, ...]


def treebank_of(language: str, split: str) -> str:
    """The treebank that ``language`` names: a treebank itself (``"sv_pud"``) or an ISO code
    (``"sv"`` -> :data:`DEFAULT_TREEBANK`); raises when it has no such split."""
    if not isinstance(language, str):
        raise TypeError(f"language must be a string, got {type(language).__name__}")
    key = language.strip().lower()
    treebank = key if key in TREEBANKS else DEFAULT_TREEBANK.get(key)
    if treebank is None:
        raise LookupError(f"UNER has no treebank for {language!r}; ISO codes: "
                          f"{', '.join(sorted(DEFAULT_TREEBANK))}; treebanks: "
                          f"{', '.join(sorted(TREEBANKS))}")
    if split not in TREEBANKS[treebank]:
        raise ValueError(f"UNER {treebank} has no {split!r} split (it has "
                         f"{', '.join(TREEBANKS[treebank])})")
    return treebank


def iso_code(language: str) -> str:
    """``"sv_pud"`` -> ``"sv"``, ``"sv"`` -> ``"sv"``: the language of a treebank name."""
    return language.split("_")[0]


def read_iob2(file: str | Path) -> list[Sentence]:
    """The sentences of a UNER IOB2 file, in file order.

    Raises ValueError naming the file and line for a token line without 5 tab-separated
    columns, a non-integer index, a tag that is not ``O`` / ``B-X`` / ``I-X``, or a sentence
    without tokens; a sentence without ``# text`` gets its tokens joined by spaces."""
    sentences, block, comments = [], [], {}
    with open(file, encoding="utf-8") as handle:
        for lineno, raw in enumerate(handle, 1):
            line = raw.rstrip("\n").rstrip("\r")
            if not line.strip():
                if block or comments:
                    sentences.append(_sentence(block, comments, file, lineno))
                block, comments = [], {}
            elif line.startswith("#"):
                key, sep, value = line[1:].partition("=")
                if sep:
                    comments[key.strip()] = value.strip()
            else:
                block.append(_token_line(line, file, lineno))
    if block or comments:
        sentences.append(_sentence(block, comments, file, lineno + 1))
    return sentences


def _token_line(line: str, file, lineno: int) -> tuple[str, str]:
    cols = line.split("\t")
    if len(cols) != 5:
        raise ValueError(f"{file}, line {lineno}: expected 5 tab-separated columns, got "
                         f"{len(cols)}: {line[:60]!r}")
    if not cols[0].isdigit():
        raise ValueError(f"{file}, line {lineno}: token index {cols[0]!r} is not an integer")
    if not _TAG.fullmatch(cols[2]):
        raise ValueError(f"{file}, line {lineno}: {cols[2]!r} is not an IOB2 tag (O, B-X, I-X)")
    if not cols[1]:
        raise ValueError(f"{file}, line {lineno}: empty token")
    return cols[1], cols[2]


def _sentence(block, comments, file, lineno: int) -> Sentence:
    if not block:
        raise ValueError(f"{file}, line {lineno}: sentence "
                         f"{comments.get('sent_id', '?')!r} has no token lines")
    tokens, tags = zip(*block)
    text = comments.get("text") or " ".join(tokens)
    return Sentence(comments.get("sent_id", f"line-{lineno}"), text, tokens, tags)


def entity_spans(tags) -> list[tuple[str, int, int]]:
    """(type, first token, last token + 1) of each entity in IOB2 ``tags``.

    An ``I-X`` that does not continue an entity of type X opens a new one (conlleval's
    reading of ill-formed IOB2; da_ddt has one)."""
    spans, current = [], None
    for i, tag in enumerate(list(tags) + ["O"]):
        inside = tag.startswith("I-") and current is not None and current[0] == tag[2:]
        if current is not None and not inside:
            spans.append((current[0], current[1], i))
            current = None
        if tag.startswith("B-") or (tag.startswith("I-") and not inside):
            current = (tag[2:], i)
    return spans


def token_offsets(text: str, tokens) -> list[tuple[int, int]] | None:
    """Character offsets [start, end) of each token in ``text``, found left to right with only
    whitespace skipped between tokens; None when a token cannot be placed that way."""
    offsets, pos = [], 0
    for token in tokens:
        start = text.find(token, pos)
        if start < 0 or text[pos:start].strip():
            return None
        offsets.append((start, start + len(token)))
        pos = start + len(token)
    return offsets


def find_file(root: str | Path, treebank: str, split: str) -> Path:
    """``{treebank}-ud-{split}.iob2`` under ``root`` (the uner folder, one of its
    ``UNER_*`` folders, or a folder holding ``uner/``)."""
    base = Path(root).expanduser()
    if not base.is_dir():
        raise FileNotFoundError(f"UNER path {base} does not exist")
    if (base / "uner").is_dir():
        base = base / "uner"
    name = f"{treebank}-ud-{split}.iob2"
    found = sorted(base.glob(name)) + sorted(base.glob(f"*/{name}"))
    if not found:
        raise FileNotFoundError(f"no {name} under {base} (offline UNER has no English-EWT "
                                f"train: use split 'dev', or the hub with path=None)")
    return found[0]


def hub_sentences(treebank: str, split: str) -> tuple[str, list[Sentence]]:
    """Sentences of one treebank and split from the hub (module docstring)."""
    import datasets

    hub_split = HUB_SPLITS[split]
    try:
        data = datasets.load_dataset(HUB_ID, revision=HUB_REVISION, split=hub_split,
                                     data_files={hub_split: f"{treebank}/{hub_split}/*.parquet"})
        origin = f"{HUB_ID} {treebank} {hub_split}"
    except (OSError, ValueError):  # no parquet conversion (missing files / revision: OSError)
        data = datasets.load_dataset(HUB_MIRROR, treebank, split=hub_split)
        origin = f"{HUB_MIRROR} {treebank} {hub_split}"
    tag_feature = getattr(getattr(data, "features", {}).get("ner_tags"), "feature", None)
    names = getattr(tag_feature, "names", None) or HUB_TAGS
    rows = [Sentence(str(r["idx"]), r["text"] or " ".join(r["tokens"]), tuple(r["tokens"]),
                     tuple(names[t] if isinstance(t, int) else t for t in r["ner_tags"]))
            for r in data]
    return origin, rows


def sentence_entities(sentence: Sentence, types=ENTITY_TYPES) -> list[Entity]:
    """The gold entities of a sentence whose type is in ``types``, in order: the text is the
    sentence's own substring (spacing as written, none between Chinese tokens) with its
    character offsets, or the tokens joined by spaces without offsets when they cannot be
    placed in ``# text``. ``types``: the prompt's PER / ORG / LOC (hr and sr also tag OTH,
    which the prompt does not ask for, so it is left out)."""
    offsets = token_offsets(sentence.text, sentence.tokens)
    out = []
    for kind, first, last in entity_spans(sentence.tags):
        if kind not in types:
            continue
        if offsets is None:
            out.append(Entity(kind, " ".join(sentence.tokens[first:last])))
        else:
            start, end = offsets[first][0], offsets[last - 1][1]
            out.append(Entity(kind, sentence.text[start:end], start, end))
    return out


def subsample(items: list, n: int | None, seed: int) -> list:
    """``n`` of ``items`` chosen by hashing ``(seed, position)``, in file order: the same
    positions in every PUD file, whose sentences are parallel (en, de, pt, ru, sv share
    their ``sent_id``s line by line; zh_pud has ids of its own)."""
    from xlnb.tasks.massive import subsample as by_key

    indexed = list(enumerate(items))
    return [item for _, item in by_key(indexed, n, seed, key=lambda pair: pair[0])]


@register("json_ner")
class JsonNER:
    """UNER named entities as JSON (MidAlign §4.1, App. D.2; metric: entity F1, Table 7)."""

    name = "json_ner"
    hub_id = HUB_ID
    # answers with their end marker: the longest en_ewt dev answer is 206 Gemma 3 tokens,
    # 99 % are at most 75; PUD sentences (longer, more entities) go to 150 and 126
    max_new_tokens = 160
    # a row stops once its first JSON answer is complete (the same parse and F1; a model that
    # repeats the object until the budget no longer pays for it); None: to EOS or the budget
    stop_when = staticmethod(answer_complete)

    def load(self, language: str, split: str, *, n: int | None = None,
             path: str | None = None, seed: int = 0) -> list[Example]:
        """Examples of one treebank and split (``train``, ``dev``, ``test``): ``language`` is
        an ISO code (:data:`DEFAULT_TREEBANK`) or a treebank (``"de_pud"``); ``path`` the
        UNER folder (or a folder holding ``uner/``), None for the hub; ``n`` of them chosen
        by :func:`subsample`. The target is :func:`~xlnb.tasks.json_ner.target_json` of the
        PER / ORG / LOC entities."""
        if split not in HUB_SPLITS:
            raise ValueError(f"unknown split {split!r}; UNER splits: {', '.join(HUB_SPLITS)}")
        treebank = treebank_of(language, split)
        if path is None:
            origin, sentences = hub_sentences(treebank, split)
        else:
            file = find_file(path, treebank, split)
            origin, sentences = str(file), read_iob2(file)
        if not sentences:
            raise ValueError(f"no sentences in {origin}")
        examples = []
        for position, s in enumerate(sentences):
            entities = sentence_entities(s)
            examples.append(Example(
                id=f"{treebank}:{s.id}", language=iso_code(treebank), source=s.text,
                target=target_json(entities),
                meta={"treebank": treebank, "position": position,
                      "entities": tuple((e.type, e.text) for e in entities)}))
        return subsample(examples, n, seed)

    def messages(self, example: Example, *, zero_shot: bool = False) -> list[dict]:
        """App. D.2: one user turn (instruction, the example, the sentence); the prompt holds
        its own example, so fine-tuned and zero-shot models get the same one."""
        return [{"role": "user", "content": prompt_text(example.source)}]

    def parse(self, output: str):
        """:func:`~xlnb.tasks.json_ner.parse_entities`: (type, text) tuples and whether the
        output was readable JSON."""
        return parse_entities(output)

    def score(self, outputs: list[str], examples: list[Example]) -> dict[str, float]:
        """Entity micro precision / recall / F1 (0-1) and the unparseable rate."""
        gold = [ex.meta["entities"] if "entities" in ex.meta
                else parse_entities(ex.target).entities for ex in examples]
        return score_outputs(outputs, gold)


__all__ = ["DEFAULT_TREEBANK", "HUB_ID", "TREEBANKS", "JsonNER", "Sentence", "entity_spans",
           "find_file", "hub_sentences", "iso_code", "read_iob2", "sentence_entities",
           "subsample", "token_offsets", "treebank_of"]
