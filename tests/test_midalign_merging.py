"""The Table 6 merge sweep on a one-block model whose LoRA matrices are set by hand: the
gap between the two merge methods and the variant that runs, against values worked out on
paper."""

import math

import pandas as pd
import pytest
import torch

from xlnb.midalign import merging

# dW_task = B_t A_t = [[1, 0], [0, 0]], dW_align = B_a A_a = [[0, 0], [0, 1]] (alpha = r = 1).
A_TASK, B_TASK = [[1.0, 0.0]], [[1.0], [0.0]]
A_ALIGN, B_ALIGN = [[0.0, 1.0]], [[0.0], [1.0]]


class Attention(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.q_proj = torch.nn.Linear(2, 2, bias=False)


class Block(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.self_attn = Attention()


class OneBlock(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = torch.nn.ModuleList([Block()])
        torch.nn.init.zeros_(self.layers[0].self_attn.q_proj.weight)  # output = dW x

    def forward(self, x):
        return self.layers[0].self_attn.q_proj(x)


@pytest.fixture
def pair():
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(r=1, lora_alpha=1, lora_dropout=0.0, target_modules=["q_proj"],
                        init_lora_weights=False)
    model = get_peft_model(OneBlock(), config, adapter_name="task")
    model.add_adapter("align", config)
    layer = model.get_base_model().layers[0].self_attn.q_proj
    with torch.no_grad():
        for name, a, b in (("task", A_TASK, B_TASK), ("align", A_ALIGN, B_ALIGN)):
            layer.lora_A[name].weight.copy_(torch.tensor(a))
            layer.lora_B[name].weight.copy_(torch.tensor(b))
    return model.eval()


def test_module_parts():
    assert merging.module_parts("model.layers.3.self_attn.q_proj") == (4, "q")
    assert merging.module_parts("model.language_model.layers.17.mlp.down_proj") == (18, "down")
    with pytest.raises(ValueError, match="lm_head"):
        merging.module_parts("lm_head")


def test_gap_between_average_and_delta_by_hand(pair):
    gaps = merging.gap_table(pair, [0.5, 0.9, 1.0])
    assert list(gaps.module) == ["layers.0.self_attn.q_proj"] * 3
    assert (gaps.block == 1).all() and (gaps.proj == "q").all()
    got = dict(zip(gaps.w, gaps.gap))
    # w = 0.5: average A = [.5 .5], B = [.5 .5]^T -> BA = .25 everywhere; delta = diag(.5, .5);
    # difference [[.25 -.25] [-.25 .25]] -> 0.5 over sqrt(0.5)
    assert got[0.5] == pytest.approx(0.5 / math.sqrt(0.5))
    # w = 0.9: BA = [[.81 .09] [.09 .01]], delta = diag(.9, .1): 0.18 over sqrt(0.82)
    assert got[0.9] == pytest.approx(0.18 / math.sqrt(0.82))
    assert got[1.0] == pytest.approx(0.0, abs=1e-12)  # both are the task adapter
    summary = merging.gap_summary(gaps)
    assert summary.set_index("w")["mean"][0.5] == pytest.approx(got[0.5])
    assert (summary.n_modules == 1).all()


def test_the_active_variant_is_what_runs(pair):
    x = torch.tensor([[1.0, 0.0]])
    seen = {}
    for system, method, w in merging.merged_variants(pair, [0.9, 0.5]):
        seen[system] = (method, w, pair(x).detach().squeeze(0).tolist())
    assert list(seen) == ["sft", "align", "merge average w=0.5", "merge delta w=0.5",
                          "merge average w=0.9", "merge delta w=0.9"]
    # dW x for x = e1: the first column of each update
    assert seen["sft"][2] == pytest.approx([1.0, 0.0])
    assert seen["align"][2] == pytest.approx([0.0, 0.0])
    assert seen["merge delta w=0.5"][2] == pytest.approx([0.5, 0.0])
    assert seen["merge average w=0.5"][2] == pytest.approx([0.25, 0.25])
    assert seen["merge average w=0.9"][2] == pytest.approx([0.81, 0.09])
    assert seen["merge delta w=0.9"][:2] == ("delta", 0.9)


def test_bad_method_and_weights_are_named(pair):
    with pytest.raises(ValueError, match="'mean'"):
        merging.apply_merge(pair, "mean", 0.5)
    with pytest.raises(ValueError, match="weights"):
        list(merging.merged_variants(pair, []))
    with pytest.raises(ValueError, match="1.5"):
        merging.apply_merge(pair, "delta", 1.5)


def test_sweep_table_labels_systems():
    scores = pd.DataFrame({"system": ["sft", "merge delta w=0.7", "sft+align"],
                           "value": [0.1, 0.2, 0.3]})
    out = merging.sweep_table(scores, {"sft": ("task", 1.0), "merge delta w=0.7": ("delta", 0.7)})
    assert out.method.tolist()[:2] == ["task", "delta"] and pd.isna(out.method.iloc[2])
    assert out.w.tolist()[:2] == [1.0, 0.7] and math.isnan(out.w.iloc[2])
