"""Log-likelihood multiple-choice scoring: exact values, batching invariance, accuracy."""

import math
from types import SimpleNamespace

import pytest
import torch

from xlnb.evaluate.multiple_choice import (
    MCItem,
    encode_pair,
    evaluate_items,
    score_items,
)
from xlnb.models import load_model


@pytest.fixture(scope="module")
def tiny():
    return load_model("tiny-llama", device="cpu")


def byte_ids(text: str) -> list[int]:
    """The tiny tokenizer's ids, written out: BOS (1) then 4 + byte for each UTF-8 byte."""
    return [1] + [4 + b for b in text.encode("utf-8")]


def test_loglik_matches_hand_computed_sum(tiny):
    model, tok = tiny
    item = MCItem("The cat sat", ["on the mat.", "über Küche"], 0)
    scores = score_items(model, tok, [item], batch_size=4, progress=False)[0]
    for j, option in enumerate(item.options):
        ids = byte_ids(item.context + " " + option)
        n_ctx = len(byte_ids(item.context))
        with torch.no_grad():
            logits = model(input_ids=torch.tensor([ids])).logits[0]
        expected = 0.0
        for t in range(n_ctx, len(ids)):  # token t is predicted by position t - 1
            expected += torch.log_softmax(logits[t - 1].double(), dim=-1)[ids[t]].item()
        assert scores.logliks[j] == pytest.approx(expected, abs=1e-3)
        assert scores.n_tokens[j] == len(ids) - n_ctx


def test_encode_pair_splits_whole_string_and_moves_trailing_space(tiny):
    _, tok = tiny
    ctx, cont = encode_pair(tok, "ab", " cd")
    assert ctx == byte_ids("ab") and cont == [4 + ord(c) for c in " cd"]
    assert encode_pair(tok, "ab ", "cd") == (ctx, cont)
    assert encode_pair(tok, "ab", " cd", add_bos=False)[0] == byte_ids("ab")[1:]
    assert encode_pair(tok, "", "x")[0] == [tok.bos_token_id]


ITEMS = [
    MCItem("Short", ["a", "bb", "a much longer continuation"], 2),
    MCItem("A considerably longer context, with punctuation; and more", ["yes", "no"], 0),
    MCItem("Ελληνικά και 中文", ["ναι", "不是的"], 1),
    MCItem("x", ["y"], 0),
]


@pytest.mark.parametrize("name", ["tiny-llama", "tiny-qwen2", "tiny-gemma3"])
def test_batched_equals_unbatched(name):
    model, tok = load_model(name, device="cpu")
    one = score_items(model, tok, ITEMS, batch_size=1, progress=False)
    many = score_items(model, tok, ITEMS, batch_size=16, progress=False)
    some = score_items(model, tok, ITEMS, batch_size=3, progress=False)
    for a, b, c in zip(one, many, some):
        assert a.logliks == pytest.approx(b.logliks, abs=1e-4)
        assert a.logliks == pytest.approx(c.logliks, abs=1e-4)
        assert a.pred == b.pred == c.pred


class PreferA(torch.nn.Module):
    """A stub LM: every position puts log-prob ~ -0.01 on byte 'a', ~ -5 elsewhere."""

    def __init__(self):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(1))
        self.config = SimpleNamespace(max_position_embeddings=512)
        logits = torch.zeros(260)
        logits[4 + ord("a")] = 10.0
        self.row = logits

    def forward(self, input_ids, attention_mask=None):
        b, n = input_ids.shape
        return SimpleNamespace(logits=self.row.expand(b, n, -1).clone())


def test_planted_accuracy_and_length_normalisation(tiny):
    _, tok = tiny
    model = PreferA()
    right = [MCItem("q", ["aaaa", "bbbb"], 0), MCItem("q", ["bb", "aa", "ba"], 1)]
    wrong = [MCItem("q", ["aaaa", "bbbb"], 1), MCItem("q", ["bb", "aa", "ba"], 2)]
    result = evaluate_items(model, tok, right + wrong, batch_size=2, progress=False)
    assert result["acc"] == 0.5 and result["n"] == 4
    assert list(result["items"]["correct"]) == [1, 1, 0, 0]
    assert result["acc_stderr"] == pytest.approx(math.sqrt(1 / 3) / 2)
    # Raw sum prefers the short "b"; per character the long "b" + "a" * 9 wins (the space
    # delimiter is scored but not counted, as in lm-eval's len(choice)).
    norm = MCItem("q", ["b", "b" + "a" * 9], 1)
    score = score_items(model, tok, [norm], progress=False)[0]
    assert score.pred == 0 and score.pred_norm == 1
    row = evaluate_items(model, tok, [norm], progress=False)
    assert row["acc"] == 0.0 and row["acc_norm"] == 1.0


def test_acc_norm_divides_by_characters_not_tokens_or_bytes(tiny):
    _, tok = tiny
    # "aé" = 1 cheap + 3 costly tokens (space, 2 bytes of é) over 2 characters;
    # "bbb" = 4 costly tokens over 3 characters. Per character "bbb" wins; per token
    # or per UTF-8 byte "aé" would.
    item = MCItem("q", ["aé", "bbb"], 1)
    score = score_items(PreferA(), tok, [item], progress=False)[0]
    assert score.n_tokens == [4, 4]
    assert score.pred == 0 and score.pred_norm == 1


@pytest.mark.parametrize("kwargs, match", [
    (dict(context="c", options=[], label=0), "options"),
    (dict(context="c", options=["a", ""], label=0), "options"),
    (dict(context="c", options=["a", "b"], label=2), "label 2"),
    (dict(context="c", options=["a", "b"], label=True), "label"),
    (dict(context=None, options=["a"], label=0), "context"),
])
def test_bad_items_rejected(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MCItem(**kwargs)


def test_bad_batch_size_rejected(tiny):
    model, tok = tiny
    with pytest.raises(ValueError, match="batch_size"):
        score_items(model, tok, ITEMS, batch_size=0, progress=False)
