"""The representation cache: scaled float16 round trip, lazy reads, corruption, atomicity."""

import pytest
import torch

from xlnb import cache


def planted():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(3, 5, 7, generator=g)
    x[0] *= 1e-3   # tiny values keep their relative precision
    x[2] *= 1e5    # would overflow a plain float16 cast (max 65504)
    return x


def test_float16_round_trip_keeps_relative_precision():
    x = planted()
    assert torch.isinf(x[2].half()).any()  # the near miss this storage avoids
    cache.save_tensor("k-f16", x)
    got = cache.open_tensor("k-f16").load()
    for layer in range(3):
        rel = (got[layer] - x[layer]).abs().max() / x[layer].abs().max()
        assert rel < 1e-3, layer


def test_float32_store_is_exact_and_lazy_rows_match():
    x = planted()
    cache.save_tensor("k-f32", x, store="float32")
    handle = cache.open_tensor("k-f32")
    assert handle.shape == x.shape and len(handle) == 3
    assert torch.equal(handle.load(), x)
    assert torch.equal(handle[1], x[1])
    assert torch.equal(handle[1:3], x[1:3])
    cache.save_tensor("k-f16b", x)
    torch.testing.assert_close(cache.open_tensor("k-f16b")[2], x[2], rtol=1e-3, atol=0)


def test_cached_computes_once_and_returns_stored_numbers():
    calls = []

    def compute():
        calls.append(1)
        return planted()

    first = cache.cached("k-once", compute)
    second = cache.cached("k-once", compute)
    assert calls == [1] and torch.equal(first, second)
    assert isinstance(cache.cached("k-once", compute, lazy=True), cache.CachedTensor)
    with pytest.raises(ValueError, match="lazy"):
        cache.cached("k-off", compute, enabled=False, lazy=True)


@pytest.mark.parametrize("damage", ["flip", "truncate", "foreign"])
def test_damaged_file_is_detected_and_removed(damage):
    path = cache.save_tensor("k-bad", planted())
    data = bytearray(path.read_bytes())
    if damage == "flip":
        data[-5] ^= 0xFF
        path.write_bytes(bytes(data))
    elif damage == "truncate":
        path.write_bytes(bytes(data[: len(data) // 2]))
    else:  # a valid file stored under another key
        other = cache.save_tensor("k-other", planted())
        path.write_bytes(other.read_bytes())
    assert cache.open_tensor("k-bad") is None
    assert not path.exists()


def test_failed_write_leaves_nothing(monkeypatch):
    import safetensors.torch

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(safetensors.torch, "save_file", broken)
    with pytest.raises(OSError):
        cache.save_tensor("k-fail", planted())
    folder = cache.cache_dir() / "reps"
    assert not list(folder.glob("k-fail*")) and not list(folder.glob("*.tmp"))


def test_keys_depend_on_every_part():
    base = dict(model="m", text=cache.text_digest(["a", "b"]), pooling="mean")
    assert cache.cache_key(**base) == cache.cache_key(**dict(base))
    assert cache.cache_key(**base) != cache.cache_key(**{**base, "pooling": "last"})
    assert cache.text_digest(["ab", "c"]) != cache.text_digest(["a", "bc"])
    with pytest.raises(ValueError, match="store"):
        cache.save_tensor("k", planted(), store="int8")


def test_code_digest_follows_code_not_comments(monkeypatch):
    real = cache._module_source
    base = cache.cache_key(model="m")

    def patched(extra):
        def source(name):
            text = real(name)
            return text + extra if name == "xlnb.hooks" else text
        return source

    try:
        for extra, changes in [("\n# a comment only\n", False), ("\n\n\n", False),
                               ('\ndef f():\n    """doc"""\n', True),
                               ("\nPLACEMENTS = ('top',)\n", True)]:
            monkeypatch.setattr(cache, "_module_source", patched(extra))
            cache.code_digest.cache_clear()
            assert (cache.cache_key(model="m") != base) == changes, extra
    finally:
        monkeypatch.undo()
        cache.code_digest.cache_clear()
    assert cache.cache_key(model="m") == base
    assert set(cache.VALUE_MODULES) == {"xlnb.hooks", "xlnb.reps", "xlnb.pooling", "xlnb.arch"}


def test_tokenizer_fingerprint_covers_vocab_specials_template_and_side():
    from xlnb.models import load_model

    _, tok = load_model("tiny-llama")
    _, again = load_model("tiny-llama")
    base = cache.tokenizer_fingerprint(tok)
    assert cache.tokenizer_fingerprint(again) == base
    changes = {
        "padding side": lambda t: setattr(t, "padding_side", "left"),
        "chat template": lambda t: setattr(t, "chat_template", "{{ messages }}"),
        "pad token": lambda t: setattr(t, "pad_token", t.eos_token),
        "added token": lambda t: t.add_tokens(["<extra>"]),
    }
    seen = {base}
    for what, change in changes.items():
        _, t = load_model("tiny-llama")
        change(t)
        seen.add(cache.tokenizer_fingerprint(t))
        assert len(seen) == 2, what
        seen.discard(cache.tokenizer_fingerprint(t))


def peft_tiny(config, seed):
    from peft import get_peft_model

    from xlnb.models import load_model

    model, _ = load_model("tiny-llama")
    torch.manual_seed(seed)
    return get_peft_model(model, config)


def test_model_fingerprint_covers_adapters():
    from peft import LoraConfig, PromptTuningConfig

    from xlnb.models import load_model

    base = cache.model_fingerprint(load_model("tiny-llama")[0])
    assert cache.model_fingerprint(load_model("tiny-llama")[0]) == base

    def lora():
        return LoraConfig(r=2, target_modules=["q_proj", "v_proj"], init_lora_weights=False)

    a, a_again, b = peft_tiny(lora(), 0), peft_tiny(lora(), 0), peft_tiny(lora(), 1)
    assert cache.model_fingerprint(a) == cache.model_fingerprint(a_again)
    assert len({base, cache.model_fingerprint(a), cache.model_fingerprint(b)}) == 3
    # One value of one adapter matrix, past the first rows a weight sample would look at.
    with torch.no_grad():
        a_again.base_model.model.model.layers[3].self_attn.v_proj.lora_B["default"].weight[-1, -1] += 1e-3
    assert cache.model_fingerprint(a_again) != cache.model_fingerprint(a)
    with a.disable_adapter():
        assert cache.model_fingerprint(a) != cache.model_fingerprint(b)
        disabled = cache.model_fingerprint(a)
    assert disabled != cache.model_fingerprint(a)

    def prompt():
        return PromptTuningConfig(task_type="CAUSAL_LM", num_virtual_tokens=3)

    p0, p1 = peft_tiny(prompt(), 0), peft_tiny(prompt(), 1)
    assert len({base, cache.model_fingerprint(p0), cache.model_fingerprint(p1)}) == 3
