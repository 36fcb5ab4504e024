"""Registry of multiple-choice tasks and k-shot item construction.

Registered: ``xnli`` (:mod:`xlnb.evaluate.xnli`) and ``xcopa`` (:mod:`xlnb.evaluate.xcopa`).
More tasks register a :class:`~xlnb.evaluate.spec.TaskSpec` with :func:`register_task`.

Few-shot contexts follow lm-evaluation-harness: k solved demonstrations
(``context + delimiter + gold option``) joined by a blank line, then the item's context.
Demonstrations come from the task's ``fewshot_split`` (default: validation; lm-eval draws
XNLI's from train, which is too large to be the default here). They are drawn per item with
``numpy.random.default_rng([seed, item index])``, so the demonstrations of an item do not
depend on ``n``; a demonstration is never the item itself (same position when the pool is
the evaluated split, or the same text and options otherwise).
"""

from __future__ import annotations

import numpy as np

from xlnb.evaluate.multiple_choice import MCItem, evaluate_items
from xlnb.evaluate.spec import TaskSpec, check_n
from xlnb.evaluate.xcopa import XCOPA
from xlnb.evaluate.xnli import XNLI

TASKS: dict[str, TaskSpec] = {}


def register_task(spec: TaskSpec) -> TaskSpec:
    """Add ``spec`` to the registry under ``spec.name`` (replacing one of that name)."""
    TASKS[spec.name] = spec
    return spec


register_task(XNLI)
register_task(XCOPA)


def get_task(name: str | TaskSpec) -> TaskSpec:
    """The registered task ``name``; LookupError listing known tasks otherwise."""
    if isinstance(name, TaskSpec):
        return name
    try:
        return TASKS[name]
    except (KeyError, TypeError):
        known = ", ".join(sorted(TASKS))
        raise LookupError(f"unknown task {name!r}; registered: {known}") from None


def task_languages(name: str) -> tuple[str, ...]:
    """Languages the task's prompt template covers."""
    return get_task(name).languages


def load_docs(task: str, lang: str, *, split: str | None = None, path=None,
              n: int | None = None) -> list[dict]:
    """The first ``n`` (default all) documents of ``task`` in ``lang``, in file order.

    path: a local directory in the task's original layout; ``None`` reads the hub with
    ``datasets.load_dataset``.
    """
    spec = get_task(task)
    spec.check_language(lang)
    split = spec.resolve_split(split)
    n = check_n(n)
    docs = []
    for doc in spec.read(lang, split, path):
        docs.append(doc)
        if n is not None and len(docs) == n:
            break
    if not docs:
        raise ValueError(f"task {spec.name!r} {lang} {split}: no documents read")
    return docs


def _doc_key(spec: TaskSpec, doc: dict, lang: str) -> tuple:
    return (spec.doc_to_text(doc, lang), tuple(spec.doc_to_choice(doc, lang)))


def sample_demos(spec: TaskSpec, lang: str, doc: dict, index: int, pool: list[dict], k: int,
                 *, seed: int, same_split: bool) -> list[dict]:
    """``k`` demonstrations for item ``index`` from ``pool``, never the item itself."""
    key = _doc_key(spec, doc, lang)
    demos = []
    for j in np.random.default_rng([seed, index]).permutation(len(pool)):
        if (same_split and j == index) or _doc_key(spec, pool[j], lang) == key:
            continue
        demos.append(pool[j])
        if len(demos) == k:
            return demos
    raise ValueError(f"only {len(demos)} demonstrations available for a {k}-shot item "
                     f"of {spec.name!r} {lang}")


def load_items(task: str, lang: str, *, split: str | None = None, path=None, n: int | None = None,
               k_shot: int = 0, seed: int = 0, fewshot_split: str | None = None) -> list[MCItem]:
    """Scored items of ``task`` in ``lang`` with ``k_shot`` demonstrations each."""
    spec = get_task(task)
    if isinstance(k_shot, bool) or not isinstance(k_shot, int) or k_shot < 0:
        raise ValueError(f"k_shot must be a non-negative integer, got {k_shot!r}")
    split = spec.resolve_split(split)
    docs = load_docs(spec, lang, split=split, path=path, n=n)
    if k_shot == 0:
        return [spec.to_item(doc, lang) for doc in docs]
    pool_split = spec.resolve_split(fewshot_split or spec.fewshot_split)
    same = pool_split == split
    pool = load_docs(spec, lang, split=pool_split, path=path) if not same or n is not None else docs
    return [spec.to_item(doc, lang, sample_demos(spec, lang, doc, i, pool, k_shot,
                                                 seed=seed, same_split=same))
            for i, doc in enumerate(docs)]


def evaluate_task(model, tokenizer, task: str, lang: str, *, k_shot: int = 0, n: int | None = None,
                  path=None, seed: int = 0, split: str | None = None,
                  fewshot_split: str | None = None, batch_size: int = 16,
                  add_bos: bool | None = None, progress: bool = True) -> dict:
    """Evaluate a registered task in one language (log-likelihood scoring of
    :mod:`xlnb.evaluate.multiple_choice`).

    Returns ``{task, language, split, k_shot, seed, n, acc, acc_stderr, acc_norm,
    acc_norm_stderr, items}`` where ``items`` is the per-item DataFrame of
    :func:`~xlnb.evaluate.multiple_choice.score_frame`, so callers can bootstrap confidence
    intervals.
    """
    spec = get_task(task)
    split = spec.resolve_split(split)
    items = load_items(task, lang, split=split, path=path, n=n, k_shot=k_shot, seed=seed,
                       fewshot_split=fewshot_split)
    result = evaluate_items(model, tokenizer, items, batch_size=batch_size, add_bos=add_bos,
                            progress=progress, desc=f"{task}_{lang} {k_shot}-shot")
    return dict(task=spec.name, language=lang, split=split, k_shot=k_shot, seed=seed, **result)
