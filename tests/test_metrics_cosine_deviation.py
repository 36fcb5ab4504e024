"""CL-ICP cosine deviation (App. B.1) against a Python loop and a hand-worked case."""

import math

import numpy as np
import pytest
import torch

from xlnb.metrics import corpus_cosine_deviation, cosine_deviation, top_cosine


def loop_top_cos(h, H, top):
    def cos(a, b):
        return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))

    sims = sorted((cos(h, g) for g in H), reverse=True)
    return sum(sims[:top]) / len(sims[:top])


def loop_dev(Hs, Ht, Hr, top):
    return sum(loop_top_cos(h, Hr, top) - loop_top_cos(h, Ht, top) for h in Hs) / len(Hs)


def test_hand_worked_2d():
    Hs = np.array([[1.0, 0.0]])
    Ht = np.array([[1.0, 0.0], [0.0, 1.0]])   # cosines 1, 0
    Hr = np.array([[1.0, 1.0], [-1.0, 0.0]])  # cosines 1/sqrt2, -1
    assert cosine_deviation(Hs, Ht, Hr, top=1) == pytest.approx(1 / math.sqrt(2) - 1)
    assert cosine_deviation(Hs, Ht, Hr, top=2) == pytest.approx((1 / math.sqrt(2) - 1) / 2 - 0.5)


@pytest.mark.parametrize("top", [1, 3, 10])
def test_random_matches_loop(top):
    rng = np.random.default_rng(top)
    Hs, Ht, Hr = rng.normal(size=(7, 5)), rng.normal(size=(15, 5)), rng.normal(size=(12, 5))
    assert cosine_deviation(Hs, Ht, Hr, top=top) == pytest.approx(loop_dev(Hs, Ht, Hr, top))
    np.testing.assert_allclose(top_cosine(Hs, Ht, top=top),
                               [loop_top_cos(h, Ht, top) for h in Hs])


def test_layers_are_averaged_and_tensors_accepted():
    rng = np.random.default_rng(5)
    Hs, Ht, Hr = (rng.normal(size=(3, n, 4)) for n in (6, 11, 12))
    per_layer = [loop_dev(Hs[i], Ht[i], Hr[i], 10) for i in range(3)]
    got = cosine_deviation(torch.tensor(Hs), torch.tensor(Ht), torch.tensor(Hr))
    assert got == pytest.approx(np.mean(per_layer))


def test_planted_alignment_sign():
    # Translation = source tokens + small noise; random sentence unrelated -> negative deviation.
    rng = np.random.default_rng(6)
    Hs = rng.normal(size=(12, 16))
    Ht = Hs + 0.05 * rng.normal(size=(12, 16))
    Hr = rng.normal(size=(12, 16))
    assert cosine_deviation(Hs, Ht, Hr, top=1) < -0.3
    assert cosine_deviation(Hs, Hr, Ht, top=1) > 0.3
    # a larger top dilutes the one matching token with unrelated ones, keeping the sign
    assert cosine_deviation(Hs, Ht, Hr, top=1) < cosine_deviation(Hs, Ht, Hr, top=3) < 0


def test_short_sentences_clip_or_raise():
    rng = np.random.default_rng(7)
    Hs, Ht, Hr = rng.normal(size=(4, 3)), rng.normal(size=(5, 3)), rng.normal(size=(20, 3))
    assert cosine_deviation(Hs, Ht, Hr, top=10) == pytest.approx(loop_dev(Hs, Ht, Hr, 10))
    with pytest.raises(ValueError, match="fewer than top"):
        cosine_deviation(Hs, Ht, Hr, top=10, short="raise")


def test_corpus_mean():
    rng = np.random.default_rng(8)
    triples = [tuple(rng.normal(size=(n, 4)) for n in (5, 6, 7)) for _ in range(3)]
    expected = np.mean([loop_dev(*t, 2) for t in triples])
    assert corpus_cosine_deviation(triples, top=2) == pytest.approx(expected)
    with pytest.raises(ValueError, match="empty"):
        corpus_cosine_deviation([])


def test_bad_inputs_raise():
    a2, a3 = np.ones((4, 3)), np.ones((2, 4, 3))
    with pytest.raises(ValueError, match="all be"):
        cosine_deviation(a2, a3, a3)
    with pytest.raises(ValueError, match="layer counts"):
        cosine_deviation(a3, np.ones((3, 4, 3)), a3)
    with pytest.raises(ValueError, match="widths"):
        cosine_deviation(a2, np.ones((4, 5)), a2)
    with pytest.raises(ValueError, match="H_rand contains"):
        cosine_deviation(a2, a2, np.full((4, 3), np.nan))
    with pytest.raises(ValueError, match="top"):
        cosine_deviation(a2, a2, a2, top=0)
    with pytest.raises(ValueError, match="short"):
        cosine_deviation(a2, a2, a2, short="pad")
