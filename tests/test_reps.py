"""sentence_reps / neuron_states against independent computations on tiny models."""

import pytest
import torch

from xlnb.models import load_model
from xlnb.reps import neuron_states, sentence_reps

SENTENCES = ["Hello world.", "Der Hund schläft unter dem Tisch, weil es regnet.",
             "猫が好きです。", "Привет", "A much longer sentence that needs plenty of padding "
             "for the others in the batch to line up."]


# Families of the paper profiles' models without a built-in alias (Mistral 7B and OLMo 2
# in NeuronXA Tables 8-10), built here the way the aliases are: same sizes, seeded.
OTHER_FAMILIES = {"mistral": "MistralConfig", "olmo2": "Olmo2Config"}


def family_model(family: str):
    import transformers

    from xlnb import models

    _, tokenizer = load_model("tiny-llama")  # the byte tokenizer
    vocab = {"vocab_size": len(tokenizer), "bos_token_id": 1, "eos_token_id": 2,
             "pad_token_id": 0}
    config = getattr(transformers, OTHER_FAMILIES[family])(**models._TINY, **vocab)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = transformers.AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    return model.eval(), tokenizer


@pytest.fixture(scope="module",
                params=["tiny-llama", "tiny-qwen2", "tiny-gemma3", *OTHER_FAMILIES])
def tiny(request):
    if request.param in OTHER_FAMILIES:
        return family_model(request.param)
    return load_model(request.param)


def decoder(model):
    return model.get_base_model().model if hasattr(model, "get_base_model") else model.model


def hf_hidden_states(model, tokenizer, sentence):
    """One sentence, no padding, through the full CausalLM with output_hidden_states."""
    enc = tokenizer([sentence], return_tensors="pt")
    with torch.no_grad():
        out = model(**enc, output_hidden_states=True)
    return [h[0] for h in out.hidden_states]  # each [T, d]


def test_matches_hidden_states_unbatched(tiny):
    model, tok = tiny
    reps = sentence_reps(model, tok, SENTENCES, pooling="mean", batch_size=8, use_cache=False)
    n_layers = model.config.num_hidden_layers
    assert reps.shape == (n_layers + 1, len(SENTENCES), model.config.hidden_size)
    for j, sentence in enumerate(SENTENCES):
        states = hf_hidden_states(model, tok, sentence)
        for i in range(n_layers + 1):  # the top included: hidden_states[-1], final norm applied
            torch.testing.assert_close(reps[i, j], states[i].mean(0), atol=1e-4, rtol=1e-4)


def test_top_layer_raw_block_output_on_request(tiny):
    model, tok = tiny
    seen = []
    hook = model.model.layers[-1].register_forward_hook(
        lambda m, a, out: seen.append(out[0] if isinstance(out, tuple) else out))
    try:
        with torch.no_grad():
            model(**tok([SENTENCES[1]], return_tensors="pt"))
    finally:
        hook.remove()
    n = model.config.num_hidden_layers
    raw = sentence_reps(model, tok, [SENTENCES[1]], layers=[n - 1, n], pooling="last",
                        final_norm=False, use_cache=False)
    normed = sentence_reps(model, tok, [SENTENCES[1]], layers=[n - 1, "top"], pooling="last",
                           use_cache=False)
    torch.testing.assert_close(raw[1, 0], seen[0][0, -1], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(raw[0], normed[0])  # only the top index depends on final_norm
    assert (raw[1] - normed[1]).abs().max() > 1e-2


@pytest.mark.parametrize("side", ["right", "left"])
@pytest.mark.parametrize("pooling", ["mean", "weighted", "last"])
def test_padding_invariance(tiny, side, pooling):
    model, tok = tiny
    tok.padding_side = side
    try:
        batched = sentence_reps(model, tok, SENTENCES, pooling=pooling, batch_size=5,
                                use_cache=False)
        alone = sentence_reps(model, tok, SENTENCES, pooling=pooling, batch_size=1,
                              use_cache=False)
        nas_b = neuron_states(model, tok, SENTENCES, kind="nav", batch_size=5, use_cache=False)
        nas_a = neuron_states(model, tok, SENTENCES, kind="nav", batch_size=1, use_cache=False)
    finally:
        tok.padding_side = "right"
    torch.testing.assert_close(batched, alone, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(nas_b, nas_a, atol=1e-4, rtol=1e-4)


def manual_neuron_states(model, tok, sentence, block, kind, skip=0):
    """act_fn(gate_proj(x)) of block ``block`` (1-based: module ``model.layers[block - 1]``)
    from the MLP's own input, weighted-pooled by a loop; ``skip`` leading soft tokens."""
    inputs = []
    mlp = decoder(model).layers[block - 1].mlp
    hook = mlp.register_forward_hook(lambda m, a, out: inputs.append(a[0]))
    try:
        with torch.no_grad():
            model(**tok([sentence], return_tensors="pt"))
    finally:
        hook.remove()
    act = mlp.act_fn(mlp.gate_proj(inputs[0][0, skip:]))  # [T, d_ff]
    state = (act > 0).float() if kind == "nas" else act.abs()
    T = state.shape[0]
    return sum(state[t] * (t + 1) for t in range(T)) / (T * (T + 1) / 2)


@pytest.mark.parametrize("kind", ["nas", "nav"])
def test_neuron_states_match_manual(tiny, kind):
    model, tok = tiny
    got = neuron_states(model, tok, SENTENCES[:3], kind=kind, layers=[1, 3], use_cache=False)
    every = neuron_states(model, tok, SENTENCES[:3], kind=kind, use_cache=False)
    n = model.config.num_hidden_layers
    assert got.shape == (2, 3, model.config.intermediate_size) and every.shape[0] == n
    for j, sentence in enumerate(SENTENCES[:3]):
        for li, block in enumerate([1, 3]):
            want = manual_neuron_states(model, tok, sentence, block, kind)
            torch.testing.assert_close(got[li, j], want, atol=1e-5, rtol=1e-4)
        # default: all blocks 1..n, row r = block r + 1
        want = manual_neuron_states(model, tok, sentence, n, kind)
        torch.testing.assert_close(every[n - 1, j], want, atol=1e-5, rtol=1e-4)
    if kind == "nas":
        assert got.min() >= 0 and got.max() <= 1 + 1e-6


def test_exclude_special_drops_bos():
    model, tok = load_model("tiny-llama")
    with_bos = sentence_reps(model, tok, SENTENCES, layers=[2], use_cache=False)
    without = sentence_reps(model, tok, SENTENCES, layers=[2], exclude_special=True,
                            use_cache=False)
    states = hf_hidden_states(model, tok, SENTENCES[0])
    torch.testing.assert_close(without[0, 0], states[2][1:].mean(0), atol=1e-4, rtol=1e-4)
    assert not torch.allclose(with_bos, without)


def test_stops_after_deepest_layer():
    model, tok = load_model("tiny-llama")
    calls = []
    hook = model.model.layers[3].register_forward_hook(lambda *a: calls.append(1))
    head = model.lm_head.register_forward_hook(lambda *a: calls.append(2))
    try:
        sentence_reps(model, tok, SENTENCES, layers=[0, 2], use_cache=False)
        neuron_states(model, tok, SENTENCES, layers=[1, 3], use_cache=False)  # block 4 = [3]
    finally:
        hook.remove()
        head.remove()
    assert calls == []


def test_cache_reuse_and_corruption(monkeypatch):
    import xlnb.reps as reps_mod
    from xlnb import cache

    model, tok = load_model("tiny-qwen2")
    first = sentence_reps(model, tok, SENTENCES, layers=[1, 3])
    files = list((cache.cache_dir() / "reps").glob("*.safetensors"))
    assert files and not list((cache.cache_dir() / "reps").glob("*.tmp"))

    def boom(*a, **k):
        raise AssertionError("the model ran although the result was cached")

    monkeypatch.setattr(reps_mod, "run_model", boom)
    torch.testing.assert_close(sentence_reps(model, tok, SENTENCES, layers=[1, 3]), first)
    monkeypatch.undo()
    for f in files:  # truncate: a later run must notice and recompute
        f.write_bytes(f.read_bytes()[:100])
    torch.testing.assert_close(sentence_reps(model, tok, SENTENCES, layers=[1, 3]), first)


def test_rejects_bad_input():
    model, tok = load_model("tiny-llama")
    with pytest.raises(ValueError, match="out of range"):
        sentence_reps(model, tok, SENTENCES, layers=[5])
    with pytest.raises(ValueError, match="out of range"):
        neuron_states(model, tok, SENTENCES, layers=[5])
    with pytest.raises(ValueError, match="block number 0 out of range"):
        neuron_states(model, tok, SENTENCES, layers=[0])
    with pytest.raises(ValueError, match="'center'"):
        sentence_reps(model, tok, SENTENCES, layers=["center"])
    with pytest.raises(ValueError, match="pooling"):
        sentence_reps(model, tok, SENTENCES, pooling="max")
    with pytest.raises(ValueError, match="kind"):
        neuron_states(model, tok, SENTENCES, kind="binary")
    with pytest.raises(ValueError, match="empty"):
        sentence_reps(model, tok, [])
    with pytest.raises(ValueError, match="sentence 1"):
        sentence_reps(model, tok, ["ok", "  "])
    with pytest.raises(TypeError):
        sentence_reps(model, tok, "just a string")
    with pytest.raises(ValueError, match="batch_size"):
        sentence_reps(model, tok, SENTENCES, batch_size=0)


def test_model_without_gated_mlp_is_rejected():
    from transformers import Phi3Config, Phi3ForCausalLM

    _, tok = load_model("tiny-llama")
    phi = Phi3ForCausalLM(Phi3Config(vocab_size=260, hidden_size=32, intermediate_size=64,
                                     num_hidden_layers=2, num_attention_heads=4,
                                     pad_token_id=0)).eval()
    with pytest.raises(ValueError, match="no gated MLP"):
        neuron_states(phi, tok, SENTENCES)
    assert sentence_reps(phi, tok, SENTENCES, use_cache=False).shape == (3, 5, 32)


def lora_model(seed):
    from peft import LoraConfig, get_peft_model

    model, tok = load_model("tiny-llama")
    torch.manual_seed(seed)  # init_lora_weights=False: random A and B, so the adapter acts
    config = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj", "up_proj"],
                        init_lora_weights=False)
    return get_peft_model(model, config).eval(), tok


def test_lora_adapter_applies_and_gets_its_own_cache_entry():
    base_model, tok = load_model("tiny-llama")
    base = sentence_reps(base_model, tok, SENTENCES, layers=[1, 4])
    model, tok = lora_model(0)
    tok.padding_side = "left"
    try:
        got = sentence_reps(model, tok, SENTENCES, layers=[1, 4], batch_size=5)
    finally:
        tok.padding_side = "right"
    for j, sentence in enumerate(SENTENCES):
        states = hf_hidden_states(model, tok, sentence)  # through the PeftModel
        for li, i in enumerate([1, 4]):
            torch.testing.assert_close(got[li, j], states[i].mean(0), atol=2e-3, rtol=1e-3)
    assert (got - base).abs().max() > 1e-2


def prompt_tuned(n_virtual=3):
    from peft import PromptTuningConfig, get_peft_model

    model, tok = load_model("tiny-llama")
    torch.manual_seed(0)
    config = PromptTuningConfig(task_type="CAUSAL_LM", num_virtual_tokens=n_virtual)
    return get_peft_model(model, config).eval(), tok


@pytest.mark.parametrize("side", ["right", "left"])
def test_prompt_tuning_runs_soft_tokens_and_pools_real_tokens_only(side):
    model, tok = prompt_tuned(3)
    tok.padding_side = side
    try:
        reps = sentence_reps(model, tok, SENTENCES, batch_size=5, use_cache=False)
        nav = neuron_states(model, tok, SENTENCES[:3], kind="nav", layers=[2], batch_size=3,
                            use_cache=False)
    finally:
        tok.padding_side = "right"
    for j, sentence in enumerate(SENTENCES):
        states = hf_hidden_states(model, tok, sentence)  # [3 + T, d]: soft tokens first
        assert states[0].shape[0] == 3 + len(tok(sentence).input_ids)
        for i in range(len(states)):
            torch.testing.assert_close(reps[i, j], states[i][3:].mean(0), atol=1e-4, rtol=1e-4)
    for j, sentence in enumerate(SENTENCES[:3]):
        want = manual_neuron_states(model, tok, sentence, 2, "nav", skip=3)
        torch.testing.assert_close(nav[0, j], want, atol=1e-5, rtol=1e-4)
    base_model, _ = load_model("tiny-llama")
    assert (reps - sentence_reps(base_model, tok, SENTENCES, use_cache=False)).abs().max() > 1e-2
