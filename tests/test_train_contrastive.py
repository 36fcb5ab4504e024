"""MidAlign eq. 1 against an independent loop, near-miss definitions and hand-worked values."""

import math

import numpy as np
import pytest
import torch

from xlnb.train import contrastive_loss


def loop_loss(src, tgt, tau, direction="src", skip=()):
    """Eq. 1 with explicit loops over rows and numpy: -log softmax_j cos(s_i, t_j)/tau at j=i;
    ``skip``: unordered index pairs {i, j} left out of each other's denominators."""
    src, tgt = np.asarray(src, float), np.asarray(tgt, float)
    if direction == "tgt":
        src, tgt = tgt, src
    skip = {frozenset(p) for p in skip}
    losses = []
    for i in range(len(src)):
        sims = [src[i] @ tgt[j] / np.linalg.norm(src[i]) / np.linalg.norm(tgt[j]) / tau
                if frozenset((i, j)) not in skip else -math.inf for j in range(len(tgt))]
        losses.append(-(sims[i] - math.log(sum(math.exp(s) for s in sims if s > -math.inf))))
    return sum(losses) / len(losses)


@pytest.fixture
def batch():
    gen = torch.Generator().manual_seed(0)
    src = torch.randn(6, 5, generator=gen) * torch.rand(6, 1, generator=gen) * 10  # varied norms
    tgt = torch.randn(6, 5, generator=gen) * torch.rand(6, 1, generator=gen) * 10
    return src, tgt


def test_two_by_two_by_hand():
    # cos = identity, tau = 1: each row -log(e / (e + 1)) = log(1 + 1/e).
    eye = torch.eye(2)
    assert contrastive_loss(eye, eye, temperature=1.0).item() == pytest.approx(
        math.log(1 + math.exp(-1)), abs=1e-6)


@pytest.mark.parametrize("tau", [0.1, 1.0, 1.5])
def test_matches_the_loop(batch, tau):
    src, tgt = batch
    assert contrastive_loss(src, tgt, tau).item() == pytest.approx(loop_loss(src, tgt, tau),
                                                                   rel=1e-5)


def test_cosine_not_dot_product(batch):
    src, tgt = batch
    dot = torch.nn.functional.cross_entropy(src @ tgt.T / 0.1, torch.arange(6)).item()
    ours = contrastive_loss(src, tgt, 0.1).item()
    assert abs(ours - dot) > 1.0
    # cosine: scaling one sentence's vector changes nothing.
    scaled = src.clone()
    scaled[2] *= 7
    assert contrastive_loss(scaled, tgt, 0.1).item() == pytest.approx(ours, rel=1e-5)


def test_one_direction_and_symmetric(batch):
    src, tgt = batch
    forward, backward = loop_loss(src, tgt, 0.5), loop_loss(src, tgt, 0.5, direction="tgt")
    assert abs(forward - backward) > 1e-2  # the case tells the directions apart
    assert contrastive_loss(src, tgt, 0.5).item() == pytest.approx(forward, rel=1e-5)
    assert contrastive_loss(src, tgt, 0.5, symmetric=True).item() == pytest.approx(
        (forward + backward) / 2, rel=1e-5)


def test_duplicates_leave_each_others_denominators(batch):
    src, tgt = batch
    same = torch.eye(6, dtype=torch.bool)
    same[1, 4] = True  # one-sided on purpose: pairs 1 and 4 are each other's duplicates
    same[2, 5] = same[5, 2] = True
    skip = [(1, 4), (2, 5)]
    masked = contrastive_loss(src, tgt, 0.5, same=same).item()
    assert masked == pytest.approx(loop_loss(src, tgt, 0.5, skip=skip), rel=1e-5)
    assert masked < contrastive_loss(src, tgt, 0.5).item()  # fewer negatives, lower loss
    both = contrastive_loss(src, tgt, 0.5, symmetric=True, same=same).item()
    assert both == pytest.approx((loop_loss(src, tgt, 0.5, skip=skip)
                                  + loop_loss(src, tgt, 0.5, "tgt", skip=skip)) / 2, rel=1e-5)


def test_duplicate_mask_by_hand():
    from xlnb.train.contrastive import duplicate_mask

    # pairs 0 and 2 share the English text, 1 and 3 the other side
    got = duplicate_mask(torch.tensor([0, 1, 2, 1]), torch.tensor([0, 1, 0, 2]))
    want = torch.tensor([[1, 0, 1, 0], [0, 1, 0, 1], [1, 0, 1, 0], [0, 1, 0, 1]], dtype=torch.bool)
    assert torch.equal(got, want)


def test_gradient_step_lowers_the_loss_for_aligned_pairs():
    gen = torch.Generator().manual_seed(1)
    tgt = torch.randn(8, 16, generator=gen)
    src = (tgt + 2.0 * torch.randn(8, 16, generator=gen)).requires_grad_()
    before = contrastive_loss(src, tgt)
    before.backward()
    with torch.no_grad():
        after = contrastive_loss(src - 0.5 * src.grad, tgt)
    assert after.item() < before.item() - 1e-3


def test_half_precision_inputs_give_float32():
    src = torch.randn(4, 8).bfloat16()
    assert contrastive_loss(src, src).dtype == torch.float32


@pytest.mark.parametrize("src,tgt,kwargs,match", [
    (torch.zeros(4, 3), torch.zeros(4, 2), {}, "same shape"),
    (torch.zeros(4), torch.zeros(4), {}, r"\[n, d\]"),
    (torch.ones(1, 3), torch.ones(1, 3), {}, "at least 2"),
    (torch.ones(3, 3), torch.ones(3, 3), {"temperature": 0}, "temperature"),
    (torch.ones(3, 3), torch.ones(3, 3), {"temperature": float("nan")}, "temperature"),
])
def test_bad_input(src, tgt, kwargs, match):
    with pytest.raises(ValueError, match=match):
        contrastive_loss(src, tgt, **kwargs)
