"""Table 5's settings (MidAlign §6.2): which alignment data trains each row group, parsed
from a notebook's ``settings`` parameter, and the training config of a setting and seed.

A *setting* is a name, an alignment data source and its languages, the half of the table it
belongs to and optional overrides of the run's pair cap, duplicate masking and number of
updates (:func:`parse_settings`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from xlnb.tasks.pairs import SOURCES

PARTS = ("languages", "domain", "both")
_KEYS = ("source", "languages", "part", "n_pairs", "mask_duplicates", "max_steps")


@dataclass(frozen=True)
class Setting:
    """One row group of Table 5: alignment pairs to English from ``source`` for
    ``languages``; ``part`` is the table's upper (``languages``) or lower (``domain``) half,
    or ``both``: the paper's "only de-en" and "Tatoeba (different)" rows report the same
    71.9, so one de-en Tatoeba run can serve both halves. ``n_pairs``: pairs per language at
    most before the uniform mix (None: all). ``mask_duplicates``: this setting's
    :class:`~xlnb.train.TrainConfig` ``mask_duplicates`` (None: the run's); multi-way
    parallel FLORES repeats English sentences across languages, so in-batch duplicates are
    likelier there than in Tatoeba. ``max_steps``: this setting's number of updates (None:
    the run's); the paper trains every setting for the same passes over its own data ("the
    same setup"), so one language gets fewer updates than several."""

    name: str
    source: str
    languages: tuple[str, ...]
    part: str = "languages"
    n_pairs: int | None = None
    mask_duplicates: bool | None = None
    max_steps: int | None = None


def parse_settings(spec: Mapping[str, Mapping], n_pairs: int | None = None) -> list[Setting]:
    """Settings from a params mapping ``name -> {source, languages, part, n_pairs,
    mask_duplicates, max_steps}`` (part defaults to ``languages``, n_pairs to the
    ``n_pairs`` argument (None: every pair), mask_duplicates and max_steps to the run's
    config). Raises ValueError naming the setting and the bad value."""
    if not isinstance(spec, Mapping) or not spec:
        raise ValueError(f"settings must be a non-empty mapping name -> {{{', '.join(_KEYS)}}}"
                         f", got {spec!r}")
    out = []
    for name, entry in spec.items():
        if not isinstance(entry, Mapping):
            raise ValueError(f"setting {name!r} must be a mapping, got {entry!r}")
        unknown = set(entry) - set(_KEYS)
        if unknown:
            raise ValueError(f"setting {name!r} has unknown keys {sorted(unknown)}")
        source, part = entry.get("source"), entry.get("part", "languages")
        languages = entry.get("languages")
        if source not in SOURCES or source == "mt":
            raise ValueError(f"setting {name!r}: unknown source {source!r}; use tatoeba, "
                             "flores200 or iwslt2017")
        if part not in PARTS:
            raise ValueError(f"setting {name!r}: part must be one of {PARTS}, got {part!r}")
        if isinstance(languages, str) or not languages or "en" in languages:
            raise ValueError(f"setting {name!r}: languages must be a non-empty list of "
                             f"non-English codes, got {languages!r}")
        n = _positive_or_none(entry.get("n_pairs", n_pairs), name, "n_pairs", "every pair")
        steps = _positive_or_none(entry.get("max_steps"), name, "max_steps", "the run's")
        mask = entry.get("mask_duplicates")
        if mask is not None and not isinstance(mask, bool):
            raise ValueError(f"setting {name!r}: mask_duplicates must be true, false or None "
                             f"(the run's), got {mask!r}")
        out.append(Setting(str(name), source, tuple(languages), part, n, mask, steps))
    return out


def _positive_or_none(value, name: str, key: str, none: str):
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                              or value <= 0):
        raise ValueError(f"setting {name!r}: {key} must be a positive integer or None "
                         f"({none}), got {value!r}")
    return value


def setting_config(config, setting: Setting, seed: int):
    """The training config of one setting and seed: ``config`` with the seed and the
    setting's own ``mask_duplicates`` and ``max_steps`` where it names them."""
    own = {key: getattr(setting, key) for key in ("mask_duplicates", "max_steps")
           if getattr(setting, key) is not None}
    return dataclasses.replace(config, seed=seed, **own)


def settings_table(settings: Sequence[Setting], pairs: Mapping[str, Sequence]) -> pd.DataFrame:
    """What trained each setting: part, source, languages, ``max_pairs`` (the setting's
    ``n_pairs`` cap, None for every pair) and ``n_pairs`` (the pairs it actually drew)."""
    return pd.DataFrame([dict(dataclasses.asdict(s), languages="/".join(s.languages),
                              max_pairs=s.n_pairs, n_pairs=len(pairs[s.name]))
                         for s in settings])
