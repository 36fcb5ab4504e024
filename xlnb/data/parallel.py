"""Line-aligned parallel sentences from FLORES-200, LASER's Tatoeba test sets and the micro set.

``load_parallel(source, langs)`` returns ``{lang: [sentence, ...]}`` keyed by exactly the
codes the caller gave (ISO 639-1 ``"de"``, FLORES-200 ``"deu_Latn"``, or any code
:func:`xlnb.data.languages.get_language` accepts), sentence ``i`` of every language being
a translation of sentence ``i`` of every other. Sources are registered in :data:`SOURCES`
(name -> loader), in the manner of lm-evaluation-harness's task registry.

Sources
-------
``flores200``
    FLORES-200 (NLLB Team, 2024): 997 ``dev`` / 1012 ``devtest`` sentences, multi-way
    parallel. With ``path``: a local copy in the original layout, ``{flores}.{split}``
    directly in ``path`` or in ``path/{split}/``; FLORES+ release names
    ``{split}.{flores}`` are accepted too. Without ``path``: the hub dataset
    ``openlanguagedata/flores_plus`` (gated: accept its terms and log in first), loaded as
    ``load_dataset("openlanguagedata/flores_plus", "<flores code>", split="dev"|"devtest")``,
    one config per language, columns ``id`` and ``text`` (checked against the dataset
    card's loading example and public loaders). FLORES+ renamed Chinese ``zho_Hans`` to
    ``cmn_Hans``; the loader asks for the new name.
``tatoeba``
    LASER's Tatoeba test sets (Artetxe & Schwenk, 2019): up to 1000 sentences per
    language, each paired with English, the English sides differing per language. So
    :func:`load_parallel` takes one language and English (``["de", "en"]``);
    :func:`load_bitexts` takes several, each with its own English side. With ``path``: LASER's
    layout ``tatoeba.{xxx}-eng.{xxx}`` / ``tatoeba.{xxx}-eng.eng`` (ISO 639-3 names as in
    :attr:`Language.iso3`). Without: the hub dataset ``mteb/tatoeba-bitext-mining``, config
    ``"{xxx}-eng"``, split ``test``, columns ``sentence1`` (the language) and
    ``sentence2`` (English). ``split`` is ignored: there is one test split.
``micro``
    120 short everyday sentences written for this project, multi-way parallel in the
    languages of :func:`micro_languages`, shipped as ``xlnb/data/micro/{iso1}.txt``. The
    offline default of the ``demo`` and ``smoke`` profiles. ``split`` is ignored;
    ``path`` replaces the folder.

Several languages against a pivot
---------------------------------
``load_bitexts(source, langs, pivot="en")`` returns ``{lang: {pivot: [...], lang: [...]}}``
for every language other than the pivot: the same pivot sentences for every language with
a multi-way parallel source (FLORES-200, micro), the language's own English side with
Tatoeba (whose pivot can only be English). Tables that score each language against the
pivot (NeuronXA Tables 1 and 11) read this form.

Errors: an unknown source, empty or duplicate ``langs``, ``n <= 0``, ``n`` above the
sentences available, mismatched line counts and blank sentences raise ``ValueError``;
missing folders and files raise ``FileNotFoundError``. Messages name the offending file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

from xlnb.data.languages import get_language

MICRO_DIR = Path(__file__).resolve().parent / "micro"
FLORES_HUB_ID = "openlanguagedata/flores_plus"
TATOEBA_HUB_ID = "mteb/tatoeba-bitext-mining"
FLORES_SPLITS = ("dev", "devtest")
# FLORES-200 code -> FLORES+ config name where FLORES+ renamed the language.
FLORES_PLUS_NAMES = {"zho_Hans": "cmn_Hans", "zho_Hant": "cmn_Hant"}

# Each loader returns {lang: (origin, sentences)}; origin names the file or hub config the
# sentences came from, for error messages.
Loaded = dict[str, tuple[str, list[str]]]


def read_lines(path: Path) -> list[str]:
    """Sentences of a one-sentence-per-line UTF-8 file. Splits on ``\\n`` only (FLORES
    sentences may contain other Unicode line separators); a blank line is an error."""
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    lines = [line.rstrip("\r") for line in lines]
    _check_no_blank(lines, str(path))
    return lines


def _check_no_blank(sentences: Sequence[str], origin: str) -> None:
    for i, sentence in enumerate(sentences):
        if not sentence.strip():
            raise ValueError(f"{origin}: sentence {i + 1} is empty")
    if not sentences:
        raise ValueError(f"{origin}: no sentences")


def _require_dir(path: str | Path) -> Path:
    path = Path(path)
    if not path.is_dir():
        raise FileNotFoundError(f"data directory {path} does not exist")
    return path


# -- flores200 -------------------------------------------------------------------------------


def _load_flores200(langs: Sequence[str], split: str, path: str | Path | None) -> Loaded:
    if split not in FLORES_SPLITS:
        raise ValueError(f"flores200 split must be one of {FLORES_SPLITS}, got {split!r}")
    if path is None:
        return _flores200_hub(langs, split)
    root = _require_dir(path)
    out: Loaded = {}
    for lang in langs:
        code = get_language(lang).flores
        names = (f"{code}.{split}", f"{split}.{code}")
        candidates = [folder / name for folder in (root / split, root) for name in names]
        found = next((c for c in candidates if c.is_file()), None)
        if found is None:
            raise FileNotFoundError(
                f"no FLORES-200 {split} file for {lang!r} under {root}: expected "
                f"{candidates[0]} or {candidates[2]}")
        out[lang] = (str(found), read_lines(found))
    return out


def _flores200_hub(langs: Sequence[str], split: str) -> Loaded:
    import datasets

    out: Loaded = {}
    for lang in langs:
        code = get_language(lang).flores
        config = FLORES_PLUS_NAMES.get(code, code)
        rows = list(datasets.load_dataset(FLORES_HUB_ID, config, split=split))
        if rows and all("id" in row for row in rows):
            rows.sort(key=lambda row: row["id"])
        origin = f"{FLORES_HUB_ID} config {config!r} split {split!r}"
        sentences = [row["text"] for row in rows]
        _check_no_blank(sentences, origin)
        out[lang] = (origin, sentences)
    return out


# -- tatoeba ---------------------------------------------------------------------------------


def _tatoeba_pair(langs: Sequence[str]) -> tuple[str, str]:
    """(the non-English code, the English code) as the caller spelled them."""
    english = [lang for lang in langs if get_language(lang).iso1 == "en"]
    others = [lang for lang in langs if get_language(lang).iso1 != "en"]
    if len(english) != 1 or len(others) != 1:
        raise ValueError(
            "tatoeba pairs each language with English only, and the English sentences "
            "differ per language: pass one language and English, e.g. ['de', 'en'], or "
            f"load several with load_bitexts('tatoeba', langs) (got {list(langs)})")
    return others[0], english[0]


def _load_tatoeba(langs: Sequence[str], split: str, path: str | Path | None) -> Loaded:
    other, english = _tatoeba_pair(langs)
    xxx = get_language(other).iso3
    if path is None:
        return _tatoeba_hub(other, english, xxx)
    root = _require_dir(path)
    out: Loaded = {}
    for lang, suffix in ((other, xxx), (english, "eng")):
        file = root / f"tatoeba.{xxx}-eng.{suffix}"
        if not file.is_file():
            raise FileNotFoundError(f"no Tatoeba file for {lang!r}: {file} does not exist")
        out[lang] = (str(file), read_lines(file))
    return out


def _tatoeba_hub(other: str, english: str, xxx: str) -> Loaded:
    import datasets

    config = f"{xxx}-eng"
    rows = list(datasets.load_dataset(TATOEBA_HUB_ID, config, split="test"))
    origin = f"{TATOEBA_HUB_ID} config {config!r} split 'test'"
    out: Loaded = {}
    for lang, column in ((other, "sentence1"), (english, "sentence2")):
        sentences = [row[column].rstrip("\n") for row in rows]
        _check_no_blank(sentences, f"{origin} column {column!r}")
        out[lang] = (f"{origin} column {column!r}", sentences)
    return out


# -- micro -----------------------------------------------------------------------------------


def micro_languages(path: str | Path | None = None) -> list[str]:
    """ISO 639-1 codes of the micro set's languages (its ``{iso1}.txt`` files), sorted."""
    folder = _require_dir(MICRO_DIR if path is None else path)
    return sorted(file.stem for file in folder.glob("*.txt"))


def _load_micro(langs: Sequence[str], split: str, path: str | Path | None) -> Loaded:
    folder = _require_dir(MICRO_DIR if path is None else path)
    out: Loaded = {}
    for lang in langs:
        file = folder / f"{get_language(lang).iso1}.txt"
        if not file.is_file():
            have = ", ".join(sorted(f.stem for f in folder.glob("*.txt"))) or "none"
            raise FileNotFoundError(
                f"no micro-set file for {lang!r}: {file} does not exist (available: {have})")
        out[lang] = (str(file), read_lines(file))
    return out


# -- registry and entry point ----------------------------------------------------------------

Loader = Callable[[Sequence[str], str, "str | Path | None"], Loaded]
SOURCES: dict[str, Loader] = {
    "flores200": _load_flores200,
    "tatoeba": _load_tatoeba,
    "micro": _load_micro,
}


def load_parallel(source: str, langs: Sequence[str], *, split: str = "devtest",
                  n: int | None = None, path: str | Path | None = None) -> dict[str, list[str]]:
    """Line-aligned sentences ``{lang: [s_1, ..., s_n]}`` from ``source`` (see module
    docstring), keyed by the codes in ``langs`` as given; ``n`` keeps the first ``n``.
    ``path`` reads a local copy instead of the hub (flores200, tatoeba) or replaces the
    shipped folder (micro)."""
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}; sources: {', '.join(SOURCES)}")
    if isinstance(langs, str):
        raise ValueError(f"langs must be a list of codes, not the string {langs!r}")
    langs = list(langs)
    if not langs:
        raise ValueError("langs is empty: give at least one language code")
    seen: dict[str, str] = {}
    for lang in langs:
        flores = get_language(lang).flores
        if flores in seen:
            raise ValueError(f"duplicate language in langs: {seen[flores]!r} and {lang!r} "
                             f"are both {flores}")
        seen[flores] = lang
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n <= 0):
        raise ValueError(f"n must be a positive integer or None, got {n!r}")

    loaded = SOURCES[source](langs, split, path)

    first_origin, first_lines = loaded[langs[0]]
    for lang in langs[1:]:
        origin, lines = loaded[lang]
        if len(lines) != len(first_lines):
            raise ValueError(
                f"{origin} has {len(lines)} sentences but {first_origin} has "
                f"{len(first_lines)}: the files are not line-aligned")
    available = len(first_lines)
    if n is not None and n > available:
        raise ValueError(f"n={n} but {source} has only {available} sentences for {langs}")
    return {lang: loaded[lang][1][:n] for lang in langs}


def load_bitexts(source: str, langs: Sequence[str], *, pivot: str = "en",
                 split: str = "devtest", n: int | None = None,
                 path: str | Path | None = None) -> dict[str, dict[str, list[str]]]:
    """Every language of ``langs`` other than ``pivot`` with its pivot side:
    ``{lang: {pivot: [s_1..s_n], lang: [t_1..t_n]}}``, t_i translating s_i (see the module
    docstring). ``langs`` includes the pivot; other arguments as in :func:`load_parallel`.
    With Tatoeba each language is loaded with its own English side; ``n`` must then not
    exceed any language's size, so every language keeps the same number of sentences.
    """
    if isinstance(langs, str):
        raise ValueError(f"langs must be a list of codes, not the string {langs!r}")
    langs = list(langs)
    if pivot not in langs:
        raise ValueError(f"pivot {pivot!r} is not among the languages {langs}")
    others = [lang for lang in langs if lang != pivot]
    if not others:
        raise ValueError(f"langs {langs} has no language besides the pivot {pivot!r}")
    if source != "tatoeba":
        texts = load_parallel(source, langs, split=split, n=n, path=path)
        return {lang: {pivot: texts[pivot], lang: texts[lang]} for lang in others}
    if get_language(pivot).iso1 != "en":
        raise ValueError(f"tatoeba pairs every language with English; pivot {pivot!r} "
                         "cannot be used with it")
    out = {lang: load_parallel(source, [lang, pivot], split=split, n=n, path=path)
           for lang in others}
    sizes = {lang: len(pair[lang]) for lang, pair in out.items()}
    if len(set(sizes.values())) != 1:
        raise ValueError(f"tatoeba sizes differ across languages {sizes}: give n (at most "
                         f"{min(sizes.values())}) so every language has as many sentences")
    return {lang: {pivot: pair[pivot], lang: pair[lang]} for lang, pair in out.items()}
