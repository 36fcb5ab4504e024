"""Named entities as JSON (MidAlign §4.1 "Challenge Task Data", App. D.2, Table 7): the
paper's prompt, the reference answer built from gold entities, a tolerant parser of generated
answers back to (type, text) tuples, micro F1 over them and the rate of unparseable answers.

The answer format is App. D.2's: a ``"Results"`` list of ``{"TypeName", "Text", "Start",
"End"}`` objects, ``Start`` / ``End`` the 0-based character offsets (end exclusive) of the
entity in the sentence (the paper's example checks: "Iguazu Falls" at 81-93). The paper's
PDF text lost every brace; they are restored here so that the answer is one valid JSON
object: ``{"Results": [{"TypeName": "LOC", "Text": "Iguazu", "Start": 22, "End": 28}]}``.
Scoring uses type and text only (the paper: "parse the generated outputs back to named
entity tuples and then evaluate F1").
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

ENTITY_TYPES = ("PER", "ORG", "LOC")

# App. D.2, verbatim; the line breaks between its parts are ours (the PDF text has none).
EXAMPLE_SENTENCE = "Where in the world is Iguazu?"
EXAMPLE_RESULT = '{"Results": [{"TypeName": "LOC", "Text": "Iguazu", "Start": 22, "End": 28}]}'
PROMPT = (
    "Please identify all the named entities mentioned in the input sentence provided below. "
    "Use only the categories: PER - person, ORG - organization, and LOC - location. Remember, "
    "nationalities are neither locations nor organizations, and organizations can represent "
    "other groups of people. Pay attention to the provided example. You should only output "
    "the results in JSON format, following a similar structure to the example result "
    "provided.\nExample sentence and results:\n" + EXAMPLE_SENTENCE + "\n" + EXAMPLE_RESULT
    + "\nConsidering the input sentence below, what is the output result?\n")

_FENCE = re.compile(r"```[a-zA-Z]*\s*\n?(.*?)(?:```|$)", re.DOTALL)
_OPEN = re.compile(r"[\[{]")
_STARTS_JSON = re.compile(r'\{\s*["}]|\[\s*[\[{\]"]')
_TYPE_KEYS = ("typename", "type", "label", "entity_type", "category", "tag")
_TEXT_KEYS = ("text", "entity", "name", "value", "span", "mention")
_TYPE_ALIASES = {"PERSON": "PER", "ORGANIZATION": "ORG", "ORGANISATION": "ORG",
                 "LOCATION": "LOC", "GPE": "LOC"}


@dataclass(frozen=True)
class Entity:
    """A gold entity: type, surface text and character offsets in the sentence (None when
    the tokens could not be placed in the text)."""

    type: str
    text: str
    start: int | None = None
    end: int | None = None


@dataclass(frozen=True)
class Parsed:
    """A parsed answer: (type, text) tuples and whether the answer was readable JSON."""

    entities: list[tuple[str, str]] = field(default_factory=list)
    parseable: bool = True


def prompt_text(sentence: str) -> str:
    """App. D.2's user turn for one sentence (there is no system turn)."""
    return PROMPT + sentence


def target_json(entities) -> str:
    """The reference answer: ``{"Results": [...]}``, one object per entity in sentence order,
    ``Start`` / ``End`` only when known; non-ASCII text kept as is (fewer tokens)."""
    items = []
    for e in entities:
        item = {"TypeName": e.type, "Text": e.text}
        if e.start is not None and e.end is not None:
            item.update(Start=e.start, End=e.end)
        items.append(item)
    return json.dumps({"Results": items}, ensure_ascii=False)


def _candidates(output: str) -> list[str]:
    """Texts to look for JSON in: each fenced code block, then the whole output."""
    blocks = [m.group(1) for m in _FENCE.finditer(output)]
    return [b for b in blocks if b.strip()] + [output]


def _first_answer(text: str) -> list | None:
    """The entity objects of the first JSON value in ``text`` that has an answer's shape
    (:func:`_items`); text and JSON values of other shapes before it are skipped. None when
    there is none, or when a JSON structure starts but does not parse (broken or truncated:
    nothing inside it is salvaged)."""
    decoder, pos = json.JSONDecoder(), 0
    while (match := _OPEN.search(text, pos)) is not None:
        start = match.start()
        try:
            value, end = decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            if _STARTS_JSON.match(text, start):
                return None  # a JSON answer that is broken or cut off
            pos = start + 1  # prose such as "[here]"
            continue
        items = _items(value)
        if items is not None:
            return items
        pos = end


def _items(value) -> list | None:
    """The entity objects of a decoded answer: the ``Results`` (or ``entities``) list of an
    object, a bare list of objects, or one entity object; None for any other shape."""
    if isinstance(value, dict):
        keys = {k.lower(): k for k in value if isinstance(k, str)}
        for name in ("results", "entities", "result", "named_entities"):
            if name in keys:
                inner = value[keys[name]]
                return _items(inner) if isinstance(inner, list) else (
                    [inner] if _entity(inner) is not None else None)
        return [value] if _entity(value) is not None else None
    if isinstance(value, list) and all(isinstance(v, dict) for v in value):
        return value
    return None


def _entity(item) -> tuple[str, str] | None:
    """(TYPE, text) of one entity object, case-insensitive keys; None when it lacks either."""
    if not isinstance(item, dict):
        return None
    keys = {k.lower(): v for k, v in item.items() if isinstance(k, str)}
    kind = next((keys[k] for k in _TYPE_KEYS if isinstance(keys.get(k), str)), None)
    text = next((keys[k] for k in _TEXT_KEYS if isinstance(keys.get(k), str)), None)
    if kind is None or text is None or not kind.strip() or not text.strip():
        return None
    kind = kind.strip().upper()
    return _TYPE_ALIASES.get(kind, kind), text


def parse_entities(output: str) -> Parsed:
    """(type, text) tuples of a generated answer, tolerant to what models write.

    Looks in each fenced code block, then in the whole output, for the first JSON object or
    array, ignoring text around it; accepts ``{"Results": [...]}`` (keys in any case, or
    ``entities``), a bare list of entity objects, a single entity object, and the brace-less
    ``"Results": [...]`` of the paper's PDF. Entity keys: ``TypeName`` / ``type`` / ``label``
    and ``Text`` / ``entity`` / ``name``, any case; ``PERSON`` / ``ORGANIZATION`` /
    ``LOCATION`` become PER / ORG / LOC. List items without a type and a text are skipped.
    Broken or truncated JSON (an answer cut off by the token budget), no JSON at all, or JSON
    of another shape: no entities and ``parseable=False``. Types are not checked against
    :data:`ENTITY_TYPES`: an invented type is a false positive.
    """
    for text in _candidates(str(output)):
        items = _first_answer(text)
        if items is not None:
            return Parsed([e for e in map(_entity, items) if e is not None], True)
    return Parsed([], False)


def answer_complete(output: str) -> bool:
    """Whether a (partial) output already holds the answer :func:`parse_entities` reads:
    its first JSON structure is complete and of an answer's shape. Decoding can stop there
    (:func:`xlnb.generate.generate`'s ``stop_when``): a structure that starts JSON and is
    still open makes the parse fail until it closes, so the first answer of the prefix is the
    first answer of every continuation, and the parse, F1 and unparseable rate are those of
    the unstopped output. One exception: text in a code fence opened after the answer would
    have been preferred (:func:`_candidates`); models rarely answer twice that way."""
    return parse_entities(output).parseable


def normalize_text(text: str) -> str:
    """An entity text as compared: NFKC, single spaces, no surrounding spaces; case kept."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


def _match(pred, ref) -> tuple[int, int, int]:
    """(matched, predicted, gold) tuples of one example, compared as multisets."""
    p = Counter((t.upper(), normalize_text(x)) for t, x in pred)
    g = Counter((t.upper(), normalize_text(x)) for t, x in ref)
    return sum((p & g).values()), sum(p.values()), sum(g.values())


def entity_f1(predicted, gold) -> dict[str, float]:
    """Micro precision, recall and F1 over (type, text) tuples, MidAlign Table 7's F1.

    predicted, gold: per example, a list of (type, text) tuples. Tuples are compared after
    upper-casing the type and :func:`normalize_text` as multisets per example: a tuple
    predicted twice counts twice and matches at most as many gold copies. Micro: true
    positives and counts are summed over examples before dividing (0 when a denominator is
    0). exact_match: the share of examples whose predicted multiset equals the gold one.
    """
    if len(predicted) != len(gold):
        raise ValueError(f"{len(predicted)} predictions for {len(gold)} references")
    tp = n_pred = n_gold = exact = 0
    for pred, ref in zip(predicted, gold):
        matched, n_p, n_g = _match(pred, ref)
        tp, n_pred, n_gold = tp + matched, n_pred + n_p, n_gold + n_g
        exact += matched == n_p == n_g
    precision = tp / n_pred if n_pred else 0.0
    recall = tp / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1,
            "exact_match": exact / len(gold) if gold else 0.0}


def score_outputs(outputs, gold) -> dict[str, float]:
    """:func:`entity_f1` of the parsed outputs plus ``unparseable``: the share of outputs
    :func:`parse_entities` could not read (they count as predicting no entity)."""
    parsed = [parse_entities(o) for o in outputs]
    scores = entity_f1([p.entities for p in parsed], gold)
    scores["unparseable"] = (sum(not p.parseable for p in parsed) / len(parsed)
                             if parsed else 0.0)
    return scores


def entity_counts(outputs, gold) -> list[tuple[int, int, int, int]]:
    """Per example ``(true positives, predicted, gold, unparseable 0/1)`` as
    :func:`entity_f1` and :func:`score_outputs` count them: the sums give micro F1
    ``2 tp / (predicted + gold)``, so a bootstrap over examples can resample these rows."""
    if len(outputs) != len(gold):
        raise ValueError(f"{len(outputs)} outputs for {len(gold)} references")
    rows = []
    for output, ref in zip(outputs, gold):
        parsed = parse_entities(output)
        rows.append((*_match(parsed.entities, ref), int(not parsed.parseable)))
    return rows


__all__ = ["ENTITY_TYPES", "PROMPT", "Entity", "Parsed", "answer_complete", "entity_counts",
           "entity_f1", "normalize_text", "parse_entities", "prompt_text", "score_outputs",
           "target_json"]
