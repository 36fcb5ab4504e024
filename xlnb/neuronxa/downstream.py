"""Per-language downstream accuracy for NeuronXA's correlations (§4.3, Tables 3, 4, 8-10):
scored here with :func:`xlnb.evaluate.evaluate_task` (k-shot log-likelihood, with a
bootstrap interval over items) or read from lm-evaluation-harness results
(:func:`lm_eval_accuracy`; Belebele, m-ARC and m-MMLU in the paper)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from xlnb.data import get_language
from xlnb.metrics import bootstrap_ci

__all__ = ["DownstreamSource", "choose_downstream", "resolve_data_path",
           "downstream_accuracy", "lm_eval_accuracy"]


@dataclass(frozen=True)
class DownstreamSource:
    """Where accuracies come from: ``kind`` is ``lm_eval``, ``task`` or ``None`` (skip);
    ``path`` the resolved local path (None for the hub); ``message`` says which, for the
    notebook to print."""

    kind: str | None
    path: Path | None
    message: str


def choose_downstream(results_path=None, task=None, task_path=None) -> DownstreamSource:
    """lm-eval results when ``results_path`` is set, else ``task`` scored here (from
    ``task_path`` or, when that is None, the hub), else nothing. A path that is set but not
    found means skipping, with a message, so the alignment scores still get computed."""
    if results_path is not None:
        found = resolve_data_path(results_path)
        if found is None:
            return DownstreamSource(None, None, f"no lm-eval results at {results_path!r}: "
                                    "downstream accuracy skipped, alignment scores only")
        return DownstreamSource("lm_eval", found, f"downstream: lm-eval results {found}")
    if task is None:
        return DownstreamSource(None, None, "no downstream source set: alignment scores only")
    found = resolve_data_path(task_path)
    if task_path is not None and found is None:
        return DownstreamSource(None, None, f"no local {task} data at {task_path!r}: "
                                "downstream accuracy skipped, alignment scores only")
    where = found if found is not None else "the Hugging Face hub"
    return DownstreamSource("task", found, f"downstream: {task} from {where}")


def resolve_data_path(path, *, roots=None) -> Path | None:
    """Where a local data folder or file ``path`` is, or ``None`` when it is missing.

    An absolute path is taken as is. A relative one (the demo's ``../shared/data/xnli``)
    is tried against each of ``roots``, default: the project root
    (:func:`xlnb.paths.project_root`) and the checkout this package was installed from, so
    data sitting beside the repository is found wherever the notebook runs. ``None`` in,
    ``None`` out (callers read ``None`` as "use the hub" or "skip").
    """
    if path is None:
        return None
    if not isinstance(path, (str, Path)) or not str(path).strip():
        raise ValueError(f"path must be a non-empty string or None, got {path!r}")
    p = Path(path).expanduser()
    if p.is_absolute():
        return p if p.exists() else None
    if roots is None:
        from xlnb.paths import project_root
        roots = [project_root(), Path(__file__).resolve().parents[2]]
    for root in roots:
        candidate = (Path(root) / p).resolve()
        if candidate.exists():
            return candidate
    return None



def downstream_accuracy(model, tokenizer, task: str, langs, *, n_boot: int = 1000,
                        seed: int = 0, dtype=None, **task_kwargs) -> pd.DataFrame:
    """k-shot log-likelihood accuracy of ``task`` per language, with a bootstrap interval.

    task_kwargs go to :func:`xlnb.evaluate.evaluate_task` (k_shot, n, path, split, ...).
    dtype: cast the model (in place) before scoring, e.g. ``"bfloat16"``, which halves the
    time on CPUs with bf16 units (a vocabulary of 262k makes the output layer dominate);
    on CPUs without them (AVX2 only) it is several times slower and changes answers.
    The 95 % interval resamples items (:func:`xlnb.metrics.bootstrap_ci`). Returns columns
    ``lang, benchmark, value, ci_low, ci_high, n``.
    """
    from xlnb.evaluate import evaluate_task

    if dtype is not None:
        from xlnb.device import resolve_dtype

        model = model.to(resolve_dtype(dtype, next(model.parameters()).device))
    rows = []
    for lang in langs:
        result = evaluate_task(model, tokenizer, task, lang, seed=seed, **task_kwargs)
        acc, low, high = bootstrap_ci(result["items"]["correct"].to_numpy(), n_boot=n_boot,
                                      seed=seed)
        rows.append(dict(lang=lang, benchmark=task, value=acc, ci_low=low, ci_high=high,
                         n=result["n"]))
    return pd.DataFrame(rows, columns=["lang", "benchmark", "value", "ci_low", "ci_high", "n"])


def _score_csvs(path, metric: str) -> pd.DataFrame:
    """Tidy score files (``lang, benchmark, value[, model, metric, stderr]``) in the folder
    ``path`` (or ``path`` itself when it is a CSV), in lm-eval's long layout."""
    path = Path(path)
    files = [path] if path.suffix == ".csv" else sorted(path.glob("*.csv")) if path.is_dir() else []
    frames = []
    for file in files:
        df = pd.read_csv(file)
        missing = {"lang", "benchmark", "value"} - set(df.columns)
        if missing:
            raise ValueError(f"{file}: score files need columns lang, benchmark, value; "
                             f"missing {sorted(missing)}")
        frames.append(pd.DataFrame({
            "model": df["model"] if "model" in df else None, "task": df["benchmark"],
            "language": df["lang"], "metric": df["metric"] if "metric" in df else metric,
            "value": df["value"], "stderr": df["stderr"] if "stderr" in df else np.nan}))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["model", "task", "language", "metric", "value", "stderr"])


def _benchmark(task: str, language: str) -> str:
    """``belebele_deu_Latn`` -> ``belebele``, ``arc_de`` -> ``arc``, ``m_mmlu_de`` -> ``m_mmlu``."""
    return task[: -len(language) - 1] if task.endswith("_" + language) else task


def lm_eval_accuracy(path, langs, *, benchmarks=None, metric: str = "acc",
                     model: str | None = None) -> pd.DataFrame:
    """Per-language ``metric`` of lm-evaluation-harness results, keyed by the caller's codes.

    path: a results JSON or a folder of them (:func:`xlnb.evaluate.read_lm_eval_results`).
    langs: the alignment languages in any code :func:`xlnb.data.get_language` reads; a task
    counts when its language suffix (``belebele_deu_Latn``, ``arc_de``, ``m_mmlu_de``) is
    one of them. benchmarks: task names without the suffix to keep (default all). model:
    keep the results of this model only (lm-eval's ``pretrained=`` / ``model_name``), so one
    folder can hold the runs of several models.
    Returns ``lang, benchmark, value, ci_low, ci_high, n``; the interval is value +- 1.96
    stderr when lm-eval reports one.

    Scores lm-eval has no task for (BMLAMA-53, XNLI transfer after fine-tuning) can sit in
    the same folder as tidy ``*.csv`` files with columns ``lang, benchmark, value`` and
    optionally ``model`` (none: the scores of every model), ``metric`` (default
    ``metric``), ``stderr``.
    """
    from xlnb.evaluate import read_lm_eval_results

    wanted = {get_language(code).iso1: code for code in langs}
    table = pd.concat([read_lm_eval_results(path), _score_csvs(path, metric)],
                      ignore_index=True)
    table = table[(table.metric == metric) & table.language.notna()]
    if model is not None:  # a score file without a model column holds every model's scores
        table = table[(table.model == model) | table.model.isna()]
    rows = []
    for rec in table.itertuples():
        try:
            code = wanted.get(get_language(rec.language).iso1)
        except LookupError:
            continue
        bench = _benchmark(rec.task, rec.language)
        if code is None or (benchmarks is not None and bench not in benchmarks):
            continue
        half = 1.96 * rec.stderr if np.isfinite(rec.stderr) else np.nan
        rows.append(dict(lang=code, benchmark=bench, value=rec.value, ci_low=rec.value - half,
                         ci_high=rec.value + half, n=np.nan))
    if not rows:
        who = f" of model {model!r}" if model is not None else ""
        raise ValueError(f"{path}: no {metric!r} results{who} for the languages {list(langs)}")
    return pd.DataFrame(rows).drop_duplicates(["lang", "benchmark"], keep="last")
