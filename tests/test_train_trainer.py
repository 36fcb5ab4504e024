"""The training loop on tiny models: task loss, alternation, alignment raising retrieval,
checkpoints resuming to the same weights and history, early stopping, bad input."""

from types import SimpleNamespace

import pandas as pd
import pytest
import torch

from lm_examples import encode
from xlnb.data import load_parallel
from xlnb.models import load_model
from xlnb.train import TrainConfig, add_lora, alignment_states, objectives, optim, train, trainer
from xlnb.train.batches import PairTokens, Stream, pair_batch, task_batch

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def pairs():
    par = load_parallel("micro", ["en", "de"])
    return list(zip(par["de"], par["en"]))


def task_examples(tokenizer, pairs):
    return [encode(tokenizer, de, en) for de, en in pairs]


@pytest.mark.parametrize("name", ["tiny-llama", "tiny-gemma3"])
def test_task_loss_equals_the_full_lm_loss(name):
    model, tokenizer = load_model(name, device="cpu")
    examples = [encode(tokenizer, "ein langer Satz mit vielen Wörtern", "a sentence"),
                encode(tokenizer, "kurz", "short and longer answer")]
    batch = task_batch(examples, tokenizer.pad_token_id, "cpu")
    full = model(**batch).loss  # logits at every position, Hugging Face's loss
    torch.testing.assert_close(objectives.task_loss(model, **batch), full, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["tiny-llama", "tiny-gemma3"])
def test_lm_head_rows_are_the_full_logits_at_the_mask(name):
    model, tokenizer = load_model(name, device="cpu")
    enc = tokenizer(["Hello world, a short one.", "Der Hund schläft unter dem Tisch."],
                    return_tensors="pt", padding=True)
    with torch.no_grad():
        full = model(**enc).logits  # [B, T, vocab], every position
    mask = torch.zeros(2, 4, dtype=torch.bool)
    mask[0, [0, 3]] = mask[1, 2] = True  # of positions T-4 .. T-1 of each row
    before = len(model.get_output_embeddings()._forward_pre_hooks)
    with torch.no_grad(), objectives.lm_head_rows(model, mask):
        rows = model(**enc, logits_to_keep=4).logits
    T = full.shape[1]
    expected = torch.stack([full[0, T - 4], full[0, T - 1], full[1, T - 2]])[None]
    torch.testing.assert_close(rows, expected, rtol=1e-5, atol=1e-5)
    with (pytest.raises(ValueError, match=r"mask is \[2, 3\].*LM head sees \[2, 4\]"),
          torch.no_grad(), objectives.lm_head_rows(model, mask[:, :3])):
        model(**enc, logits_to_keep=4)
    assert len(model.get_output_embeddings()._forward_pre_hooks) == before


def test_task_loss_gradients_equal_the_full_lm_loss():
    """The LM head on the labelled rows only: same LoRA gradients as Hugging Face's loss."""
    model, tokenizer = load_model("tiny-llama", device="cpu")
    model = add_lora(model, TrainConfig(lora_dropout=0.0))
    torch.manual_seed(0)
    for name, p in model.named_parameters():  # B = 0 at init would leave A without gradient
        if "lora_B" in name:
            torch.nn.init.normal_(p, std=0.02)
    examples = [encode(tokenizer, "ein langer Satz mit vielen Wörtern", "a sentence"),
                encode(tokenizer, "kurz", "short and longer answer")]
    batch = task_batch(examples, tokenizer.pad_token_id, "cpu")
    grads = []
    for loss_of in (lambda: model(**batch).loss, lambda: objectives.task_loss(model, **batch)):
        model.zero_grad()
        loss_of().backward()
        grads.append([p.grad.clone() for p in model.parameters() if p.requires_grad])
    for full, ours in zip(*grads):
        torch.testing.assert_close(ours, full, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("task_per_align,pattern", [(1, "TATATA"), (2, "TTATTA"), (3, "TTTATT")])
def test_joint_alternation(task_per_align, pattern):
    config = TrainConfig(mode="joint", task_per_align=task_per_align)
    assert "".join(trainer.micro_kind(config, m)[0].upper() for m in range(6)) == pattern
    assert trainer.micro_kind(TrainConfig(mode="align"), 4) == "align"


def test_epochs_count_task_micro_batches(pairs):
    # 100 examples in micro-batches of 10 -> 10 per epoch; 40 pairs in batches of 8 -> 5
    data = SimpleNamespace(streams={"task": Stream(100, 10, 0, "task"),
                                    "align": Stream(40, 8, 0, "pairs")})
    joint = TrainConfig(micro_batch_size=10, accumulation=4, max_epochs=2)
    assert trainer.total_updates(joint, data) == 10  # 20 task micro-batches, 2 per update
    assert trainer.total_updates(TrainConfig(mode="task", micro_batch_size=10, accumulation=4,
                                             max_epochs=2), data) == 5
    assert trainer.total_updates(TrainConfig(mode="align", accumulation=2, max_epochs=1),
                                 data) == 3  # 5 pair batches per epoch, rounded up
    assert trainer.total_updates(TrainConfig(max_steps=7), data) == 7


def retrieval(model, tokenizer, pairs, layer):
    """Share of held-out non-English sentences whose cosine nearest English one is the gold."""
    tokens = PairTokens.encode(tokenizer, pairs, None)
    batch = pair_batch(tokens, list(range(len(pairs))), tokenizer.pad_token_id, "cpu")
    with torch.no_grad():
        src, tgt = alignment_states(model, batch["input_ids"], batch["attention_mask"],
                                    layer).chunk(2)
    sim = torch.nn.functional.normalize(src, dim=-1) @ torch.nn.functional.normalize(tgt, dim=-1).T
    return sim.argmax(dim=1).eq(torch.arange(len(pairs))).float().mean().item()


def test_alignment_steps_raise_held_out_retrieval(pairs, tmp_path):
    model, tokenizer = load_model("tiny-llama", device="cpu")
    held_out = pairs[80:]
    before = retrieval(model, tokenizer, held_out, 2)
    config = TrainConfig(mode="align", layer=2, pair_batch_size=16, accumulation=1,
                         max_steps=30, learning_rate=5e-3, schedule="constant",
                         warmup_ratio=0.0, lora_dropout=0.0)
    result = train(model, tokenizer, config, pairs=pairs[:80], output_dir=tmp_path)
    after = retrieval(result.model, tokenizer, held_out, 2)
    assert after >= before + 0.1 and after >= 4 / len(held_out)  # chance: 1 / 40
    losses = result.history["align_loss"]
    assert losses.iloc[-5:].mean() < losses.iloc[:5].mean()
    assert result.history["task_loss"].isna().all()


def joint_config(tmp_path, **kw):
    options = {"mode": "joint", "layer": "middle", "micro_batch_size": 4, "pair_batch_size": 8,
                   "accumulation": 2, "max_steps": 7, "eval_every": 3, "checkpoint_every": 2}
    return TrainConfig(**{**options, **kw}, checkpoint_dir=str(tmp_path))


def run_joint(pairs, output_dir, config):
    model, tokenizer = load_model("tiny-llama", device="cpu")
    task = task_examples(tokenizer, pairs[:40])
    return train(model, tokenizer, config, task_data=task[:32], dev_task_data=task[32:],
                 pairs=pairs[40:72], dev_pairs=pairs[72:88], output_dir=output_dir)


def lora_weights(model):
    return {n: p.detach().clone() for n, p in model.named_parameters() if "lora_" in n}


def test_interrupted_run_resumes_to_the_same_result(pairs, tmp_path, monkeypatch):
    whole = run_joint(pairs, tmp_path / "whole", joint_config(tmp_path / "ckpt-whole"))
    assert whole.resumed_from is None and whole.steps == 7

    calls = {"n": 0}
    real_align_loss = trainer.align_loss

    def failing(model, *args, **kwargs):  # the 6th alignment micro-batch: inside update 6
        calls["n"] += model.training  # dev losses are computed in eval mode
        if calls["n"] == 6:
            raise KeyboardInterrupt("session died")
        return real_align_loss(model, *args, **kwargs)

    monkeypatch.setattr(trainer, "align_loss", failing)
    with pytest.raises(KeyboardInterrupt):
        run_joint(pairs, tmp_path / "split", joint_config(tmp_path / "ckpt-split"))
    monkeypatch.setattr(trainer, "align_loss", real_align_loss)
    assert sorted(p.name for p in (tmp_path / "ckpt-split").iterdir()) == [
        "step-00000002", "step-00000004"]

    resumed = run_joint(pairs, tmp_path / "split", joint_config(tmp_path / "ckpt-split"))
    assert resumed.resumed_from == 4
    pd.testing.assert_frame_equal(resumed.history, whole.history)
    a, b = lora_weights(whole.model), lora_weights(resumed.model)
    assert a.keys() == b.keys() and len(a) == 4 * 7 * 2
    for name in a:
        torch.testing.assert_close(a[name], b[name], rtol=0, atol=1e-7)
    assert (resumed.best_step, resumed.best_dev_loss) == (whole.best_step, whole.best_dev_loss)
    saved = pd.read_csv(tmp_path / "split" / "history.csv")
    assert list(saved["step"]) == list(range(1, 8))
    assert saved["dev_task_loss"].notna().tolist() == [s in (3, 6, 7) for s in range(1, 8)]


def test_checkpoint_of_another_configuration_is_refused(pairs, tmp_path):
    run_joint(pairs, tmp_path / "a", joint_config(tmp_path / "ckpt", max_steps=2))
    model, tokenizer = load_model("tiny-llama", device="cpu")
    with pytest.raises(ValueError, match=r"another configuration \(config.lora_r: 8 -> 4"):
        train(model, tokenizer, joint_config(tmp_path / "ckpt", max_steps=2, lora_r=4),
              task_data=task_examples(tokenizer, pairs[:32]), pairs=pairs[40:72],
              output_dir=tmp_path / "b")
    assert not hasattr(model, "peft_config")  # refused before any training
    with pytest.raises(ValueError, match="another configuration.*data"):
        train(model, tokenizer, joint_config(tmp_path / "ckpt", max_steps=2),
              task_data=task_examples(tokenizer, pairs[1:33]), pairs=pairs[40:72],
              output_dir=tmp_path / "b")


def test_early_stopping_keeps_the_best_adapter():
    run = trainer._RunState(step=0, history=[], best_step=None, best_loss=None, bad_evals=0,
                            stopped=False)
    kept = []
    for step, loss in [(1, 3.0), (2, 2.0), (3, 2.5), (4, 1.9), (5, 2.1), (6, 2.2)]:
        run.step = step
        kept.append(run.observe(loss, patience=2))
    assert kept == [True, True, False, True, False, False]
    assert (run.best_step, run.best_loss, run.stopped) == (4, 1.9, True)


def test_best_adapter_is_the_one_returned(pairs, tmp_path):
    result = run_joint(pairs, tmp_path / "out", joint_config(
        tmp_path / "ckpt", eval_every=1, learning_rate=5e-2, max_steps=5))
    dev = result.history.set_index("step")["dev_task_loss"]
    assert result.best_step == dev.idxmin() and result.best_dev_loss == dev.min()
    from safetensors.torch import load_file  # the saved adapter is the returned model's

    saved = load_file(str(tmp_path / "out" / "adapter_model.safetensors"))
    ours = lora_weights(result.model)
    assert len(saved) == len(ours)
    for name, value in saved.items():
        match = [k for k in ours if k.replace(".default", "") == name]
        torch.testing.assert_close(ours[match[0]], value)


@pytest.mark.parametrize("kwargs,data,match", [
    ({"layer": 9}, "both", "layer 9 is outside the model|out of range"),
    ({"layer": "centre"}, "both", "unknown layer name 'centre'"),
    ({"mode": "joint"}, "task", "mode 'joint' needs pairs"),
    ({"mode": "task"}, "none", "mode 'task' needs task_data"),
    ({"mode": "align", "dev_loss": "task"}, "both", "dev_loss='task' needs dev_task_data"),
    ({"mode": "task", "micro_batch_size": 64}, "both", "fewer than one batch of 64"),
])
def test_bad_input_fails_before_training(pairs, tmp_path, kwargs, data, match):
    model, tokenizer = load_model("tiny-llama", device="cpu")
    given = {}
    if data in ("both", "task"):
        given["task_data"] = task_examples(tokenizer, pairs[:16])
    if data == "both":
        given["pairs"] = pairs[:16]
    base = {"micro_batch_size": 4, "pair_batch_size": 4, "max_steps": 1}
    with pytest.raises(ValueError, match=match):
        train(model, tokenizer, TrainConfig(**{**base, **kwargs}), output_dir=tmp_path, **given)
    assert not hasattr(model, "peft_config") and not any(tmp_path.iterdir())


def test_malformed_task_example_is_named(pairs, tmp_path):
    model, tokenizer = load_model("tiny-llama", device="cpu")
    task = task_examples(tokenizer, pairs[:8])
    task[5] = {"input_ids": [1, 2, 3], "labels": [-100, -100, -100]}
    with pytest.raises(ValueError, match=r"task_data\[5\] has no labelled token"):
        train(model, tokenizer, TrainConfig(mode="task", micro_batch_size=4),
              task_data=task, output_dir=tmp_path)


def test_precision_auto(monkeypatch):
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    assert optim.autocast_dtype("auto", cpu) is None
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)  # a T4
    assert optim.autocast_dtype("auto", cuda) == torch.float16
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    assert optim.autocast_dtype("auto", cuda) == torch.bfloat16
    assert optim.autocast_dtype("fp32", cuda) is None


def test_bf16_autocast_step_on_cpu(pairs, tmp_path):
    model, tokenizer = load_model("tiny-llama", device="cpu")
    config = TrainConfig(mode="joint", precision="bf16", micro_batch_size=4, pair_batch_size=4,
                         accumulation=2, max_steps=2)
    result = train(model, tokenizer, config, task_data=task_examples(tokenizer, pairs[:8]),
                   pairs=pairs[8:16], output_dir=tmp_path)
    assert result.history[["task_loss", "align_loss"]].notna().all().all()
    assert all(p.dtype == torch.float32 for n, p in result.model.named_parameters()
               if "lora_" in n)


def test_batch_progress_bar_does_not_redraw_every_update(pairs, tmp_path, monkeypatch, capsys):
    # Under papermill (XLNB_BATCH=1) a bar redraws at most every 30 s: a 7-update run that
    # takes seconds prints its bar when it opens and when it closes, not once per update.
    monkeypatch.setenv("XLNB_BATCH", "1")
    run_joint(pairs, tmp_path / "out", joint_config(tmp_path / "ckpt"))
    err = capsys.readouterr().err
    draws = [part for part in err.replace("\r", "\n").split("\n") if "train joint" in part]
    assert 1 <= len(draws) <= 3, draws


def test_align_loss_masks_repeated_texts_only_when_asked(pairs):
    from xlnb.train.contrastive import contrastive_loss

    model, tokenizer = load_model("tiny-llama", device="cpu")
    model.eval()
    # rows 0 and 3 are the same pair, row 4 shares row 1's English: two false negatives
    chosen = [pairs[0], pairs[1], pairs[2], pairs[0], (pairs[5][0], pairs[1][1])]
    tokens = PairTokens.encode(tokenizer, chosen, None)
    assert tokens.src_key == [0, 1, 2, 0, 3] and tokens.tgt_key == [0, 1, 2, 0, 1]
    batch = pair_batch(tokens, list(range(5)), tokenizer.pad_token_id, "cpu")
    with torch.no_grad():
        src, tgt = alignment_states(model, batch["input_ids"], batch["attention_mask"],
                                    2).chunk(2)
        same = torch.eye(5, dtype=torch.bool)
        same[0, 3] = same[1, 4] = True
        want_masked = contrastive_loss(src, tgt, 0.1, same=same).item()
        want_plain = contrastive_loss(src, tgt, 0.1).item()
        got = {flag: objectives.align_loss(model, batch, 2, TrainConfig(
            mode="align", mask_duplicates=flag)).item() for flag in (False, True)}
    assert got[True] == pytest.approx(want_masked, rel=1e-5)
    assert got[False] == pytest.approx(want_plain, rel=1e-5)
    assert got[True] < got[False]
