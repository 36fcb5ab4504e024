"""Batched greedy decoding for evaluating generative tasks (MidAlign §4.1, App. D.2).

Greedy decoding with a fixed maximum of new tokens per task, as the paper evaluates slot
filling and translation. Prompts are grouped into length-sorted batches, left-padded so that
every prompt ends at the last position, and decoded by ``model.generate`` with the KV cache:
each new token costs one position's forward instead of the whole sequence's. The built-in
loop already does what evaluation needs (left-padding-aware position ids, per-row stopping,
any cache type the architecture wants -- Gemma 3 mixes sliding and full attention), so no
hand-written loop is needed.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from transformers import StoppingCriteria, StoppingCriteriaList

from xlnb.progress import progress
from xlnb.tasks.chat import encode_prompt, stop_token_ids


def generate(model, tokenizer, prompts: list[str], *, max_new_tokens: int,
             batch_size: int = 16, stop_ids=None,
             stop_when: Callable[[str], bool] | None = None) -> list[str]:
    """Greedy continuations of ``prompts``, in input order, without prompt or special tokens.

    model: a CausalLM or a peft ``PeftModel`` (adapters apply).
    prompts: rendered prompt text (e.g. :func:`xlnb.tasks.chat.prompt_text`), encoded by
        :func:`xlnb.tasks.chat.encode_prompt`: special tokens are added only when the text
        does not already start with the BOS text, so BOS appears exactly once.
    max_new_tokens: the fixed budget of new tokens (a task's ``max_new_tokens``).
    batch_size: prompts per batch; batches are made of prompts of similar token length,
        longest first (an out-of-memory error shows up in the first batch, not the last).
    stop_ids: token ids that end a continuation (excluded from the text); default
        :func:`xlnb.tasks.chat.stop_token_ids` (EOS and the end-of-turn markers).
    stop_when: a test on a row's continuation text (e.g. "holds a complete JSON answer",
        :func:`xlnb.tasks.json_ner.answer_complete`); the row ends at the first new token
        after which it is true, that token kept. Greedy decoding is deterministic, so the
        result is the shortest prefix of the unstopped continuation that passes the test.
    """
    if isinstance(prompts, str):
        raise TypeError("prompts must be a list of strings, got a single string")
    if not isinstance(max_new_tokens, int) or max_new_tokens < 1:
        raise ValueError(f"max_new_tokens must be a positive integer, got {max_new_tokens!r}")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    stops = sorted(set(stop_token_ids(tokenizer) if stop_ids is None else stop_ids))
    if not stops:
        raise ValueError("no stop token ids: the tokenizer has no EOS and none were given")
    bad = [p for p in prompts if not isinstance(p, str)]
    if bad:
        raise TypeError(f"each prompt must be a string, got {type(bad[0]).__name__}: {bad[0]!r}")
    encoded = [encode_prompt(tokenizer, p) for p in prompts]
    order = sorted(range(len(prompts)), key=lambda i: -len(encoded[i]))
    outputs: list[str | None] = [None] * len(prompts)
    bar = progress(total=len(prompts), desc="generate")
    try:
        for start in range(0, len(order), batch_size):
            rows = order[start:start + batch_size]
            new = _generate_batch(model, tokenizer, [encoded[i] for i in rows],
                                  max_new_tokens, stops, stop_when)
            for i, ids in zip(rows, new):
                outputs[i] = tokenizer.decode(ids, skip_special_tokens=True)
            bar.update(len(rows))
    finally:
        bar.close()
    return outputs


def _generate_batch(model, tokenizer, batch: list[list[int]], max_new_tokens: int,
                    stops: list[int], stop_when=None) -> list[list[int]]:
    """Left-pad one batch, decode greedily, return each row's new ids cut before its first stop.

    The padding is built here rather than by the tokenizer, so its ``padding_side`` (right for
    xlnb tokenizers) is never changed.
    """
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else stops[0]
    width = max(len(ids) for ids in batch)
    input_ids = torch.tensor([[pad] * (width - len(ids)) + ids for ids in batch])
    attention_mask = torch.tensor([[0] * (width - len(ids)) + [1] * len(ids) for ids in batch])
    device = next(model.parameters()).device
    criteria = None if stop_when is None else StoppingCriteriaList(
        [TextStop(tokenizer, width, stop_when)])
    with torch.inference_mode():
        out = model.generate(input_ids=input_ids.to(device),
                             attention_mask=attention_mask.to(device),
                             do_sample=False, num_beams=1, max_new_tokens=max_new_tokens,
                             eos_token_id=stops, pad_token_id=pad, use_cache=True,
                             stopping_criteria=criteria)
    new_ids = []
    for i, row in enumerate(out[:, width:].tolist()):
        cut = next((j for j, t in enumerate(row) if t in stops), len(row))
        if criteria is not None and i in criteria[0].ended:
            cut = min(cut, criteria[0].ended[i])
        new_ids.append(row[:cut])
    return new_ids


class TextStop(StoppingCriteria):
    """Ends each row of a batch once ``test(its continuation text)`` is true.

    transformers' criteria work on ids; a test on text (is the JSON answer complete?) needs
    the decoded continuation, so this one decodes each running row once per step (a few
    microseconds against a forward pass). ``ended`` maps a row to the number of new tokens
    it had when it ended; the ids generated after that (padding) are cut.
    """

    def __init__(self, tokenizer, width: int, test: Callable[[str], bool]):
        self.tokenizer, self.width, self.test = tokenizer, width, test
        self.ended: dict[int, int] = {}

    def __call__(self, input_ids, scores, **kwargs) -> torch.BoolTensor:
        new = input_ids[:, self.width:].tolist()  # [B, new tokens so far]
        for i, row in enumerate(new):
            if i not in self.ended and self.test(
                    self.tokenizer.decode(row, skip_special_tokens=True)):
                self.ended[i] = len(row)
        return torch.tensor([i in self.ended for i in range(len(new))],
                            device=input_ids.device)
