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
