"""Average neuron-wise correlation against scipy.stats.pearsonr in a loop."""

import numpy as np
import pytest
import torch
from scipy.stats import pearsonr

from xlnb.metrics import anc, neuron_correlations


def loop_r(X, Y):
    return np.array([pearsonr(X[:, j], Y[:, j])[0] for j in range(X.shape[1])])


def test_matches_pearsonr_loop():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(25, 9))
    Y = 0.5 * X + rng.normal(size=(25, 9))
    r = loop_r(X, Y)
    np.testing.assert_allclose(neuron_correlations(X, Y), r, atol=1e-12)
    assert anc(torch.tensor(X), torch.tensor(Y)) == pytest.approx(r.mean())
    assert anc(X, Y, absolute=True) == pytest.approx(np.abs(r).mean())


def test_signed_vs_absolute_on_planted_anticorrelation():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(50, 4))
    Y = X.copy()
    Y[:, :2] *= -1  # two neurons flip sign: r = -1, -1, +1, +1
    assert anc(X, Y) == pytest.approx(0.0, abs=1e-12)
    assert anc(X, Y, absolute=True) == pytest.approx(1.0)


def test_hand_worked_small_case():
    X = np.array([[1.0, 0.0], [2.0, 1.0], [3.0, 0.0]])
    Y = np.array([[2.0, 5.0], [4.0, 5.0], [6.0, 4.0]])
    # neuron 0: Y = 2X -> r = 1; neuron 1: x = (0,1,0), y = (5,5,4) -> r = 0.5
    np.testing.assert_allclose(neuron_correlations(X, Y), [1.0, 0.5])
    assert anc(X, Y) == pytest.approx(0.75)


def test_not_rotation_invariant():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(40, 2))
    rot = np.array([[0.0, -1.0], [1.0, 0.0]])
    assert anc(X, X) == pytest.approx(1.0)
    assert anc(X, X @ rot) < 0.5


def test_bad_inputs_raise():
    X = np.random.default_rng(3).normal(size=(6, 3))
    with pytest.raises(ValueError, match="same shape"):
        anc(X, X[:, :2])
    with pytest.raises(ValueError, match="constant column"):
        anc(X, np.column_stack([X[:, :2], np.full(6, 2.0)]))
    with pytest.raises(ValueError, match="X contains"):
        anc(np.where(X > 0, np.nan, X), X)
    with pytest.raises(ValueError, match="at least 2"):
        anc(X[:1], X[:1])
    with pytest.raises(TypeError, match="absolute"):
        anc(X, X, absolute="yes")
