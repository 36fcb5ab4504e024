"""Slot filling on MASSIVE as a generative task (MidAlign §4.1, App. D.2, Tables 2 and 10).

The model reads an utterance and writes its slots as ``type: value; type: value`` (in order
of appearance, ``None`` when there are none); the metric is micro F1 over (type, value) pairs.

Data: the MASSIVE 1.0 release files (``{locale}.jsonl``, one JSON object per line with
``id, locale, partition, utt, annot_utt, ...``; ``{locale}_{partition}.jsonl`` holding one
partition is read too) from a local directory, or the hub dataset ``AmazonScience/massive``
(one config per locale, splits train / validation / test; read from its parquet conversion
because the original is a loading script newer ``datasets`` refuse). Ids are shared across
locales: the same id is the same utterance localised.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from xlnb.data.files import read_json_lines
from xlnb.tasks import register
from xlnb.tasks.base import Example
from xlnb.tasks.slots import parse_slots, slot_f1, slots_from_annot, target_text

HUB_ID = "AmazonScience/massive"
HUB_REVISION = "refs/convert/parquet"

# ISO 639-1 -> MASSIVE locale: the 51 locales of MASSIVE 1.0 plus ca-ES of 1.1. Chinese is
# zh-CN (pass "zh-TW" for the other); a full locale ("de-DE") is accepted as well.
LOCALES = {code.split("-")[0]: code for code in ["af-ZA", "am-ET", "ar-SA", "az-AZ", "bn-BD", "ca-ES", "cy-GB", "da-DK", "de-DE", "el-GR", "en-US", "es-ES", "fa-IR", "fi-FI", "fr-FR", "he-IL", "hi-IN", "hu-HU", "hy-AM", "id-ID", "is-IS", "it-IT", "ja-JP", "jv-ID", "ka-GE", "km-KH", "kn-IN", "ko-KR", "lv-LV", "ml-IN", "mn-MN", "ms-MY", "my-MM", "nb-NO", "nl-NL", "pl-PL", "pt-PT", "ro-RO", "ru-RU", "sl-SL", "sq-AL", "sv-SE", "sw-KE", "ta-IN", "te-IN", "th-TH", "tl-PH", "tr-TR", "ur-PK", "vi-VN", "zh-CN"]}
ALL_LOCALES = frozenset(LOCALES.values()) | {"zh-TW"}

# split name -> (MASSIVE "partition", hub split)
SPLITS = {"train": ("train", "train"), "dev": ("dev", "validation"), "test": ("test", "test")}

# App. D.2, verbatim (its grammar included).
SYSTEM_PROMPT = (
    "Given a command from the user, a voice assistant will extract entities essential for "
    "carry out the command. Your task is to extract the entities as words from the command if "
    "they fall under a predefined list of entity types.")

# The 55 slot types in the order App. D.2 lists them; the PDF text lost some underscores
# ("device type"), restored here from the data.
SLOT_TYPES = ["transport_descriptor", "house_place", "music_album", "sport_type", "playlist_name", "movie_name", "song_name", "place_name", "radio_name", "cooking_type", "weather_descriptor", "person", "email_folder", "business_type", "audiobook_author", "transport_type", "general_frequency", "meal_type", "game_name", "device_type", "transport_name", "time_zone", "joke_type", "drink_type", "email_address", "food_type", "date", "relation", "currency_name", "ingredient", "player_setting", "movie_type", "definition_word", "game_type", "list_name", "artist_name", "personal_info", "audiobook_name", "timeofday", "transport_agency", "media_type", "podcast_name", "coffee_type", "business_name", "news_topic", "app_name", "color_type", "podcast_descriptor", "music_genre", "event_name", "time", "change_amount", "alarm_type", "order_type", "music_descriptor"]

# App. D.2's zero-shot prompt (after He and Garner, 2023). The paper's answer examples are
# kept as written (their types are not all MASSIVE's), one per line, without list numbers.
ZERO_SHOT_PROMPT = (
    "Given a command from the user, a voice assistant like Siri or Olly will extract entities "
    "from the command that are essential for carry out the the command. For example, for a "
    "command about playing a specific song, the name of the song mentioned by the user would "
    "be an entity, falling under the type of \"song name\".\n\n"
    "Your task is to extract the entities as words from the command if they fall under any of "
    "the types given below according to the following description:\n\n"
    + " ".join(SLOT_TYPES) + "\n\n"
    "Please give answers like:\n\n"
    "person: john; contact_field: phone number\n"
    "transport_app: uber; time_of_day: tonight;\n"
    "time: ten pm\n"
    "None\n"
    "music_genre: jazz\n\n"
    "etc., each taking a single line. The entity type must be one of the types given above, "
    "and the entity must be copied verbatim from the command. There could be zero, one, or "
    "multiple entities in a command.")

def massive_locale(language: str) -> str:
    """The MASSIVE locale of an ISO 639-1 code (``"sw"`` -> ``"sw-KE"``) or of a locale."""
    if not isinstance(language, str):
        raise TypeError(f"language must be a string, got {type(language).__name__}")
    if language in ALL_LOCALES:
        return language
    key = language.strip().lower()
    if key in LOCALES:
        return LOCALES[key]
    raise LookupError(f"MASSIVE has no locale for language {language!r}; known ISO codes: "
                      f"{', '.join(sorted(LOCALES))} (or a locale such as 'zh-TW')")


def read_jsonl(file: Path) -> list[dict]:
    """The JSON objects of a MASSIVE JSON-lines file; a bad line raises naming file and line."""
    rows = []
    for lineno, row in read_json_lines(file):
        missing = [k for k in ("id", "partition", "utt", "annot_utt")
                   if not isinstance(row, dict) or k not in row]
        if missing:
            raise ValueError(f"{file}, line {lineno}: missing field(s) {missing}")
        rows.append(row)
    return rows


def _local_rows(locale: str, partition: str, path) -> tuple[str, list[dict]]:
    """Rows of one partition from ``path``: a release file, or a directory holding
    ``{locale}.jsonl`` or ``{locale}_{partition}.jsonl``."""
    root = Path(path).expanduser()
    if root.is_file():
        candidates = [root]
    elif root.is_dir():
        candidates = [root / f"{locale}.jsonl", root / f"{locale}_{partition}.jsonl"]
    else:
        raise FileNotFoundError(f"MASSIVE path {root} does not exist")
    for file in candidates:
        if file.is_file():
            rows = [r for r in read_jsonl(file) if r["partition"] == partition]
            return str(file), rows
    raise FileNotFoundError(f"no MASSIVE file for {locale} {partition!r} in {root}: expected "
                            f"{candidates[0].name} or {candidates[1].name}")


def _hub_rows(locale: str, hub_split: str) -> tuple[str, list[dict]]:
    import datasets

    data = datasets.load_dataset(HUB_ID, revision=HUB_REVISION, split=hub_split,
                                 data_files={hub_split: f"{locale}/{hub_split}/*.parquet"})
    return f"{HUB_ID} {locale} {hub_split}", list(data)


def subsample(items: list, n: int | None, seed: int, key) -> list:
    """``n`` items chosen by hashing ``(seed, key(item))``, in their original order.

    Selection depends on the keys only, so the same ``n`` and seed pick the same MASSIVE ids
    in every locale (parallel subsets)."""
    if n is not None and (not isinstance(n, int) or isinstance(n, bool) or n < 1):
        raise ValueError(f"n must be a positive integer or None, got {n!r}")
    if n is None or n >= len(items):
        return list(items)

    def rank(item):
        return hashlib.sha256(f"{seed}:{key(item)}".encode()).hexdigest()

    chosen = set(sorted(range(len(items)), key=lambda i: rank(items[i]))[:n])
    return [item for i, item in enumerate(items) if i in chosen]


@register("slot_filling")
class SlotFilling:
    """MASSIVE slot filling (MidAlign §4.1; prompts App. D.2; metric: slot F1, Table 2)."""

    name = "slot_filling"
    hub_id = HUB_ID
    # answers with their end marker: at most 48 Gemma tokens in en-US train, 44 in de/sw test
    max_new_tokens = 48

    def load(self, language: str, split: str, *, n: int | None = None,
             path: str | None = None, seed: int = 0) -> list[Example]:
        """Examples of one language and split (``train``, ``dev``, ``test``; dev is MASSIVE's
        ``dev`` partition, the hub's ``validation``), from ``path`` (a directory of release
        files, or one file) or the hub; ``n`` of them chosen by :func:`subsample`."""
        locale = massive_locale(language)
        if split not in SPLITS:
            raise ValueError(f"unknown split {split!r}; MASSIVE splits: {', '.join(SPLITS)}")
        partition, hub_split = SPLITS[split]
        origin, rows = (_hub_rows(locale, hub_split) if path is None
                        else _local_rows(locale, partition, path))
        if not rows:
            raise ValueError(f"no {split} rows for {locale} in {origin}")
        iso = locale.split("-")[0]
        examples = []
        for row in rows:
            try:
                slots = slots_from_annot(row["annot_utt"])
            except ValueError as err:
                raise ValueError(f"{origin}, id {row['id']}: {err}") from err
            examples.append(Example(
                id=str(row["id"]), language=iso, source=row["utt"], target=target_text(slots),
                meta={"locale": locale, "slots": tuple(slots), "annot_utt": row["annot_utt"]}))
        return subsample(examples, n, seed, key=lambda ex: ex.id)

    def messages(self, example: Example, *, zero_shot: bool = False) -> list[dict]:
        """App. D.2: the short system prompt (fine-tuning) or the long one listing all types."""
        system = ZERO_SHOT_PROMPT if zero_shot else SYSTEM_PROMPT
        return [{"role": "system", "content": system}, {"role": "user", "content": example.source}]

    def parse(self, output: str) -> list[tuple[str, str]]:
        return parse_slots(output)

    def score(self, outputs: list[str], examples: list[Example]) -> dict[str, float]:
        """:func:`slot_f1` of the parsed outputs against the examples' slots (0-1 scale)."""
        gold = [ex.meta["slots"] if "slots" in ex.meta else parse_slots(ex.target)
                for ex in examples]
        return slot_f1([parse_slots(o) for o in outputs], gold)
