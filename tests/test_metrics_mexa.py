"""Mutual-nearest-neighbour score (NeuronXA eq. 4 / MEXA) against a plain Python loop."""

import math

import numpy as np
import pytest
import torch

from xlnb.metrics import (
    aggregate,
    cosine_matrix,
    layer_scores,
    mutual_nn_from_similarity,
    mutual_nn_score,
)


def loop_score(src, tgt):
    """Eq. 4 written out element by element."""
    src, tgt = np.asarray(src, float), np.asarray(tgt, float)
    n = len(src)

    def cos(a, b):
        return sum(x * y for x, y in zip(a, b)) / (math.sqrt(sum(x * x for x in a))
                                                    * math.sqrt(sum(y * y for y in b)))

    c = [[cos(src[i], tgt[j]) for j in range(n)] for i in range(n)]
    hits = 0
    for i in range(n):
        others = [c[i][j] for j in range(n) if j != i] + [c[j][i] for j in range(n) if j != i]
        hits += all(c[i][i] > o for o in others)
    return hits / n


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_matches_loop(seed):
    rng = np.random.default_rng(seed)
    src = rng.normal(size=(12, 5))
    tgt = 0.7 * src + rng.normal(size=(12, 5))  # partially aligned: score strictly in (0, 1)
    expected = loop_score(src, tgt)
    assert 0 < expected < 1
    assert mutual_nn_score(torch.tensor(src), torch.tensor(tgt)) == pytest.approx(expected)


def test_planted_identity_is_one_and_permuted_is_zero():
    rng = np.random.default_rng(3)
    src = rng.normal(size=(20, 8))
    assert mutual_nn_score(src, src * 2.5) == 1.0
    # a derangement: every true partner sits off the diagonal
    assert mutual_nn_score(src, np.roll(src, 1, axis=0)) == 0.0


def test_hand_worked_3x3_row_vs_row_and_column():
    # Row 0's maximum is the diagonal (0.9 > 0.1, 0.2), but column 0 holds 0.95 > 0.9:
    # a row-only rule counts items 0 and 2, eq. 4 only item 2.
    sim = np.array([[0.90, 0.10, 0.20],
                    [0.95, 0.80, 0.30],
                    [0.00, 0.10, 0.70]])
    row_only = np.mean([sim[i, i] == sim[i].max() for i in range(3)])
    assert row_only == pytest.approx(2 / 3)
    # item 0: col has 0.95; item 1: row has 0.95; item 2: 0.7 beats 0.0, 0.1, 0.2, 0.3
    assert mutual_nn_from_similarity(sim) == pytest.approx(1 / 3)


def test_ties_do_not_count_strict_inequality():
    # Binary (NAS-like) states: tgt rows 0 and 1 identical, so c_00 == c_01 exactly.
    src = np.array([[1, 1, 0, 0], [1, 1, 0, 0], [0, 0, 1, 1]], dtype=float)
    tgt = src.copy()
    c = cosine_matrix(src, tgt)
    assert c[0, 0] == c[0, 1] == c[1, 0] == c[1, 1]
    non_strict = np.mean([all(c[i, i] >= c[i, j] and c[i, i] >= c[j, i]
                              for j in range(3) if j != i) for i in range(3)])
    assert non_strict == 1.0
    assert mutual_nn_score(src, tgt) == pytest.approx(1 / 3) == loop_score(src, tgt)


def test_tie_only_in_row_or_only_in_column():
    # Row tie: src 0 is equally close to tgt 0 and tgt 1, column 0 is clean.
    src = np.array([[1, 1, 0, 0], [0, 1, 0, 0], [0, 0, 1, 1]], dtype=float)
    tgt = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 1]], dtype=float)
    c = cosine_matrix(src, tgt)
    assert c[0, 0] == c[0, 1] and c[0, 0] > max(c[1, 0], c[2, 0])
    assert mutual_nn_score(src, tgt) == pytest.approx(2 / 3) == loop_score(src, tgt)
    # Column tie: the transposed situation (swap the roles of the languages).
    assert mutual_nn_score(tgt, src) == pytest.approx(2 / 3) == loop_score(tgt, src)
    sim = np.array([[0.9, 0.1, 0.0], [0.9, 0.5, 0.0], [0.0, 0.0, 0.7]])  # column tie only
    assert mutual_nn_from_similarity(sim) == pytest.approx(1 / 3)
    assert mutual_nn_from_similarity(sim.T) == pytest.approx(1 / 3)


def test_cosine_matrix_float64_and_zero_vector():
    src = torch.tensor([[1.0, 0.0], [0.0, 0.0]], dtype=torch.float16)
    c = cosine_matrix(src, torch.tensor([[3.0, 4.0], [0.0, 2.0]]))
    assert c.dtype == np.float64
    np.testing.assert_allclose(c, [[0.6, 0.0], [0.0, 0.0]])


def test_layer_scores_and_aggregate():
    rng = np.random.default_rng(4)
    src = rng.normal(size=(3, 10, 6))
    tgt = np.stack([src[0], rng.normal(size=(10, 6)), 0.5 * src[2] + rng.normal(size=(10, 6))])
    scores = layer_scores(torch.tensor(src), torch.tensor(tgt))
    assert isinstance(scores, torch.Tensor) and scores.dtype == torch.float64
    expected = [loop_score(src[i], tgt[i]) for i in range(3)]
    np.testing.assert_allclose(scores.numpy(), expected)
    assert aggregate(scores) == pytest.approx(np.mean(expected))
    assert aggregate(scores, how="max") == 1.0


def test_chance_level_simulation():
    # With i.i.d. entries the expected hit count is n * 1/(2n-1) (NeuronXA App. E).
    rng = np.random.default_rng(5)
    n, reps = 10, 4000
    hits = [mutual_nn_from_similarity(rng.normal(size=(n, n))) * n for _ in range(reps)]
    assert np.mean(hits) == pytest.approx(n / (2 * n - 1), rel=0.1)


@pytest.mark.parametrize("src, tgt, match", [
    (np.ones((3, 2)), np.ones((4, 2)), "same shape"),
    (np.ones((3, 2)), np.ones((3, 3)), "same shape"),
    (np.ones(3), np.ones(3), "dimensions"),
    (np.ones((1, 2)), np.ones((1, 2)), "at least 2"),
    (np.array([[1.0, np.nan], [1, 2]]), np.ones((2, 2)), "src contains"),
    (np.ones((2, 2)), np.array([[1.0, np.inf], [1, 2]]), "tgt contains"),
])
def test_bad_inputs_raise(src, tgt, match):
    with pytest.raises(ValueError, match=match):
        mutual_nn_score(src, tgt)


def test_bad_types_and_options_raise():
    with pytest.raises(TypeError):
        mutual_nn_score(np.array([["a", "b"], ["c", "d"]]), np.ones((2, 2)))
    with pytest.raises(ValueError, match="square"):
        mutual_nn_from_similarity(np.ones((2, 3)))
    with pytest.raises(ValueError, match="how"):
        aggregate([0.1, 0.2], how="median")
    with pytest.raises(ValueError, match="shape"):
        layer_scores(np.ones((2, 3, 4)), np.ones((3, 3, 4)))


def test_layer_scores_names_the_bad_layer():
    src = np.ones((3, 4, 2))
    src[2, 1, 0] = np.nan
    with pytest.raises(ValueError, match="layer 2: src contains"):
        layer_scores(src, np.ones((3, 4, 2)))
    with pytest.raises(ValueError, match=r"\[L, N, d\]"):
        layer_scores(np.ones((4, 2)), np.ones((4, 2)))
