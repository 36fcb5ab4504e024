"""Evaluate a model on a generative task (MidAlign §4.1, App. D.2): the task's prompt through
the chat template, greedy decoding with the task's fixed budget of new tokens, the task's
metric."""

from __future__ import annotations

from xlnb.tasks.base import Example, Task
from xlnb.tasks.chat import prompt_text
from xlnb.tasks.generations import cached_generate


def evaluate_task(model, tokenizer, task: Task, examples: list[Example], *,
                  batch_size: int = 16, zero_shot: bool = False, use_cache: bool = True
                  ) -> tuple[list[str], dict[str, float]]:
    """``(outputs, scores)``: one generated answer per example (input order) and
    ``task.score(outputs, examples)``.

    model: a CausalLM or a ``PeftModel`` (a fine-tuned adapter applies).
    zero_shot: use the task's zero-shot prompt (MidAlign App. D.2 gives the base model a
        longer instruction, e.g. the list of slot types) instead of the fine-tuning one.
    Decoding is greedy with ``task.max_new_tokens`` new tokens at most, stopping at EOS or
    the end-of-turn marker (:func:`xlnb.generate.generate`), or once the task's
    ``stop_when`` test (an optional attribute, e.g. a complete JSON answer) passes.
    use_cache: read the outputs from the generation cache when this model, tokenizer,
        prompts and settings were decoded before (:mod:`xlnb.tasks.generations`); the
        score is always computed afresh.
    """
    examples = list(examples)
    if not examples:
        raise ValueError(f"no examples to evaluate {getattr(task, 'name', task)!r} on")
    prompts = [prompt_text(tokenizer, task.messages(ex, zero_shot=zero_shot)) for ex in examples]
    outputs = cached_generate(model, tokenizer, prompts, max_new_tokens=task.max_new_tokens,
                              batch_size=batch_size, use_cache=use_cache,
                              stop_when=getattr(task, "stop_when", None))
    return outputs, task.score(outputs, examples)


__all__ = ["evaluate_task"]
