"""alignment_states: equal to the masked mean of a full forward's hidden_states, with
gradients through the LoRA adapters, and no block after the aligned one ever runs."""

import pytest
import torch

from xlnb.arch import blocks_of
from xlnb.models import load_model
from xlnb.train import TrainConfig, add_lora, alignment_states, resolve_layer


def lora_model(name="tiny-llama", **config):
    model, tokenizer = load_model(name, device="cpu")
    peft_model = add_lora(model, TrainConfig(lora_dropout=0.0, **config))
    gen = torch.Generator().manual_seed(3)
    with torch.no_grad():  # lora_B starts at zero: make the adapters change the states
        for n, p in peft_model.named_parameters():
            if "lora_B" in n:
                p.copy_(torch.randn(p.shape, generator=gen) * 0.5)
    return peft_model, tokenizer


_MODELS = {}


def cached_lora_model(name):
    """One adapted model per architecture for the tests that only read states."""
    if name not in _MODELS:
        _MODELS[name] = lora_model(name)
    return _MODELS[name]


@pytest.fixture
def llama():
    return cached_lora_model("tiny-llama")


def encode(tokenizer, sentences):
    enc = tokenizer(sentences, padding=True, return_tensors="pt",
                    return_special_tokens_mask=True)
    return enc["input_ids"], enc["attention_mask"], enc["special_tokens_mask"]


SENTENCES = ["a dog", "the cat sleeps on the mat", "Der Hund schläft."]


def reference(model, ids, mask, index, pool_mask=None):
    """Masked mean of output_hidden_states[index] of a full forward, by an explicit loop."""
    with torch.no_grad():
        hidden = model(input_ids=ids, attention_mask=mask, output_hidden_states=True
                       ).hidden_states[index]
    pool_mask = mask if pool_mask is None else pool_mask
    rows = [hidden[b][pool_mask[b].bool()].mean(dim=0) for b in range(len(ids))]
    return torch.stack(rows)


@pytest.mark.parametrize("name", ["tiny-llama", "tiny-gemma3"])
@pytest.mark.parametrize("layer,index", [(0, 0), (1, 1), ("bottom", 1), ("middle", 2),
                                         ("top", 4)])
def test_equals_masked_mean_of_full_forward(name, layer, index):
    model, tokenizer = cached_lora_model(name)
    ids, mask, _ = encode(tokenizer, SENTENCES)
    assert resolve_layer(model, layer) == index
    got = alignment_states(model, ids, mask, layer)
    assert got.shape == (3, 64)
    torch.testing.assert_close(got, reference(model, ids, mask, index), rtol=1e-5, atol=1e-5)


def test_adapters_apply(llama):
    model, tokenizer = llama
    ids, mask, _ = encode(tokenizer, SENTENCES)
    with_lora = alignment_states(model, ids, mask, 2)
    with model.disable_adapter():
        without = alignment_states(model, ids, mask, 2)
    assert (with_lora - without).abs().max() > 1e-3


def test_exclude_special(llama):
    model, tokenizer = llama
    ids, mask, special = encode(tokenizer, SENTENCES)
    assert special[:, 0].eq(1).all()  # BOS
    got = alignment_states(model, ids, mask, 2, exclude_special=True, special_mask=special)
    keep = mask * (1 - special)
    torch.testing.assert_close(got, reference(model, ids, mask, 2, keep), rtol=1e-5, atol=1e-5)
    # without a mask: the config's BOS / EOS / pad ids, the same tokens here
    torch.testing.assert_close(alignment_states(model, ids, mask, 2, exclude_special=True), got)


@pytest.mark.parametrize("checkpointing", [False, True])
def test_later_blocks_and_head_never_run_and_gradients_flow(checkpointing):
    model, tokenizer = lora_model(gradient_checkpointing=checkpointing)
    model.train()
    ids, mask, _ = encode(tokenizer, SENTENCES)
    calls = {"block2": 0, "block3": 0, "block4": 0, "head": 0}
    blocks = blocks_of(model)
    hooks = [blocks[1].register_forward_hook(lambda *a: calls.__setitem__("block2", calls["block2"] + 1)),
             blocks[2].register_forward_hook(lambda *a: calls.__setitem__("block3", calls["block3"] + 1)),
             blocks[3].register_forward_hook(lambda *a: calls.__setitem__("block4", calls["block4"] + 1)),
             model.get_output_embeddings().register_forward_hook(
                 lambda *a: calls.__setitem__("head", calls["head"] + 1))]
    try:
        states = alignment_states(model, ids, mask, 2)  # output of block 2 (1-based)
        states.pow(2).sum().backward()
    finally:
        for h in hooks:
            h.remove()
    assert calls == {"block2": 1, "block3": 0, "block4": 0, "head": 0}
    grads = {n: p.grad for n, p in model.named_parameters() if p.requires_grad}
    assert any(g is not None and g.abs().sum() > 0 for n, g in grads.items()
               if "layers.1." in n)
    assert all(g is None or g.abs().sum() == 0 for n, g in grads.items()
               if "layers.2." in n or "layers.3." in n)


@pytest.mark.parametrize("layer,error", [(5, "outside the model|out of range"),
                                         (-1, "outside the model|out of range"),
                                         ("middel", "unknown layer name 'middel'")])
def test_bad_layer(llama, layer, error):
    model, tokenizer = llama
    ids, mask, _ = encode(tokenizer, SENTENCES)
    with pytest.raises(ValueError, match=error):
        alignment_states(model, ids, mask, layer)
