"""Language registry: ISO 639-1 <-> FLORES-200 <-> ISO 639-3 (Tatoeba) <-> name <-> script.

One :class:`Language` per language the project touches: the 35 languages of MidAlign's
analysis (its Appendix C / Table 9), every language of the real data beside the project
(FLORES-200 devtest, LASER Tatoeba, XCOPA, XQuAD, XNLI, WMT23), the micro set, and a few
common extras.

Fields
------
``iso1``
    ISO 639-1 code (``"zh"``). The two languages without one (Banjar, Silesian) use their
    ISO 639-3 code here, so every language has one short code (MidAlign's convention).
``flores``
    FLORES-200 code, language + ISO 15924 script (``"zho_Hans"``, ``"arb_Arab"``,
    ``"swh_Latn"``, ``"khk_Cyrl"``, ``"lvs_Latn"``, ``"azj_Latn"``).
``iso3``
    ISO 639-3 code as LASER's Tatoeba test set names its files (``tatoeba.cmn-eng.cmn``):
    the macrolanguage or LASER's choice (``ara``, ``cmn``, ``swh``, ``aze``, ``mon``,
    ``yid``, ``pes``). Languages LASER does not cover keep their ISO 639-3 code.
``name``
    English name. ``script`` is the ISO 15924 script of the FLORES-200 code.
``resource``
    ``"high"`` or ``"low"`` as in the language table (Table 1) of the NLLB paper
    (NLLB Team, 2024, *Scaling neural machine translation to 200 languages*, Nature; arXiv
    2207.04672): a language is low-resource when fewer than 1M publicly available parallel
    sentences exist for it. MidAlign (footnote 3) uses these levels for its low-resource
    group. The levels below are transcribed from that table for the FLORES variety listed;
    the further FLORES-200 languages of :mod:`xlnb.data.flores_extra` have ``None`` (not
    transcribed), and asking for their level is an error that says so.

Every lookup (:func:`get_language` and the helpers built on it) accepts any of the codes
above, the language part of the FLORES code (``"arb"``, ``"zho"``), the English name or a
listed alias, case-insensitively.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Iterable

from xlnb.data.flores_extra import FLORES_EXTRA

RESOURCE_LEVELS = ("high", "low")


@dataclass(frozen=True)
class Language:
    iso1: str
    flores: str
    iso3: str
    name: str
    script: str
    resource: str | None


# (iso1, flores, iso3 as in LASER Tatoeba, English name, NLLB resource level, aliases)
_TABLE = [
    # -- MidAlign's 35 analysis languages ------------------------------------------------
    ("ar", "arb_Arab", "ara", "Arabic", "high", ("Modern Standard Arabic",)),
    ("en", "eng_Latn", "eng", "English", "high", ()),
    ("es", "spa_Latn", "spa", "Spanish", "high", ("Castilian",)),
    ("ru", "rus_Cyrl", "rus", "Russian", "high", ()),
    ("zh", "zho_Hans", "cmn", "Chinese", "high",
     ("Chinese (Simplified)", "Mandarin", "cmn_Hans")),
    ("cy", "cym_Latn", "cym", "Welsh", "low", ()),
    ("ja", "jpn_Jpan", "jpn", "Japanese", "high", ()),
    ("jv", "jav_Latn", "jav", "Javanese", "low", ()),
    ("sw", "swh_Latn", "swh", "Swahili", "high", ("Kiswahili", "swa")),
    ("tl", "tgl_Latn", "tgl", "Tagalog", "high", ("Filipino", "fil")),
    ("af", "afr_Latn", "afr", "Afrikaans", "high", ()),
    ("az", "azj_Latn", "aze", "Azerbaijani", "low", ("North Azerbaijani",)),
    ("de", "deu_Latn", "deu", "German", "high", ()),
    ("el", "ell_Grek", "ell", "Greek", "high", ("Modern Greek",)),
    ("fr", "fra_Latn", "fra", "French", "high", ()),
    ("hi", "hin_Deva", "hin", "Hindi", "high", ()),
    ("is", "isl_Latn", "isl", "Icelandic", "high", ()),
    ("th", "tha_Thai", "tha", "Thai", "high", ()),
    ("tr", "tur_Latn", "tur", "Turkish", "high", ()),
    ("ur", "urd_Arab", "urd", "Urdu", "low", ()),
    ("cs", "ces_Latn", "ces", "Czech", "high", ()),
    ("he", "heb_Hebr", "heb", "Hebrew", "high", ()),
    ("uk", "ukr_Cyrl", "ukr", "Ukrainian", "high", ()),
    ("am", "amh_Ethi", "amh", "Amharic", "low", ()),
    ("bn", "ben_Beng", "ben", "Bengali", "high", ("Bangla",)),
    ("it", "ita_Latn", "ita", "Italian", "high", ()),
    ("hu", "hun_Latn", "hun", "Hungarian", "high", ()),
    ("hy", "hye_Armn", "hye", "Armenian", "low", ()),
    ("id", "ind_Latn", "ind", "Indonesian", "high", ()),
    ("kn", "kan_Knda", "kan", "Kannada", "low", ()),
    ("ka", "kat_Geor", "kat", "Georgian", "low", ()),
    ("mn", "khk_Cyrl", "mon", "Mongolian", "low", ("Halh Mongolian",)),
    ("km", "khm_Khmr", "khm", "Khmer", "low", ()),
    ("ko", "kor_Hang", "kor", "Korean", "high", ()),
    ("lv", "lvs_Latn", "lvs", "Latvian", "high", ("Standard Latvian", "lav")),
    # -- the rest of the FLORES-200 files beside the project -----------------------------
    ("pt", "por_Latn", "por", "Portuguese", "high", ()),
    ("da", "dan_Latn", "dan", "Danish", "high", ()),
    ("sv", "swe_Latn", "swe", "Swedish", "high", ()),
    ("hr", "hrv_Latn", "hrv", "Croatian", "high", ()),
    ("sk", "slk_Latn", "slk", "Slovak", "high", ()),
    ("sr", "srp_Cyrl", "srp", "Serbian", "low", ()),
    ("qu", "quy_Latn", "quy", "Quechua", "low", ("Ayacucho Quechua", "que")),
    ("szl", "szl_Latn", "szl", "Silesian", "low", ()),
    ("pa", "pan_Guru", "pan", "Punjabi", "low", ("Eastern Panjabi", "Panjabi")),
    ("bjn", "bjn_Latn", "bjn", "Banjar", "low", ()),
    ("ug", "uig_Arab", "uig", "Uyghur", "low", ("Uighur",)),
    ("tk", "tuk_Latn", "tuk", "Turkmen", "low", ()),
    ("yi", "ydd_Hebr", "yid", "Yiddish", "low", ("Eastern Yiddish",)),
    ("gu", "guj_Gujr", "guj", "Gujarati", "low", ()),
    ("kk", "kaz_Cyrl", "kaz", "Kazakh", "high", ()),
    ("tt", "tat_Cyrl", "tat", "Tatar", "low", ()),
    ("nl", "nld_Latn", "nld", "Dutch", "high", ()),
    # -- XCOPA languages not above ---------------------------------------------------------
    ("et", "est_Latn", "est", "Estonian", "high", ()),
    ("ht", "hat_Latn", "hat", "Haitian Creole", "low", ("Haitian",)),
    ("ta", "tam_Taml", "tam", "Tamil", "low", ()),
    ("vi", "vie_Latn", "vie", "Vietnamese", "high", ()),
    # -- common extras ----------------------------------------------------------------------
    ("fi", "fin_Latn", "fin", "Finnish", "high", ()),
    ("pl", "pol_Latn", "pol", "Polish", "high", ()),
    ("ro", "ron_Latn", "ron", "Romanian", "high", ()),
    ("bg", "bul_Cyrl", "bul", "Bulgarian", "high", ()),
    ("fa", "pes_Arab", "pes", "Persian", "high", ("Farsi", "Western Persian")),
    ("ms", "zsm_Latn", "zsm", "Malay", "high", ("Standard Malay",)),
    ("lt", "lit_Latn", "lit", "Lithuanian", "high", ()),
    ("sl", "slv_Latn", "slv", "Slovenian", "high", ("Slovene",)),
    ("ca", "cat_Latn", "cat", "Catalan", "high", ()),
    ("eu", "eus_Latn", "eus", "Basque", "high", ()),
    ("mr", "mar_Deva", "mar", "Marathi", "low", ()),
    ("te", "tel_Telu", "tel", "Telugu", "low", ()),
    ("ml", "mal_Mlym", "mal", "Malayalam", "low", ()),
    ("ne", "npi_Deva", "nep", "Nepali", "low", ()),
    ("my", "mya_Mymr", "mya", "Burmese", "low", ("Myanmar",)),
    ("lo", "lao_Laoo", "lao", "Lao", "low", ()),
    ("so", "som_Latn", "som", "Somali", "low", ()),
    ("yo", "yor_Latn", "yor", "Yoruba", "low", ()),
    ("zu", "zul_Latn", "zul", "Zulu", "high", ()),
]

_TABLE += [(short, flores, iso3, name, None, aliases)
           for short, flores, iso3, name, aliases in FLORES_EXTRA]

LANGUAGES: tuple[Language, ...] = tuple(
    Language(iso1, flores, iso3, name, flores.split("_")[1], resource)
    for iso1, flores, iso3, name, resource, _ in _TABLE
)


def _build_index() -> dict[str, Language]:
    index: dict[str, Language] = {}
    for lang, (*_, aliases) in zip(LANGUAGES, _TABLE):
        # a second script of a language (short code = FLORES code) leaves the language
        # part of its FLORES code to the first
        part = [] if lang.iso1 == lang.flores else [lang.flores.split("_")[0]]
        keys = {lang.iso1, lang.flores, lang.iso3, *part, lang.name, *aliases}
        for key in keys:
            key = key.lower()
            other = index.setdefault(key, lang)
            if other is not lang:
                raise AssertionError(f"{key!r} names both {other.name} and {lang.name}")
    return index


_INDEX = _build_index()


def get_language(code: str | Language) -> Language:
    """The :class:`Language` named by ``code``: ISO 639-1, FLORES-200, ISO 639-3/Tatoeba
    code, the language part of a FLORES code, or English name (case-insensitive).

    Raises ``LookupError`` for an unknown code, suggesting the nearest known codes.
    """
    if isinstance(code, Language):
        return code
    if not isinstance(code, str):
        raise TypeError(f"language code must be a string, got {type(code).__name__}")
    key = code.strip().lower()
    if key in _INDEX:
        return _INDEX[key]
    near = difflib.get_close_matches(key, list(_INDEX), n=5, cutoff=0.6)
    hint = f"did you mean {', '.join(repr(_display(k)) for k in near)}?" if near \
        else "no close match"
    raise LookupError(
        f"unknown language {code!r}: {hint} (codes may be ISO 639-1 'de', FLORES-200 "
        f"'deu_Latn', ISO 639-3 'deu' or a name 'German'; see xlnb.data.languages())")


def _display(key: str) -> str:
    """The spelling of an index key as the registry writes it (``deu_Latn``, ``German``)."""
    lang = _INDEX[key]
    for spelled in (lang.flores, lang.name):
        if spelled.lower() == key:
            return spelled
    return key


def languages(resource: str | None = None) -> list[Language]:
    """All registered languages in registry order, or only those of one NLLB resource
    level (``"high"`` or ``"low"``)."""
    if resource is None:
        return list(LANGUAGES)
    if resource not in RESOURCE_LEVELS:
        raise ValueError(f"resource must be one of {RESOURCE_LEVELS} or None, got {resource!r}")
    return [lang for lang in LANGUAGES if lang.resource == resource]


def flores_code(code: str | Language) -> str:
    """FLORES-200 code of a language: ``flores_code("zh") == "zho_Hans"``."""
    return get_language(code).flores


def iso1(code: str | Language) -> str:
    """Short code of a language: ISO 639-1 (``iso1("swh_Latn") == "sw"``), or ISO 639-3
    for the languages without one (``"bjn"``, ``"szl"``)."""
    return get_language(code).iso1


def iso3(code: str | Language) -> str:
    """ISO 639-3 code as LASER's Tatoeba files use it: ``iso3("zh") == "cmn"``."""
    return get_language(code).iso3


def resource_level(code: str | Language) -> str:
    """NLLB resource level of a language, ``"high"`` or ``"low"`` (see module docstring).
    Raises ``ValueError`` for a language whose level the registry has not transcribed."""
    lang = get_language(code)
    if lang.resource is None:
        raise ValueError(f"the NLLB resource level of {lang.name} ({lang.flores}) is not in "
                         "the registry: give the low-resource (or head) languages explicitly")
    return lang.resource


def low_resource(codes: Iterable[str]) -> list[str]:
    """The codes among ``codes`` (spelled as given, order kept) that NLLB calls low-resource."""
    return [code for code in codes if resource_level(code) == "low"]


def high_resource(codes: Iterable[str]) -> list[str]:
    """The codes among ``codes`` (spelled as given, order kept) that NLLB calls high-resource."""
    return [code for code in codes if resource_level(code) == "high"]
