"""The generation cache: a second evaluation of the same system reads the outputs back instead
of decoding, and anything that can change the text (adapter weights, prompts, budget, batch
size) decodes again; damaged files are recomputed."""

import json

import pytest
import torch

import xlnb.tasks.generations as G
from xlnb.generate import generate
from xlnb.models import load_model

PROMPTS = ["Hello there, how are you?", "a", "The quick brown fox", "猫が好きです。"]


@pytest.fixture()
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XLNB_CACHE_DIR", str(tmp_path))
    return tmp_path / "generations"


@pytest.fixture(scope="module")
def llama():
    return load_model("tiny-llama")


def no_decoding(monkeypatch):
    """Make any decoding fail, so a result can only come from the cache."""
    def refuse(*args, **kwargs):
        raise AssertionError("decoded although the outputs were cached")
    monkeypatch.setattr(G, "generate", refuse)


def test_second_call_reads_the_same_outputs(cache, llama, monkeypatch):
    model, tok = llama
    want = generate(model, tok, PROMPTS, max_new_tokens=6, batch_size=2)
    first = G.cached_generate(model, tok, PROMPTS, max_new_tokens=6, batch_size=2)
    assert first == want
    files = list(cache.glob("*.json"))
    assert len(files) == 1 and json.loads(files[0].read_text())["outputs"] == want
    no_decoding(monkeypatch)
    assert G.cached_generate(model, tok, PROMPTS, max_new_tokens=6, batch_size=2) == want


@pytest.mark.parametrize("change", ["prompts", "max_new_tokens", "batch_size"])
def test_settings_are_part_of_the_key(cache, llama, monkeypatch, change):
    model, tok = llama
    G.cached_generate(model, tok, PROMPTS, max_new_tokens=6, batch_size=2)
    args = dict(prompts=PROMPTS, max_new_tokens=6, batch_size=2)
    args[change] = {"prompts": PROMPTS[:3] + ["another"], "max_new_tokens": 5,
                    "batch_size": 3}[change]
    no_decoding(monkeypatch)
    with pytest.raises(AssertionError, match="decoded although"):
        G.cached_generate(model, tok, args.pop("prompts"), **args)


def test_a_stop_test_is_part_of_the_key(cache, llama, monkeypatch):
    from xlnb.tasks.json_ner import answer_complete

    model, tok = llama
    G.cached_generate(model, tok, PROMPTS, max_new_tokens=6, batch_size=2)
    no_decoding(monkeypatch)
    with pytest.raises(AssertionError, match="decoded although"):
        G.cached_generate(model, tok, PROMPTS, max_new_tokens=6, batch_size=2,
                          stop_when=answer_complete)


def test_adapter_weights_are_part_of_the_key(cache, monkeypatch):
    from peft import LoraConfig, get_peft_model

    model, tok = load_model("tiny-llama")
    torch.manual_seed(1)
    peft_model = get_peft_model(model, LoraConfig(r=4, target_modules=["q_proj", "v_proj"],
                                                  init_lora_weights=False)).eval()
    got = G.cached_generate(peft_model, tok, PROMPTS, max_new_tokens=6)
    assert got == generate(peft_model, tok, PROMPTS, max_new_tokens=6)
    with torch.no_grad():  # another fine-tuned adapter on the same base model
        peft_model.base_model.model.model.layers[0].self_attn.q_proj.lora_B["default"].weight.mul_(3)
    key_after = G.generation_key(peft_model, tok, PROMPTS, max_new_tokens=6, batch_size=16)
    assert not (cache / f"{key_after}.json").exists()
    monkeypatch.setattr(G, "generate", lambda *a, **k: ["decoded"] * len(PROMPTS))
    assert G.cached_generate(peft_model, tok, PROMPTS, max_new_tokens=6) == ["decoded"] * 4


@pytest.mark.parametrize("damage", ["truncated", "short", "foreign"])
def test_damaged_file_is_decoded_again(cache, llama, monkeypatch, damage):
    model, tok = llama
    want = G.cached_generate(model, tok, PROMPTS, max_new_tokens=6)
    path = next(cache.glob("*.json"))
    text = path.read_text()
    path.write_text({"truncated": text[:len(text) // 2],
                     "short": json.dumps(dict(key=path.stem, outputs=want[:2])),
                     "foreign": json.dumps(dict(key="another", outputs=want))}[damage])
    calls = []
    monkeypatch.setattr(G, "generate", lambda *a, **k: calls.append(1) or generate(*a, **k))
    assert G.cached_generate(model, tok, PROMPTS, max_new_tokens=6) == want
    assert calls == [1]
    assert json.loads(path.read_text())["outputs"] == want


def test_use_cache_false_writes_nothing(cache, llama):
    model, tok = llama
    got = G.cached_generate(model, tok, PROMPTS, max_new_tokens=4, use_cache=False)
    assert got == generate(model, tok, PROMPTS, max_new_tokens=4)
    assert not cache.exists() or not list(cache.iterdir())
