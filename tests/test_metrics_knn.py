"""Row and column k nearest neighbours against numpy's stable argsort."""

import numpy as np
import pytest
import torch

from xlnb.metrics.knn import _scan, nearest


def reference(sim: np.ndarray, k: int):
    """Top-k by a stable descending argsort: equal values keep the lower index first."""
    row_idx = np.argsort(-sim, axis=2, kind="stable")[..., :k]
    col_idx = np.argsort(-sim.transpose(0, 2, 1), axis=2, kind="stable")[..., :k]
    row_val = np.take_along_axis(sim, row_idx, axis=2)
    col_val = np.take_along_axis(sim.transpose(0, 2, 1), col_idx, axis=2)
    return row_val, row_idx, col_val, col_idx


def assert_matches(got, sim, k):
    for g, want in zip(got, reference(sim, k)):
        np.testing.assert_array_equal(g.numpy(), want)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("k", [1, 4, 9])
def test_random_rectangular(dtype, k):
    sim = torch.randn(3, 23, 31, generator=torch.Generator().manual_seed(k), dtype=dtype)
    got = nearest(sim, k)
    assert [t.dtype for t in got] == [dtype, torch.int64, dtype, torch.int64]
    assert got[0].shape == (3, 23, k) and got[2].shape == (3, 31, k)
    assert_matches(got, sim.numpy(), k)


def test_k_equal_to_the_short_side_sorts_whole_rows():
    sim = torch.randn(2, 5, 7, generator=torch.Generator().manual_seed(1))
    assert_matches(nearest(sim, 5), sim.numpy(), 5)


@pytest.mark.parametrize("parts", [1, 2, 3, 7])
def test_ties_keep_the_lower_index_across_row_blocks(parts):
    # Values from {0, 1, 2}: every row and column has many ties, and the column lists
    # built by separate row blocks must merge back in row order.
    g = torch.Generator().manual_seed(parts)
    sim = torch.randint(0, 3, (2, 21, 13), generator=g).float().numpy()
    got = [torch.from_numpy(a) for a in _scan(sim, 4, parts)]
    assert_matches(got, sim, 4)


def test_hand_worked_ties():
    sim = torch.tensor([[[1.0, 3.0, 3.0],
                         [3.0, 0.0, 3.0],
                         [2.0, 3.0, 1.0]]])
    row_val, row_idx, col_val, col_idx = nearest(sim, 2)
    assert row_idx.tolist() == [[[1, 2], [0, 2], [1, 0]]]
    assert row_val.tolist() == [[[3, 3], [3, 3], [3, 2]]]
    assert col_idx.tolist() == [[[1, 2], [0, 2], [0, 1]]]
    assert col_val.tolist() == [[[3, 2], [3, 3], [3, 3]]]


def test_other_dtypes_fall_back_to_topk_values():
    sim = torch.randn(2, 9, 9, generator=torch.Generator().manual_seed(2)).half()
    row_val, _, col_val, _ = nearest(sim, 3)
    want = reference(sim.float().numpy(), 3)
    np.testing.assert_array_equal(row_val.float().numpy(), want[0])
    np.testing.assert_array_equal(col_val.float().numpy(), want[2])


def test_rejects_bad_input():
    with pytest.raises(ValueError, match="k=0"):
        nearest(torch.zeros(1, 3, 3), 0)
    with pytest.raises(ValueError, match="k=4"):
        nearest(torch.zeros(1, 3, 5), 4)
    with pytest.raises(ValueError, match=r"\[c, n, m\]"):
        nearest(torch.zeros(3, 3), 1)
