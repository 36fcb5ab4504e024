"""Token-level states for CL-ICP Fig. 2 against transformers' own hidden_states, and the
Fig. 2 quantities against loops written here."""

import numpy as np
import pytest
import torch

from xlnb.clicp import fig2
from xlnb.clicp.tokens import corpus_token_states, token_states
from xlnb.models import load_model

SENTENCE = "The weather is nice. 今天天气很好。"


@pytest.fixture(scope="module", params=["tiny-llama", "tiny-gemma3"])
def tiny(request):
    return load_model(request.param, device="cpu")


def _reference(model, tokenizer, sentence):
    enc = tokenizer(sentence, return_tensors="pt")
    with torch.no_grad():
        out = model(**enc, output_hidden_states=True)
    return out.hidden_states, enc["input_ids"][0]


def test_token_states_equal_hidden_states_at_every_index(tiny):
    model, tokenizer = tiny
    hidden, ids = _reference(model, tokenizer, SENTENCE)
    n = len(hidden) - 1  # blocks
    states, tokens = token_states(model, tokenizer, SENTENCE, list(range(n + 1)),
                                  exclude_special=False)
    assert states.shape == (n + 1, len(ids), model.config.hidden_size)
    assert len(tokens) == len(ids)
    for i in range(n + 1):  # the top index too: hidden_states[-1], final norm applied
        torch.testing.assert_close(states[i], hidden[i][0], rtol=1e-4, atol=1e-4)


def test_exclude_special_drops_bos_only(tiny):
    model, tokenizer = tiny
    hidden, ids = _reference(model, tokenizer, SENTENCE)
    special = tokenizer.get_special_tokens_mask(ids.tolist(), already_has_special_tokens=True)
    keep = [t for t, s in enumerate(special) if not s]
    assert len(keep) == len(ids) - 1  # the byte tokenizer adds one BOS
    states, tokens = token_states(model, tokenizer, SENTENCE, [2], exclude_special=True)
    torch.testing.assert_close(states[0], hidden[2][0][keep], rtol=1e-5, atol=1e-5)
    assert "<bos>" not in tokens and len(tokens) == len(keep)


def test_corpus_token_states_keeps_order(tiny):
    model, tokenizer = tiny
    sents = ["One.", "A longer second sentence."]
    out = corpus_token_states(model, tokenizer, sents, [1, 3])
    for s, st in zip(sents, out):
        torch.testing.assert_close(st, token_states(model, tokenizer, s, [1, 3])[0])
    assert out[0].shape[1] < out[1].shape[1]


def test_bad_input_is_rejected(tiny):
    model, tokenizer = tiny
    with pytest.raises(ValueError, match="empty"):
        token_states(model, tokenizer, "   ", [1])
    with pytest.raises(TypeError, match="sentence"):
        token_states(model, tokenizer, ["a list"], [1])
    with pytest.raises(ValueError, match="out of range"):
        token_states(model, tokenizer, "Hi", [99])
    with pytest.raises(ValueError, match="duplicates"):
        token_states(model, tokenizer, "Hi", [1, 1])
    with pytest.raises(TypeError, match="layers"):
        token_states(model, tokenizer, "Hi", "1")
    with pytest.raises(TypeError, match="sentences"):
        corpus_token_states(model, tokenizer, "not a list")


# ---------------------------------------------------------------- Fig. 2 quantities
def _cos(a, b):
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def _top_mean(h, H, k):
    return float(np.mean(sorted((_cos(h, g) for g in H), reverse=True)[:k]))


def test_random_partners_never_pick_the_sentence_itself():
    p = fig2.random_partners(50, seed=4)
    assert (p != np.arange(50)).all() and p.min() >= 0 and p.max() < 50
    np.testing.assert_array_equal(p, fig2.random_partners(50, seed=4))
    with pytest.raises(ValueError, match="n=1"):
        fig2.random_partners(1)


def test_fig2_quantities_against_loops():
    rng = np.random.default_rng(0)
    L, d, n = 3, 5, 6
    src = [rng.standard_normal((L, rng.integers(3, 8), d)) for _ in range(n)]
    tgt = [rng.standard_normal((L, rng.integers(3, 8), d)) for _ in range(n)]
    partners = fig2.random_partners(n, seed=1)
    k = 4
    overall, per_layer = fig2.deviation_tables(src, tgt, partners, top=k, n_boot=50)
    by_hand = np.mean([np.mean([np.mean([_top_mean(h, src[partners[i]][l], k)
                                         - _top_mean(h, tgt[i][l], k) for h in src[i][l]])
                                for l in range(L)]) for i in range(n)])
    assert overall["value"] == pytest.approx(by_hand, rel=1e-10)
    # signed, random minus translation: a translation equal to the source gives a lower value
    same, _ = fig2.deviation_tables(src, src, partners, top=k, n_boot=50)
    assert same["value"] < overall["value"]
    trans = per_layer[(per_layer.metric == "top_cos_translation") & (per_layer.position == 1)]
    assert trans.value.item() == pytest.approx(
        np.mean([np.mean([_top_mean(h, tgt[i][1], k) for h in src[i][1]]) for i in range(n)]))
    pooled_src = fig2.pooled(src)
    assert pooled_src.shape == (L, n, d)
    np.testing.assert_allclose(pooled_src[2, 4], src[4][2].mean(axis=0))
    cos = fig2.sentence_cosines(pooled_src, fig2.pooled(tgt), partners, n_boot=50)
    row = cos[(cos.position == 0) & (cos.metric == "sentence_cos_random")]
    assert row.value.item() == pytest.approx(
        np.mean([_cos(pooled_src[0, i], pooled_src[0, partners[i]]) for i in range(n)]))
    C = fig2.token_cosine_matrix(src[0][0], tgt[0][0])
    both = np.concatenate([src[0][0], tgt[0][0]])
    assert C.shape == (len(both), len(both))
    assert C[1, -1] == pytest.approx(_cos(both[1], both[-1]))


def test_pca_points_are_the_top_two_components():
    rng = np.random.default_rng(2)
    src, tgt = rng.standard_normal((2, 10, 4)), rng.standard_normal((2, 10, 4))
    pts = fig2.pca_points(src, tgt, [1])
    both = np.concatenate([src[1], tgt[1]])
    var = np.var(both - both.mean(0), axis=0).sum()
    eig = np.sort(np.linalg.eigvalsh(np.cov(both.T, bias=True)))[::-1]
    assert np.var(pts.pc1) == pytest.approx(eig[0]) and np.var(pts.pc2) == pytest.approx(eig[1])
    assert eig.sum() == pytest.approx(var)
    with pytest.raises(ValueError, match="src and tgt"):
        fig2.pca_points(src, tgt[:, :5], [0])
