"""Slot answers of MASSIVE as text (MidAlign App. D.2): the reference answer built from an
``annot_utt``, a tolerant parser of generated answers, and micro F1 over (type, value) pairs.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

NO_SLOTS = "None"
_BRACKET = re.compile(r"\[([^\[\]]*)\]")
_ROLE_PREFIX = re.compile(r"^(assistant|model|answer|output|entities)\s*:\s*", re.IGNORECASE)
_NEW_TURN = re.compile(r"^(user|system|human)\s*:", re.IGNORECASE)
_TYPE = re.compile(r"[a-z][a-z0-9_]*")
_ENUMERATOR = re.compile(r"^(\d+[.)]|[-*\u2022])\s+")


def slots_from_annot(annot_utt: str) -> list[tuple[str, str]]:
    """(type, value) pairs of an ``annot_utt`` (``"wake me at [time : five am]"``), in order.

    The type is what precedes the first colon in the brackets, the value the rest, so a
    value may itself contain colons (``[time : 5:30 am]``).
    """
    pairs = []
    for match in _BRACKET.finditer(annot_utt):
        slot_type, sep, value = match.group(1).partition(":")
        if not sep or not slot_type.strip() or not value.strip():
            raise ValueError(f"malformed slot [{match.group(1)}] in annot_utt {annot_utt!r}")
        pairs.append((slot_type.strip(), " ".join(value.split())))
    return pairs


def target_text(slots) -> str:
    """The answer text of a list of (type, value) pairs: ``"time: five am; date: this week"``
    (App. D.2), or ``"None"`` when empty (the zero-shot prompt's word for no entity)."""
    return "; ".join(f"{t}: {v}" for t, v in slots) if slots else NO_SLOTS


def normalize_value(value: str) -> str:
    """A value as compared: NFKC, lower case, single spaces, no surrounding quotes or
    trailing punctuation."""
    value = " ".join(unicodedata.normalize("NFKC", value).lower().split())
    return value.strip(" \"'`").rstrip(" .,;:!?。、").strip(" \"'`")


def parse_slots(output: str) -> list[tuple[str, str]]:
    """(type, value) pairs of a generated answer, tolerant to what models write.

    Segments are split at newlines and semicolons; in each, the type is the single word
    before a colon (case ignored, at most two words: ``Time Zone`` -> ``time_zone``), skipping prose
    before it (``"Here they are: time: five am"``). Segments without a valid ``type: value``
    (junk lines, ``None``, empty values) are dropped; list markers and role prefixes
    (``Assistant:``) are removed; a line opening a new turn (``User:``) ends the answer.
    Types are not checked against :data:`SLOT_TYPES`: an invented type is a false positive.
    """
    pairs = []
    for line in str(output).splitlines():
        line = _ENUMERATOR.sub("", _ROLE_PREFIX.sub("", line.strip()))
        if _NEW_TURN.match(line):
            break
        for segment in line.split(";"):
            pair = _parse_segment(segment)
            if pair is not None:
                pairs.append(pair)
    return pairs


def _parse_segment(segment: str) -> tuple[str, str] | None:
    rest = segment.strip()
    while ":" in rest:
        head, _, rest = rest.partition(":")
        slot_type = "_".join(head.strip().lower().split())
        value = normalize_value(rest)
        if _TYPE.fullmatch(slot_type) and len(head.split()) <= 2:
            return (slot_type, value) if value and value != "none" else None
    return None


def slot_f1(predicted, gold) -> dict[str, float]:
    """Micro precision, recall and F1 over (type, value) pairs, and the exact-match rate.

    predicted, gold: per example, a list of (type, value) pairs. Pairs are compared after
    :func:`normalize_value` as multisets per example: a pair predicted twice counts twice
    and matches at most as many gold copies. Micro: true positives and counts are summed
    over examples before dividing (0 when a denominator is 0). exact_match: the share of
    examples whose predicted multiset equals the gold one (both empty included).

    MASSIVE's evaluation script scores spans (seqeval on BIO tags, micro over entities): a
    span counts when type, start and end are right. When every predicted value is copied
    exactly from the utterance and no surface string fills two slots of one type in an
    utterance, a (type, value) pair identifies its span, and this F1 equals theirs. Here
    values are compared as normalised strings, so a value found at the wrong position (or
    not in the utterance at all) still counts.
    """
    if len(predicted) != len(gold):
        raise ValueError(f"{len(predicted)} predictions for {len(gold)} references")
    tp = n_pred = n_gold = exact = 0
    for pred_pairs, gold_pairs in zip(predicted, gold):
        p = Counter((t.lower(), normalize_value(v)) for t, v in pred_pairs)
        g = Counter((t.lower(), normalize_value(v)) for t, v in gold_pairs)
        tp += sum((p & g).values())
        n_pred += sum(p.values())
        n_gold += sum(g.values())
        exact += p == g
    precision = tp / n_pred if n_pred else 0.0
    recall = tp / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1,
            "exact_match": exact / len(gold) if gold else 0.0}
