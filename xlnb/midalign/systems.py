"""The systems of MidAlign Table 2 — base (zero-shot), SFT, SFT + alignment — and their
variants (Table 3 placements, Table 4-6 ablations): data, training through the shared
adapter cache, and evaluation as one tidy table, so the notebooks stay a handful of calls.

A *system* is a name and a :class:`xlnb.train.TrainConfig` (``None`` for the base model):
``sft`` trains the task loss only, ``sft+align`` alternates task and alignment micro-batches
(MidAlign §3, Fig. 2), ``align`` trains the alignment loss only (Table 5).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Mapping, Sequence

import pandas as pd

from xlnb.tasks import get_task
from xlnb.tasks.base import Example
from xlnb.tasks.chat import encode_example
from xlnb.tasks.pairs import load_pairs, uniform_mix
from xlnb.train import TrainConfig

MODES = {"sft": "task", "sft+align": "joint", "align": "align"}


def data_dir(data_root: str | Path | None, name: str) -> str | None:
    """``<data_root>/<name>`` (a folder of original files), or None (the hub). A relative
    ``data_root`` is taken from the project root (``../shared/data`` sits beside it).

    Raises FileNotFoundError naming the folder when ``data_root`` is given but lacks it."""
    if data_root is None:
        return None
    path = resolve_root(data_root) / name
    if not path.is_dir():
        raise FileNotFoundError(f"{path} does not exist: data_root={str(data_root)!r} should hold "
                                f"the original files of {name}/ (or set data_root=None for the hub)")
    return str(path)


def resolve_root(data_root: str | Path) -> Path:
    """``data_root`` as an absolute path. A relative one is taken from the project root, or,
    when it does not exist there, from the folder of the xlnb checkout itself (so a copy of
    the project elsewhere still finds ``../shared/data`` beside the clone)."""
    from xlnb.paths import project_root

    path = Path(data_root).expanduser()
    if path.is_absolute():
        return path
    candidates = [project_root() / path, Path(__file__).resolve().parents[2] / path]
    return next((c.resolve() for c in candidates if c.exists()), candidates[0].resolve())


def task_examples(task_name: str, languages: Sequence[str], split: str, *, n: int | None,
                  data_root=None, seed: int = 0) -> list[Example]:
    """Examples of ``languages`` (MT: directions such as ``de-en``) concatenated in order;
    ``n`` per language. Local files under ``data_root``: ``massive/`` for slot filling, the
    folder holding ``alma/`` and ``wmt23/`` for MT."""
    if isinstance(languages, str) or not languages:
        raise ValueError(f"languages must be a non-empty list, got {languages!r}")
    task = get_task(task_name)
    path = (data_dir(data_root, "massive") if task_name == "slot_filling" else
            None if data_root is None else str(resolve_root(data_root)))
    out: list[Example] = []
    for lang in languages:
        out += task.load(lang, split, n=n, path=path, seed=seed)
    return out


def test_sets(task_name: str, languages: Sequence[str], *, n: int | None, data_root=None,
              seed: int = 0) -> dict[str, list[Example]]:
    """language (or direction) -> test examples, ``n`` each."""
    return {lang: task_examples(task_name, [lang], "test", n=n, data_root=data_root, seed=seed)
            for lang in languages}


def alignment_pairs(source: str, languages: Sequence[str], *, n: int | None, data_root=None,
                    seed: int = 0, exclude=None):
    """Pairs to English re-sampled to a uniform language distribution (MidAlign §4.3).
    source: ``tatoeba``, ``flores200``, ``iwslt2017`` or ``mt`` (ALMA); local folder
    ``<data_root>/<source>`` (``alma`` for ``mt``)."""
    folder = {"mt": "alma"}.get(source, source)
    pairs = load_pairs(source, languages, n=n, path=data_dir(data_root, folder), seed=seed,
                       exclude=exclude)
    return uniform_mix(pairs, seed=seed)


def encode(task_name: str, tokenizer, examples: Sequence[Example],
           max_length: int | None = None) -> list[dict]:
    """Training sequences (prompt labelled -100, answer + end-of-turn labelled)."""
    task = get_task(task_name)
    return [encode_example(tokenizer, task.messages(e), e.target, max_length=max_length)
            for e in examples]


def system_configs(base: TrainConfig, systems: Sequence[str],
                   layers: Mapping[str, object] | None = None) -> dict[str, TrainConfig]:
    """One config per system name: ``base`` (None), ``sft``, ``sft+align``, ``align``, or
    ``sft+align@<layer>`` / ``align@<layer>`` for a placement (Table 3: bottom, middle, top
    or a representation index)."""
    out: dict[str, TrainConfig | None] = {}
    for name in systems:
        kind, _, where = name.partition("@")
        if kind == "base":
            out[name] = None
            continue
        if kind not in MODES:
            raise ValueError(f"unknown system {name!r}: use base, {', '.join(MODES)} "
                             "(optionally @bottom / @middle / @top / @<index>)")
        layer = (int(where) if where.isdigit() else where) if where else base.layer
        out[name] = replace(base, mode=MODES[kind], layer=layer)
    return out


def system_adapter(model_name: str, config: TrainConfig | None, *, task_name: str | None,
                   train_data=None, dev_data=None, pairs=None, dev_pairs=None,
                   data_key: dict | None = None, load_kwargs: dict | None = None):
    """The cached adapter of one system (None for the base model): trained on first use,
    reused by every notebook that asks for the same model, config and data afterwards.

    train_data / dev_data: :func:`encode` output; pairs / dev_pairs: alignment pairs. Data a
    mode does not use is dropped (``align`` trains no task loss, ``task`` uses no pairs), so
    the key of an SFT adapter does not depend on the alignment data."""
    if config is None:
        return None
    from xlnb.train.adapters import trained_adapter

    uses_task, uses_pairs = config.mode in ("task", "joint"), config.mode in ("align", "joint")
    key = dict(data_key or {}, task=task_name if uses_task else "align")
    if not uses_pairs:
        key = {k: v for k, v in key.items() if not k.startswith("pair")}
    return trained_adapter(model_name, config,
                           task_data=train_data if uses_task else None,
                           dev_task_data=dev_data if uses_task else None,
                           pairs=pairs if uses_pairs else None,
                           dev_pairs=dev_pairs if uses_pairs else None,
                           data_key=key, load_kwargs=load_kwargs)


def system_model(model_name: str, adapter, **load_kwargs):
    """``(model, tokenizer)`` of a system: the base model, or the base model with its adapter."""
    from xlnb.models import load_model
    from xlnb.train.adapters import load_trained

    if adapter is None:
        return load_model(model_name, **load_kwargs)
    return load_trained(model_name, adapter, **load_kwargs)


def evaluate(model, tokenizer, task_name: str, tests: Mapping[str, Sequence[Example]], *,
             system: str, batch_size: int = 16, zero_shot: bool = False,
             max_new_tokens: int | None = None, stop_at_answer: bool = True
             ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Greedy outputs and scores of one system on every test set. stop_at_answer: end a row
    once the task's ``stop_when`` test passes (JSON NER: a complete answer); False decodes
    on to EOS or ``max_new_tokens`` (the same scores, longer outputs).

    Returns ``(scores, outputs)``: scores has one row per language and metric (columns
    ``task, system, language, metric, value, n``; F1 on a 0-1 scale, BLEU / chrF / COMET on
    0-100), outputs one row per example (id, language, output, target)."""
    from xlnb.tasks.evaluate import evaluate_task

    task = get_task(task_name)
    if max_new_tokens is not None:
        task.max_new_tokens = max_new_tokens
    if not stop_at_answer:
        task.stop_when = None
    rows, generated = [], []
    for lang, examples in tests.items():
        outputs, scores = evaluate_task(model, tokenizer, task, list(examples),
                                        batch_size=batch_size, zero_shot=zero_shot)
        rows += [dict(task=task_name, system=system, language=lang, metric=metric,
                      value=float(value), n=len(examples))
                 for metric, value in scores.items() if isinstance(value, (int, float))]
        generated += [dict(task=task_name, system=system, language=lang, id=e.id, output=o,
                           target=e.target) for e, o in zip(examples, outputs)]
    return pd.DataFrame(rows), pd.DataFrame(generated)


def retrieval(model, tokenizer, texts: Mapping[str, list[str]], *, system: str,
              layers: Sequence[int] | None = None, margin: str = "ratio", k: int = 4,
              **reps_kwargs) -> pd.DataFrame:
    """xSIM retrieval accuracy of a system for every ordered language pair and layer
    (MidAlign §2, §5.3): columns ``system, layer, src, tgt, accuracy``. texts: line-aligned
    held-out sentences per language (never the lines that trained the alignment)."""
    from xlnb.layerwise import language_reps
    from xlnb.metrics import all_pairs_hits, hits_table

    reps = language_reps(model, tokenizer, texts, layers=layers, **reps_kwargs)
    pairs, hits = all_pairs_hits(reps, margin=margin, k=k)
    return hits_table(pairs, hits, layers=layers).assign(system=system)
