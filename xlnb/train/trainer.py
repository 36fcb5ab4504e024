"""The MidAlign training loop (§3, Fig. 2; App. D.1), in one file.

Each update accumulates ``config.accumulation`` micro-batches. Micro-batch m (counted over
the whole run) is a task micro-batch (causal-LM cross-entropy on the output tokens) or an
alignment micro-batch (eq. 1 at the aligned layer, forward pass stopped there):

    task mode   T T T T | T T T T | ...
    align mode  A A A A | A A A A | ...
    joint mode  T A T A | T A T A | ...     (task_per_align=1; 2 gives T T A T | T A T T ...)

Each micro-batch's loss is divided by ``accumulation`` and back-propagated at once, so an
update's gradient is the mean of its micro-batches' gradients (as in HF Trainer, which the
reference code extends to alternate per micro-batch); then clipping, AdamW, the
inverse-sqrt schedule. Dev losses every ``eval_every`` updates drive early stopping, the
best adapter is kept, and a checkpoint every ``checkpoint_every`` updates lets an
interrupted run resume to the same weights and history.
"""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import torch
import torch.nn.functional as F

from xlnb.arch import model_device
from xlnb.progress import progress
from xlnb.train import checkpoint
from xlnb.train.batches import (PairTokens, Stream, as_pairs, check_task_data, data_digest,
                                pair_batch, task_batch)
from xlnb.train.config import TrainConfig
from xlnb.train.contrastive import contrastive_loss
from xlnb.train.lora import add_lora
from xlnb.train.states import alignment_states, resolve_layer


@dataclass
class TrainResult:
    """model: the peft model holding the best adapter (the last one without dev data);
    history: one row per update (step, epoch, lr, task_loss, align_loss, tokens, and
    dev_task_loss / dev_align_loss on evaluation steps); saved in ``output_dir``."""
    model: object
    history: pd.DataFrame
    output_dir: Path
    steps: int
    best_step: int | None
    best_dev_loss: float | None
    stopped_early: bool
    resumed_from: int | None
    seconds: float


def train(model, tokenizer, config: TrainConfig, *, task_data=None, dev_task_data=None,
          pairs=None, dev_pairs=None, output_dir) -> TrainResult:
    """Train a LoRA adapter on ``model`` (a base model; 4-bit for QLoRA) and save it.

    task_data / dev_task_data: ``encode_example`` dicts (modes task, joint); pairs /
    dev_pairs: ``Pair`` objects or ``(text, english)`` tuples (modes align, joint).
    output_dir receives the best adapter (peft format), ``train_config.json`` and
    ``history.csv``; checkpoints go to ``config.checkpoint_dir`` or
    ``output_dir/checkpoints``, and a run resumes from the newest one there. Bad inputs
    and a checkpoint of another run raise ValueError before any training.
    """
    started = time.perf_counter()
    data = _Data(config, tokenizer, task_data, dev_task_data, pairs, dev_pairs)
    layer = resolve_layer(model, config.layer) if data.pairs is not None else None
    output_dir = Path(output_dir)
    ckpt_dir = Path(config.checkpoint_dir or output_dir / "checkpoints")
    identity = {"config": config.result_dict(), "data": data.digest,
                "model": str(getattr(model, "name_or_path", type(model).__name__))}
    saved = checkpoint.latest(ckpt_dir)
    if saved is not None:
        checkpoint.check_same_run(saved, identity)

    from transformers import get_scheduler, set_seed

    set_seed(config.seed)
    model = add_lora(model, config)
    device = model_device(model)
    total = total_updates(config, data)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=config.learning_rate,
                                  weight_decay=config.weight_decay)
    scheduler = get_scheduler(config.schedule, optimizer, num_training_steps=total,
                              num_warmup_steps=math.ceil(config.warmup_ratio * total))
    amp_dtype = autocast_dtype(config.precision, device)
    scaler = torch.amp.GradScaler(device.type, enabled=amp_dtype == torch.float16)
    run = _RunState(step=0, history=[], best_step=None, best_loss=None, bad_evals=0,
                    stopped=False)
    best = None
    if saved is not None:
        state, best = checkpoint.restore(saved, model=model, optimizer=optimizer,
                                         scheduler=scheduler, scaler=scaler)
        run = _RunState(**state["run"])
        data.load_positions(state["streams"])

    def autocast():
        return (torch.autocast(device.type, dtype=amp_dtype) if amp_dtype is not None
                else contextlib.nullcontext())

    model.train()
    resumed_from = run.step if saved is not None else None
    bar = progress(total=total, initial=run.step, desc=f"train {config.mode}")
    while run.step < total and not run.stopped:
        row = {"step": run.step + 1, "epoch": data.epochs_done(),
               "lr": scheduler.get_last_lr()[0], "task_loss": None, "align_loss": None}
        losses, row["tokens"] = {"task": [], "align": []}, 0
        for j in range(config.accumulation):  # the micro-batches of one update
            kind = micro_kind(config, run.step * config.accumulation + j)
            batch = data.next_batch(kind, device)
            with autocast():
                loss = (task_loss(model, **batch) if kind == "task" else
                        align_loss(model, batch, layer, config))
            scaler.scale(loss / config.accumulation).backward()
            losses[kind].append(loss.item())
            row["tokens"] += int(batch["attention_mask"].sum())
        scaler.unscale_(optimizer)
        if config.max_grad_norm is not None:
            torch.nn.utils.clip_grad_norm_(params, config.max_grad_norm)
        scaler.step(optimizer)
        scaler.update()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        run.step += 1
        for kind, values in losses.items():
            row[f"{kind}_loss"] = sum(values) / len(values) if values else None
        if data.has_dev and (run.step % config.eval_every == 0 or run.step == total):
            with autocast():
                row.update(dev_losses(model, data, layer, config))
            if run.observe(dev_metric(row, config, data), config.patience):
                best = checkpoint.trainable_state(model)
        run.history.append(row)
        if run.step % config.every_checkpoint == 0 or run.stopped:
            checkpoint.save(ckpt_dir, run.step, model=model, optimizer=optimizer,
                            scheduler=scheduler, scaler=scaler, best=best,
                            state={"identity": identity, "run": vars(run),
                                   "streams": data.positions()})
        bar.update(1)
        bar.set_postfix({k: f"{row[k]:.3f}" for k in ("task_loss", "align_loss") if row[k]})
    bar.close()
    if best is not None:
        checkpoint.load_trainable(model, best)
    history = pd.DataFrame(run.history, columns=HISTORY_COLUMNS)
    _write_outputs(model, config, history, output_dir)
    return TrainResult(model=model, history=history, output_dir=output_dir, steps=run.step,
                       best_step=run.best_step, best_dev_loss=run.best_loss,
                       stopped_early=run.stopped, resumed_from=resumed_from,
                       seconds=time.perf_counter() - started)


HISTORY_COLUMNS = ["step", "epoch", "lr", "task_loss", "align_loss", "tokens",
                   "dev_task_loss", "dev_align_loss"]


@dataclass
class _RunState:
    """What the loop carries from update to update (saved in every checkpoint)."""
    step: int
    history: list
    best_step: int | None
    best_loss: float | None
    bad_evals: int
    stopped: bool

    def observe(self, loss: float, patience: int | None) -> bool:
        """Record a dev loss; True when it is the best so far (MidAlign App. D.1: stop after
        ``patience`` evaluations without improvement)."""
        if self.best_loss is None or loss < self.best_loss:
            self.best_loss, self.best_step, self.bad_evals = loss, self.step, 0
            return True
        self.bad_evals += 1
        self.stopped = patience is not None and self.bad_evals >= patience
        return False


def micro_kind(config: TrainConfig, m: int) -> str:
    """``task`` or ``align`` for micro-batch ``m`` of the run (see the module docstring)."""
    if config.mode != "joint":
        return config.mode
    return "align" if m % (config.task_per_align + 1) == config.task_per_align else "task"


def total_updates(config: TrainConfig, data: "_Data") -> int:
    """``max_steps``, else the updates that make ``max_epochs`` passes over the task data
    (over the pairs in align mode; the last incomplete batch of an epoch is dropped)."""
    if config.max_steps is not None:
        return config.max_steps
    kind = "align" if config.mode == "align" else "task"
    needed = math.ceil(config.max_epochs * data.streams[kind].batches_per_epoch)
    period = config.task_per_align + 1  # joint mode: one alignment micro-batch per period

    def count(micro_batches: int) -> int:  # task micro-batches among the first ones
        if config.mode != "joint":
            return micro_batches
        return micro_batches - micro_batches // period

    updates = max(1, needed // config.accumulation)
    while count(updates * config.accumulation) < needed:
        updates += 1
    return updates


def autocast_dtype(precision: str, device: torch.device) -> torch.dtype | None:
    """``auto``: bf16 on a GPU that supports it, fp16 on other GPUs (a T4), none on CPU."""
    if precision == "auto":
        if device.type != "cuda":
            return None
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": None}[precision]


def task_loss(model, input_ids, attention_mask, labels) -> torch.Tensor:
    """Causal-LM cross-entropy averaged over the labelled tokens (MidAlign §3 task loss).
    Logits are computed only from the first position that predicts a label on: the LM head
    over a long prompt is the most expensive part of a small model's step."""
    labelled = (labels[:, 1:] != -100).any(dim=0).nonzero()
    first = int(labelled[0]) if len(labelled) else input_ids.shape[1] - 2
    keep = input_ids.shape[1] - first  # positions first .. T-1
    logits = model(input_ids=input_ids, attention_mask=attention_mask, use_cache=False,
                   logits_to_keep=keep).logits[:, :-1]  # position t predicts token t + 1
    targets = labels[:, first + 1:]
    return F.cross_entropy(logits.float().flatten(0, 1), targets.flatten(), ignore_index=-100)


def align_loss(model, batch: dict, layer: int, config: TrainConfig) -> torch.Tensor:
    """Eq. 1 on the pooled states of a pair batch (B sources then B English rows)."""
    states = alignment_states(model, batch["input_ids"], batch["attention_mask"], layer,
                              exclude_special=config.exclude_special,
                              special_mask=batch["special_mask"])
    src, tgt = states.chunk(2)
    return contrastive_loss(src, tgt, config.temperature, config.symmetric)


@torch.no_grad()
def dev_losses(model, data: "_Data", layer, config: TrainConfig) -> dict:
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
            total, count = total + task_loss(model, **batch).item() * n, count + n
        out["dev_task_loss"] = total / count
    if data.dev_pairs is not None:
        size, n = config.pair_batch_size, len(data.dev_pairs)
        starts = range(0, max(n - size, 0) + 1, size) if n >= size else [0]
        values = [align_loss(model, pair_batch(data.dev_pairs, list(range(s, min(s + size, n))),
                                               data.pad_id, device), layer, config).item()
                  for s in starts]
        out["dev_align_loss"] = sum(values) / len(values)
    model.train()
    return out


def dev_metric(row: dict, config: TrainConfig, data: "_Data") -> float:
    """The dev loss that early stopping watches (``config.dev_loss``)."""
    choice = config.dev_loss
    if choice == "auto":
        choice = "task" if "dev_task_loss" in row and row["dev_task_loss"] is not None \
            else "align"
    if choice == "sum":
        return row["dev_task_loss"] + row["dev_align_loss"]
    return row[f"dev_{choice}_loss"]


class _Data:
    """Checked, tokenised training data and its two shuffled streams."""

    def __init__(self, config, tokenizer, task_data, dev_task_data, pairs, dev_pairs):
        needs_task, needs_pairs = config.mode in ("task", "joint"), config.mode in ("align", "joint")
        if needs_task and not task_data:
            raise ValueError(f"mode {config.mode!r} needs task_data")
        if needs_pairs and not pairs:
            raise ValueError(f"mode {config.mode!r} needs pairs")
        if config.dev_loss in ("task", "sum") and not (needs_task and dev_task_data):
            raise ValueError(f"dev_loss={config.dev_loss!r} needs dev_task_data and a mode "
                             f"with the task loss (mode is {config.mode!r})")
        if config.dev_loss in ("align", "sum") and not (needs_pairs and dev_pairs):
            raise ValueError(f"dev_loss={config.dev_loss!r} needs dev_pairs and a mode with "
                             f"the alignment loss (mode is {config.mode!r})")
        self.pad_id = tokenizer.pad_token_id
        self.task = check_task_data(task_data) if needs_task else None
        self.dev_task = check_task_data(dev_task_data, "dev_task_data") \
            if needs_task and dev_task_data else None
        pair_list = as_pairs(pairs) if needs_pairs else None
        self.digest = data_digest(self.task, pair_list)
        self.pairs = PairTokens.encode(tokenizer, pair_list, config.max_length) \
            if needs_pairs else None
        if needs_pairs and dev_pairs:
            dev_list = as_pairs(dev_pairs, "dev_pairs")
            if len(dev_list) < 2:
                raise ValueError("dev_pairs needs at least 2 pairs")
            self.dev_pairs = PairTokens.encode(tokenizer, dev_list, config.max_length)
        else:
            self.dev_pairs = None
        self.has_dev = self.dev_task is not None or self.dev_pairs is not None
        self.streams = {}
        if self.task is not None:
            self.streams["task"] = Stream(len(self.task), config.micro_batch_size,
                                          config.seed, "task")
        if self.pairs is not None:
            self.streams["align"] = Stream(len(self.pairs), config.pair_batch_size,
                                           config.seed, "pairs")

    def next_batch(self, kind: str, device) -> dict:
        idx = self.streams[kind].next()
        if kind == "task":
            return task_batch([self.task[i] for i in idx], self.pad_id, device)
        return pair_batch(self.pairs, idx, self.pad_id, device)

    def epochs_done(self) -> float:
        stream = self.streams.get("task") or self.streams["align"]
        return stream.epoch + stream.pos / (stream.batches_per_epoch * stream.batch)

    def positions(self) -> dict:
        return {kind: s.state() for kind, s in self.streams.items()}

    def load_positions(self, positions: dict) -> None:
        for kind, state in positions.items():
            self.streams[kind].load(state)


def _write_outputs(model, config: TrainConfig, history: pd.DataFrame, output_dir: Path):
    output_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(output_dir, save_embedding_layers=False)  # LoRA weights only
    config.to_json(output_dir / "train_config.json")
    history.to_csv(output_dir / "history.csv", index=False)
    history.to_json(output_dir / "history.json", orient="records", indent=1)
