"""Alignment pairs (MidAlign §4.1, App. B, App. D.1): IWSLT 2017 pairing checked against the
XML read a second way, Tatoeba filtering on a hand-made file, FLORES held-out lines, the MT
task's pairs, and uniform re-sampling counts."""

import io
import json
import re
import tarfile
from collections import Counter

import datasets
import pytest

from xlnb.tasks import pairs as pairsmod
from xlnb.tasks.iwslt import parse_mteval, wit3_pairs
from xlnb.tasks.pairs import (
    Pair,
    is_multi_sentence,
    load_pairs,
    split_flores_lines,
    uniform_mix,
)

# -- IWSLT 2017 ------------------------------------------------------------------------------


def _xml_segments(archive, member_suffix):
    """[(docid, seg id, text)] by regular expressions, not by an XML parser."""
    with tarfile.open(archive) as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith(member_suffix))
        text = tar.extractfile(member).read().decode("utf-8")
    out = []
    for doc in re.finditer(r'<doc docid="(\d+)"(.*?)</doc>', text, re.DOTALL):
        for seg in re.finditer(r'<seg id="(\d+)">(.*?)</seg>', doc.group(2), re.DOTALL):
            out.append((doc.group(1), seg.group(1), " ".join(seg.group(2).split())))
    return out


def test_iwslt_de_pairs(shared_data):
    root = shared_data / "iwslt2017"
    pairs = load_pairs("iwslt2017", ["de"], path=root)
    assert len(pairs) == 1_138  # data README: tst2017 de
    assert pairs[0] == Pair("de", "Das ist James Risen.", "So this is James Risen.", 0)
    texts = root / "2017-01-ted-test/texts"
    de = _xml_segments(texts / "de/en/de-en.tgz", "tst2017.de-en.de.xml")
    en = {(d, s): t for d, s, t in _xml_segments(texts / "en/de/en-de.tgz",
                                                 "tst2017.en-de.en.xml")}
    for i in (1, 500, 777, 1137):
        docid, seg, text = de[i]
        assert (pairs[i].text, pairs[i].english) == (text, en[(docid, seg)])


def test_iwslt_other_split_and_folder(shared_data):
    pairs = load_pairs("iwslt2017", ["ja"], path=shared_data / "iwslt2017/2017-01-ted-test",
                       split="tst2016")
    assert len(pairs) == 1_146 and all(p.language == "ja" for p in pairs)
    with pytest.raises(ValueError, match="tst2017"):
        load_pairs("iwslt2017", ["de"], path=shared_data / "iwslt2017", split="train")


def _mteval(segs):
    body = "".join(f'<doc docid="{d}"><seg id="{s}"> {t} </seg></doc>' for d, s, t in segs)
    return f'<?xml version="1.0" encoding="UTF-8"?><mteval><srcset>{body}</srcset></mteval>'


def _archive(root, src, tgt, segs, split="tst2017"):
    folder = root / "texts" / src / tgt
    folder.mkdir(parents=True)
    data = _mteval(segs).encode("utf-8")
    with tarfile.open(folder / f"{src}-{tgt}.tgz", "w:gz") as tar:
        info = tarfile.TarInfo(f"{src}-{tgt}/IWSLT17.TED.{split}.{src}-{tgt}.{src}.xml")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))


def test_wit3_pairs_by_docid_and_seg_id(tmp_path):
    # the same seg id in two talks: pairing must use (docid, seg id), not seg id alone
    _archive(tmp_path, "de", "en", [("7", "1", "Eins"), ("7", "2", "Zwei"), ("9", "1", "Drei")])
    _archive(tmp_path, "en", "de", [("9", "1", "Three"), ("7", "1", "One"), ("7", "2", "Two")])
    assert wit3_pairs(tmp_path, "de") == [("7:1", "Eins", "One"), ("7:2", "Zwei", "Two"),
                                          ("9:1", "Drei", "Three")]


def test_wit3_mismatched_ids(tmp_path):
    _archive(tmp_path, "de", "en", [("7", "1", "Eins"), ("7", "2", "Zwei")])
    _archive(tmp_path, "en", "de", [("7", "1", "One")])
    with pytest.raises(ValueError, match="differ in segment ids"):
        wit3_pairs(tmp_path, "de")


def test_mteval_refuses_entities_and_names_problems():
    bomb = b'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY a "aaaa">]><mteval>&a;</mteval>'
    with pytest.raises(ValueError, match="x.xml: refusing"):
        parse_mteval(bomb, "x.xml")
    with pytest.raises(ValueError, match="x.xml: malformed"):
        parse_mteval(b"<mteval><doc>", "x.xml")
    dup = _mteval([("1", "1", "a"), ("1", "1", "b")]).encode()
    with pytest.raises(ValueError, match="duplicate segment docid=1 id=1"):
        parse_mteval(dup, "x.xml")
    assert parse_mteval(_mteval([("3", "4", "a  b\n c")]).encode(), "x") == {("3", "4"): "a b c"}


def test_iwslt_hub_route(monkeypatch):
    calls = []

    def fake(name, config, split):
        calls.append((name, config, split))
        return [{"translation": {"de": "Hallo.", "en": "Hello."}},
                {"translation": {"de": " ", "en": "Empty."}}]

    monkeypatch.setattr(datasets, "load_dataset", fake)
    assert load_pairs("iwslt2017", ["de"]) == [Pair("de", "Hallo.", "Hello.", 0)]
    assert calls == [("IWSLT/iwslt2017", "iwslt2017-de-en", "train")]


# -- Tatoeba ---------------------------------------------------------------------------------


@pytest.mark.parametrize("text, multi", [
    ("Tom is here. Mary is not.", True),
    ("Tom is here.", False),
    ("Hello!", False),
    ("Well... I don't know.", False),
    ("I got up at 6 a.m. every morning.", False),
    ('"Do you hate me?" "No."', True),
    ("Кто там? Я.", True),
    ("冗談でしょ！？", False),
    ("あ！蝶々がいる！", True),
    ("彼は来た。", False),
])
def test_is_multi_sentence(text, multi):
    assert is_multi_sentence(text) is multi


def test_tatoeba_filtering(tmp_path):
    rows = [("Ninapenda chai.", "I like tea."),            # kept
            ("", "Empty on the left."),                     # empty
            ("Ndiyo.", "   "),                               # empty (whitespace)
            ("Vema. Asante.", "Fine, thank you."),          # two sentences, Swahili side
            ("Habari?", "Hello. How are you?"),             # two sentences, English side
            ("Nilifika saa 6 a.m. leo.", "I came at 6 a.m. today.")]  # kept (abbreviation)
    (tmp_path / "tatoeba.swh-eng.swh").write_text("\n".join(r[0] for r in rows) + "\n")
    (tmp_path / "tatoeba.swh-eng.eng").write_text("\n".join(r[1] for r in rows) + "\n")
    pairs = load_pairs("tatoeba", ["sw"], path=tmp_path)
    assert pairs == [Pair("sw", "Ninapenda chai.", "I like tea.", 0),
                     Pair("sw", "Nilifika saa 6 a.m. leo.", "I came at 6 a.m. today.", 5)]


def test_tatoeba_misaligned_files(tmp_path):
    (tmp_path / "tatoeba.swh-eng.swh").write_text("a\nb\n")
    (tmp_path / "tatoeba.swh-eng.eng").write_text("a\n")
    with pytest.raises(ValueError, match="tatoeba.swh-eng.swh has 2 lines"):
        load_pairs("tatoeba", ["sw"], path=tmp_path)


def test_tatoeba_real_each_language_own_english(shared_data):
    pairs = load_pairs("tatoeba", ["sw", "cy"], path=shared_data / "tatoeba")
    counts = Counter(p.language for p in pairs)
    assert 0 < counts["sw"] <= 390 and 0 < counts["cy"] <= 575  # LASER sizes before filtering
    eng = (shared_data / "tatoeba/tatoeba.cym-eng.eng").read_text(encoding="utf-8").split("\n")
    assert all(p.english == eng[p.index].strip() for p in pairs if p.language == "cy")


# -- FLORES and held-out lines ---------------------------------------------------------------


def test_split_flores_lines():
    train, heldout = split_flores_lines(997, 200, seed=3)
    assert len(train) == 200 and len(heldout) == 797
    assert set(train).isdisjoint(heldout) and set(train) | set(heldout) == set(range(997))
    assert train == sorted(train) and heldout == sorted(heldout)
    assert split_flores_lines(997, 200, seed=3) == (train, heldout)
    assert split_flores_lines(997, 200, seed=4)[0] != train
    with pytest.raises(ValueError, match="n_train"):
        split_flores_lines(10, 11)


def test_flores_pairs_avoid_heldout_lines(shared_data):
    folder = shared_data / "flores200"
    train, heldout = split_flores_lines(1012, 300, seed=0)
    pairs = load_pairs("flores200", ["de", "sw"], path=folder, exclude=heldout, n=100, seed=1)
    assert Counter(p.language for p in pairs) == {"de": 100, "sw": 100}
    assert {p.index for p in pairs} <= set(train)
    deu = (folder / "devtest/deu_Latn.devtest").read_text(encoding="utf-8").split("\n")
    eng = (folder / "devtest/eng_Latn.devtest").read_text(encoding="utf-8").split("\n")
    assert all((p.text, p.english) == (deu[p.index], eng[p.index])
               for p in pairs if p.language == "de")
    # adding a language leaves the draw of the others unchanged
    alone = load_pairs("flores200", ["de"], path=folder, exclude=heldout, n=100, seed=1)
    assert alone == [p for p in pairs if p.language == "de"]


# -- MT task pairs ---------------------------------------------------------------------------


def test_mt_pairs_are_alma_rows(shared_data):
    pairs = load_pairs("mt", ["de", "is"], path=shared_data, n=5, seed=2)
    assert Counter(p.language for p in pairs) == {"de": 5, "is": 5}
    rows = (shared_data / "alma/isen/train.is-en.json").read_text(encoding="utf-8").split("\n")
    for p in pairs:
        if p.language == "is":
            row = json.loads(rows[p.index])["translation"]
            assert (p.text, p.english) == (row["is"], row["en"])


# -- arguments -------------------------------------------------------------------------------


def test_bad_arguments(shared_data):
    with pytest.raises(ValueError, match="unknown pair source"):
        load_pairs("opus", ["de"])
    with pytest.raises(ValueError, match="not English"):
        load_pairs("tatoeba", ["de", "en"], path=shared_data / "tatoeba")
    with pytest.raises(ValueError, match="list of codes"):
        load_pairs("tatoeba", "de")
    with pytest.raises(ValueError, match="positive integer"):
        load_pairs("tatoeba", ["de"], path=shared_data / "tatoeba", n=0)


def test_tatoeba_hub_route_filters(monkeypatch):
    def fake(source, langs, **kwargs):
        assert source == "tatoeba" and kwargs == {}
        return {langs[0]: ["Moja.", "Moja. Mbili."], langs[1]: ["One.", "One. Two."]}

    monkeypatch.setattr(pairsmod, "load_parallel", fake)
    assert load_pairs("tatoeba", ["sw"]) == [Pair("sw", "Moja.", "One.", 0)]


# -- uniform_mix -----------------------------------------------------------------------------


def _pairs(lang, k):
    return [Pair(lang, f"{lang} {i}", f"en {i}", i) for i in range(k)]


def test_uniform_mix_upsamples_to_largest():
    pairs = _pairs("jv", 2) + _pairs("sw", 5) + _pairs("cy", 3)
    mixed = uniform_mix(pairs, seed=0)
    assert Counter(p.language for p in mixed) == {"jv": 5, "sw": 5, "cy": 5}
    jv = Counter(p for p in mixed if p.language == "jv")
    assert set(jv) == set(_pairs("jv", 2)) and sorted(jv.values()) == [2, 3]
    cy = Counter(p for p in mixed if p.language == "cy")
    assert set(cy) == set(_pairs("cy", 3)) and sorted(cy.values()) == [1, 2, 2]
    assert Counter(p for p in mixed if p.language == "sw") == Counter(_pairs("sw", 5))
    assert uniform_mix(pairs, seed=0) == mixed and uniform_mix(pairs, seed=1) != mixed


def test_uniform_mix_downsample_and_fixed_count():
    pairs = _pairs("jv", 2) + _pairs("sw", 5)
    down = uniform_mix(pairs, strategy="downsample")
    assert Counter(p.language for p in down) == {"jv": 2, "sw": 2}
    assert len(set(down)) == 4  # without replacement
    fixed = uniform_mix(pairs, n_per_language=3)
    assert Counter(p.language for p in fixed) == {"jv": 3, "sw": 3}
    with pytest.raises(ValueError, match="strategy"):
        uniform_mix(pairs, strategy="temperature")
    with pytest.raises(ValueError, match="no pairs"):
        uniform_mix([])
