"""MidAlign training (§3, App. D.1): the contrastive alignment loss at a layer, LoRA / QLoRA
fine-tuning that alternates task and alignment micro-batches, checkpoints that resume, and a
cache of trained adapters that notebooks share.

A notebook trains (or reuses) an adapter and loads it::

    from xlnb.train import TrainConfig, trained_adapter, load_trained
    config = TrainConfig(mode="joint", layer="middle", max_steps=200)
    path = trained_adapter("gemma-3-270m", config, task_data=train, dev_task_data=dev,
                           pairs=pairs, data_key={"task": "slot_filling", "n": 1000})
    model, tokenizer = load_trained("gemma-3-270m", path)
"""

from xlnb.train.adapters import load_adapter, load_trained, trained_adapter
from xlnb.train.config import TrainConfig, config_from_params
from xlnb.train.contrastive import contrastive_loss
from xlnb.train.lora import add_lora, lora_parameter_count
from xlnb.train.states import alignment_states, resolve_layer
from xlnb.train.trainer import TrainResult, train

__all__ = ["TrainConfig", "TrainResult", "add_lora", "alignment_states", "config_from_params",
           "contrastive_loss",
           "load_adapter", "load_trained", "lora_parameter_count", "resolve_layer", "train",
           "trained_adapter"]
