"""The two losses a training run alternates (MidAlign §3, eq. 1) and their dev values, which
early stopping watches.
"""

from __future__ import annotations

from contextlib import contextmanager

import torch
import torch.nn.functional as F

from xlnb.arch import model_device
from xlnb.hooks import _hooked, _register  # importing leaves hooks.py, so cache keys, as is
from xlnb.train.batches import TrainData, pair_batch, task_batch
from xlnb.train.config import TrainConfig
from xlnb.train.contrastive import contrastive_loss, duplicate_mask
from xlnb.train.prefix import cache_kwarg, prefix_cache, shared_prefix_length
from xlnb.train.states import alignment_states


def task_loss(model, input_ids, attention_mask, labels, shared_prefix: bool = False
              ) -> torch.Tensor:
    """Causal-LM cross-entropy averaged over the labelled tokens (MidAlign §3 task loss).
    The LM head runs only on the positions that predict a label (:func:`lm_head_rows`;
    in a batch of App. D.2 slot-filling examples they are about 30 % of the window from the
    first labelled position on): on a small model with a large vocabulary the head is the
    most expensive part of a step. Equals the loss of the full logits.
    shared_prefix: run the prompt tokens that all rows share once (:mod:`xlnb.train.prefix`;
    exact without dropout, one dropout mask for those tokens per micro-batch with it)."""
    labelled = (labels[:, 1:] != -100).any(dim=0).nonzero()
    first = int(labelled[0]) if len(labelled) else input_ids.shape[1] - 2
    keep = input_ids.shape[1] - first  # positions first .. T-1
    targets = labels[:, first + 1:]  # [B, keep - 1]: position t predicts token t + 1
    mask = targets != -100
    inputs = {"input_ids": input_ids, "attention_mask": attention_mask, "use_cache": False}
    start = shared_prefix_length(input_ids, attention_mask, first) if shared_prefix else 0
    if start > 0 and len(input_ids) > 1:
        # the rest attends to the prefix's keys/values; positions continue from `start`
        inputs.update(input_ids=input_ids[:, start:], use_cache=True)
        inputs[cache_kwarg(model)] = prefix_cache(model, input_ids[:1, :start], len(input_ids))
    with lm_head_rows(model, F.pad(mask, (0, 1))):  # the last position predicts nothing
        logits = model(**inputs, logits_to_keep=keep).logits[0]  # [N, vocab]
    return F.cross_entropy(logits.float(), targets[mask])


@contextmanager
def lm_head_rows(model, mask: torch.Tensor):
    """Run the LM head only on the positions where ``mask`` (bool ``[B, K]``) is True.

    Hook point: the input of ``model.get_output_embeddings()`` (``lm_head``, through a PEFT
    wrapper), ``[B, K, d]`` for a forward with ``logits_to_keep=K``, becomes ``[1, N, d]``,
    N = ``mask.sum()``, rows in row-major order of ``mask``; the logits come back as
    ``[1, N, vocab]``. What the forward does after the head (Gemma 2's soft-capping) still
    applies; the hook is removed on exit, on error too. It lives here, not in
    :mod:`xlnb.hooks`, because it changes no representation: the hooks module's code is part
    of every cache key (:data:`xlnb.cache.VALUE_MODULES`).
    """
    head = model.get_output_embeddings()
    if head is None:
        raise ValueError(f"{type(model).__name__} has no LM head (get_output_embeddings)")

    def select(hidden):  # [B, K, d] -> [1, N, d]
        if hidden.shape[:2] != mask.shape:
            raise ValueError(f"lm_head_rows: mask is {list(mask.shape)} but the LM head sees "
                             f"{list(hidden.shape[:2])} positions (pass logits_to_keep=K)")
        return hidden[mask].unsqueeze(0)

    with _hooked([lambda: _register(head, "pre", select)]):
        yield


def pair_states(model, batch: dict, layer: int, config: TrainConfig) -> torch.Tensor:
    """Pooled states ``[2B, d]`` of a right-padded pair batch (:func:`pair_batch`), in
    ``config.length_buckets`` forward passes over rows sorted by length, each pass cut to its
    longest row (the columns cut are padding only, and right padding leaves every row's
    positions as they were), then put back in batch order."""
    ids, mask, special = batch["input_ids"], batch["attention_mask"], batch["special_mask"]
    if config.length_buckets == 1:
        return alignment_states(model, ids, mask, layer, exclude_special=config.exclude_special,
                                special_mask=special)
    order = mask.sum(1).argsort(stable=True)
    parts = []
    for rows in order.tensor_split(min(config.length_buckets, len(order))):
        width = int(mask[rows].sum(1).max())
        parts.append(alignment_states(model, ids[rows, :width], mask[rows, :width], layer,
                                      exclude_special=config.exclude_special,
                                      special_mask=special[rows, :width]))
    return torch.cat(parts)[order.argsort()]


def align_loss(model, batch: dict, layer: int, config: TrainConfig) -> torch.Tensor:
    """Eq. 1 on the pooled states of a pair batch (B sources then B English rows); with
    ``config.mask_duplicates`` rows that repeat a pair's text are not its negatives."""
    states = pair_states(model, batch, layer, config)
    src, tgt = states.chunk(2)
    same = (duplicate_mask(batch["src_key"], batch["tgt_key"])
            if config.mask_duplicates else None)
    return contrastive_loss(src, tgt, config.temperature, config.symmetric, same=same)


@torch.no_grad()
def dev_losses(model, data: TrainData, layer, config: TrainConfig) -> dict:
    """Dev task loss (mean over all labelled tokens) and dev alignment loss (mean over
    consecutive batches of ``pair_batch_size`` dev pairs), in eval mode."""
    model.eval()
    out = {}
    device = model_device(model)
    if data.dev_task is not None:
        total, count = 0.0, 0
        for start in range(0, len(data.dev_task), config.micro_batch_size):
            batch = task_batch(data.dev_task[start:start + config.micro_batch_size],
                               data.pad_id, device)
            n = int((batch["labels"][:, 1:] != -100).sum())
            loss = task_loss(model, **batch, shared_prefix=config.shared_prefix)
            total, count = total + loss.item() * n, count + n
        out["dev_task_loss"] = total / count
    if data.dev_pairs is not None:  # full batches only (all pairs when fewer than one)
        size, n = config.pair_batch_size, len(data.dev_pairs)
        values = []
        for start in range(0, n - size + 1, size) if n >= size else [0]:
            batch = pair_batch(data.dev_pairs, list(range(start, min(start + size, n))),
                               data.pad_id, device)
            values.append(align_loss(model, batch, layer, config).item())
        out["dev_align_loss"] = sum(values) / len(values)
    model.train()
    return out


def dev_metric(row: dict, config: TrainConfig) -> float:
    """The dev loss that early stopping watches (``config.dev_loss``)."""
    choice = config.dev_loss
    if choice == "auto":
        choice = "task" if "dev_task_loss" in row and row["dev_task_loss"] is not None \
            else "align"
    if choice == "sum":
        return row["dev_task_loss"] + row["dev_align_loss"]
    return row[f"dev_{choice}_loss"]
