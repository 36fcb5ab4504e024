"""LoRA / QLoRA setup: trainable-parameter count against r * (d_in + d_out), a 4-bit step."""

import pytest
import torch

from xlnb.models import load_model
from xlnb.train import TrainConfig, add_lora, lora_parameter_count
from xlnb.train.lora import target_modules, trainable_parameters
from xlnb.train.objectives import align_loss, task_loss


def test_llama3_8b_formula_gives_the_papers_count():
    from transformers import LlamaConfig, Qwen2Config

    # Llama 3 8B: d = 4096, 8 KV heads of 128 -> 1024, FFN 14336, 32 blocks; r = 8.
    per_block = 8 * (2 * (4096 + 4096) + 2 * (4096 + 1024) + 3 * (4096 + 14336))
    assert per_block * 32 == 20_971_520  # MidAlign App. D.1
    llama = LlamaConfig(hidden_size=4096, intermediate_size=14336, num_hidden_layers=32,
                        num_attention_heads=32, num_key_value_heads=8)
    assert lora_parameter_count(llama, r=8) == 20_971_520
    # Qwen 2.5 7B: d = 3584, 4 KV heads of 128 -> 512, FFN 18944, 28 blocks.
    qwen = Qwen2Config(hidden_size=3584, intermediate_size=18944, num_hidden_layers=28,
                       num_attention_heads=28, num_key_value_heads=4)
    assert lora_parameter_count(qwen, r=8) == 20_185_088  # App. D.1


@pytest.mark.parametrize("name", ["tiny-llama", "tiny-qwen2", "tiny-gemma3"])
def test_tiny_model_count(name):
    model, _ = load_model(name, device="cpu")
    peft_model = add_lora(model, TrainConfig())
    # d = 64, 4 heads of 16, 2 KV heads -> 32, FFN 128, 4 blocks, r = 8, by hand:
    by_hand = 4 * 8 * ((64 + 64) + 2 * (64 + 32) + (64 + 64) + 3 * (64 + 128))
    assert trainable_parameters(peft_model) == by_hand == 32_768
    assert lora_parameter_count(model.config, r=8) == by_hand
    names = [n for n, p in peft_model.named_parameters() if p.requires_grad]
    assert len(names) == 4 * 7 * 2 and all("lora_" in n for n in names)


def test_subset_of_targets():
    model, _ = load_model("tiny-llama", device="cpu")
    peft_model = add_lora(model, TrainConfig(lora_r=4, lora_targets=("q", "v")))
    assert trainable_parameters(peft_model) == 4 * 4 * ((64 + 64) + (64 + 32))
    assert lora_parameter_count(model.config, r=4, targets=("q", "v")) == 4 * 4 * (128 + 96)


def test_architecture_without_the_projections_is_named():
    from transformers import AutoModelForCausalLM, Phi3Config

    phi3 = AutoModelForCausalLM.from_config(Phi3Config(
        hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
        vocab_size=300, pad_token_id=0))
    with pytest.raises(ValueError, match="phi3 blocks have no module.*q_proj"):
        target_modules(phi3, TrainConfig().lora_targets)


def test_4bit_flag_must_match_the_model():
    model, _ = load_model("tiny-llama", device="cpu")
    with pytest.raises(ValueError, match="load_in_4bit=True but the model is not quantized"):
        add_lora(model, TrainConfig(load_in_4bit=True))


@pytest.mark.slow
def test_qlora_step_on_cpu():
    pytest.importorskip("bitsandbytes")
    model, tokenizer = load_model("tiny-llama", device="cpu", load_in_4bit=True)
    assert any(type(p).__name__ == "Params4bit" for p in model.parameters())
    peft_model = add_lora(model, TrainConfig(load_in_4bit=True, gradient_checkpointing=True))
    peft_model.train()
    trainable = {n: p for n, p in peft_model.named_parameters() if p.requires_grad}
    assert trainable and all("lora_" in n for n in trainable)
    before = {n: p.detach().clone() for n, p in trainable.items()}
    optimizer = torch.optim.AdamW(trainable.values(), lr=1e-2)
    ids = tokenizer(["ein Hund", "eine Katze", "a dog", "a cat"], padding=True,
                    return_tensors="pt")
    labels = ids["input_ids"].masked_fill(ids["attention_mask"] == 0, -100)
    loss = task_loss(peft_model, ids["input_ids"], ids["attention_mask"], labels)
    batch = {**ids, "special_mask": torch.zeros_like(ids["input_ids"])}
    loss = loss + align_loss(peft_model, batch, 2, TrainConfig())
    assert torch.isfinite(loss)
    loss.backward()
    optimizer.step()
    changed = [n for n, p in trainable.items() if not torch.equal(p, before[n])]
    assert any("lora_B" in n for n in changed)
