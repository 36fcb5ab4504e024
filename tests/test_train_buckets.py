"""Alignment batches run in length buckets (TrainConfig.length_buckets): the same pooled
states and gradients as one padded pass, checked against each sentence run alone."""

import pytest
import torch

from xlnb.data import load_parallel
from xlnb.models import load_model
from xlnb.train import TrainConfig, alignment_states, objectives
from xlnb.train.batches import PairTokens, pair_batch

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def batch_and_model():
    par = load_parallel("micro", ["en", "de"])
    # sentences of very different lengths, so one padded pass is mostly padding for some rows
    chosen = sorted(zip(par["de"], par["en"]), key=lambda p: len(p[0]))[::17][:7]
    model, tokenizer = load_model("tiny-llama", device="cpu")
    tokens = PairTokens.encode(tokenizer, chosen, None)
    batch = pair_batch(tokens, list(range(len(chosen))), tokenizer.pad_token_id, "cpu")
    lengths = batch["attention_mask"].sum(1)
    assert lengths.max() >= 2 * lengths.min()  # the fixture does what it says
    return batch, model


def one_by_one(model, batch, layer):
    """Each row alone, unpadded: the independent reference."""
    rows = []
    for ids, mask, special in zip(batch["input_ids"], batch["attention_mask"],
                                  batch["special_mask"]):
        n = int(mask.sum())
        rows.append(alignment_states(model, ids[None, :n], mask[None, :n], layer,
                                     exclude_special=True, special_mask=special[None, :n]))
    return torch.cat(rows)


@pytest.mark.parametrize("buckets", [1, 2, 3, 14, 50])
def test_bucketed_states_equal_each_sentence_alone(batch_and_model, buckets):
    batch, model = batch_and_model
    model.eval()
    config = TrainConfig(mode="align", exclude_special=True, length_buckets=buckets)
    with torch.no_grad():
        got = objectives.pair_states(model, batch, 2, config)
        want = one_by_one(model, batch, 2)
    assert got.shape == want.shape == (14, model.config.hidden_size)
    torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-4)


def test_bucketed_loss_has_the_gradients_of_one_pass(batch_and_model):
    batch, model = batch_and_model
    model.eval()  # no dropout: the two computations must agree
    weight = model.get_input_embeddings().weight
    grads = {}
    for buckets in (1, 3):
        model.zero_grad()
        objectives.align_loss(model, batch, 2, TrainConfig(mode="align",
                                                           length_buckets=buckets)).backward()
        grads[buckets] = weight.grad.clone()
    assert grads[1].abs().sum() > 0
    torch.testing.assert_close(grads[3], grads[1], atol=1e-6, rtol=1e-4)


def test_length_buckets_is_checked_and_left_out_of_old_keys():
    with pytest.raises(ValueError, match="length_buckets"):
        TrainConfig(length_buckets=0)
    assert "length_buckets" not in TrainConfig().result_dict()  # adapters cached before it
    assert TrainConfig(length_buckets=4).result_dict()["length_buckets"] == 4
