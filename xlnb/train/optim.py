"""The optimisation side of a training run (MidAlign App. D.1): AdamW over the LoRA
parameters, the learning-rate schedule with warm-up, mixed precision chosen for the device
(bf16 where supported, fp16 with a gradient scaler on a T4, none on CPU), gradient clipping.
"""

from __future__ import annotations

import contextlib
import math

import torch

from xlnb.arch import model_device
from xlnb.train.config import TrainConfig


def autocast_dtype(precision: str, device: torch.device) -> torch.dtype | None:
    """``auto``: bf16 on a GPU that supports it, fp16 on other GPUs (a T4), none on CPU."""
    if precision == "auto":
        if device.type != "cuda":
            return None
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": None}[precision]


class Optimisation:
    """AdamW over the trainable parameters, the learning-rate schedule with warm-up, mixed
    precision (autocast, and a gradient scaler for fp16) and gradient clipping."""

    def __init__(self, model, config: TrainConfig, total: int):
        from transformers import get_scheduler

        self.params = [p for p in model.parameters() if p.requires_grad]
        self.max_grad_norm = config.max_grad_norm
        self.optimizer = torch.optim.AdamW(self.params, lr=config.learning_rate,
                                           weight_decay=config.weight_decay)
        self.scheduler = get_scheduler(config.schedule, self.optimizer, num_training_steps=total,
                                       num_warmup_steps=math.ceil(config.warmup_ratio * total))
        self.device = model_device(model)
        self.dtype = autocast_dtype(config.precision, self.device)
        self.scaler = torch.amp.GradScaler(self.device.type,
                                           enabled=self.dtype == torch.float16)

    def autocast(self):
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.dtype)

    def step(self) -> None:
        self.scaler.unscale_(self.optimizer)
        if self.max_grad_norm is not None:
            torch.nn.utils.clip_grad_norm_(self.params, self.max_grad_norm)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
