"""Data: the language registry and line-aligned parallel sentences.

``from xlnb.data import load_parallel, get_language`` covers most uses; see
:mod:`xlnb.data.languages` and :mod:`xlnb.data.parallel`.
"""

from xlnb.data.languages import (
    LANGUAGES,
    Language,
    flores_code,
    get_language,
    high_resource,
    iso1,
    iso3,
    languages,
    low_resource,
    resource_level,
)
from xlnb.data.parallel import SOURCES, load_bitexts, load_parallel, micro_languages, read_lines

__all__ = [
    "LANGUAGES",
    "Language",
    "SOURCES",
    "flores_code",
    "get_language",
    "high_resource",
    "iso1",
    "iso3",
    "languages",
    "load_bitexts",
    "load_parallel",
    "low_resource",
    "micro_languages",
    "read_lines",
    "resource_level",
]
