"""MASSIVE slot filling: reader, answers, parser and slot F1 (MidAlign §4.1, App. D.2)."""

import json
import re
import sys
import types

import pytest

from xlnb.tasks import Example, get_task
from xlnb.tasks.massive import (ALL_LOCALES, HUB_ID, SLOT_TYPES, SYSTEM_PROMPT,
                                ZERO_SHOT_PROMPT, SlotFilling, massive_locale)
from xlnb.tasks.slots import parse_slots, slot_f1, slots_from_annot, target_text

PAPER_LOCALES = {  # MidAlign Table 1's 20 languages and their MASSIVE locales
    "ar": "ar-SA", "en": "en-US", "es": "es-ES", "ru": "ru-RU", "zh": "zh-CN", "cy": "cy-GB",
    "ja": "ja-JP", "jv": "jv-ID", "sw": "sw-KE", "tl": "tl-PH", "af": "af-ZA", "az": "az-AZ",
    "de": "de-DE", "el": "el-GR", "fr": "fr-FR", "hi": "hi-IN", "is": "is-IS", "th": "th-TH",
    "tr": "tr-TR", "ur": "ur-PK"}


@pytest.fixture(scope="module")
def massive(shared_data):
    return shared_data / "massive"


@pytest.fixture(scope="module")
def task():
    return get_task("slot_filling")


# -- registry, locales, prompts ----------------------------------------------------------------


def test_registered_with_fixed_generation_budget(task):
    assert isinstance(task, SlotFilling)
    assert (task.name, task.hub_id, task.max_new_tokens) == \
        ("slot_filling", "AmazonScience/massive", 48)


def test_locales_of_the_paper_languages():
    assert {iso: massive_locale(iso) for iso in PAPER_LOCALES} == PAPER_LOCALES
    assert massive_locale("zh-TW") == "zh-TW" and massive_locale("DE") == "de-DE"
    assert len(ALL_LOCALES) == 52  # MASSIVE 1.0's 51 locales and 1.1's ca-ES
    with pytest.raises(LookupError, match="'xx'"):
        massive_locale("xx")


def test_prompts_are_the_papers(task):
    example = Example("0", "en", "wake me up at five am this week", "unused")
    short = task.messages(example)
    assert short == [{"role": "system", "content": SYSTEM_PROMPT},
                     {"role": "user", "content": "wake me up at five am this week"}]
    assert SYSTEM_PROMPT.startswith("Given a command from the user, a voice assistant will")
    long = task.messages(example, zero_shot=True)[0]["content"]
    assert long == ZERO_SHOT_PROMPT and "Siri or Olly" in long
    assert all(f" {t} " in f" {long.split(chr(10) * 2)[2]} " for t in SLOT_TYPES)


def test_slot_types_are_those_of_the_data(massive):
    found = set()
    for line in open(massive / "en-US.jsonl", encoding="utf-8"):
        found |= set(re.findall(r"\[(\w+) :", json.loads(line)["annot_utt"]))
    assert len(SLOT_TYPES) == 55 and set(SLOT_TYPES) == found


# -- reader ------------------------------------------------------------------------------------


@pytest.mark.parametrize("language, split, count", [
    ("en", "train", 11514), ("en", "dev", 2033), ("en", "test", 2974),
    ("de", "test", 2974), ("sw-KE", "test", 2974)])
def test_reader_counts(task, massive, language, split, count):
    assert len(task.load(language, split, path=massive)) == count


def test_reader_first_test_example_is_the_papers_example(task, massive):
    en = task.load("en", "test", path=massive)[0]
    de = task.load("de", "test", path=massive)[0]
    assert (en.id, en.language, en.source, en.target) == \
        ("0", "en", "wake me up at five am this week", "time: five am; date: this week")
    assert (de.id, de.language, de.target) == ("0", "de", "date: dieser woche; time: fünf uhr")
    assert de.meta["locale"] == "de-DE"


def test_reader_errors_name_the_problem(task, massive, tmp_path):
    with pytest.raises(FileNotFoundError, match="de-DE_train.jsonl"):
        task.load("de", "train", path=massive)
    with pytest.raises(ValueError, match="unknown split 'validation'"):
        task.load("en", "validation", path=massive)
    good = json.dumps({"id": "1", "partition": "test", "utt": "hi", "annot_utt": "hi"})
    bad = tmp_path / "en-US.jsonl"
    bad.write_text(f"{good}\n{good}\n{{\"id\": \"3\", \"utt\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"en-US\.jsonl, line 3: malformed JSON"):
        task.load("en", "test", path=tmp_path)
    bad.write_text(f"{good}\n{json.dumps({'id': '2', 'partition': 'test'})}\n")
    with pytest.raises(ValueError, match=r"line 2: missing field\(s\) \['utt', 'annot_utt'\]"):
        task.load("en", "test", path=tmp_path)
    row = {"id": "9", "partition": "test", "utt": "at five", "annot_utt": "at [time five]"}
    bad.write_text(json.dumps(row) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"en-US\.jsonl, id 9: malformed slot \[time five\]"):
        task.load("en", "test", path=tmp_path)


def test_subsample_is_deterministic_ordered_and_parallel(task, massive):
    full = task.load("en", "test", path=massive)
    a = task.load("en", "test", path=massive, n=40, seed=1)
    assert a == task.load("en", "test", path=massive, n=40, seed=1)
    assert len(a) == 40 and a != task.load("en", "test", path=massive, n=40, seed=2)
    positions = [full.index(ex) for ex in a]
    assert positions == sorted(positions)  # original file order kept
    de = task.load("de", "test", path=massive, n=40, seed=1)
    assert [ex.id for ex in de] == [ex.id for ex in a]  # the same utterances in both
    assert len(task.load("en", "dev", path=massive, n=10**6)) == 2033
    with pytest.raises(ValueError, match="n must be"):
        task.load("en", "test", path=massive, n=0)


def test_hub_loader_reads_the_parquet_conversion(task, monkeypatch):
    calls = []

    def fake_load_dataset(path, *args, **kwargs):
        calls.append((path, args, kwargs))
        return [{"id": "7", "locale": "sw-KE", "partition": "dev", "utt": "zima taa",
                 "annot_utt": "zima [device_type : taa]", "intent": 3}]

    monkeypatch.setitem(sys.modules, "datasets",
                        types.SimpleNamespace(load_dataset=fake_load_dataset))
    examples = task.load("sw", "dev")
    assert calls == [(HUB_ID, (), {"revision": "refs/convert/parquet", "split": "validation",
                                   "data_files": {"validation": "sw-KE/validation/*.parquet"}})]
    assert [(e.id, e.language, e.source, e.target) for e in examples] == \
        [("7", "sw", "zima taa", "device_type: taa")]


# -- answers from annot_utt --------------------------------------------------------------------


@pytest.mark.parametrize("annot, pairs, target", [
    ("wake me up at [time : five am] [date : this week]",
     [("time", "five am"), ("date", "this week")], "time: five am; date: this week"),
    ("remind me at [time : 5:30 am]", [("time", "5:30 am")], "time: 5:30 am"),
    ("play [ artist_name :  the   beatles ] now", [("artist_name", "the beatles")],
     "artist_name: the beatles"),
    ("olly quiet", [], "None"),
])
def test_answers_from_annot_utt(annot, pairs, target):
    assert slots_from_annot(annot) == pairs
    assert target_text(pairs) == target


def test_malformed_annotation_raises():
    with pytest.raises(ValueError, match=r"\[time five am\]"):
        slots_from_annot("wake me at [time five am]")


# -- parser ------------------------------------------------------------------------------------


@pytest.mark.parametrize("output, pairs", [
    ("time: five am; date: this week", [("time", "five am"), ("date", "this week")]),
    ("  time:five am ;date :   this  week ;", [("time", "five am"), ("date", "this week")]),
    ("Time: Five AM.", [("time", "five am")]),
    ("Time Zone: \"pst\"", [("time_zone", "pst")]),
    ("time: 5:30 am", [("time", "5:30 am")]),
    ("Sure! Here are the entities:\n\ntime: five am\ndate: today", [("time", "five am"),
                                                                     ("date", "today")]),
    ("Here they are: time: five am", [("time", "five am")]),
    ("1. person: john\n- place_name: paris", [("person", "john"), ("place_name", "paris")]),
    ("Assistant: time: ten pm\nUser: and tomorrow?\nAssistant: date: tomorrow",
     [("time", "ten pm")]),
    ("None", []), ("none.", []), ("", []), ("time: None", []), ("time:", []),
    ("::: ;;;", []), ("I cannot find any entity in this command", []),
])
def test_parser(output, pairs):
    assert parse_slots(output) == pairs


# -- slot F1 -----------------------------------------------------------------------------------


def test_f1_hand_computed():
    gold = [[("time", "five am"), ("date", "this week")], [], [("person", "john")],
            [("place_name", "paris"), ("date", "today")], []]
    pred = [[("date", "this week"), ("time", "six am")], [("person", "john")], [],
            [("date", "Today."), ("place_name", "paris")], []]
    # tp = 1 + 0 + 0 + 2 + 0 = 3; predicted 2+1+0+2+0 = 5; gold 2+0+1+2+0 = 5
    scores = slot_f1(pred, gold)
    assert scores["precision"] == pytest.approx(3 / 5)
    assert scores["recall"] == pytest.approx(3 / 5)
    assert scores["f1"] == pytest.approx(3 / 5)
    assert scores["exact_match"] == pytest.approx(2 / 5)  # examples 4 and 5


def test_f1_counts_pairs_as_multisets_not_sets():
    # a set-based metric would score the doubled prediction P = 1, F1 = 1
    doubled = slot_f1([[("time", "five am"), ("time", "five am")]], [[("time", "five am")]])
    assert (doubled["precision"], doubled["recall"]) == (0.5, 1.0)
    assert doubled["f1"] == pytest.approx(2 / 3) and doubled["exact_match"] == 0.0
    halved = slot_f1([[("date", "today")]], [[("date", "today"), ("date", "today")]])
    assert (halved["precision"], halved["recall"]) == (1.0, 0.5)
    twice = [("date", "today"), ("date", "today")]
    assert slot_f1([twice], [twice])["f1"] == 1.0  # each copy matches one copy
    assert slot_f1([[]], [[]]) == {"precision": 0.0, "recall": 0.0, "f1": 0.0,
                                   "exact_match": 1.0}
    with pytest.raises(ValueError, match="2 predictions for 1"):
        slot_f1([[], []], [[]])


def _spans(annot):
    """Tokens and (type, first token, last token) of each slot of an annot_utt: the span
    view MASSIVE's BIO tags encode."""
    tokens, spans = [], []
    for piece in re.split(r"(\[[^\]]*\])", annot):
        if piece.startswith("["):
            slot_type, value = (s.strip() for s in piece[1:-1].split(":", 1))
            spans.append((slot_type, len(tokens), len(tokens) + len(value.split()) - 1))
            tokens += value.split()
        else:
            tokens += piece.split()
    return tokens, spans


def test_f1_equals_span_f1_when_values_are_exact(task, massive):
    examples = task.load("en", "test", path=massive, n=600, seed=0)
    tp = n_pred = n_gold = 0
    outputs = []
    for k, ex in enumerate(examples):
        tokens, gold = _spans(ex.meta["annot_utt"])
        pred = [s for j, s in enumerate(gold) if (k + j) % 4]  # drop some spans
        pred = [("date" if (k + j) % 7 == 0 else t, a, b) for j, (t, a, b) in enumerate(pred)]
        if k % 5 == 0 and len(tokens) > 1:  # a wrongly bounded span of a right type
            pred.append(("time", 0, 1))
        tp += len(set(pred) & set(gold))
        n_pred, n_gold = n_pred + len(pred), n_gold + len(gold)
        outputs.append("; ".join(f"{t}: {' '.join(tokens[a:b + 1])}" for t, a, b in pred))
    span_f1 = 2 * tp / (n_pred + n_gold)
    assert 0.3 < span_f1 < 0.9
    assert task.score(outputs, examples)["f1"] == pytest.approx(span_f1)
