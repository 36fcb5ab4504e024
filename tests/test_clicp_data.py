"""XQuAD reading for CL-ICP Fig. 2 from local SQuAD-format files (no hub access)."""

import json

import pytest

from xlnb.clicp.data import load_texts


def _write(path, lang, paragraphs):
    data = {"data": [{"title": "t", "paragraphs": [
        {"context": ctx, "qas": [{"id": qid, "question": q, "answers": []} for qid, q in qas]}
        for ctx, qas in paragraphs]}]}
    (path / f"xquad.{lang}.json").write_text(json.dumps(data, ensure_ascii=False), "utf-8")


@pytest.fixture
def xquad_dir(tmp_path):
    _write(tmp_path, "en", [("Paris is big.", [("b", "Is Paris big?"), ("a", "Where?")]),
                            ("Rome is old.", [("c", "Is Rome old?")])])
    _write(tmp_path, "zh", [("巴黎很大。", [("a", "哪里？"), ("b", "巴黎大吗？")]),
                            ("罗马很古老。", [("c", "罗马古老吗？")])])
    return tmp_path


def test_questions_align_by_id_and_contexts_are_deduplicated(xquad_dir):
    q = load_texts("xquad", ["en", "zh"], path=xquad_dir, field="question")
    assert q == {"en": ["Where?", "Is Paris big?", "Is Rome old?"],
                 "zh": ["哪里？", "巴黎大吗？", "罗马古老吗？"]}
    c = load_texts("xquad", ["en", "zh"], path=xquad_dir, field="context", n=1)
    assert c == {"en": ["Paris is big."], "zh": ["巴黎很大。"]}


def test_bad_requests_are_rejected(xquad_dir):
    with pytest.raises(ValueError, match="field"):
        load_texts("xquad", ["en", "zh"], path=xquad_dir, field="answer")
    with pytest.raises(ValueError, match="XQuAD has no 'fr'"):
        load_texts("xquad", ["en", "fr"], path=xquad_dir)
    with pytest.raises(FileNotFoundError, match="xquad.de.json"):
        load_texts("xquad", ["en", "de"], path=xquad_dir)
    with pytest.raises(ValueError, match="n must"):
        load_texts("xquad", ["en", "zh"], path=xquad_dir, n=0)


def test_other_sources_go_to_load_parallel():
    micro = load_texts("micro", ["en", "de"], n=2)
    assert len(micro["en"]) == len(micro["de"]) == 2
