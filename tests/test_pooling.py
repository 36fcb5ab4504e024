"""pool() against hand-computed values, both padding sides."""

import pytest
import torch

from xlnb.pooling import pool

PAD = [100.0, 100.0]
# Row 0 has two real tokens [1,2], [3,4]; row 1 has three: [0,0], [3,3], [6,9].
ROW0, ROW1 = [[1.0, 2.0], [3.0, 4.0]], [[0.0, 0.0], [3.0, 3.0], [6.0, 9.0]]
EXPECTED = {
    "mean": [[2.0, 3.0], [3.0, 4.0]],
    # weights 1/3, 2/3 and 1/6, 2/6, 3/6
    "weighted": [[7 / 3, 10 / 3], [4.0, 5.5]],
    "last": [[3.0, 4.0], [6.0, 9.0]],
}


def batch(side):
    if side == "right":
        hidden = [ROW0 + [PAD], ROW1]
        mask = [[1, 1, 0], [1, 1, 1]]
    else:
        hidden = [[PAD] + ROW0, ROW1]
        mask = [[0, 1, 1], [1, 1, 1]]
    return torch.tensor(hidden), torch.tensor(mask)


@pytest.mark.parametrize("side", ["right", "left"])
@pytest.mark.parametrize("mode", ["mean", "weighted", "last"])
def test_pool_hand_computed(mode, side):
    hidden, mask = batch(side)
    torch.testing.assert_close(pool(hidden, mask, mode), torch.tensor(EXPECTED[mode]))


def test_weighted_counts_only_pooled_tokens():
    # A hole in the mask (an excluded BOS) restarts nothing: t counts pooled tokens 1, 2.
    hidden = torch.tensor([[[50.0], [1.0], [4.0]]])
    out = pool(hidden, torch.tensor([[0, 1, 1]]), "weighted")
    torch.testing.assert_close(out, torch.tensor([[1 / 3 + 8 / 3]]))


def test_pool_rejects_bad_input():
    hidden, mask = batch("right")
    with pytest.raises(ValueError, match="unknown pooling"):
        pool(hidden, mask, "max")
    with pytest.raises(ValueError, match="shape|expected"):
        pool(hidden, mask[:, :2], "mean")
    with pytest.raises(ValueError, match="no token"):
        pool(hidden, torch.tensor([[0, 0, 0], [1, 1, 1]]), "mean")
