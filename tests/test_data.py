"""Parallel-data loaders: real FLORES-200 and Tatoeba files, the shipped micro set, bad
inputs, and the hub paths against a stand-in for ``datasets.load_dataset``."""

import unicodedata
from pathlib import Path

import pytest

from xlnb.data import SOURCES, load_parallel, low_resource, micro_languages
from xlnb.data.parallel import MICRO_DIR


def first_line(path: Path) -> str:
    with open(path, encoding="utf-8") as f:
        return f.readline().rstrip("\n")


# -- flores200 (local) -----------------------------------------------------------------------


def test_flores_devtest_matches_the_files(shared_data):
    root = shared_data / "flores200"
    out = load_parallel("flores200", ["en", "zho_Hans", "sw"], path=root)
    assert list(out) == ["en", "zho_Hans", "sw"]
    assert all(len(lines) == 1012 for lines in out.values())
    assert out["en"][0] == first_line(root / "devtest" / "eng_Latn.devtest")
    assert out["zho_Hans"][0] == first_line(root / "devtest" / "zho_Hans.devtest")
    assert out["sw"][-1] == (root / "devtest" / "swh_Latn.devtest").read_text(
        encoding="utf-8").split("\n")[-2]


def test_flores_first_n(shared_data):
    out = load_parallel("flores200", ["de", "en"], n=5, path=shared_data / "flores200")
    assert [len(v) for v in out.values()] == [5, 5]
    full = load_parallel("flores200", ["de"], path=shared_data / "flores200")
    assert out["de"] == full["de"][:5]


def test_flores_accepts_the_split_folder_itself(shared_data):
    a = load_parallel("flores200", ["ja"], n=3, path=shared_data / "flores200")
    b = load_parallel("flores200", ["ja"], n=3, path=shared_data / "flores200" / "devtest")
    assert a == b


def test_flores_all_shared_languages_load(shared_data):
    codes = [f.stem for f in sorted((shared_data / "flores200" / "devtest").glob("*.devtest"))]
    out = load_parallel("flores200", codes, n=2, path=shared_data / "flores200")
    assert list(out) == codes
    assert len(out) == 52


def test_flores_dev_split_and_release_names(tmp_path):
    (tmp_path / "dev").mkdir()
    (tmp_path / "dev" / "eng_Latn.dev").write_text("one\ntwo\n", encoding="utf-8")
    (tmp_path / "dev.deu_Latn").write_text("eins\nzwei\n", encoding="utf-8")
    out = load_parallel("flores200", ["en", "de"], split="dev", path=tmp_path)
    assert out == {"en": ["one", "two"], "de": ["eins", "zwei"]}


def test_flores_keeps_unicode_line_separators_inside_sentences(tmp_path):
    (tmp_path / "eng_Latn.devtest").write_text("a\u2028b\nc\n", encoding="utf-8")
    assert load_parallel("flores200", ["en"], path=tmp_path) == {"en": ["a\u2028b", "c"]}


# -- tatoeba (local) -------------------------------------------------------------------------


def test_tatoeba_pair_matches_the_files(shared_data):
    root = shared_data / "tatoeba"
    out = load_parallel("tatoeba", ["de", "en"], path=root)
    assert list(out) == ["de", "en"]
    assert len(out["de"]) == len(out["en"]) == 1000
    assert out["de"][0] == first_line(root / "tatoeba.deu-eng.deu")
    assert out["en"][0] == first_line(root / "tatoeba.deu-eng.eng")


def test_tatoeba_codes_as_given(shared_data):
    out = load_parallel("tatoeba", ["eng_Latn", "cym_Latn"], path=shared_data / "tatoeba")
    assert list(out) == ["eng_Latn", "cym_Latn"]
    assert len(out["cym_Latn"]) == 575
    out = load_parallel("tatoeba", ["zh", "en"], n=10, path=shared_data / "tatoeba")
    assert out["zh"][0] == first_line(shared_data / "tatoeba" / "tatoeba.cmn-eng.cmn")
    assert len(out["en"]) == 10


@pytest.mark.parametrize("langs", [["de", "fr", "en"], ["de", "fr"], ["en"], ["de"]])
def test_tatoeba_needs_one_language_and_english(langs, shared_data):
    with pytest.raises(ValueError, match="English"):
        load_parallel("tatoeba", langs, path=shared_data / "tatoeba")


# -- micro -----------------------------------------------------------------------------------


def script_of(ch: str) -> str:
    name = unicodedata.name(ch)
    for script in ("LATIN", "CYRILLIC", "GREEK", "ARABIC", "DEVANAGARI", "HANGUL",
                   "HIRAGANA", "KATAKANA", "CJK", "HEBREW", "THAI", "ARMENIAN",
                   "GEORGIAN"):
        if name.startswith(script):
            return script
    return "OTHER"


def test_micro_files_are_a_real_multiway_set():
    files = sorted(MICRO_DIR.glob("*.txt"))
    assert len(files) >= 17
    scripts = set()
    counts = set()
    for file in files:
        raw = file.read_text(encoding="utf-8")
        assert raw.endswith("\n") and "\r" not in raw, file
        lines = raw.split("\n")[:-1]
        assert all(line.strip() == line and line for line in lines), file
        assert len(set(lines)) == len(lines), file
        counts.add(len(lines))
        letters = [script_of(ch) for line in lines for ch in line if ch.isalpha()]
        main = max(set(letters), key=letters.count)
        scripts.add(main)
    assert len(counts) == 1 and counts.pop() >= 100
    assert len(scripts) >= 9, scripts
    assert {"ARMENIAN", "GEORGIAN"} <= scripts


def test_micro_english_is_short_everyday_sentences():
    english = (MICRO_DIR / "en.txt").read_text(encoding="utf-8").split("\n")[:-1]
    assert len(english) == 120
    assert len(set(english)) == 120
    assert all(5 <= len(line.split()) <= 15 for line in english)


def test_micro_scripts_are_the_expected_ones():
    def share(code, script):
        text = (MICRO_DIR / f"{code}.txt").read_text(encoding="utf-8")
        letters = [script_of(ch) for ch in text if ch.isalpha()]
        return sum(s == script for s in letters) / len(letters)

    assert share("ru", "CYRILLIC") == 1
    assert share("el", "GREEK") == 1
    assert share("ar", "ARABIC") == 1
    assert share("hi", "DEVANAGARI") == 1
    assert share("ko", "HANGUL") == 1
    assert share("zh", "CJK") == 1
    assert share("ja", "HIRAGANA") > 0.3
    assert share("de", "LATIN") == 1
    assert share("cy", "LATIN") == 1
    assert share("hy", "ARMENIAN") == 1
    assert share("ka", "GEORGIAN") == 1


def test_load_micro():
    langs = micro_languages()
    assert {"en", "de", "fr", "es", "ru", "zh", "ja", "ar", "hi", "el", "ko", "tr",
            "sw", "cy", "hy", "ka"} <= set(langs)
    assert len(langs) >= 17
    assert {"cy", "hy", "ka"} <= set(low_resource(langs))
    out = load_parallel("micro", langs)
    assert list(out) == langs
    assert {len(v) for v in out.values()} == {120}
    assert out["en"][0] == first_line(MICRO_DIR / "en.txt")
    flores_keys = load_parallel("micro", ["eng_Latn", "zho_Hans"], n=3, split="ignored")
    assert flores_keys == {"eng_Latn": out["en"][:3], "zho_Hans": out["zh"][:3]}


def test_micro_path_override(tmp_path):
    (tmp_path / "en.txt").write_text("Hello there.\nGood morning.\n", encoding="utf-8")
    (tmp_path / "de.txt").write_text("Hallo.\nGuten Morgen.\n", encoding="utf-8")
    assert micro_languages(tmp_path) == ["de", "en"]
    assert load_parallel("micro", ["de", "en"], path=tmp_path)["de"] == ["Hallo.",
                                                                          "Guten Morgen."]


# -- bad inputs ------------------------------------------------------------------------------


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_unknown_source_lists_sources():
    with pytest.raises(ValueError, match="flores200.*tatoeba.*micro"):
        load_parallel("flores", ["en"])
    assert set(SOURCES) == {"flores200", "tatoeba", "micro"}


@pytest.mark.parametrize("langs,match", [
    ([], "empty"),
    (["en", "en"], "duplicate"),
    (["en", "eng_Latn"], "duplicate"),
    ("en", "list"),
])
def test_bad_langs(langs, match):
    with pytest.raises(ValueError, match=match):
        load_parallel("micro", langs)


def test_unknown_language():
    with pytest.raises(LookupError, match="did you mean"):
        load_parallel("micro", ["englsh"])


@pytest.mark.parametrize("n", [0, -1, 2.5, True])
def test_bad_n(n):
    with pytest.raises(ValueError, match="n must be"):
        load_parallel("micro", ["en"], n=n)


def test_n_above_available_names_the_count(shared_data):
    with pytest.raises(ValueError, match="only 1012"):
        load_parallel("flores200", ["en"], n=1013, path=shared_data / "flores200")
    with pytest.raises(ValueError, match="only 120"):
        load_parallel("micro", ["en", "de"], n=121)


def test_bad_flores_split(shared_data):
    with pytest.raises(ValueError, match="split"):
        load_parallel("flores200", ["en"], split="test", path=shared_data / "flores200")


@pytest.mark.parametrize("source", ["flores200", "tatoeba", "micro"])
def test_missing_directory_is_named(source, tmp_path):
    missing = tmp_path / "nowhere"
    langs = ["de", "en"]
    with pytest.raises(FileNotFoundError, match="nowhere"):
        load_parallel(source, langs, path=missing)


def test_missing_language_file_is_named(tmp_path, shared_data):
    write(tmp_path, "eng_Latn.devtest", "a\nb\n")
    with pytest.raises(FileNotFoundError, match="deu_Latn.devtest"):
        load_parallel("flores200", ["en", "de"], path=tmp_path)
    with pytest.raises(FileNotFoundError, match=r"tatoeba\.khm-eng\.khm"):
        load_parallel("tatoeba", ["km", "en"], path=shared_data / "tatoeba")
    with pytest.raises(FileNotFoundError, match=r"micro/he\.txt"):
        load_parallel("micro", ["en", "he"])


def test_mismatched_line_counts_name_the_file(tmp_path):
    write(tmp_path, "eng_Latn.devtest", "a\nb\nc\n")
    write(tmp_path, "deu_Latn.devtest", "a\nb\n")
    with pytest.raises(ValueError, match=r"deu_Latn\.devtest has 2 sentences"):
        load_parallel("flores200", ["en", "de"], path=tmp_path)
    write(tmp_path / "tat", "tatoeba.deu-eng.deu", "a\nb\n")
    write(tmp_path / "tat", "tatoeba.deu-eng.eng", "a\n")
    with pytest.raises(ValueError, match=r"tatoeba\.deu-eng"):
        load_parallel("tatoeba", ["de", "en"], path=tmp_path / "tat")


@pytest.mark.parametrize("text", ["a\n\nc\n", "a\n   \nc\n", "\n"])
def test_blank_sentence_names_the_file(tmp_path, text):
    write(tmp_path, "en.txt", text)
    with pytest.raises(ValueError, match=r"en\.txt"):
        load_parallel("micro", ["en"], path=tmp_path)


def test_empty_file_is_rejected(tmp_path):
    write(tmp_path, "en.txt", "")
    with pytest.raises(ValueError, match=r"en\.txt: no sentences"):
        load_parallel("micro", ["en"], path=tmp_path)


# -- hub paths -------------------------------------------------------------------------------


class FakeLoadDataset:
    """Stands in for ``datasets.load_dataset``: records calls, serves prepared rows."""

    def __init__(self, rows_by_config):
        self.rows_by_config = rows_by_config
        self.calls = []

    def __call__(self, path, name=None, *, split=None, **kwargs):
        self.calls.append((path, name, split))
        return list(self.rows_by_config[name])


def test_flores_hub(monkeypatch):
    import datasets

    fake = FakeLoadDataset({
        "eng_Latn": [{"id": 2, "text": "Second."}, {"id": 1, "text": "First."}],
        "cmn_Hans": [{"id": 1, "text": "第一。"}, {"id": 2, "text": "第二。"}],
    })
    monkeypatch.setattr(datasets, "load_dataset", fake)
    out = load_parallel("flores200", ["en", "zh"], split="dev")
    assert fake.calls == [("openlanguagedata/flores_plus", "eng_Latn", "dev"),
                          ("openlanguagedata/flores_plus", "cmn_Hans", "dev")]
    assert out == {"en": ["First.", "Second."], "zh": ["第一。", "第二。"]}
    assert load_parallel("flores200", ["en"], n=1) == {"en": ["First."]}
    assert fake.calls[-1] == ("openlanguagedata/flores_plus", "eng_Latn", "devtest")


def test_flores_hub_blank_sentence_names_the_config(monkeypatch):
    import datasets

    fake = FakeLoadDataset({"deu_Latn": [{"id": 1, "text": "Ja."}, {"id": 2, "text": " "}]})
    monkeypatch.setattr(datasets, "load_dataset", fake)
    with pytest.raises(ValueError, match="deu_Latn"):
        load_parallel("flores200", ["de"])


def test_tatoeba_hub(monkeypatch):
    import datasets

    fake = FakeLoadDataset({"deu-eng": [
        {"sentence1": "Ich bin müde.", "sentence2": "I am tired."},
        {"sentence1": "Wo ist er?\n", "sentence2": "Where is he?\n"},
    ]})
    monkeypatch.setattr(datasets, "load_dataset", fake)
    out = load_parallel("tatoeba", ["en", "deu_Latn"])
    assert fake.calls == [("mteb/tatoeba-bitext-mining", "deu-eng", "test")]
    assert out == {"en": ["I am tired.", "Where is he?"],
                   "deu_Latn": ["Ich bin müde.", "Wo ist er?"]}


def test_tatoeba_hub_uses_laser_names(monkeypatch):
    import datasets

    fake = FakeLoadDataset({"cmn-eng": [{"sentence1": "你好。", "sentence2": "Hello."}]})
    monkeypatch.setattr(datasets, "load_dataset", fake)
    assert load_parallel("tatoeba", ["zh", "en"]) == {"zh": ["你好。"], "en": ["Hello."]}
    assert fake.calls == [("mteb/tatoeba-bitext-mining", "cmn-eng", "test")]


def test_load_bitexts_pairs_each_tatoeba_language_with_its_own_english(shared_data):
    from xlnb.data import load_bitexts

    root = shared_data / "tatoeba"
    got = load_bitexts("tatoeba", ["de", "fr", "en"], n=20, path=root)
    assert list(got) == ["de", "fr"]
    for lang, xxx in (("de", "deu"), ("fr", "fra")):
        english = (root / f"tatoeba.{xxx}-eng.eng").read_text(encoding="utf-8").split("\n")[:20]
        other = (root / f"tatoeba.{xxx}-eng.{xxx}").read_text(encoding="utf-8").split("\n")[:20]
        assert got[lang] == {"en": english, lang: other}
    assert got["de"]["en"] != got["fr"]["en"]  # the English sides differ per language
    with pytest.raises(ValueError, match="load_bitexts"):
        load_parallel("tatoeba", ["de", "fr", "en"], path=root)
    with pytest.raises(ValueError, match="English"):
        load_bitexts("tatoeba", ["de", "fr", "en"], pivot="de", n=5, path=root)
    with pytest.raises(ValueError, match="give n"):
        load_bitexts("tatoeba", ["de", "cy", "en"], path=root)


def test_load_bitexts_of_multiway_data_share_the_pivot():
    from xlnb.data import load_bitexts

    texts = load_parallel("micro", ["en", "de", "zh"], n=7)
    got = load_bitexts("micro", ["en", "de", "zh"], n=7)
    assert got == {"de": {"en": texts["en"], "de": texts["de"]},
                   "zh": {"en": texts["en"], "zh": texts["zh"]}}
    got = load_bitexts("micro", ["en", "de", "zh"], pivot="de", n=7)
    assert list(got) == ["en", "zh"] and got["zh"]["de"] == texts["de"]
    with pytest.raises(ValueError, match="pivot"):
        load_bitexts("micro", ["de", "zh"], pivot="en")
