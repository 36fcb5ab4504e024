"""xlnb.hooks against Hugging Face's own outputs: numbering, replacement, gradients, removal."""

from types import SimpleNamespace

import pytest
import torch

from xlnb.hooks import (
    StopForward,
    capture_ffn_activations,
    capture_residual,
    replace_residual,
    resolve_block,
    resolve_layer,
    run_model,
)
from xlnb.models import load_model
from xlnb.pooling import pool

TEXTS = ["Hello world, a short one.", "Der Hund schläft unter dem Tisch, weil es regnet."]


@pytest.fixture(scope="module", params=["tiny-llama", "tiny-qwen2", "tiny-gemma3"])
def tiny(request):
    return load_model(request.param)


@pytest.fixture
def llama():
    return load_model("tiny-llama")


def stub(n_blocks):
    return SimpleNamespace(model=SimpleNamespace(layers=[None] * n_blocks, embed_tokens=None))


def batch(tok):
    return tok(TEXTS, return_tensors="pt", padding=True)


def hf_states(model, enc, raw_top=False):
    """hidden_states of a full forward; raw_top: HF's own untied top (last block, no norm)."""
    old = getattr(model.config, "tie_last_hidden_states", None)
    model.config.tie_last_hidden_states = False if raw_top else old
    try:
        with torch.no_grad():
            return model(**enc, output_hidden_states=True).hidden_states
    finally:
        model.config.tie_last_hidden_states = old


def test_placements_are_quarter_half_full_depth():
    # MidAlign §5.2: bottom / middle / top at 1/4, 1/2 and full depth.
    assert [resolve_layer(stub(32), p) for p in ("bottom", "middle", "top")] == [8, 16, 32]
    assert [resolve_layer(stub(18), p) for p in ("bottom", "middle", "top")] == [4, 9, 18]
    assert resolve_block(stub(18), "middle") == 9
    assert resolve_layer(stub(18), 0) == 0 and resolve_layer(stub(18), torch.tensor(3)) == 3


def test_resolve_rejects_with_value_and_range():
    with pytest.raises(ValueError, match=r"19 out of range.*0\.\.18"):
        resolve_layer(stub(18), 19)
    with pytest.raises(ValueError, match=r"-1 out of range"):
        resolve_layer(stub(18), -1)
    with pytest.raises(ValueError, match=r"block number 0 out of range.*1\.\.18"):
        resolve_block(stub(18), 0)
    with pytest.raises(ValueError, match="'centre'"):
        resolve_layer(stub(18), "centre")
    for bad in (True, 2.0, None):
        with pytest.raises(TypeError, match="layer must be"):
            resolve_layer(stub(18), bad)
    for bad in ("top", 3):
        with pytest.raises(TypeError, match="list of layers"):
            capture_residual(stub(18), bad, lambda h: h).__enter__()
    with pytest.raises(ValueError, match="empty"):
        capture_residual(stub(18), [], lambda h: h).__enter__()


@pytest.mark.parametrize("final_norm", [True, False])
def test_every_index_equals_hidden_states(tiny, final_norm):
    model, tok = tiny
    enc = batch(tok)
    n = model.config.num_hidden_layers
    with torch.no_grad(), capture_residual(model, range(n + 1), lambda h: h.clone(),
                                           final_norm=final_norm) as got:
        run_model(model, **enc)
    want = hf_states(model, enc, raw_top=not final_norm)
    assert sorted(got) == list(range(n + 1))
    for i in range(n + 1):
        torch.testing.assert_close(got[i], want[i], atol=1e-5, rtol=1e-5)
    # The two tops really differ (the final norm is not the identity).
    other = hf_states(model, enc, raw_top=final_norm)[n]
    assert (other - want[n]).abs().max() > 1e-2


def counting(model):
    calls = []
    handles = [model.model.layers[-1].register_forward_hook(lambda *a: calls.append("last")),
               model.lm_head.register_forward_hook(lambda *a: calls.append("head"))]
    return calls, handles


@pytest.mark.parametrize("layers, stop, expected", [
    ([0, 2], True, []), (["top"], True, ["last"]), ([2], False, ["last", "head"])])
def test_early_exit(llama, layers, stop, expected):
    model, tok = llama
    calls, handles = counting(model)
    try:
        with torch.no_grad(), capture_residual(model, layers, lambda h: h, stop=stop) as got:
            run_model(model, **batch(tok))
    finally:
        for h in handles:
            h.remove()
    assert calls == expected and sorted(got) == sorted(resolve_layer(model, i) for i in layers)


def masked_mean_loss(states, mask):
    return (pool(states, mask, "mean") ** 2).sum()


@pytest.mark.parametrize("checkpointing", [False, True])
def test_capture_keeps_gradients(llama, checkpointing):
    model, tok = llama
    enc = batch(tok)
    model.train()
    if checkpointing:
        model.activation_checkpointing_enable()
    params = dict(model.named_parameters())
    with capture_residual(model, [2], lambda h: masked_mean_loss(h, enc["attention_mask"])) as got:
        run_model(model, **enc)
    got[2].backward()
    ours = {k: None if p.grad is None else p.grad.clone() for k, p in params.items()}
    model.zero_grad(set_to_none=True)
    if checkpointing:
        model.activation_checkpointing_disable()
    # Reference: HF's hidden_states[2] of a full forward, the same loss.
    full = model(**enc, output_hidden_states=True).hidden_states[2]
    masked_mean_loss(full, enc["attention_mask"]).backward()
    name = "model.layers.0.self_attn.q_proj.weight"
    assert ours[name] is not None and ours[name].abs().sum() > 0
    torch.testing.assert_close(ours[name], params[name].grad, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(ours["model.layers.1.mlp.up_proj.weight"],
                               params["model.layers.1.mlp.up_proj.weight"].grad)
    assert ours["model.layers.2.mlp.up_proj.weight"] is None  # block 3 never ran
    model.zero_grad(set_to_none=True)
    model.eval()


def test_replace_at_top_is_the_lm_head_input(llama):
    model, tok = llama
    enc = batch(tok)
    shift = torch.linspace(-1, 1, model.config.hidden_size)
    states = hf_states(model, enc)
    raw = hf_states(model, enc, raw_top=True)[-1]
    with torch.no_grad():
        with replace_residual(model, {"top": lambda h: 0.5 * h + shift}):
            normed = model(**enc).logits
        with replace_residual(model, {4: lambda h: 0.5 * h + shift}, final_norm=False):
            unnormed = model(**enc).logits
        torch.testing.assert_close(normed, model.lm_head(0.5 * states[-1] + shift))
        torch.testing.assert_close(unnormed, model.lm_head(model.model.norm(0.5 * raw + shift)))


def test_replace_at_embedding_equals_inputs_embeds(tiny):
    model, tok = tiny
    enc = batch(tok)
    embeds = hf_states(model, enc)[0]  # Gemma's embedding scale included
    with torch.no_grad():
        with replace_residual(model, {0: lambda h: 2 * h}):
            got = model(**enc).logits
        want = model(inputs_embeds=2 * embeds, attention_mask=enc["attention_mask"]).logits
    torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)


def test_replace_before_block_runs_the_upper_blocks_on_the_new_state(llama):
    # ShifCon's "before block 3 add v" = replace index 2; reference: a model made of blocks
    # 3..4 only, fed the shifted hidden_states[2] as its embeddings.
    model, tok = llama
    enc = tok([TEXTS[1]], return_tensors="pt")
    v = torch.randn(model.config.hidden_size, generator=torch.Generator().manual_seed(1))
    h2 = hf_states(model, enc)[2]
    with torch.no_grad(), replace_residual(model, {2: lambda h: h + v}):
        got = model(**enc).logits
    blocks, count = model.model.layers, model.config.num_hidden_layers
    try:
        model.model.layers, model.config.num_hidden_layers = blocks[2:], count - 2
        with torch.no_grad():
            want = model(inputs_embeds=h2 + v, use_cache=False).logits
    finally:
        model.model.layers, model.config.num_hidden_layers = blocks, count
    torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)
    with torch.no_grad():
        assert (got - model(**enc).logits).abs().max() > 1e-3


def test_capture_inside_replace_sees_the_new_state(llama):
    model, tok = llama
    enc = batch(tok)
    with torch.no_grad(), replace_residual(model, {1: lambda h: h + 3.0}):
        with capture_residual(model, [1], lambda h: h.clone()) as got:
            run_model(model, **enc)
    torch.testing.assert_close(got[1], hf_states(model, enc)[1] + 3.0)


def hook_count(model):
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in model.modules())


def test_hooks_removed_on_error_and_early_exit(llama):
    model, tok = llama
    before = hook_count(model)
    contexts = [lambda: capture_residual(model, [0, 4], lambda h: h),
                lambda: replace_residual(model, {0: lambda h: h, "top": lambda h: h}),
                lambda: capture_ffn_activations(model, [1, 4], lambda a: a)]
    for make in contexts:
        with pytest.raises(RuntimeError, match="boom"):
            with make():
                assert hook_count(model) > before
                raise RuntimeError("boom")
        assert hook_count(model) == before
    with torch.no_grad(), capture_residual(model, [1], lambda h: h):
        run_model(model, **batch(tok))
    assert hook_count(model) == before
    with pytest.raises(ValueError, match="shape"):
        with torch.no_grad(), replace_residual(model, {1: lambda h: h[:, :1]}):
            model(**batch(tok))
    assert hook_count(model) == before


def test_ffn_points_are_block_numbers(llama):
    # Block b's FFN is inside model.layers[b - 1]; its input comes from a hook on that mlp.
    model, tok = llama
    enc = batch(tok)
    inputs = []
    handle = model.model.layers[0].mlp.register_forward_pre_hook(lambda m, a: inputs.append(a[0]))
    try:
        with torch.no_grad(), capture_ffn_activations(model, [1], lambda a: a.clone()) as got:
            run_model(model, **enc)
    finally:
        handle.remove()
    mlp = model.model.layers[0].mlp
    with torch.no_grad():
        torch.testing.assert_close(got[1], mlp.act_fn(mlp.gate_proj(inputs[0])))
    with pytest.raises(ValueError, match="block number 0"):
        capture_ffn_activations(model, [0], lambda a: a).__enter__()


def test_stop_forward_is_swallowed_only_by_run_model(llama):
    model, tok = llama
    with pytest.raises(StopForward):
        with torch.no_grad(), capture_residual(model, [1], lambda h: h):
            model(**batch(tok))
