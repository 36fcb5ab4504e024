"""Read lm-evaluation-harness results JSON into a long table for correlation analyses.

Input: the ``results_*.json`` that ``lm_eval --output_path`` writes. Its ``results`` maps a
task name to metrics: ``{"alias": ..., "acc,none": 0.41, "acc_stderr,none": 0.01, ...}``
in lm-eval >= 0.4 (``metric,filter`` keys), ``{"acc": 0.41, "acc_stderr": 0.01}`` in older
releases. Output columns: model, task, language, metric, value, stderr.

metric: the metric name; a filter other than ``none`` is kept after a comma
    (``exact_match,strict-match``). stderr: the matching ``*_stderr`` entry, NaN when absent
    or ``"N/A"``. Non-numeric entries and bookkeeping (alias, name, sample_len) are skipped.
model: the ``model`` argument, else the file's ``model_name``, else ``pretrained=`` in
    ``config.model_args``, else ``config.model``, else the file name.
language (:func:`task_language`), from the task name:
    1. ends in a FLORES-200 code ``xxx_Xxxx`` (``belebele_deu_Latn``) -> ``deu_Latn``;
    2. ends in ``_xx`` / ``_xxx``, two or three lower-case letters, optionally with a region
       (``xnli_de``, ``arc_de``, ``m_mmlu_de``, ``xcopa_et``, ``xstorycloze_zh``,
       ``pawsx_zh-cn``) -> that code;
    3. otherwise the raw suffix after the last underscore (``arc_challenge`` -> ``challenge``),
       or missing (``None``; NaN in the table) for a name without an underscore (a group
       such as ``xnli``). A three-letter word at the end (``mmlu_law``) is read as a code.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pandas as pd

COLUMNS = ["model", "task", "language", "metric", "value", "stderr"]
_FLORES = re.compile(r"_([a-z]{3}_[A-Z][a-z]{3})$")
# Bookkeeping entries lm-eval writes beside the metrics of a task.
NOT_METRICS = frozenset({"alias", "name", "sample_len", "samples", "sample_count"})
_ISO = re.compile(r"_([a-z]{2,3}(?:-[a-zA-Z]{2,4})?)$")


def task_language(task: str) -> str | None:
    """Language code in an lm-eval task name (rules in the module docstring)."""
    task = task.strip()
    for pattern in (_FLORES, _ISO):
        match = pattern.search(task)
        if match:
            return match.group(1)
    return task.rsplit("_", 1)[1] if "_" in task else None


def _number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _model_name(data: dict, source: str) -> str:
    if isinstance(data.get("model_name"), str) and data["model_name"]:
        return data["model_name"]
    config = data.get("config") or {}
    args = config.get("model_args")
    if isinstance(args, dict) and args.get("pretrained"):
        return str(args["pretrained"])
    if isinstance(args, str):
        for part in args.split(","):
            key, _, value = part.partition("=")
            if key.strip() == "pretrained" and value.strip():
                return value.strip()
    return str(config.get("model") or source)


def _task_rows(task: str, metrics: dict) -> list[dict]:
    """One row per metric of one task."""
    rows = []
    for key, raw in metrics.items():
        name, _, filt = key.partition(",")
        value = _number(raw)
        if value is None or name.endswith("_stderr") or name in NOT_METRICS:
            continue
        stderr_key = f"{name}_stderr,{filt}" if filt else f"{name}_stderr"
        stderr = _number(metrics.get(stderr_key))
        metric = name if filt in ("", "none") else f"{name},{filt}"
        rows.append(dict(task=task, language=task_language(task), metric=metric, value=value,
                         stderr=math.nan if stderr is None else stderr))
    return rows


def results_frame(data: dict, *, model: str | None = None, source: str = "results") -> pd.DataFrame:
    """The long table of one already-parsed results dict."""
    results = data.get("results") if isinstance(data, dict) else None
    if not isinstance(results, dict):
        raise ValueError(f"{source}: no 'results' object; "
                         "not an lm-evaluation-harness results file")
    name = model or _model_name(data, source)
    rows = []
    for task, metrics in results.items():
        if not isinstance(metrics, dict):
            raise ValueError(f"{source}: results[{task!r}] is not an object of metrics")
        rows += [dict(model=name, **row) for row in _task_rows(task, metrics)]
    return pd.DataFrame(rows, columns=COLUMNS)


def _expand(path_or_paths) -> list[Path]:
    paths = [path_or_paths] if isinstance(path_or_paths, (str, Path)) else list(path_or_paths)
    files = []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(p.rglob("results*.json"))
            if not found:
                raise FileNotFoundError(f"no results*.json under {p}")
            files += found
        elif p.is_file():
            files.append(p)
        else:
            raise FileNotFoundError(f"lm-eval results file {p} does not exist")
    return files


def read_lm_eval_results(path_or_paths, *, model: str | None = None) -> pd.DataFrame:
    """Long table (model, task, language, metric, value, stderr) of lm-eval results files.

    path_or_paths: a results JSON, a directory searched recursively for ``results*.json``
    (lm-eval's output layout), or a list of either. model: overrides the inferred name.
    """
    frames = []
    for file in _expand(path_or_paths):
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
        except json.JSONDecodeError as err:
            raise ValueError(f"{file}: not valid JSON ({err.msg} at line {err.lineno})") from None
        frames.append(results_frame(data, model=model, source=str(file)))
    if not frames:
        return pd.DataFrame(columns=COLUMNS)
    return pd.concat(frames, ignore_index=True)
