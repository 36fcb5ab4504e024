"""Every option of a MidAlign training run in one dataclass; defaults are the paper's (App. D.1).

The config is saved as JSON beside every adapter and checkpoint it produced, so an adapter on
disk always says how it was made, and a checkpoint written with another configuration is
refused before training resumes.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

MODES = ("task", "align", "joint")
LAYER_NAMES = ("bottom", "middle", "top")
LORA_TARGETS = ("q", "k", "v", "o", "gate", "up", "down")
SCHEDULES = ("inverse_sqrt", "constant_with_warmup", "linear", "cosine", "constant")
PRECISIONS = ("auto", "bf16", "fp16", "fp32")
DEV_LOSSES = ("auto", "task", "align", "sum")
# Fields that say where and how often to write checkpoints but never change the result: left
# out of adapter cache keys and of the checkpoint compatibility check.
RUN_ONLY_FIELDS = ("checkpoint_dir", "checkpoint_every")
# Fields added after adapters were cached, with the value that reproduces the earlier runs:
# left out of result_dict at that value, so adapters trained before the field keep their keys.
ADDED_FIELDS = {"mask_duplicates": False, "shared_prefix": False, "length_buckets": 1}


@dataclass(frozen=True)
class TrainConfig:
    """Options of one training run. Defaults follow MidAlign §3-4 and App. D.1; where the
    paper is silent, the reference code (dannigt/mid-align, HF Trainer) and it is said so.

    Objective
        mode: ``task`` (supervised fine-tuning only), ``align`` (alignment loss only) or
            ``joint`` (alternate the two, Fig. 2).
        layer: where the alignment loss sits: a representation index (0 = embeddings, i =
            output of block i) or ``bottom`` / ``middle`` / ``top`` (n//4, n//2, n blocks:
            8/16/32 for 32 blocks, 4/9/18 for 18). Paper: the middle (block 16 of Llama 3).
        temperature: tau of eq. 1 (0.1 for Llama; 1.5 for Qwen). symmetric: average both
            loss directions (paper and reference code: non-English -> English only).
        exclude_special: leave BOS/EOS out of the mean-pooled tokens (reference code keeps them).
        mask_duplicates: drop from eq. 1's denominator the in-batch rows that share the
            pair's English or non-English text (false negatives: multi-way parallel data
            such as FLORES gives several languages the same English sentence, and up-sampled
            languages repeat pairs). Off by default: the paper's formula.
    LoRA (peft): lora_r 8, lora_alpha 16, lora_dropout 0.1 on ``lora_targets`` = the seven
        projections q, k, v, o, gate, up, down of every block.
    Optimisation: AdamW (the reference's HF Trainer default) with learning_rate 5e-4,
        weight_decay 0 (reference script), the ``schedule`` inverse_sqrt with warm-up over
        ``warmup_ratio`` 3 % of the updates, gradient clipping at max_grad_norm 1.0 (HF
        Trainer default; None disables). transformers' inverse_sqrt takes the warm-up
        length as its timescale, so after warm-up lr = peak * sqrt(warmup / step): 17 % of
        the peak at the last update of any run with 3 % warm-up (30 % on average). Short
        runs (the CPU demos) that need the peak rate use ``constant_with_warmup``.
    Batches: one update accumulates ``accumulation`` micro-batches. A task micro-batch has
        ``micro_batch_size`` examples; an alignment micro-batch has ``pair_batch_size``
        pairs, which are also each other's negatives in eq. 1 (paper: 32). In ``joint`` mode
        micro-batches alternate, ``task_per_align`` task micro-batches then one alignment
        micro-batch, counted across updates (reference code: alternation per micro-batch
        inside HF Trainer's accumulation). Defaults 32 x 4 = the paper's effective batch
        of 128: task mode 128 examples per update, align mode 128 pairs (4 contrastive
        batches of 32), joint 64 examples + 64 pairs. On a 16 GB GPU lower micro_batch_size
        and raise accumulation and task_per_align together (8 x 10 with task_per_align 4
        keeps 64 + 64).
        max_length: truncation of alignment sentences (task examples come encoded).
        shared_prefix: run the prompt tokens that every example of a task micro-batch
            shares (App. D.2's system prompt and instruction) once and let the rest attend
            to their keys and values (:mod:`xlnb.train.prefix`): about 30 % less time per
            slot-filling step on Gemma 3 270M. Without dropout the same loss and gradients;
            with LoRA dropout those tokens share one dropout mask per micro-batch (same
            expected loss, more correlated noise). Off by default: the paper's computation.
            Not with gradient checkpointing, which turns the cache off.
        length_buckets: run an alignment batch's 2B rows in this many forward passes of
            rows of similar length, each cut to its longest row, instead of one pass padded
            to the batch's longest sentence (:func:`xlnb.train.objectives.pair_states`).
            Eq. 1 still contrasts the whole batch; only padding is saved. Without dropout
            the same states (to float rounding); with LoRA dropout other dropout masks. 1 by
            default: one pass, as the reference code.
    Length: at most ``max_epochs`` 5 passes over the task data (over the pairs in align
        mode), or exactly ``max_steps`` updates when given; dev losses every ``eval_every``
        200 updates and early stop after ``patience`` 5 evaluations without improvement of
        the ``dev_loss`` (auto: task loss when there is task dev data, else alignment loss;
        or ``task``, ``align``, ``sum``). The best adapter is kept.
    Resources: ``load_in_4bit`` (QLoRA: the model must be loaded in 4 bit), gradient
        checkpointing, ``precision`` auto = bf16 where the GPU supports it, fp16 with a
        gradient scaler on other GPUs (a T4), fp32 on CPU. checkpoint_dir (default:
        ``<output_dir>/checkpoints``; a Google Drive folder survives a Colab session) gets a
        checkpoint every ``checkpoint_every`` updates (default eval_every) and training
        resumes from the latest one automatically.
    seed: 1 in the reference script.
    """

    mode: str = "joint"
    layer: int | str = "middle"
    temperature: float = 0.1
    symmetric: bool = False
    exclude_special: bool = False
    mask_duplicates: bool = False
    shared_prefix: bool = False
    length_buckets: int = 1
    lora_r: int = 8
    lora_alpha: float = 16
    lora_dropout: float = 0.1
    lora_targets: tuple[str, ...] = LORA_TARGETS
    learning_rate: float = 5e-4
    schedule: str = "inverse_sqrt"
    warmup_ratio: float = 0.03
    weight_decay: float = 0.0
    max_grad_norm: float | None = 1.0
    micro_batch_size: int = 32
    pair_batch_size: int = 32
    accumulation: int = 4
    task_per_align: int = 1
    max_length: int | None = None
    max_epochs: float = 5
    max_steps: int | None = None
    eval_every: int = 200
    patience: int | None = 5
    dev_loss: str = "auto"
    seed: int = 1
    load_in_4bit: bool = False
    gradient_checkpointing: bool = False
    precision: str = "auto"
    checkpoint_dir: str | None = None
    checkpoint_every: int | None = field(default=None)

    def __post_init__(self):
        _choice(self.mode, "mode", MODES)
        _check_layer(self.layer)
        _positive_float(self.temperature, "temperature")
        for name in ("symmetric", "exclude_special", "mask_duplicates", "shared_prefix",
                     "load_in_4bit", "gradient_checkpointing"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be True or False, got {getattr(self, name)!r}")
        _positive_int(self.lora_r, "lora_r")
        _positive_float(self.lora_alpha, "lora_alpha")
        _fraction(self.lora_dropout, "lora_dropout")
        object.__setattr__(self, "lora_targets", _check_targets(self.lora_targets))
        _positive_float(self.learning_rate, "learning_rate")
        _choice(self.schedule, "schedule", SCHEDULES)
        _fraction(self.warmup_ratio, "warmup_ratio")
        _non_negative_float(self.weight_decay, "weight_decay")
        if self.max_grad_norm is not None:
            _positive_float(self.max_grad_norm, "max_grad_norm")
        for name in ("micro_batch_size", "accumulation", "task_per_align", "eval_every",
                     "length_buckets"):
            _positive_int(getattr(self, name), name)
        _positive_int(self.pair_batch_size, "pair_batch_size")
        if self.shared_prefix and self.gradient_checkpointing:
            raise ValueError("shared_prefix needs the key/value cache, which gradient "
                             "checkpointing turns off in training; set one of them to False")
        if self.pair_batch_size < 2:
            raise ValueError(f"pair_batch_size must be at least 2 (the other pairs of a batch "
                             f"are the negatives), got {self.pair_batch_size}")
        for name in ("max_length", "max_steps", "patience", "checkpoint_every"):
            if getattr(self, name) is not None:
                _positive_int(getattr(self, name), name)
        _positive_float(self.max_epochs, "max_epochs")
        _choice(self.dev_loss, "dev_loss", DEV_LOSSES)
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed must be a non-negative int, got {self.seed!r}")
        _choice(self.precision, "precision", PRECISIONS)
        if self.checkpoint_dir is not None:
            object.__setattr__(self, "checkpoint_dir", str(self.checkpoint_dir))

    # --- serialisation -------------------------------------------------------------------

    def to_dict(self) -> dict:
        data = dataclasses.asdict(self)
        data["lora_targets"] = list(self.lora_targets)
        return data

    def result_dict(self) -> dict:
        """The fields that can change the trained weights (all but :data:`RUN_ONLY_FIELDS`,
        and :data:`ADDED_FIELDS` at their earlier behaviour)."""
        return {k: v for k, v in self.to_dict().items() if k not in RUN_ONLY_FIELDS
                and not (k in ADDED_FIELDS and v == ADDED_FIELDS[k])}

    def to_json(self, path: str | Path | None = None) -> str:
        """The config as JSON text; also written to ``path`` when given."""
        text = json.dumps(self.to_dict(), indent=2, sort_keys=True)
        if path is not None:
            Path(path).write_text(text + "\n", encoding="utf-8")
        return text

    @classmethod
    def from_dict(cls, data: dict) -> TrainConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown TrainConfig fields {unknown}; known: {sorted(known)}")
        return cls(**data)

    @classmethod
    def from_json(cls, text_or_path: str | Path) -> TrainConfig:
        """From JSON text or a path to a JSON file (as written by :meth:`to_json`)."""
        text = str(text_or_path)
        if not text.lstrip().startswith("{"):
            text = Path(text_or_path).read_text(encoding="utf-8")
        return cls.from_dict(json.loads(text))

    @property
    def every_checkpoint(self) -> int:
        """Updates between checkpoints: ``checkpoint_every``, else ``eval_every``."""
        return self.checkpoint_every or self.eval_every


# Notebook parameter names that differ from the field they set.
PARAM_ALIASES = {"align_layer": "layer"}
# Fields that the experiment sets per system and seed, never from a notebook's parameters.
PER_RUN_FIELDS = ("mode", "seed")


def config_from_params(params, **overrides) -> TrainConfig:
    """A :class:`TrainConfig` from a notebook's parameters, as nanoGPT's configurator takes
    its config from ``globals()``: every name in ``params`` (a mapping such as ``globals()``)
    that is a field (``learning_rate``, ``max_epochs``, ``shared_prefix``, ...; ``align_layer``
    sets ``layer``), then ``overrides``. A ``-p`` of any field thus reaches the config without
    each notebook listing it. ``mode`` and ``seed`` are taken only from ``overrides``: the
    experiment sets them per system and seed."""
    names = {f.name for f in dataclasses.fields(TrainConfig)} - set(PER_RUN_FIELDS)
    both = [(a, f) for a, f in PARAM_ALIASES.items() if a in params and f in params]
    if both:
        raise ValueError(f"parameters {both[0][0]!r} and {both[0][1]!r} both set {both[0][1]!r}; "
                         "keep one")
    picked = {PARAM_ALIASES.get(k, k): v for k, v in params.items()
              if PARAM_ALIASES.get(k, k) in names}
    return TrainConfig(**{**picked, **overrides})


def _choice(value, name: str, choices: tuple) -> None:
    if value not in choices:
        raise ValueError(f"unknown {name} {value!r}; use one of {', '.join(choices)}")


def _check_layer(layer) -> None:
    if isinstance(layer, bool) or not isinstance(layer, (int, str)):
        raise ValueError(f"layer must be a representation index or one of {LAYER_NAMES}, "
                         f"got {layer!r}")
    if isinstance(layer, str) and layer not in LAYER_NAMES:
        raise ValueError(f"unknown layer name {layer!r}; use an index or one of "
                         f"{', '.join(LAYER_NAMES)}")
    if isinstance(layer, int) and layer < 0:
        raise ValueError(f"layer must be >= 0 (0 = embeddings), got {layer}")


def _check_targets(targets) -> tuple[str, ...]:
    if isinstance(targets, str) or not targets:
        raise ValueError(f"lora_targets must be a non-empty list of {LORA_TARGETS}, "
                         f"got {targets!r}")
    targets = tuple(targets)
    bad = [t for t in targets if t not in LORA_TARGETS]
    if bad or len(set(targets)) != len(targets):
        raise ValueError(f"lora_targets {list(targets)}: unknown or repeated names {bad}; "
                         f"use names from {LORA_TARGETS}")
    return targets


def _positive_int(value, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")


def _number(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return float(value)


def _positive_float(value, name: str) -> None:
    if _number(value, name) <= 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")


def _non_negative_float(value, name: str) -> None:
    if _number(value, name) < 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")


def _fraction(value, name: str) -> None:
    if not 0 <= _number(value, name) < 1:
        raise ValueError(f"{name} must be in [0, 1), got {value!r}")
