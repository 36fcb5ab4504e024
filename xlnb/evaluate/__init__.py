"""Downstream per-language scores to correlate with alignment metrics.

- :mod:`~xlnb.evaluate.multiple_choice`: lm-evaluation-harness style log-likelihood scoring
  of multiple-choice items (``acc``, ``acc_norm``, per-item correctness).
- :mod:`~xlnb.evaluate.spec`: what a task is (:class:`TaskSpec`); readers in ``xnli`` and
  ``xcopa``.
- :mod:`~xlnb.evaluate.tasks`: task registry, k-shot items and ``evaluate_task``.
- :mod:`~xlnb.evaluate.lm_eval_results`: results of external lm-eval runs as a table.

Imports run one way: tasks -> xnli / xcopa -> spec -> multiple_choice.
"""

from xlnb.evaluate.lm_eval_results import read_lm_eval_results, task_language
from xlnb.evaluate.multiple_choice import ItemScore, MCItem, encode_pair, evaluate_items, score_items
from xlnb.evaluate.spec import TaskSpec
from xlnb.evaluate.tasks import (
    TASKS, evaluate_task, get_task, load_docs, load_items, register_task,
)

__all__ = [
    "ItemScore", "MCItem", "TASKS", "TaskSpec", "encode_pair", "evaluate_items", "evaluate_task",
    "get_task", "load_docs", "load_items", "read_lm_eval_results", "register_task",
    "score_items", "task_language",
]
