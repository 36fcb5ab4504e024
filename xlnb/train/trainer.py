"""The MidAlign training loop (§3, Fig. 2; App. D.1); its losses are in `objectives`, the
optimiser and precision in `optim`.

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

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from xlnb.arch import n_blocks
from xlnb.progress import progress
from xlnb.train import checkpoint
from xlnb.train.batches import TrainData
from xlnb.train.config import TrainConfig
from xlnb.train.lora import add_lora
from xlnb.train.objectives import align_loss, dev_losses, dev_metric, task_loss
from xlnb.train.optim import Optimisation
from xlnb.train.states import resolve_layer


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
    peft injects the adapter into ``model`` in place; the result holds the peft wrapper.

    task_data / dev_task_data: ``encode_example`` dicts (modes task, joint); pairs /
    dev_pairs: ``Pair`` objects or ``(text, english)`` tuples (modes align, joint).
    output_dir receives the best adapter (peft format), ``train_config.json``,
    ``history.csv``, ``train_result.json`` and last a ``complete`` marker. Checkpoints go to
    ``config.checkpoint_dir`` or ``output_dir/checkpoints``, and a run resumes from the
    newest one there. Bad inputs and a checkpoint of another run raise ValueError before
    any training.
    """
    started = time.perf_counter()
    data = TrainData(config, tokenizer, task_data, dev_task_data, pairs, dev_pairs)
    layer = resolve_layer(model, config.layer) if data.pairs is not None else None
    output_dir = Path(output_dir)
    ckpt_dir = Path(config.checkpoint_dir or output_dir / "checkpoints")
    identity = {"config": config.result_dict(), "data": data.digest,
                "model": model_identity(model)}
    saved = checkpoint.latest(ckpt_dir)
    if saved is not None:
        checkpoint.check_same_run(saved, identity)
    (output_dir / COMPLETE).unlink(missing_ok=True)  # unfinished until written again

    from transformers import set_seed

    set_seed(config.seed)
    model = add_lora(model, config)
    total = total_updates(config, data)
    opt = Optimisation(model, config, total)
    run, best = _RunState(), None
    if saved is not None:
        state, best = checkpoint.restore(saved, model=model, optimizer=opt.optimizer,
                                         scheduler=opt.scheduler, scaler=opt.scaler)
        run = _RunState(**state["run"])
        data.load_positions(state["streams"])
    resumed_from = run.step if saved is not None else None

    model.train()
    bar = progress(total=total, initial=run.step, desc=f"train {config.mode}")
    while run.step < total and not run.stopped:
        row = _update(model, config, data, opt, layer, run.step)
        run.step += 1
        if data.has_dev and (run.step % config.eval_every == 0 or run.step == total):
            with opt.autocast():
                row.update(dev_losses(model, data, layer, config))
            if run.observe(dev_metric(row, config), config.patience):
                best = checkpoint.trainable_state(model)
        run.history.append(row)
        if run.step % config.every_checkpoint == 0 or run.stopped:
            checkpoint.save(ckpt_dir, run.step, model=model, optimizer=opt.optimizer,
                            scheduler=opt.scheduler, scaler=opt.scaler, best=best,
                            state={"identity": identity, "run": vars(run),
                                   "streams": data.positions()})
        bar.update(1)
        # refresh=False: the bar redraws on its own interval (30 s under papermill), not
        # once more per update
        bar.set_postfix({k: f"{row[k]:.3f}" for k in ("task_loss", "align_loss")
                         if row[k] is not None}, refresh=False)
    bar.close()

    if best is not None:
        checkpoint.load_trainable(model, best)
    history = pd.DataFrame(run.history, columns=HISTORY_COLUMNS)
    summary = {"steps": run.step, "best_step": run.best_step, "best_dev_loss": run.best_loss,
               "stopped_early": run.stopped, "resumed_from": resumed_from,
               "seconds": round(time.perf_counter() - started, 1)}
    _write_outputs(model, config, history, output_dir, summary)
    return TrainResult(model=model, history=history, output_dir=output_dir, **summary)


def _update(model, config: TrainConfig, data: TrainData, opt: Optimisation, layer,
            step: int) -> dict:
    """One optimizer update: ``accumulation`` micro-batches, task or alignment as
    :func:`micro_kind` says, each loss / accumulation back-propagated at once. Returns the
    update's history row."""
    row = {"step": step + 1, "epoch": data.epochs_done(), "lr": opt.scheduler.get_last_lr()[0],
           "tokens": 0}
    losses = {"task": [], "align": []}
    for j in range(config.accumulation):
        kind = micro_kind(config, step * config.accumulation + j)
        batch = data.next_batch(kind, opt.device)
        with opt.autocast():
            loss = (task_loss(model, **batch, shared_prefix=config.shared_prefix)
                    if kind == "task" else
                    align_loss(model, batch, layer, config))
        opt.scaler.scale(loss / config.accumulation).backward()
        losses[kind].append(loss.item())
        row["tokens"] += int(batch["attention_mask"].sum())
    opt.step()
    for kind, values in losses.items():
        row[f"{kind}_loss"] = sum(values) / len(values) if values else None
    return row


COMPLETE = "complete"  # marker file, written last into a finished output_dir
HISTORY_COLUMNS = ["step", "epoch", "lr", "task_loss", "align_loss", "tokens",
                   "dev_task_loss", "dev_align_loss"]


@dataclass
class _RunState:
    """What the loop carries from update to update (saved in every checkpoint)."""
    step: int = 0
    history: list = field(default_factory=list)
    best_step: int | None = None
    best_loss: float | None = None
    bad_evals: int = 0
    stopped: bool = False

    def observe(self, loss: float, patience: int | None) -> bool:
        """Record a dev loss; True when it is the best so far (MidAlign App. D.1: stop after
        ``patience`` evaluations without improvement)."""
        if self.best_loss is None or loss < self.best_loss:
            self.best_loss, self.best_step, self.bad_evals = loss, self.step, 0
            return True
        self.bad_evals += 1
        self.stopped = patience is not None and self.bad_evals >= patience
        return False


def model_identity(model) -> str:
    """Name (the last part of its path, so a moved cache folder still matches), type and
    shape of the model a checkpoint belongs to."""
    name = Path(str(getattr(model, "name_or_path", "") or type(model).__name__)).name
    config = model.config
    return (f"{name} ({config.model_type}, {n_blocks(model)} blocks, "
            f"d={config.hidden_size}, vocab={config.vocab_size})")


def micro_kind(config: TrainConfig, m: int) -> str:
    """``task`` or ``align`` for micro-batch ``m`` of the run (see the module docstring)."""
    if config.mode != "joint":
        return config.mode
    return "align" if m % (config.task_per_align + 1) == config.task_per_align else "task"


def total_updates(config: TrainConfig, data: TrainData) -> int:
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


def _write_outputs(model, config: TrainConfig, history: pd.DataFrame, output_dir: Path,
                   summary: dict) -> None:
    """The adapter (peft format), its config, the history and a summary, then the
    :data:`COMPLETE` marker, last: a folder without it is an unfinished run."""
    output_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(output_dir, save_embedding_layers=False)  # LoRA weights only
    config.to_json(output_dir / "train_config.json")
    history.to_csv(output_dir / "history.csv", index=False)
    history.to_json(output_dir / "history.json", orient="records", indent=1)
    (output_dir / "train_result.json").write_text(json.dumps(summary, indent=2) + "\n",
                                                  encoding="utf-8")
    (output_dir / COMPLETE).touch()
