"""What a multiple-choice task is, as data: readers, prompt template, splits.

A task, like an lm-evaluation-harness task config, is a reader of documents (dicts with an
integer ``label``) plus ``doc_to_text`` / ``doc_to_choice`` templates that depend on the
language. :mod:`xlnb.evaluate.tasks` holds the registry and builds k-shot items.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

from xlnb.evaluate.multiple_choice import MCItem


@dataclass(frozen=True)
class TaskSpec:
    """A multiple-choice task.

    read(lang, split, path) -> iterable of docs (``path=None`` reads the hub).
    doc_to_text(doc, lang) -> context; doc_to_choice(doc, lang) -> option strings.
    splits: canonical split names; aliases map other names (``"dev"``) onto them.
    fewshot_split: default split demonstrations are drawn from.
    delimiter / fewshot_delimiter: lm-eval's ``target_delimiter`` and ``fewshot_delimiter``.
    """

    name: str
    languages: tuple[str, ...]
    read: Callable[[str, str, object], Iterable[dict]]
    doc_to_text: Callable[[dict, str], str]
    doc_to_choice: Callable[[dict, str], list[str]]
    splits: tuple[str, ...]
    default_split: str
    fewshot_split: str
    aliases: tuple[tuple[str, str], ...] = ()
    delimiter: str = " "
    fewshot_delimiter: str = "\n\n"

    def check_language(self, lang: str) -> str:
        if lang not in self.languages:
            raise LookupError(f"task {self.name!r} has no language {lang!r}; "
                              f"known: {', '.join(self.languages)}")
        return lang

    def resolve_split(self, split: str | None) -> str:
        """Canonical split name for ``split`` (``None`` -> the default split)."""
        if split is None:
            return self.default_split
        split = dict(self.aliases).get(split, split)
        if split not in self.splits:
            raise ValueError(f"task {self.name!r} has no split {split!r}; "
                             f"known: {', '.join(self.splits)}")
        return split

    def demo_text(self, doc: dict, lang: str) -> str:
        """A solved example: context, delimiter, gold option (lm-eval's few-shot format)."""
        gold = self.doc_to_choice(doc, lang)[doc["label"]]
        return self.doc_to_text(doc, lang) + self.delimiter + gold

    def to_item(self, doc: dict, lang: str, demos: Iterable[dict] = ()) -> MCItem:
        """The scored item: demonstrations joined by ``fewshot_delimiter``, then the doc."""
        parts = [self.demo_text(d, lang) for d in demos] + [self.doc_to_text(doc, lang)]
        return MCItem(self.fewshot_delimiter.join(parts), self.doc_to_choice(doc, lang),
                      doc["label"], self.delimiter)


def check_n(n) -> int | None:
    """``n`` must be ``None`` or a positive integer."""
    if n is None:
        return None
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive integer or None, got {n!r}")
    return n


def local_file(path, *candidates: str) -> Path:
    """The first existing ``path / candidate``; FileNotFoundError naming all tried."""
    root = Path(path).expanduser()
    if not root.is_dir():
        raise FileNotFoundError(f"data directory {root} does not exist")
    for name in candidates:
        if (root / name).is_file():
            return root / name
    tried = ", ".join(str(root / c) for c in candidates)
    raise FileNotFoundError(f"no data file found; tried {tried}")


def hub_rows(dataset_id: str, config: str | None, split: str) -> Iterator[dict]:
    """Rows of a hub dataset via ``datasets.load_dataset``; a clear error when unreachable."""
    import datasets

    try:
        ds = datasets.load_dataset(dataset_id, config, split=split)
    except Exception as err:  # offline, missing config, removed dataset: all surface here
        raise FileNotFoundError(
            f"cannot load {dataset_id!r} (config {config!r}, split {split!r}) from the Hugging "
            f"Face hub: {err}. Pass path= to a local copy instead.") from err
    for row in ds:
        yield dict(row)


def check_label(label, n_options: int, where: str) -> int:
    """An integer label in ``range(n_options)``, else ValueError naming ``where``."""
    if isinstance(label, bool) or not isinstance(label, int) or not 0 <= label < n_options:
        raise ValueError(f"{where}: label {label!r} is not an integer in 0..{n_options - 1}")
    return label
