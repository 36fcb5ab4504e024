"""Parallel sentences to English for the alignment loss (MidAlign §3, §4.1, App. B, App. D.1).

``load_pairs(source, languages, ...)`` returns :class:`Pair` records from

``tatoeba``
    Each language with its own English side (MidAlign §4.1: slot filling aligns cy, ja, jv,
    sw, tl). With ``path``: LASER's layout ``tatoeba.{xxx}-eng.{xxx}`` / ``.eng``; without:
    through :func:`xlnb.data.load_parallel`. Pairs with an empty side or more than one
    sentence on a side are dropped (App. B; :func:`is_multi_sentence`). MidAlign used
    Helsinki-NLP/tatoeba v2021-07-22 (jv 264, sw 371, cy 823 pairs); LASER's test sets are
    smaller (jv 205, sw 390, cy 575 before filtering).
``flores200``
    FLORES-200 (multi-way parallel; Table 5's "oracle"). ``Pair.index`` is the line used, and
    ``exclude`` takes lines that must not be used (see :func:`split_flores_lines`).
``iwslt2017``
    TED talks (Table 5's "very distant" domain). With ``path``: the WIT3 test archives
    (:mod:`xlnb.tasks.iwslt`), ``split`` ``tst2017`` (default) or ``tst2016``; without: the hub
    ``IWSLT/iwslt2017``, config ``"iwslt2017-{xx}-en"``, ``split`` train (default) /
    validation / test.
``mt``
    The MT task's own training pairs (ALMA; App. B: "the training sentences are inherently
    parallel"), ``split`` train (default) or dev, ``path`` as for :class:`xlnb.tasks.mt.MT`.

``n`` keeps at most ``n`` pairs per language, drawn with ``seed``; languages are ISO 639-1
codes (any code :func:`xlnb.data.languages.get_language` accepts) and never English.
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from xlnb.data import get_language, load_parallel
from xlnb.tasks.iwslt import wit3_pairs

IWSLT_HUB_ID = "IWSLT/iwslt2017"
SOURCES = ("tatoeba", "flores200", "iwslt2017", "mt")


@dataclass(frozen=True)
class Pair:
    """A sentence in ``language`` (ISO 639-1) and its English translation. ``index``: the
    line / row / segment position in the source it came from (FLORES: the line index)."""

    language: str
    text: str
    english: str
    index: int | None = None


# A sentence end: ! ? (runs allowed) or a single full stop (not an ellipsis), optional closing
# quotes/brackets, whitespace, then the next character; or a run of CJK full-width ends
# followed by any character.
_BOUNDARY = re.compile(r"(?:[!?؟।]+|(?<!\.)\.(?!\.))[\"'»”’)\]]*\s+(\S)"
                       r"|[。！？]+(?![。！？])[」』”’）)]*(\S)")


def is_multi_sentence(text: str) -> bool:
    """Whether ``text`` holds more than one sentence (App. B's Tatoeba filter; the paper does
    not say how it split sentences). A heuristic: a sentence end followed by text that does
    not start in lower case ("6 a.m. every" is one sentence). An abbreviation before a
    capital ("Mr. Smith") counts as a boundary, so a few single sentences are dropped."""
    return any(not (m.group(1) or m.group(2)).islower()
               for m in _BOUNDARY.finditer(text.strip()))


def _take(items: list, n: int | None, seed, origin: str) -> list:
    """At most ``n`` of ``items`` drawn without replacement with ``seed``, in source order."""
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n <= 0):
        raise ValueError(f"n must be a positive integer or None, got {n!r} ({origin})")
    if n is None or n >= len(items):
        return list(items)
    return [items[i] for i in sorted(random.Random(seed).sample(range(len(items)), n))]


def _read_laser_tatoeba(root: Path, xxx: str) -> tuple[list[str], list[str]]:
    files = [root / f"tatoeba.{xxx}-eng.{xxx}", root / f"tatoeba.{xxx}-eng.eng"]
    sides = []
    for file in files:
        if not file.is_file():
            raise FileNotFoundError(f"no Tatoeba file: {file} does not exist")
        lines = file.read_text(encoding="utf-8").split("\n")
        sides.append([line.rstrip("\r") for line in (lines[:-1] if lines[-1] == "" else lines)])
    if len(sides[0]) != len(sides[1]):
        raise ValueError(f"{files[0]} has {len(sides[0])} lines but {files[1]} has "
                         f"{len(sides[1])}: the files are not line-aligned")
    return sides[0], sides[1]


def _tatoeba(lang: str, path, split) -> list[Pair]:
    if path is None:
        sides = load_parallel("tatoeba", [lang, "en"])
        texts, english = sides[lang], sides["en"]
    else:
        texts, english = _read_laser_tatoeba(Path(path), get_language(lang).iso3)
    return [Pair(lang, x.strip(), e.strip(), i) for i, (x, e) in enumerate(zip(texts, english))
            if x.strip() and e.strip() and not is_multi_sentence(x) and not is_multi_sentence(e)]


def _flores(lang: str, path, split) -> list[Pair]:
    sides = load_parallel("flores200", [lang, "en"], split=split or "devtest", path=path)
    return [Pair(lang, x, e, i) for i, (x, e) in enumerate(zip(sides[lang], sides["en"]))]


def _iwslt(lang: str, path, split) -> list[Pair]:
    if path is not None:
        return [Pair(lang, x, e, i)
                for i, (_, x, e) in enumerate(wit3_pairs(path, lang, split or "tst2017"))]
    import datasets

    rows = datasets.load_dataset(IWSLT_HUB_ID, f"iwslt2017-{lang}-en", split=split or "train")
    pairs = [(r["translation"][lang].strip(), r["translation"]["en"].strip()) for r in rows]
    return [Pair(lang, x, e, i) for i, (x, e) in enumerate(pairs) if x and e]


def _mt(lang: str, path, split) -> list[Pair]:
    from xlnb.tasks.mt import MT

    examples = MT(comet_model=None).load(f"{lang}-en", split or "train", path=path)
    return [Pair(lang, ex.source, ex.target, ex.meta["index"]) for ex in examples]


_READERS = {"tatoeba": _tatoeba, "flores200": _flores, "iwslt2017": _iwslt, "mt": _mt}


def load_pairs(source: str, languages: Sequence[str], *, n: int | None = None,
               path: str | Path | None = None, split: str | None = None, seed: int = 0,
               exclude: Iterable[int] | None = None) -> list[Pair]:
    """Pairs to English from ``source`` (module docstring), language by language.

    ``exclude``: source indices (``Pair.index``) never to return, e.g. the FLORES lines that
    measure retrieval in the same run. ``n``: at most ``n`` pairs per language, drawn with a
    seed derived from ``seed`` and the language, so adding a language leaves the others'
    draws unchanged (FLORES languages thus use different lines, which keeps one English
    sentence from being several rows' positive in a mixed contrastive batch)."""
    if source not in _READERS:
        raise ValueError(f"unknown pair source {source!r}; sources: {', '.join(SOURCES)}")
    if isinstance(languages, str) or not languages:
        raise ValueError(f"languages must be a non-empty list of codes, got {languages!r}")
    codes = [get_language(lang).iso1 for lang in languages]
    if "en" in codes or len(set(codes)) != len(codes):
        raise ValueError(f"languages must be distinct and not English (pairs are x-en): "
                         f"{list(languages)}")
    skip = set(exclude or ())
    out: list[Pair] = []
    for lang in codes:
        pairs = [p for p in _READERS[source](lang, path, split) if p.index not in skip]
        if not pairs:
            raise ValueError(f"{source}: no {lang}-en pairs left (after exclude/filtering)")
        out += _take(pairs, n, f"{seed}-{lang}", f"{source} {lang}")
    return out


def split_flores_lines(n_lines: int, n_train: int, seed: int = 0) -> tuple[list[int], list[int]]:
    """Disjoint sorted line indices ``(train, eval)`` of a multi-way parallel set of
    ``n_lines``: ``n_train`` random lines for alignment training, the rest for retrieval, so
    no FLORES line trains and measures in the same run (MidAlign §4.2 notes the overlap of
    its FLORES retrieval set with training data; Table 5's oracle trains on FLORES)."""
    if not 0 <= n_train <= n_lines:
        raise ValueError(f"n_train must be in [0, n_lines={n_lines}], got {n_train}")
    train = sorted(random.Random(seed).sample(range(n_lines), n_train))
    chosen = set(train)
    return train, [i for i in range(n_lines) if i not in chosen]


def uniform_mix(pairs: Sequence[Pair], seed: int = 0, n_per_language: int | None = None,
                strategy: str = "upsample") -> list[Pair]:
    """Re-sample each language to the same count and shuffle (MidAlign §4.3 / App. D.1:
    "re-sampled to an approximately uniform distribution"; the method is not stated).

    Target count: ``n_per_language``, else the largest language's count (``"upsample"``) or
    the smallest's (``"downsample"``). A language above the target is sampled without
    replacement; one below keeps every pair ``target // count`` times plus a random
    remainder without replacement, so copies differ by at most one."""
    if strategy not in ("upsample", "downsample"):
        raise ValueError(f"strategy must be 'upsample' or 'downsample', got {strategy!r}")
    groups: dict[str, list[Pair]] = defaultdict(list)
    for pair in pairs:
        groups[pair.language].append(pair)
    if not groups:
        raise ValueError("uniform_mix got no pairs")
    sizes = [len(g) for g in groups.values()]
    target = n_per_language or (max(sizes) if strategy == "upsample" else min(sizes))
    if isinstance(target, bool) or not isinstance(target, int) or target <= 0:
        raise ValueError(f"n_per_language must be a positive integer, got {n_per_language!r}")
    rng = random.Random(seed)
    mixed: list[Pair] = []
    for lang in sorted(groups):
        group = groups[lang]
        copies, rest = divmod(target, len(group))
        mixed += group * copies + rng.sample(group, rest)
    rng.shuffle(mixed)
    return mixed
