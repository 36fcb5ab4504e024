"""UNER JSON generation: the IOB2 reader on the shipped files, the JSON answer, its tolerant
parser and entity F1 (MidAlign §4.1, App. D.2, Table 7)."""

import json
import sys
import types

import pytest

from xlnb.tasks import Example, get_task, task_names
from xlnb.tasks.json_ner import (PROMPT, answer_complete, entity_f1, parse_entities, score_outputs,
                                 target_json)
from xlnb.tasks.uner import (
    HUB_ID,
    TREEBANKS,
    Sentence,
    entity_spans,
    iso_code,
    read_iob2,
    sentence_entities,
    treebank_of,
)

PUD = ["en_pud", "de_pud", "pt_pud", "ru_pud", "zh_pud", "sv_pud"]


@pytest.fixture(scope="module")
def uner(shared_data):
    return shared_data / "uner"


@pytest.fixture(scope="module")
def task():
    return get_task("json_ner")


def scan(path):
    """Sentences and entities of an IOB2 file counted by a plain line scan: a sentence is a
    run of token lines, an entity starts at each B- tag and at each I- tag that does not
    continue the previous token's type."""
    n_sent = n_ent = 0
    by_type = {}
    in_sentence, previous = False, "O"
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            in_sentence, previous = False, "O"
            continue
        if line.startswith("#"):
            continue
        if not in_sentence:
            n_sent += 1
            in_sentence = True
        tag = line.split("\t")[2]
        if tag.startswith("B-") or (tag.startswith("I-") and previous[2:] != tag[2:]):
            n_ent += 1
            by_type[tag[2:]] = by_type.get(tag[2:], 0) + 1
        previous = tag
    return n_sent, n_ent, by_type


# -- the reader on the shipped files -----------------------------------------------------------


def test_every_shipped_file_reads_with_the_counts_of_a_line_scan(uner):
    files = sorted(uner.glob("*/*.iob2"))
    assert len(files) == 20
    for file in files:
        sentences = read_iob2(file)
        n_sent, n_ent, _ = scan(file)
        assert len(sentences) == n_sent, file
        assert sum(len(entity_spans(s.tags)) for s in sentences) == n_ent, file
        assert all(len(s.tokens) == len(s.tags) > 0 for s in sentences), file


def test_sentence_counts_of_the_data_readme(uner):
    counts = {f.name.split("-ud-")[0] + "/" + f.name.split("-ud-")[1][:-5]:
              len(read_iob2(f)) for f in uner.glob("*/*.iob2")}
    assert counts["en_ewt/dev"] == 2001 and counts["en_ewt/test"] == 2077
    assert all(counts[f"{tb}/test"] == 1000 for tb in PUD)
    assert counts["pt_bosque/test"] == 1167 and counts["sv_talbanken/test"] == 1219


def test_examples_carry_per_org_loc_entities_as_in_the_file(task, uner):
    for language, split, file in [("en", "dev", "UNER_English-EWT/en_ewt-ud-dev.iob2"),
                                  ("hr", "test", "UNER_Croatian-SET/hr_set-ud-test.iob2")]:
        examples = task.load(language, split, path=str(uner))
        n_sent, _, by_type = scan(uner / file)
        assert len(examples) == n_sent
        got = sum(len(e.meta["entities"]) for e in examples)
        assert got == sum(v for k, v in by_type.items() if k in ("PER", "ORG", "LOC"))
    assert by_type["OTH"] == 133  # hr tags OTH too; the prompt asks for PER, ORG, LOC only


def test_entity_texts_are_the_sentences_own_substrings(task, uner):
    for language in ("en_pud", "zh_pud", "ru_pud"):
        for example in task.load(language, "test", path=str(uner), n=200):
            answer = json.loads(example.target)["Results"]
            assert [(r["TypeName"], r["Text"]) for r in answer] == \
                list(example.meta["entities"])
            for r in answer:
                assert example.source[r["Start"]:r["End"]] == r["Text"]
    first_zh = task.load("zh_pud", "test", path=str(uner), n=1000)[0]
    assert ("LOC", "美國") in first_zh.meta["entities"]  # no space between Chinese tokens


def test_the_first_english_dev_example(task, uner):
    example = task.load("en", "dev", path=str(uner))[0]
    assert example.id == "en_ewt:answers-20070404104007AAY1Chs_ans-0001"
    assert example.language == "en" and example.source.startswith("where can I get morcillas")
    # "tampa bay" is tokens 7-8; "where can I get morcillas in " is 29 characters
    assert json.loads(example.target) == {"Results": [
        {"TypeName": "LOC", "Text": "tampa bay", "Start": 29, "End": 38}]}


def test_pud_subsets_are_the_same_sentences_in_every_language(task, uner):
    ids = {lang: [e.id.split(":")[1] for e in task.load(lang, "test", path=str(uner), n=25)]
           for lang in ("en_pud", "de_pud", "sv_pud")}
    assert len(ids["en_pud"]) == 25 and ids["en_pud"] == ids["de_pud"] == ids["sv_pud"]
    other_seed = [e.id for e in task.load("en_pud", "test", path=str(uner), n=25, seed=1)]
    assert other_seed != [f"en_pud:{i}" for i in ids["en_pud"]]


@pytest.mark.parametrize("line, message", [
    ("1\tParis\tB-LOC\t-", "expected 5 tab-separated columns, got 4"),
    ("x\tParis\tB-LOC\t-\t-", "token index 'x' is not an integer"),
    ("1\tParis\tB-PLACE1\t-\t-", "'B-PLACE1' is not an IOB2 tag"),
    ("1\tParis\tE-LOC\t-\t-", "'E-LOC' is not an IOB2 tag"),
])
def test_a_malformed_line_names_file_and_line(tmp_path, line, message):
    file = tmp_path / "xx_test-ud-test.iob2"
    file.write_text("# sent_id = s1\n# text = I like it\n1\tI\tO\t-\t-\n2\tlike\tO\t-\t-\n\n"
                    f"# sent_id = s2\n# text = Paris\n{line}\n\n", encoding="utf-8")
    with pytest.raises(ValueError, match=rf"xx_test-ud-test.iob2, line 8: .*{message}"):
        read_iob2(file)


def test_ill_formed_iob2_and_types():
    tags = ["B-PER", "I-PER", "O", "I-LOC", "I-LOC", "B-ORG", "I-LOC", "B-LOC", "B-LOC"]
    assert entity_spans(tags) == [("PER", 0, 2), ("LOC", 3, 5), ("ORG", 5, 6), ("LOC", 6, 7),
                                  ("LOC", 7, 8), ("LOC", 8, 9)]
    sentence = Sentence("s", "Ana  met the UN", ("Ana", "met", "the", "UN"),
                        ("B-PER", "O", "O", "B-OTH"))
    assert [(e.type, e.text, e.start, e.end) for e in sentence_entities(sentence)] == \
        [("PER", "Ana", 0, 3)]
    unplaced = Sentence("s", "something else", ("New", "York"), ("B-LOC", "I-LOC"))
    assert [(e.text, e.start) for e in sentence_entities(unplaced)] == [("New York", None)]


def test_treebanks_of_languages():
    assert treebank_of("en", "train") == "en_ewt" and treebank_of("EN", "test") == "en_ewt"
    assert treebank_of("sv_pud", "test") == "sv_pud" and iso_code("sv_pud") == "sv"
    assert treebank_of("zh", "train") == "zh_gsdsimp" and treebank_of("pt", "dev") == "pt_bosque"
    with pytest.raises(LookupError, match="'xx'"):
        treebank_of("xx", "test")
    with pytest.raises(ValueError, match="de_pud has no 'train' split"):
        treebank_of("de", "train")
    assert set(PUD) <= set(TREEBANKS)


def test_offline_english_train_is_absent_and_says_what_to_do(task, uner):
    with pytest.raises(FileNotFoundError, match="no en_ewt-ud-train.iob2.*use split 'dev'"):
        task.load("en", "train", path=str(uner))
    with pytest.raises(ValueError, match="unknown split 'validation'"):
        task.load("en", "validation", path=str(uner))


def test_hub_loader_reads_the_parquet_conversion(task, monkeypatch):
    calls = []

    def fake_load_dataset(path, *args, **kwargs):
        calls.append((path, args, kwargs))
        return [{"idx": "n1", "text": "Kori Schulman wrote", "tokens": ["Kori", "Schulman",
                                                                         "wrote"],
                 "ner_tags": [1, 2, 0], "annotator": ["a"] * 3}]

    monkeypatch.setitem(sys.modules, "datasets",
                        types.SimpleNamespace(load_dataset=fake_load_dataset))
    examples = task.load("de_pud", "test")
    assert calls == [(HUB_ID, (), {"revision": "refs/convert/parquet", "split": "test",
                                   "data_files": {"test": "de_pud/test/*.parquet"}})]
    assert examples[0].meta["entities"] == (("PER", "Kori Schulman"),)
    assert examples[0].language == "de"


# -- prompt and answer -------------------------------------------------------------------------


def test_registered_and_the_prompt_is_the_papers(task):
    assert "json_ner" in task_names()
    assert (task.name, task.hub_id) == ("json_ner", "universalner/universal_ner")
    example = Example("x:1", "de", "Angela Merkel besuchte Paris.", "unused")
    messages = task.messages(example)
    assert messages == task.messages(example, zero_shot=True)
    assert [m["role"] for m in messages] == ["user"]
    text = messages[0]["content"]
    assert text.startswith("Please identify all the named entities mentioned in the input")
    assert "PER - person, ORG - organization, and LOC - location" in text
    assert text.endswith("what is the output result?\nAngela Merkel besuchte Paris.")
    assert text == PROMPT + example.source
    # the prompt's example answer is valid JSON with the paper's offsets (22-28)
    example_answer = PROMPT.split("\n")[3]
    assert json.loads(example_answer)["Results"][0] == {"TypeName": "LOC", "Text": "Iguazu",
                                                         "Start": 22, "End": 28}
    assert "Where in the world is Iguazu?"[22:28] == "Iguazu"


def test_target_round_trips_through_the_parser():
    from xlnb.tasks.json_ner import Entity

    entities = [Entity("LOC", "Iguazu Falls", 81, 93), Entity("PER", "科瑞·舒爾曼", 3, 9),
                Entity("ORG", "UN")]
    target = target_json(entities)
    assert target == ('{"Results": [{"TypeName": "LOC", "Text": "Iguazu Falls", "Start": 81, '
                      '"End": 93}, {"TypeName": "PER", "Text": "科瑞·舒爾曼", "Start": 3, '
                      '"End": 9}, {"TypeName": "ORG", "Text": "UN"}]}')
    parsed = parse_entities(target)
    assert parsed.parseable and parsed.entities == [("LOC", "Iguazu Falls"),
                                                    ("PER", "科瑞·舒爾曼"), ("ORG", "UN")]
    assert target_json([]) == '{"Results": []}'


# -- the parser on hand-written outputs --------------------------------------------------------


@pytest.mark.parametrize("output, entities", [
    ('{"Results": [{"TypeName": "LOC", "Text": "Paris", "Start": 0, "End": 5}]}',
     [("LOC", "Paris")]),
    ('```json\n{"Results": [{"TypeName": "PER", "Text": "Obama"}]}\n```', [("PER", "Obama")]),
    ('```\n[{"TypeName": "ORG", "Text": "NATO"}]\n```\nThese are all.', [("ORG", "NATO")]),
    ('Sure! The result is {"Results": []} - no entities.', []),
    (('"Results": [{"TypeName": "LOC", "Text": "Iguazu Falls", "Start": 81, "End": 93}, '
      '{"TypeName": "LOC", "Text": "Brazil", "Start": 125, "End": 131}]'),
     [("LOC", "Iguazu Falls"), ("LOC", "Brazil")]),  # the PDF's brace-less form
    ('{"TypeName": "ORG", "Text": "UN"}', [("ORG", "UN")]),  # a single object
    ('[{"type": "person", "text": "Kori"}, {"label": "Location", "entity": "Rome"}]',
     [("PER", "Kori"), ("LOC", "Rome")]),
    ('{"results": [{"TypeName": "PER", "Text": "Ann"}, {"TypeName": "LOC"}, "junk"]}',
     None),  # a list with a non-object: another shape
    ('{"results": [{"TypeName": "PER", "Text": "Ann"}, {"TypeName": "LOC"}]}',
     [("PER", "Ann")]),  # an item without a text is skipped
    ('See [here]: {"Results": [{"TypeName": "LOC", "Text": "Oslo"}]}', [("LOC", "Oslo")]),
    ('{"note": "none"} {"Results": [{"TypeName": "MISC", "Text": "Euro"}]}',
     [("MISC", "Euro")]),
])
def test_parser_reads_good_outputs(output, entities):
    parsed = parse_entities(output)
    if entities is None:
        assert parsed.entities == [] and not parsed.parseable
    else:
        assert parsed.parseable and parsed.entities == entities


@pytest.mark.parametrize("output", [
    # cut off by the token budget: nothing salvaged, not even the complete first entity
    '{"Results": [{"TypeName": "LOC", "Text": "Paris", "Start": 0, "End": 5}, {"TypeN',
    '"Results": [{"TypeName": "LOC", "Text": "Paris"',
    '```json\n{"Results": [{"TypeName": "PER", "Text": "Ob',
    # broken: a missing comma, single quotes, a trailing comma
    '{"Results": [{"TypeName": "LOC" "Text": "A"}, {"TypeName": "PER", "Text": "B"}]}',
    "{'Results': [{'TypeName': 'LOC', 'Text': 'Paris'}]}",
    '{"Results": [{"TypeName": "LOC", "Text": "Paris"},]}',
    # no JSON, or JSON of another shape
    "", "Paris is a LOC.", "LOC: Paris; PER: Obama", '{"answer": 3}', '["Paris", "Obama"]',
])
def test_parser_flags_broken_partial_and_missing_json(output):
    parsed = parse_entities(output)
    assert parsed.entities == [] and parsed.parseable is False


REPEATED = ('{"Results": [{"TypeName": "LOC", "Text": "Oslo", "Start": 0, "End": 4}]}'
            'modelLogin{"Results": [{"TypeName": "PER", "Text": "Oslo"}]}')
NESTED = ('{"Results": [{"TypeName": "LOC", "Text": "X", "Result": []}, '
          '{"TypeName": "PER", "Text": "Y"}]} and more')
PROSE = 'Here [see below]: [{"TypeName": "ORG", "Text": "UN"}] done'


@pytest.mark.parametrize("output, first_end", [
    # the first object ends after its "]}"; the repetition after it is never read
    (REPEATED, REPEATED.index("]}") + 2),
    # a list inside an entity closes "]}" early, but the answer is still open there
    (NESTED, NESTED.index("]} and") + 2),
    # prose and a bracketed aside before the answer
    (PROSE, PROSE.index("] done") + 1),
])
def test_answer_complete_exactly_from_the_end_of_the_first_answer(output, first_end):
    assert output[first_end - 1] in "]}" and output[first_end] not in "]}"
    flags = [answer_complete(output[:k]) for k in range(len(output) + 1)]
    assert flags.index(True) == first_end and all(flags[first_end:])
    # stopping there reads what the whole output reads
    assert parse_entities(output[:first_end]) == parse_entities(output)


def test_answer_complete_never_for_a_broken_answer():
    broken = '{"Results": [{"TypeName": "LOC" "Text": "A"}]}{"Results": []}'
    assert not any(answer_complete(broken[:k]) for k in range(len(broken) + 1))


# -- F1 over (type, text) multisets, by hand ---------------------------------------------------


def test_f1_micro_over_examples_by_hand():
    predicted = [[("PER", "Ann"), ("LOC", "Rome")], [("ORG", "UN")], []]
    gold = [[("PER", "Ann"), ("LOC", "Paris")], [], [("LOC", "Oslo")]]
    # tp = 1; 3 predicted, 3 gold -> P = R = F1 = 1/3 (a per-example mean would differ)
    got = entity_f1(predicted, gold)
    assert got["precision"] == pytest.approx(1 / 3) and got["recall"] == pytest.approx(1 / 3)
    assert got["f1"] == pytest.approx(1 / 3) and got["exact_match"] == 0.0


def test_f1_counts_duplicates_as_a_multiset_and_needs_the_type():
    # predicted twice, gold once: tp 1 of 2 predicted -> P 1/2, R 1, F1 2/3 (a set: 1.0)
    got = entity_f1([[("PER", "Ann"), ("PER", "Ann")]], [[("PER", "Ann")]])
    assert (got["precision"], got["recall"]) == (0.5, 1.0)
    assert got["f1"] == pytest.approx(2 / 3)
    assert entity_f1([[("ORG", "Ann")]], [[("PER", "Ann")]])["f1"] == 0.0
    # type case and spacing are normalised, the text's case is not
    assert entity_f1([[("per", " New  York ")]], [[("PER", "New York")]])["f1"] == 1.0
    assert entity_f1([[("LOC", "paris")]], [[("LOC", "Paris")]])["f1"] == 0.0
    assert entity_f1([[]], [[]]) == {"precision": 0.0, "recall": 0.0, "f1": 0.0,
                                     "exact_match": 1.0}
    with pytest.raises(ValueError, match="2 predictions for 1 references"):
        entity_f1([[], []], [[]])


def test_unparseable_outputs_count_as_no_entities(task):
    examples = [Example("a", "en", "Ann", "unused", meta={"entities": (("PER", "Ann"),)}),
                Example("b", "en", "Rome", "unused", meta={"entities": (("LOC", "Rome"),)}),
                Example("c", "en", "hi", "unused", meta={"entities": ()})]
    outputs = ['{"Results": [{"TypeName": "PER", "Text": "Ann"}]}',
               '{"Results": [{"TypeName": "LOC", "Text": "Rome"}', "no idea"]
    got = task.score(outputs, examples)
    # tp 1, 1 predicted, 2 gold: P 1, R 1/2, F1 2/3; two of three outputs unreadable
    assert got["precision"] == 1.0 and got["recall"] == 0.5
    assert got["f1"] == pytest.approx(2 / 3) and got["unparseable"] == pytest.approx(2 / 3)
    assert score_outputs([], []) == {"precision": 0.0, "recall": 0.0, "f1": 0.0,
                                     "exact_match": 0.0, "unparseable": 0.0}


def test_hub_loader_falls_back_to_the_parquet_copy(task, monkeypatch):
    calls = []

    def fake_load_dataset(path, *args, **kwargs):
        calls.append((path, args, kwargs))
        if path == HUB_ID:
            raise FileNotFoundError("no parquet conversion")
        return [{"idx": "s1", "text": "I met Ana", "tokens": ["I", "met", "Ana"],
                 "ner_tags": ["O", "O", "B-PER"], "annotator": ["a"] * 3}]

    monkeypatch.setitem(sys.modules, "datasets",
                        types.SimpleNamespace(load_dataset=fake_load_dataset))
    examples = task.load("en", "dev")
    assert calls[1] == ("BramVanroy/universal_ner", ("en_ewt",), {"split": "validation"})
    assert examples[0].id == "en_ewt:s1" and examples[0].meta["entities"] == (("PER", "Ana"),)


def test_per_example_counts_and_the_table_7_tables_by_hand():
    import pandas as pd

    from xlnb.midalign.json_generation import language_table, paired_gain
    from xlnb.tasks.json_ner import entity_counts

    ann = '{"Results": [{"TypeName": "PER", "Text": "Ann"}]}'
    none = '{"Results": []}'
    gold = [[("PER", "Ann")], [], [("PER", "Ann")], [("PER", "Ann")]]
    assert entity_counts([ann, none, "junk", ann], gold) == [
        (1, 1, 1, 0), (0, 0, 0, 0), (0, 0, 1, 1), (1, 1, 1, 0)]
    rows = [{"system": system, "seed": 1, "language": "en", "id": str(i), "output": out,
                 "target": [ann, none, ann, ann][i]}
            for system, outs in [("sft", [ann, none, "junk", ann]),
                                 ("sft+align", [ann, ann, ann, none])]
            for i, out in enumerate(outs)]
    table = language_table(pd.DataFrame(rows), n_boot=200).set_index(["system", "metric"])
    # sft: tp 2, 2 predicted, 3 gold -> F1 4/5; one of four unreadable
    # sft+align: tp 2 (sentences 0 and 2), 3 predicted, 3 gold -> F1 2/3; all readable
    assert table.value[("sft", "f1")] == pytest.approx(0.8)
    assert table.value[("sft", "unparseable")] == 0.25
    assert table.value[("sft+align", "f1")] == pytest.approx(2 / 3)
    assert table.value[("sft+align", "unparseable")] == 0.0
    assert (table.ci_low <= table.value + 1e-12).all() and (table.value <= table.ci_high).all()
    gain = paired_gain(pd.DataFrame(rows), n_boot=200)
    assert len(gain) == 1 and gain.value.item() == pytest.approx(2 / 3 - 0.8)
    assert gain.ci_low.item() <= gain.value.item() <= gain.ci_high.item()
