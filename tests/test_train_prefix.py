"""The shared prompt prefix of a task micro-batch, run once (xlnb.train.prefix)."""

import lm_examples
import pytest
import torch

from xlnb.models import load_model
from xlnb.train import TrainConfig, add_lora, train
from xlnb.train.batches import task_batch
from xlnb.train.objectives import task_loss
from xlnb.train.prefix import shared_prefix_length

pytestmark = pytest.mark.usefixtures("one_thread")

PROMPT = "Translate into English. Answer with the sentence only.\n"


def test_prefix_length_by_hand():
    ids = torch.tensor([[5, 6, 7, 8, 9], [5, 6, 7, 3, 0], [5, 6, 1, 2, 0]])
    mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 1, 0], [1, 1, 1, 1, 0]])
    assert shared_prefix_length(ids, mask, limit=10) == 2
    assert shared_prefix_length(ids[:2], mask[:2], limit=10) == 3
    assert shared_prefix_length(ids[:2], mask[:2], limit=1) == 1
    assert shared_prefix_length(ids[:1], mask[:1], limit=4) == 4  # one row shares all
    # left padding: the rows' first tokens are pads, nothing is shared
    left = torch.tensor([[0, 0, 5, 6], [5, 6, 7, 8]])
    assert shared_prefix_length(left, torch.tensor([[0, 0, 1, 1], [1, 1, 1, 1]]), 4) == 0
    # identical pads are not a prefix either
    assert shared_prefix_length(torch.tensor([[0, 5], [0, 6]]),
                                torch.tensor([[0, 1], [0, 1]]), 2) == 0


def encode(tokenizer, source, target):
    return lm_examples.encode(tokenizer, source, target, prompt=PROMPT)


EXAMPLES = [("ein langer Satz mit vielen Wörtern", "a long sentence with many words"),
            ("kurz", "short"), ("Der Hund schläft.", "The dog sleeps.")]


def lora_model(name, four_bit=False):
    model, tokenizer = load_model(name, device="cpu", load_in_4bit=four_bit)
    model = add_lora(model, TrainConfig(lora_dropout=0.0, load_in_4bit=four_bit))
    torch.manual_seed(0)
    for pname, p in model.named_parameters():  # B = 0 at init would leave A without gradient
        if "lora_B" in pname:
            torch.nn.init.normal_(p, std=0.05)
    return model, tokenizer


@pytest.mark.parametrize("name,four_bit", [("tiny-llama", False), ("tiny-qwen2", False),
                                           ("tiny-gemma3", False), ("tiny-gemma3", True)])
def test_loss_and_gradients_equal_hugging_faces_full_forward(name, four_bit):
    model, tokenizer = lora_model(name, four_bit)
    batch = task_batch([encode(tokenizer, s, t) for s, t in EXAMPLES], tokenizer.pad_token_id,
                       "cpu")
    assert shared_prefix_length(batch["input_ids"], batch["attention_mask"], 100) >= len(PROMPT)
    grads, losses = [], []
    for loss_of in (lambda: model(**batch).loss,  # every position, one forward per row
                    lambda: task_loss(model, **batch, shared_prefix=True)):
        model.zero_grad()
        loss = loss_of()
        loss.backward()
        losses.append(loss.detach())
        grads.append([p.grad.clone() for p in model.parameters() if p.requires_grad])
    torch.testing.assert_close(losses[1], losses[0], rtol=1e-5, atol=1e-6)
    for full, ours in zip(*grads):
        torch.testing.assert_close(ours, full, rtol=1e-4, atol=1e-6)


def test_a_batch_without_a_shared_prefix_runs_as_before():
    model, tokenizer = lora_model("tiny-llama")
    examples = [{"input_ids": [7, 8, 9, 10], "labels": [-100, -100, 9, 10]},
                {"input_ids": [11, 8, 9], "labels": [-100, -100, 9]}]
    batch = task_batch(examples, tokenizer.pad_token_id, "cpu")
    with torch.no_grad():
        torch.testing.assert_close(task_loss(model, **batch, shared_prefix=True),
                                   model(**batch).loss, rtol=1e-5, atol=1e-6)


def test_training_without_dropout_is_the_same_run(tmp_path):
    """Through train(), task and dev losses: without dropout sharing changes no number."""
    model, tokenizer = load_model("tiny-llama", device="cpu")
    data = [encode(tokenizer, s, t) for s, t in EXAMPLES * 3]
    histories = []
    for shared in (False, True):
        config = TrainConfig(mode="task", lora_dropout=0.0, micro_batch_size=3, accumulation=1,
                             max_steps=3, eval_every=3, shared_prefix=shared)
        model, _ = load_model("tiny-llama", device="cpu")
        result = train(model, tokenizer, config, task_data=data, dev_task_data=data[:3],
                       output_dir=tmp_path / str(shared))
        histories.append(result.history[["task_loss", "dev_task_loss"]])
    torch.testing.assert_close(torch.tensor(histories[1].to_numpy(float)),
                               torch.tensor(histories[0].to_numpy(float)), rtol=1e-4,
                               atol=1e-6, equal_nan=True)
