"""Adapter merging against LoRA matrices read back from the saved files (tiny-llama)."""

import json

import pytest
import torch
from safetensors.torch import load_file

from xlnb.models import load_model
from xlnb.train.merge import delta_gap, load_pair, merge_average, merge_deltas

PREFIX = "base_model.model."


def make_adapter(path, *, r, alpha, targets, seed, dropout=0.0):
    """A LoRA adapter on a fresh tiny-llama with random A and B (B is zero by default)."""
    from peft import LoraConfig, get_peft_model

    model, _ = load_model("tiny-llama")
    torch.manual_seed(seed)
    config = LoraConfig(r=r, lora_alpha=alpha, target_modules=targets, init_lora_weights=False,
                        lora_dropout=dropout)
    peft_model = get_peft_model(model, config)
    with torch.no_grad():
        for name, param in peft_model.named_parameters():
            if "lora_B" in name:
                param.normal_(0, 0.5)
    peft_model.save_pretrained(path)
    return path


def saved_lora(path):
    """{module: (A, B, alpha / r)} from the adapter files alone."""
    config = json.loads((path / "adapter_config.json").read_text())
    tensors = load_file(path / "adapter_model.safetensors")
    scale = config["lora_alpha"] / config["r"]
    return {key[len(PREFIX):-len(".lora_A.weight")]:
            (tensors[key], tensors[key.replace("lora_A", "lora_B")], scale)
            for key in tensors if key.endswith("lora_A.weight")}


def merged_update(peft_model, adapter):
    """dW of ``adapter`` per module, by peft's merge_and_unload minus the base weights."""
    base, _ = load_model("tiny-llama")
    peft_model.set_adapter(adapter)
    merged = peft_model.merge_and_unload()
    before = dict(base.named_modules())
    return {name: module.weight - before[name].weight
            for name, module in merged.named_modules()
            if isinstance(module, torch.nn.Linear) and name in before}


@pytest.fixture(scope="module")
def adapters(tmp_path_factory):
    root = tmp_path_factory.mktemp("adapters")
    qv = ["q_proj", "v_proj"]
    return {
        "task": make_adapter(root / "task", r=4, alpha=8, targets=qv, seed=1),
        "align": make_adapter(root / "align", r=4, alpha=8, targets=qv, seed=2),
        "align_r2": make_adapter(root / "align_r2", r=2, alpha=16, targets=qv, seed=3),
        "align_mlp": make_adapter(root / "align_mlp", r=4, alpha=8,
                                  targets=["q_proj", "up_proj"], seed=4),
        # trained with dropout (the paper's 0.1; 0.5 so a dropped input cannot go unseen)
        "task_dropout": make_adapter(root / "task_dropout", r=4, alpha=8, targets=qv, seed=5,
                                     dropout=0.5),
        "align_dropout": make_adapter(root / "align_dropout", r=4, alpha=8, targets=qv, seed=6,
                                      dropout=0.5),
    }


def pair(adapters, align="align"):
    model, _ = load_model("tiny-llama")
    return load_pair(model, adapters["task"], adapters[align])


def test_average_at_w1_is_the_task_adapter(adapters):
    peft_model = pair(adapters)
    name = merge_average(peft_model, 1.0)
    assert peft_model.active_adapter == name
    task = saved_lora(adapters["task"])
    layers = dict(peft_model.get_base_model().named_modules())
    assert len(task) == 8  # q and v of four blocks
    for module, (a, b, _) in task.items():
        assert torch.equal(layers[module].lora_A[name].weight, a)
        assert torch.equal(layers[module].lora_B[name].weight, b)


@pytest.mark.parametrize("w", [0.5, 0.9])
def test_average_is_the_average_of_the_matrices(adapters, w):
    peft_model = pair(adapters)
    name = merge_average(peft_model, w)
    task, align = saved_lora(adapters["task"]), saved_lora(adapters["align"])
    got = merged_update(peft_model, name)
    for module, (a_t, b_t, s) in task.items():
        a_a, b_a, _ = align[module]
        want = s * (w * b_t + (1 - w) * b_a) @ (w * a_t + (1 - w) * a_a)
        torch.testing.assert_close(got[module], want, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("align,w", [("align", 0.7), ("align_r2", 0.9), ("align_r2", 1.0),
                                     ("align_mlp", 0.5)])
def test_delta_merge_is_the_weighted_sum_of_updates(adapters, align, w):
    peft_model = pair(adapters, align)
    name = merge_deltas(peft_model, w)
    task, other = saved_lora(adapters["task"]), saved_lora(adapters[align])
    got = merged_update(peft_model, name)
    for module in set(task) | set(other):
        want = torch.zeros_like(got[module])
        for coef, lora in ((w, task), (1 - w, other)):
            if module in lora:
                a, b, s = lora[module]
                want += coef * s * b @ a
        torch.testing.assert_close(got[module], want, atol=1e-5, rtol=1e-5)
    untouched = [m for m in got if m not in task and m not in other]
    assert untouched and all(torch.count_nonzero(got[m]) == 0 for m in untouched)


def test_gap_between_the_two_merges(adapters):
    w = 0.7
    peft_model = pair(adapters)
    average, delta = merge_average(peft_model, w), merge_deltas(peft_model, w)
    gaps = delta_gap(peft_model, average, delta)
    task, align = saved_lora(adapters["task"]), saved_lora(adapters["align"])
    assert set(gaps) == set(task)
    for module, (a_t, b_t, s) in task.items():
        a_a, b_a, _ = align[module]
        avg = s * (w * b_t + (1 - w) * b_a) @ (w * a_t + (1 - w) * a_a)
        exact = s * (w * b_t @ a_t + (1 - w) * b_a @ a_a)
        want = (torch.linalg.norm(avg - exact) / torch.linalg.norm(exact)).item()
        assert gaps[module] == pytest.approx(want, rel=1e-4)
        assert gaps[module] > 0.05  # the average of A and B is not the average of BA
    at_one = delta_gap(peft_model, merge_average(peft_model, 1.0), merge_deltas(peft_model, 1.0))
    assert max(at_one.values()) < 1e-6


def test_average_refuses_mismatched_adapters(adapters):
    peft_model = pair(adapters, "align_r2")
    with pytest.raises(ValueError, match=r"'task' \(r=4, alpha/r=2\) and 'align' \(r=2, "
                                         r"alpha/r=8\)"):
        merge_average(peft_model, 0.9)
    peft_model = pair(adapters, "align_mlp")
    with pytest.raises(ValueError, match=r"different modules.*v_proj.*up_proj"):
        merge_average(peft_model, 0.9)


def test_bad_arguments(adapters):
    peft_model = pair(adapters)
    for w in (-0.1, 1.5, "0.9", None):
        with pytest.raises(ValueError, match="task weight"):
            merge_average(peft_model, w)
    with pytest.raises(ValueError, match="no adapter named"):
        merge_deltas(peft_model, 0.5, align="nope")
    with pytest.raises(ValueError, match="input adapter"):
        merge_deltas(peft_model, 0.5, name="task")
    with pytest.raises(ValueError, match="base model"):
        load_pair(peft_model, adapters["task"], adapters["align"])


def test_merging_again_replaces_the_adapter(adapters):
    peft_model = pair(adapters)
    first = merge_average(peft_model, 0.5, name="merged")
    assert merge_deltas(peft_model, 0.5, name="merged") == first
    assert peft_model.peft_config["merged"].r == 8  # the cat merge, not the stale average


@pytest.mark.parametrize("merge", [merge_average, merge_deltas])
def test_a_merge_evaluates_without_dropout(adapters, merge):
    """Adapters trained with LoRA dropout: the merged model's forward is the forward of the
    base weights plus the merged update (peft's merge_and_unload), every time."""
    model, _ = load_model("tiny-llama")
    peft_model = load_pair(model, adapters["task_dropout"], adapters["align_dropout"])
    name = merge(peft_model, 0.7)
    ids = torch.tensor([[1, 40, 41, 42, 43, 44, 45, 46]])
    with torch.no_grad():
        first, second = peft_model(ids).logits, peft_model(ids).logits
    assert not any(m.training for m in peft_model.modules())
    assert torch.equal(first, second)
    peft_model.set_adapter(name)
    with torch.no_grad():
        unloaded = peft_model.merge_and_unload()(ids).logits
    torch.testing.assert_close(first, unloaded, rtol=1e-4, atol=1e-5)
