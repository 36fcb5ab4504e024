"""MidAlign Table 6 (§6.3, App. D.3): a task adapter merged with a separately trained
alignment-only adapter, swept over the task weight w, and evaluated like the Table 2 systems.

Every merge is made inside one peft model holding both adapters (:func:`xlnb.train.merge.
load_pair`), so a sweep loads the base model once. Two merge methods (:mod:`xlnb.train.merge`):
``average`` is the paper's parameter average of the LoRA matrices A and B, ``delta`` the exact
``w dW_task + (1-w) dW_align``. They differ because the average of A and B is not the average
of BA; :func:`gap_table` measures by how much, per module.

System names: ``sft`` (the task adapter alone), ``align`` (the alignment adapter alone),
``merge average w=0.9`` / ``merge delta w=0.9``; ``base`` is the model without adapters.
"""

from __future__ import annotations

import re
from typing import Mapping, Sequence

import pandas as pd

from xlnb.train.merge import ALIGN, TASK, delta_gap, merge_average, merge_deltas

METHODS = {"average": merge_average, "delta": merge_deltas}
_MODULE = re.compile(r"layers\.(\d+)\.(?:[a-z_]+)\.([a-z_]+)$")


def system_name(method: str, w: float) -> str:
    """``merge average w=0.9``: the row name of one merge in the tables."""
    _check_method(method)
    return f"merge {method} w={float(w):g}"


def apply_merge(peft_model, method: str, w: float) -> str:
    """Add and activate the ``method`` merge (``average`` or ``delta``) with task weight
    ``w``; returns the new adapter's name."""
    _check_method(method)
    return METHODS[method](peft_model, w)


def merged_variants(peft_model, weights: Sequence[float], methods: Sequence[str] = tuple(METHODS),
                    *, single: bool = True):
    """Yield ``(system, method, w)`` with that variant active in ``peft_model``.

    With ``single`` the two inputs come first: ``("sft", "task", 1.0)`` and
    ``("align", "align", 0.0)``; then every method at every weight (ascending w). The
    caller evaluates the model at each step (the active adapter is what runs)."""
    if isinstance(weights, (int, float)) or not len(weights):
        raise ValueError(f"weights must be a non-empty list of task weights, got {weights!r}")
    for method in methods:
        _check_method(method)
    if single:
        for system, adapter, w in (("sft", TASK, 1.0), ("align", ALIGN, 0.0)):
            peft_model.set_adapter(adapter)
            yield system, adapter, w
    for w in sorted(weights):
        for method in methods:
            apply_merge(peft_model, method, w)
            yield system_name(method, w), method, w


def run_sweep(peft_model, tokenizer, *, task_name: str, tests, texts=None,
              weights: Sequence[float], methods: Sequence[str] = tuple(METHODS),
              batch_size: int = 16, max_new_tokens: int | None = None,
              retrieval_kwargs: dict | None = None):
    """Evaluate every variant of :func:`merged_variants` like a Table 2 system: greedy
    outputs and task scores on ``tests`` (not for ``align``: the alignment adapter alone was
    never trained on the task) and, when ``texts`` are given, retrieval accuracy (also of
    ``base``, the model with its adapters disabled). Returns ``(scores, outputs,
    retrieval, variants)``: the frames of :func:`xlnb.midalign.systems.evaluate` /
    ``retrieval`` and system -> (method, w)."""
    from xlnb.midalign import systems as S

    scores, outputs, retrieval, variants = [], [], [], {}

    def probe(system):
        if texts is not None:
            retrieval.append(S.retrieval(peft_model, tokenizer, texts, system=system,
                                         batch_size=batch_size, **(retrieval_kwargs or {})))

    if texts is not None:
        with peft_model.disable_adapter():
            probe("base")
    for system, method, w in merged_variants(peft_model, weights, methods):
        variants[system] = (method, w)
        if system != "align":
            got, out = S.evaluate(peft_model, tokenizer, task_name, tests, system=system,
                                  batch_size=batch_size, max_new_tokens=max_new_tokens)
            scores.append(got)
            outputs.append(out)
        probe(system)
    frames = [pd.concat(x, ignore_index=True) if x else pd.DataFrame()
              for x in (scores, outputs, retrieval)]
    return (*frames, variants)


def module_parts(module: str) -> tuple[int, str]:
    """``model.layers.3.self_attn.q_proj`` -> ``(4, "q")``: the block numbered from 1 (as
    representation index i is the output of block i) and the projection's short name."""
    match = _MODULE.search(module)
    if match is None:
        raise ValueError(f"cannot read a block and projection from module name {module!r}")
    return int(match.group(1)) + 1, match.group(2).removesuffix("_proj")


def gap_table(peft_model, weights: Sequence[float]) -> pd.DataFrame:
    """Per module and weight, how far the paper's parameter average lands from the exact
    average of the weight updates: ``||dW_average - dW_delta||_F / ||dW_delta||_F``
    (:func:`xlnb.train.merge.delta_gap`). Adds both merges for each w (already added ones
    are replaced) and leaves the last one active. Columns ``w, module, block, proj, gap``."""
    rows = []
    for w in weights:
        average = merge_average(peft_model, w)
        delta = merge_deltas(peft_model, w)
        for module, gap in delta_gap(peft_model, average, delta).items():
            block, proj = module_parts(module)
            rows.append(dict(w=float(w), module=module, block=block, proj=proj, gap=gap))
    return pd.DataFrame(rows, columns=["w", "module", "block", "proj", "gap"])


def gap_summary(gaps: pd.DataFrame) -> pd.DataFrame:
    """Mean, min and max of the per-module gap for each w: columns ``w, mean, min, max,
    n_modules``."""
    agg = gaps.groupby("w")["gap"].agg(["mean", "min", "max", "count"])
    return agg.rename(columns={"count": "n_modules"}).reset_index()


def sweep_table(scores: pd.DataFrame, variants: Mapping[str, tuple[str, float]]) -> pd.DataFrame:
    """``scores`` (rows with a ``system`` column) with the method and task weight of each
    system as columns ``method`` and ``w`` (NaN for systems not in ``variants``, e.g. the
    jointly trained ``sft+align``)."""
    out = scores.copy()
    out["method"] = out.system.map(lambda s: variants.get(s, (None, None))[0])
    out["w"] = out.system.map(lambda s: variants.get(s, (None, float("nan")))[1]).astype(float)
    return out


def _check_method(method: str) -> None:
    if method not in METHODS:
        raise ValueError(f"unknown merge method {method!r}; use one of {', '.join(METHODS)}")


__all__ = ["METHODS", "apply_merge", "gap_summary", "gap_table", "merged_variants",
           "module_parts", "run_sweep", "sweep_table", "system_name"]
