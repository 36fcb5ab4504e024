"""The language registry: known codes, lookups by any code, suggestions, resource levels."""

import pytest

from xlnb.data import (
    LANGUAGES,
    flores_code,
    get_language,
    high_resource,
    iso1,
    iso3,
    languages,
    low_resource,
    resource_level,
)

MIDALIGN_35 = ("ar en es ru zh cy ja jv sw tl af az de el fr hi is th tr ur cs he uk am bn "
               "it hu hy id kn ka mn km ko lv").split()

# MidAlign, Table 9 (code, FLORES code), copied from the paper.
MIDALIGN_TABLE_9 = {
    "af": "afr_Latn", "az": "azj_Latn", "ar": "arb_Arab", "cs": "ces_Latn",
    "cy": "cym_Latn", "da": "dan_Latn", "de": "deu_Latn", "el": "ell_Grek",
    "en": "eng_Latn", "es": "spa_Latn", "fr": "fra_Latn", "he": "heb_Hebr",
    "hi": "hin_Deva", "hr": "hrv_Latn", "is": "isl_Latn", "ja": "jpn_Jpan",
    "jv": "jav_Latn", "pt": "por_Latn", "ru": "rus_Cyrl", "sk": "slk_Latn",
    "sr": "srp_Cyrl", "sv": "swe_Latn", "sw": "swh_Latn", "th": "tha_Thai",
    "tl": "tgl_Latn", "tr": "tur_Latn", "uk": "ukr_Cyrl", "ur": "urd_Arab",
    "zh": "zho_Hans",
}


def test_known_codes():
    assert get_language("zh").flores == "zho_Hans"
    assert get_language("sw").iso3 == "swh"
    assert get_language("swh_Latn").iso1 == "sw"
    assert get_language("ar").flores == "arb_Arab"
    assert iso3("zh") == "cmn"
    assert iso3("ar") == "ara"
    assert flores_code("mn") == "khk_Cyrl"
    assert flores_code("lv") == "lvs_Latn"
    assert flores_code("az") == "azj_Latn"
    assert iso1("ydd_Hebr") == "yi"
    assert get_language("ja").script == "Jpan"
    assert get_language("de").name == "German"


@pytest.mark.parametrize("code,flores", sorted(MIDALIGN_TABLE_9.items()))
def test_midalign_table_9(code, flores):
    assert flores_code(code) == flores
    assert iso1(flores) == code


def test_midalign_analysis_languages_registered():
    assert len(set(MIDALIGN_35)) == 35
    for code in MIDALIGN_35:
        assert get_language(code).iso1 == code


@pytest.mark.parametrize("code", ["de", "DE", "deu_Latn", "DEU_LATN", "deu", "German",
                                  "german", " German "])
def test_any_code_any_case(code):
    assert get_language(code) is get_language("de")


def test_every_code_of_every_language_round_trips():
    for lang in LANGUAGES:
        second_script = lang.iso1 == lang.flores  # "ace_Arab": "ace" is "ace_Latn"
        part = [] if second_script else [lang.flores.split("_")[0]]
        for code in (lang.iso1, lang.flores, lang.iso3, lang.name, *part):
            assert get_language(code) is lang, code
    assert get_language("ace").flores == "ace_Latn"
    assert get_language("ace_Arab").flores == "ace_Arab"
    assert get_language("zho").flores == "zho_Hans"


def test_registry_covers_flores200():
    # FLORES-200 has 204 varieties: App. A's 68 head + 135 long-tail + English
    assert len(LANGUAGES) == 204
    flores = {lang.flores for lang in LANGUAGES}
    for code in ("eng_Latn", "zho_Hant", "arb_Latn", "min_Arab", "nob_Latn", "gla_Latn",
                 "uzn_Latn", "sat_Olck", "taq_Tfng"):
        assert code in flores, code


def test_registry_is_consistent():
    assert len({lang.iso1 for lang in LANGUAGES}) == len(LANGUAGES)
    assert len({lang.flores for lang in LANGUAGES}) == len(LANGUAGES)
    assert len({lang.iso3 for lang in LANGUAGES}) == len(LANGUAGES)
    for lang in LANGUAGES:
        assert lang.script == lang.flores.split("_")[1]
        assert lang.resource in ("high", "low", None)
        assert len(lang.iso3) == 3 or lang.iso3 == lang.flores


def test_language_is_frozen():
    with pytest.raises(Exception):
        get_language("en").iso1 = "xx"


def test_unknown_code_suggests_near_matches():
    with pytest.raises(LookupError, match="deu_Latn"):
        get_language("deu_latin")
    with pytest.raises(LookupError, match="German"):
        get_language("Germn")
    with pytest.raises(LookupError, match="'xq'"):
        get_language("xq")


def test_non_string_code_rejected():
    with pytest.raises(TypeError):
        get_language(3)


def test_resource_levels():
    assert resource_level("en") == "high"
    assert resource_level("zh") == "high"
    assert resource_level("am") == "low"
    assert resource_level("jav_Latn") == "low"
    assert low_resource(["en", "cy", "de", "jv"]) == ["cy", "jv"]
    assert low_resource(["cym_Latn", "eng_Latn"]) == ["cym_Latn"]
    assert high_resource(["en", "cy", "de", "jv"]) == ["en", "de"]
    low = languages("low")
    high = languages("high")
    assert low and high
    unknown = [lang for lang in LANGUAGES if lang.resource is None]
    assert len(low) + len(high) + len(unknown) == len(languages()) == len(LANGUAGES)
    assert all(lang.resource == "low" for lang in low)
    # a level the registry has not transcribed is an error, not a guess
    with pytest.raises(ValueError, match="Acehnese"):
        resource_level("ace")
    with pytest.raises(ValueError, match="explicitly"):
        low_resource(["en", "ace"])
    with pytest.raises(ValueError, match="resource"):
        languages("medium")


def test_every_shared_flores_file_is_registered(shared_data):
    files = sorted((shared_data / "flores200" / "devtest").glob("*.devtest"))
    assert len(files) == 52
    for file in files:
        assert get_language(file.stem).flores == file.stem


def test_every_shared_tatoeba_file_is_registered(shared_data):
    files = sorted((shared_data / "tatoeba").glob("tatoeba.*-eng.*"))
    assert len(files) == 44
    for file in files:
        xxx = file.name.split(".")[1].split("-")[0]
        assert get_language(xxx).iso3 == xxx


def test_every_other_shared_language_is_registered(shared_data):
    codes = {d.name for d in (shared_data / "xcopa").iterdir() if d.is_dir()}
    codes |= {f.stem.split("-")[1] for f in (shared_data / "xnli").glob("dev-*.tsv")}
    codes |= {f.stem.split(".")[1] for f in (shared_data / "xquad").glob("xquad.*.json")}
    for f in (shared_data / "wmt23").iterdir():
        codes |= set(f.name.split(".")[1].split("-"))
    assert {"et", "ht", "qu", "ta", "vi", "he", "cs"} <= codes
    for code in codes:
        assert get_language(code).iso1 == code
