"""Log-likelihood scoring of multiple-choice items, the lm-evaluation-harness method.

For an item with context ``c`` and options ``o_1..o_m`` the model scores each
continuation ``delimiter + o_j`` (lm-eval's ``target_delimiter``, a space by default):

    loglik_j = sum_t log p(y_t | c, y_<t)   over the continuation's tokens y

``pred = argmax_j loglik_j`` gives ``acc``; ``pred_norm = argmax_j loglik_j / len(o_j)``
gives ``acc_norm``, where ``len`` counts the option's characters without the delimiter,
as lm-eval's ``completion_len = [len(choice) for choice in choices]`` does.

Tokenisation (:func:`encode_pair`) follows lm-eval's ``HFLM._encode_pair``: trailing
whitespace of the context moves to the continuation, the whole string ``context +
continuation`` is encoded once and split at the context's token count, so a token that
straddles the boundary is never invented. The one deliberate difference: a BOS token is
prepended whenever the tokenizer's own default encoding adds one (Llama, Gemma), whereas
lm-eval adds it only for Gemma unless ``add_bos_token=True`` is passed; ``add_bos``
overrides this. An empty context is conditioned on BOS (or EOS), like lm-eval's prefix token.

This module knows items, not tasks: :func:`xlnb.evaluate.tasks.evaluate_task` builds a
task's items and scores them here (the dependency runs one way, tasks -> multiple_choice).

Batching pads on the right, so every real token keeps its position and attention, and a
batch gives the same log-likelihoods as one sequence at a time. Sequences longer than the
model's context are cut from the left, keeping the continuation (as lm-eval does).
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from xlnb.progress import progress as progress_bar


@dataclass
class MCItem:
    """One multiple-choice item: ``context`` followed by ``delimiter + options[label]``."""

    context: str
    options: list[str]
    label: int
    delimiter: str = " "

    def __post_init__(self):
        if not isinstance(self.context, str):
            raise ValueError(f"context must be a string, got {type(self.context).__name__}")
        if not self.options or not all(isinstance(o, str) and o for o in self.options):
            raise ValueError(f"options must be non-empty strings, got {self.options!r}")
        if isinstance(self.label, bool) or not isinstance(self.label, (int, np.integer)) \
                or not 0 <= self.label < len(self.options):
            raise ValueError(f"label {self.label!r} is not an index into "
                             f"{len(self.options)} options")

    def continuation(self, j: int) -> str:
        """The text scored for option ``j``."""
        return self.delimiter + self.options[j]


@dataclass
class ItemScore:
    """Scores of one item: log-likelihood and token count per option, both argmaxes."""

    logliks: list[float]
    n_tokens: list[int]
    pred: int
    pred_norm: int


def _prefix_ids(tokenizer, add_bos: bool | None) -> list[int]:
    bos = tokenizer.bos_token_id
    if add_bos is None:
        add_bos = bos is not None and tokenizer("a")["input_ids"][:1] == [bos]
    return [bos] if add_bos and bos is not None else []


def encode_pair(tokenizer, context: str, continuation: str, *,
                add_bos: bool | None = None) -> tuple[list[int], list[int]]:
    """Token ids of ``(context, continuation)`` split the lm-eval way (module docstring)."""
    n_spaces = len(context) - len(context.rstrip())
    if n_spaces:
        context, continuation = context[:-n_spaces], context[-n_spaces:] + continuation
    prefix = _prefix_ids(tokenizer, add_bos)
    whole = prefix + tokenizer(context + continuation, add_special_tokens=False)["input_ids"]
    n_ctx = len(prefix) + len(tokenizer(context, add_special_tokens=False)["input_ids"])
    ctx_ids, cont_ids = whole[:n_ctx], whole[n_ctx:]
    if not cont_ids:
        raise ValueError(f"continuation {continuation!r} encodes to no tokens after {context!r}")
    if not ctx_ids:
        start = tokenizer.bos_token_id
        start = tokenizer.eos_token_id if start is None else start
        if start is None:
            raise ValueError("empty context and the tokenizer has neither BOS nor EOS")
        ctx_ids = [start]
    return ctx_ids, cont_ids


def _model_device(model) -> torch.device:
    try:
        return next(model.parameters()).device
    except StopIteration:
        return torch.device("cpu")


def _max_length(model) -> int | None:
    config = getattr(model, "config", None)
    return getattr(config, "max_position_embeddings", None)


def _forward_logprobs(model, rows: list[tuple[list[int], list[int]]], pad_id: int) -> list[float]:
    """Summed continuation log-probs for each ``(ctx_ids, cont_ids)`` row in one padded pass."""
    limit = _max_length(model)
    inputs, n_cont = [], []
    for ctx, cont in rows:
        seq = (ctx + cont)[:-1]
        if limit is not None and len(cont) > limit:
            raise ValueError(f"a continuation of {len(cont)} tokens exceeds the context of {limit}")
        if limit is not None and len(seq) > limit:
            seq = seq[-limit:]
        inputs.append(seq)
        n_cont.append(len(cont))
    width = max(map(len, inputs))
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, seq in enumerate(inputs):
        ids[i, :len(seq)] = torch.tensor(seq)
        mask[i, :len(seq)] = 1
    device = _model_device(model)
    kwargs = {}
    keep = width - min(len(s) - c for s, c in zip(inputs, n_cont))
    if "logits_to_keep" in inspect.signature(model.forward).parameters:
        kwargs["logits_to_keep"] = keep  # only the positions that predict continuations
    logits = model(input_ids=ids.to(device), attention_mask=mask.to(device), **kwargs).logits
    offset = width - logits.shape[1]
    out = []
    for i, ((_, cont), seq) in enumerate(zip(rows, inputs)):
        start = len(seq) - len(cont) - offset
        step_logits = logits[i, start:start + len(cont)].float()
        targets = torch.tensor(cont, device=step_logits.device)
        lp = torch.log_softmax(step_logits, dim=-1).gather(-1, targets[:, None])
        out.append(float(lp.sum()))
    return out


def _progress(iterable, total: int, desc: str, enabled: bool):
    return progress_bar(iterable, total=total, desc=desc) if enabled else iterable


def score_items(model, tokenizer, items, *, batch_size: int = 16, add_bos: bool | None = None,
                progress: bool = True, desc: str = "scoring") -> list[ItemScore]:
    """Score every option of every item (module docstring); one :class:`ItemScore` per item.

    Requests are sorted longest first so a batch holds similar lengths (as lm-eval does);
    results come back in item order. The model is used as given: put it in eval mode.
    """
    items = list(items)
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    add_bos = bool(_prefix_ids(tokenizer, add_bos))  # decide once, not per request
    requests = [(i, j, *encode_pair(tokenizer, it.context, it.continuation(j), add_bos=add_bos))
                for i, it in enumerate(items) for j in range(len(it.options))]
    order = sorted(range(len(requests)), key=lambda r: -len(requests[r][2]) - len(requests[r][3]))
    logliks = [0.0] * len(requests)
    batches = [order[s:s + batch_size] for s in range(0, len(order), batch_size)]
    with torch.inference_mode():
        for batch in _progress(batches, len(batches), desc, progress):
            rows = [(requests[r][2], requests[r][3]) for r in batch]
            for r, value in zip(batch, _forward_logprobs(model, rows, pad_id)):
                logliks[r] = value
    scores, r = [], 0
    for it in items:
        m = len(it.options)
        ll = logliks[r:r + m]
        n_tok = [len(requests[r + j][3]) for j in range(m)]
        r += m
        norm = [v / len(o) for v, o in zip(ll, it.options)]
        scores.append(ItemScore(ll, n_tok, int(np.argmax(ll)), int(np.argmax(norm))))
    return scores


def score_frame(items, scores: list[ItemScore]) -> pd.DataFrame:
    """Per-item table: label, predictions, 0/1 correctness (for bootstrap CIs), logliks."""
    rows = [dict(item=i, label=it.label, pred=s.pred, pred_norm=s.pred_norm,
                 correct=int(s.pred == it.label), correct_norm=int(s.pred_norm == it.label),
                 loglik=s.logliks, n_tokens=s.n_tokens)
            for i, (it, s) in enumerate(zip(items, scores))]
    return pd.DataFrame(rows, columns=["item", "label", "pred", "pred_norm", "correct",
                                       "correct_norm", "loglik", "n_tokens"])


def _mean_stderr(values) -> tuple[float, float]:
    """Mean and the standard error of the mean (sample std, ddof=1), lm-eval's ``acc_stderr``."""
    x = np.asarray(values, dtype=float)
    if len(x) == 0:
        return math.nan, math.nan
    return float(x.mean()), float(x.std(ddof=1) / math.sqrt(len(x))) if len(x) > 1 else math.nan


def evaluate_items(model, tokenizer, items, *, batch_size: int = 16, add_bos: bool | None = None,
                   progress: bool = True, desc: str = "scoring") -> dict:
    """Accuracy (``acc``, ``acc_norm``, their standard errors) and the per-item table."""
    items = list(items)
    scores = score_items(model, tokenizer, items, batch_size=batch_size, add_bos=add_bos,
                         progress=progress, desc=desc)
    frame = score_frame(items, scores)
    acc, acc_se = _mean_stderr(frame["correct"])
    acc_norm, acc_norm_se = _mean_stderr(frame["correct_norm"])
    return dict(acc=acc, acc_stderr=acc_se, acc_norm=acc_norm, acc_norm_stderr=acc_norm_se,
                n=len(items), items=frame)
