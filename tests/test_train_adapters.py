"""The adapter cache: trained once and reused, keyed by what made it; unfinished adapters are
resumed, never loaded; adapters that do not fit a model are refused."""

import json

import pytest
import torch

from xlnb.data import load_parallel
from xlnb.models import load_model
from xlnb.train import TrainConfig, adapters, load_adapter, load_trained, trained_adapter


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def pairs():
    par = load_parallel("micro", ["en", "de"], n=24)
    return list(zip(par["de"], par["en"]))


CONFIG = TrainConfig(mode="align", pair_batch_size=8, accumulation=1, max_steps=3,
                     checkpoint_every=1, learning_rate=1e-2)
KEY = {"task": "align-test", "pairs": "micro de-en", "n": 24}


@pytest.fixture
def count_trainings(monkeypatch):
    calls = []
    real = adapters.train

    def counted(*args, **kwargs):
        calls.append(kwargs["output_dir"])
        return real(*args, **kwargs)

    monkeypatch.setattr(adapters, "train", counted)
    return calls


def logits(model, tokenizer):
    ids = tokenizer(["Der Hund schläft."], return_tensors="pt")
    with torch.no_grad():
        return model(**ids).logits


@pytest.mark.slow
def test_trained_once_then_reused(pairs, count_trainings):
    path = trained_adapter("tiny-llama", CONFIG, pairs=pairs, data_key=KEY)
    assert (path / "complete").is_file() and (path / "adapter_model.safetensors").is_file()
    assert path.name.startswith("tiny-llama-align-test-align-")
    meta = json.loads((path / "meta.json").read_text())
    assert meta["model"] == "tiny-llama" and meta["task"] == "align-test"
    assert meta["seed"] == CONFIG.seed and meta["data_key"] == KEY
    assert TrainConfig.from_dict(meta["config"]) == CONFIG and meta["versions"]["peft"]
    assert TrainConfig.from_json(path / "train_config.json").mode == "align"
    assert trained_adapter("tiny-llama", CONFIG, pairs=pairs, data_key=KEY) == path
    assert len(count_trainings) == 1

    # another seed, other data or another data description: another adapter
    other_seed = trained_adapter("tiny-llama", TrainConfig(**{**CONFIG.to_dict(), "seed": 2}),
                                 pairs=pairs, data_key=KEY)
    other_data = trained_adapter("tiny-llama", CONFIG, pairs=pairs[1:] + pairs[:1],
                                 data_key=KEY)
    assert len({path, other_seed, other_data}) == 3 and len(count_trainings) == 3

    model, tokenizer = load_trained("tiny-llama", path)
    assert not model.training
    base, _ = load_model("tiny-llama", device="cpu")
    assert (logits(model, tokenizer) - logits(base, tokenizer)).abs().max() > 1e-4


def test_unfinished_adapter_is_resumed_not_loaded(pairs, count_trainings, monkeypatch):
    config = TrainConfig(**{**CONFIG.to_dict(), "seed": 7})
    real = adapters.train

    def interrupted(*args, **kwargs):  # dies after its checkpoints, before the outputs
        monkeypatch.setattr("xlnb.train.trainer._write_outputs", _raise)
        try:
            return real(*args, **kwargs)
        finally:
            monkeypatch.undo()

    monkeypatch.setattr(adapters, "train", interrupted)
    with pytest.raises(KeyboardInterrupt):
        trained_adapter("tiny-llama", config, pairs=pairs, data_key=KEY)
    [path] = [p for p in (adapters.cache_dir() / "adapters").iterdir()
              if json.loads((p / "meta.json").read_text())["seed"] == 7]
    assert not (path / "complete").exists() and (path / "checkpoints").is_dir()
    with pytest.raises(ValueError, match="unfinished"):
        load_trained("tiny-llama", path)

    again = trained_adapter("tiny-llama", config, pairs=pairs, data_key=KEY)
    assert again == path and (path / "complete").is_file()
    result = json.loads((path / "train_result.json").read_text())
    assert result["resumed_from"] == 3 and result["steps"] == 3


def _raise(*args, **kwargs):
    raise KeyboardInterrupt("session died")


def test_adapter_that_does_not_fit(pairs):
    from transformers import AutoModelForCausalLM, LlamaConfig

    path = trained_adapter("tiny-llama", CONFIG, pairs=pairs, data_key=KEY)
    with pytest.raises(ValueError, match="trained on 'tiny-llama', not 'tiny-qwen2'"):
        load_trained("tiny-qwen2", path)
    shallow = AutoModelForCausalLM.from_config(LlamaConfig(
        hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, vocab_size=260))
    with pytest.raises(ValueError, match=r"adapts model\.layers\.2\..*does not have"):
        load_adapter(shallow, path)
    wide = AutoModelForCausalLM.from_config(LlamaConfig(
        hidden_size=64, intermediate_size=256, num_hidden_layers=4, num_attention_heads=4,
        num_key_value_heads=2, vocab_size=260))
    with pytest.raises(ValueError, match=r"_proj has (in|out)_features 256, the adapter's lora_[AB] expects 128"):
        load_adapter(wide, path)


def test_data_key_must_describe_the_data(pairs):
    with pytest.raises(TypeError, match="data_key"):
        trained_adapter("tiny-llama", CONFIG, pairs=pairs, data_key="micro")
