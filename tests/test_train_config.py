"""TrainConfig: the paper's defaults, validation naming the value, JSON round trip."""

from pathlib import Path

import pytest
import yaml

from xlnb.train import TrainConfig

SETTINGS = Path(__file__).resolve().parents[2] / "shared" / "papers" / "settings.yaml"


def test_defaults_are_the_papers():
    if not SETTINGS.is_file():
        pytest.skip(f"{SETTINGS} not present")
    paper = yaml.safe_load(SETTINGS.read_text())["midalign"]["training"]
    config = TrainConfig()
    assert config.lora_r == paper["lora"]["r"] == 8
    assert config.lora_alpha == paper["lora"]["alpha"]
    assert config.lora_dropout == paper["lora"]["dropout"]
    assert list(config.lora_targets) == paper["lora"]["targets"]
    assert config.learning_rate == paper["learning_rate"]
    assert config.warmup_ratio == paper["warmup_ratio"]
    assert config.max_epochs == paper["max_epochs"]
    assert config.eval_every == paper["eval_and_save_every_steps"]
    assert config.patience == 5
    assert config.temperature == paper["temperature"]["llama"]
    assert config.pair_batch_size == paper["contrastive_minibatch"]
    assert config.micro_batch_size * config.accumulation == paper["effective_batch_size"]
    assert config.schedule == "inverse_sqrt" and config.layer == "middle"
    assert config.mode == "joint" and config.symmetric is False


def test_json_round_trip(tmp_path):
    config = TrainConfig(mode="align", layer=9, lora_targets=["q", "v"], checkpoint_dir=tmp_path)
    again = TrainConfig.from_json(config.to_json())
    assert again == config and again.lora_targets == ("q", "v")
    path = tmp_path / "c.json"
    config.to_json(path)
    assert TrainConfig.from_json(path) == config


def test_result_dict_leaves_out_where_checkpoints_go(tmp_path):
    a = TrainConfig(checkpoint_dir=tmp_path, checkpoint_every=5).result_dict()
    assert a == TrainConfig().result_dict()
    assert TrainConfig(seed=2).result_dict() != TrainConfig().result_dict()


def test_an_added_field_at_its_earlier_behaviour_keeps_cached_keys():
    # adapters cached before mask_duplicates existed were trained without it
    assert "mask_duplicates" not in TrainConfig().result_dict()
    assert TrainConfig(mask_duplicates=True).result_dict()["mask_duplicates"] is True
    assert "mask_duplicates" in TrainConfig().to_dict()  # the saved config still says it
    assert "shared_prefix" not in TrainConfig().result_dict()
    assert TrainConfig(shared_prefix=True).result_dict()["shared_prefix"] is True


@pytest.mark.parametrize("kwargs,match", [
    ({"mode": "both"}, "unknown mode 'both'"),
    ({"layer": "middel"}, "unknown layer name 'middel'"),
    ({"layer": -1}, "layer must be >= 0"),
    ({"layer": 2.5}, "layer must be"),
    ({"temperature": 0}, "temperature must be > 0"),
    ({"lora_r": 0}, "lora_r must be a positive int, got 0"),
    ({"lora_dropout": 1.0}, r"lora_dropout must be in \[0, 1\)"),
    ({"lora_targets": ["q", "qkv"]}, "qkv"),
    ({"lora_targets": []}, "lora_targets"),
    ({"schedule": "warmup"}, "unknown schedule 'warmup'"),
    ({"pair_batch_size": 1}, "at least 2"),
    ({"shared_prefix": True, "gradient_checkpointing": True}, "shared_prefix needs the key/value"),
    ({"micro_batch_size": 0}, "micro_batch_size"),
    ({"max_steps": 0}, "max_steps"),
    ({"precision": "fp8"}, "unknown precision 'fp8'"),
    ({"dev_loss": "bleu"}, "unknown dev_loss"),
    ({"symmetric": "yes"}, "symmetric must be True or False"),
    ({"seed": -1}, "seed"),
])
def test_bad_values_name_the_value(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TrainConfig(**kwargs)


def test_unknown_json_field():
    with pytest.raises(ValueError, match="unknown TrainConfig fields.*'lr'"):
        TrainConfig.from_dict({"lr": 1e-3})


def test_config_from_params_takes_the_fields_of_a_namespace():
    from xlnb.train import config_from_params

    namespace = {"align_layer": 9, "learning_rate": 1e-3, "max_epochs": 2, "shared_prefix": True,
                 "max_length": 32, "n_train": 384, "model": "gemma-3-270m", "seed": 7,
                 "mode": "align", "checkpoint_dir": None}
    got = config_from_params(namespace, mode="task")
    assert got == TrainConfig(mode="task", layer=9, learning_rate=1e-3, max_epochs=2,
                              shared_prefix=True, max_length=32)
    assert got.seed == 1  # seeds come from the experiment, never from a parameter named seed
    assert config_from_params({}) == TrainConfig()
    with pytest.raises(ValueError, match="'align_layer' and 'layer' both set 'layer'"):
        config_from_params({"align_layer": 9, "layer": 4})
    with pytest.raises(ValueError, match="learning_rate must be > 0"):
        config_from_params({"learning_rate": -1.0})
