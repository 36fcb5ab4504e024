"""Merging a task adapter with a separately trained alignment adapter (MidAlign §6.3, App. D.3).

The paper merges "by averaging their weights" with weight w on the task adapter, searched
over {0.5, 0.7, 0.9} on the MASSIVE dev set (0.9 chosen). Two readings, both here:

- :func:`merge_average` -- the paper's: every LoRA matrix averaged, ``A = w A_t + (1-w) A_a``
  and ``B = w B_t + (1-w) B_a``. Its weight update ``s B A`` is *not* the average of the two
  updates: it adds the cross terms ``w(1-w)(B_t A_a + B_a A_t)`` and shrinks each adapter's own
  term by w^2 and (1-w)^2.
- :func:`merge_deltas` -- the exact combination of weight updates,
  ``dW = w dW_task + (1-w) dW_align`` with ``dW = s B A`` (s = alpha / r), through peft's
  ``add_weighted_adapter(combination_type="cat")``: it stacks ``w s_t A_t`` over
  ``(1-w) s_a A_a`` and ``B_t`` beside ``B_a`` (rank r_t + r_a, scaling 1), so
  ``B A = w s_t B_t A_t + (1-w) s_a B_a A_a`` for any two ranks; a module adapted by only one
  adapter gets that adapter's weighted term. Checked against the formula after every merge.

:func:`delta_gap` measures, per module, how far two adapters' updates differ.
Both merges add an adapter to a peft model holding the two (:func:`load_pair`) and make it
the active one, so a weight sweep loads the base model and the adapters once.
"""

from __future__ import annotations

import copy
import math

import torch

TASK, ALIGN = "task", "align"


def load_pair(model, task_path, align_path):
    """A ``PeftModel`` of ``model`` (a base model) holding the task adapter as ``"task"`` and
    the alignment adapter as ``"align"`` (each checked to fit, :func:`xlnb.train.load_adapter`)."""
    from xlnb.train.adapters import load_adapter

    if hasattr(model, "peft_config"):
        raise ValueError("pass the base model: it already has peft adapters "
                         f"({', '.join(model.peft_config)})")
    peft_model = load_adapter(model, task_path, adapter_name=TASK)
    load_adapter(peft_model, align_path, adapter_name=ALIGN)
    return peft_model.eval()


def merge_average(peft_model, w: float, *, task: str = TASK, align: str = ALIGN,
                  name: str | None = None) -> str:
    """Add and activate the paper's merge: each LoRA matrix averaged with weight ``w`` on
    ``task`` (MidAlign §6.3). Needs the same modules, ranks and scalings (alpha / r) in both
    adapters; raises ValueError naming both otherwise. Returns the new adapter's name
    (default ``average_w0_9`` for w = 0.9; an existing adapter of that name is replaced)."""
    w = _check_weight(w)
    _check_supported(peft_model, task, align)
    layers = _lora_layers(peft_model)
    _check_same_shapes(peft_model, layers, task, align)
    name = _fresh_name(peft_model, name or _default_name("average", w), task, align)
    peft_model.add_adapter(name, copy.deepcopy(peft_model.peft_config[task]))
    with torch.no_grad():
        for layer in _lora_layers(peft_model).values():
            for side in (layer.lora_A, layer.lora_B):
                side[name].weight.copy_(w * side[task].weight + (1 - w) * side[align].weight)
    _activate(peft_model, name)
    return name


def merge_deltas(peft_model, w: float, *, task: str = TASK, align: str = ALIGN,
                 name: str | None = None) -> str:
    """Add and activate ``w dW_task + (1-w) dW_align`` exactly (peft ``add_weighted_adapter``,
    ``combination_type="cat"``; module docstring). Works across ranks, scalings and target
    modules. Returns the new adapter's name (default ``delta_w0_9`` for w = 0.9; an existing adapter of
    that name is replaced); raises RuntimeError if peft's result is not that sum."""
    w = _check_weight(w)
    _check_supported(peft_model, task, align)
    name = _fresh_name(peft_model, name or _default_name("delta", w), task, align)
    peft_model.add_weighted_adapter([task, align], [w, 1 - w], name, combination_type="cat")
    _activate(peft_model, name)
    for module, layer in _lora_layers(peft_model).items():
        got = layer.get_delta_weight(name)
        want = sum((c * layer.get_delta_weight(a) for a, c in ((task, w), (align, 1 - w))
                    if a in layer.lora_A), torch.zeros_like(got))
        gap = _relative_gap(got, want)
        if gap > 1e-4:
            raise RuntimeError(f"peft's 'cat' merge of {task!r} and {align!r} differs from "
                               f"w dW_task + (1-w) dW_align at {module} (relative {gap:.2e}); "
                               "this peft version combines adapters differently")
    return name


def delta_weights(peft_model, adapter: str) -> dict[str, torch.Tensor]:
    """Per adapted module (``model.layers.0.self_attn.q_proj``...), the weight update
    ``s B A`` of ``adapter``: ``[out_features, in_features]`` (peft's ``get_delta_weight``)."""
    _check_names(peft_model, adapter)
    with torch.no_grad():
        return {module: layer.get_delta_weight(adapter).float()
                for module, layer in _lora_layers(peft_model).items()
                if adapter in layer.lora_A}


def delta_gap(peft_model, adapter: str, reference: str) -> dict[str, float]:
    """Per module, ``||dW_adapter - dW_reference||_F / ||dW_reference||_F`` (0 = same update;
    a module only one of them adapts counts its missing update as zero). E.g.
    ``delta_gap(m, merge_average(m, w), merge_deltas(m, w))`` is how far the paper's
    parameter average lands from the average of the updates."""
    ours, ref = delta_weights(peft_model, adapter), delta_weights(peft_model, reference)
    gaps = {}
    for module in sorted(set(ours) | set(ref)):
        mine, theirs = ours.get(module), ref.get(module)
        mine = torch.zeros_like(theirs) if mine is None else mine
        gaps[module] = _relative_gap(mine, torch.zeros_like(mine) if theirs is None else theirs)
    return gaps


def _relative_gap(x: torch.Tensor, ref: torch.Tensor) -> float:
    diff = torch.linalg.norm((x - ref).double()).item()
    norm = torch.linalg.norm(ref.double()).item()
    return diff / norm if norm > 0 else (0.0 if diff == 0 else math.inf)


def _lora_layers(peft_model) -> dict:
    """Module name (inside the base model) -> peft LoRA layer."""
    from peft.tuners.lora import LoraLayer

    return {name: module for name, module in peft_model.get_base_model().named_modules()
            if isinstance(module, LoraLayer)}


def _check_weight(w) -> float:
    if isinstance(w, bool) or not isinstance(w, (int, float)) or not 0 <= w <= 1:
        raise ValueError(f"the task weight w must be a number in [0, 1], got {w!r}")
    return float(w)


def _check_names(peft_model, *names) -> None:
    if not hasattr(peft_model, "peft_config"):
        raise TypeError("expected a peft model holding the adapters (see load_pair), got "
                        f"{type(peft_model).__name__}")
    missing = [n for n in names if n not in peft_model.peft_config]
    if missing:
        raise ValueError(f"no adapter named {missing}; the model has "
                         f"{', '.join(peft_model.peft_config)}")


def _check_supported(peft_model, task: str, align: str) -> None:
    """Plain LoRA only: peft's weighted merges silently mis-scale DoRA, LoRA biases and rsLoRA
    (peft issue #3761, PR #3449), and the average of two such adapters is not defined here."""
    _check_names(peft_model, task, align)
    for adapter in (task, align):
        config = peft_model.peft_config[adapter]
        extras = [f for f in ("use_dora", "lora_bias", "use_rslora", "modules_to_save")
                  if getattr(config, f, None)]
        if extras:
            raise ValueError(f"adapter {adapter!r} uses {', '.join(extras)}; merging supports "
                             "plain LoRA adapters only")


def _check_same_shapes(peft_model, layers: dict, task: str, align: str) -> None:
    """The average needs each module in both adapters, with equal matrix shapes and scaling."""
    only = {a: sorted(m for m, layer in layers.items() if a in layer.lora_A and b not in
                      layer.lora_A) for a, b in ((task, align), (align, task))}
    if only[task] or only[align]:
        raise ValueError(f"cannot average adapters {task!r} and {align!r}: they adapt different "
                         f"modules (only {task!r}: {only[task][:3]}..., only {align!r}: "
                         f"{only[align][:3]}...); merge_deltas handles this")
    for module, layer in layers.items():
        if task not in layer.lora_A:
            continue
        r_t, r_a = layer.r[task], layer.r[align]
        s_t, s_a = layer.scaling[task], layer.scaling[align]
        if r_t != r_a or not math.isclose(s_t, s_a):
            raise ValueError(f"cannot average adapters {task!r} (r={r_t}, alpha/r={s_t:g}) and "
                             f"{align!r} (r={r_a}, alpha/r={s_a:g}) at {module}: the parameter "
                             "average needs equal ranks and scalings; merge_deltas handles this")


def _default_name(method: str, w: float) -> str:
    return f"{method}_w{w:g}".replace(".", "_")  # module names cannot hold a dot


def _fresh_name(peft_model, name: str, *inputs: str) -> str:
    """``name``, after removing an adapter already called so (peft would keep the stale one)."""
    if not isinstance(name, str) or not name or "." in name:
        raise ValueError(f"adapter name must be a non-empty string without dots, got {name!r}")
    if name in inputs:
        raise ValueError(f"{name!r} is the name of an input adapter; choose another")
    if name in peft_model.peft_config:
        peft_model.delete_adapter(name)
    return name


def _activate(peft_model, name: str) -> None:
    """Make the merged adapter the active one, frozen and in eval mode: peft builds a new
    adapter's LoRA dropout modules in training mode whatever the model's mode, so without
    ``eval()`` every forward of the merge would drop inputs at random."""
    peft_model.set_adapter(name)
    for param_name, param in peft_model.named_parameters():
        if f".{name}." in param_name:
            param.requires_grad_(False)  # a merge is for evaluation, not further training
    peft_model.eval()


__all__ = ["delta_gap", "delta_weights", "load_pair", "merge_average", "merge_deltas"]
