"""Retrieval accuracy against a brute-force loop of LASER's xSIM definition."""

import itertools

import pandas as pd
import pytest
import torch

from xlnb.metrics import all_pairs_retrieval, pivot_retrieval, retrieval_accuracy


def brute_force(src, tgt, margin, k):
    """LASER xsim, written as loops: knn means, candidate scores, argmax, compare to gold."""
    return sum(brute_force_hits(src, tgt, margin, k)) / len(src)


def brute_force_hits(src, tgt, margin, k):
    n = len(src)
    cos = [[float(torch.nn.functional.cosine_similarity(src[i], tgt[j], dim=0))
            for j in range(n)] for i in range(n)]
    hits = []
    for i in range(n):
        if margin == "cosine":
            pick = max(range(n), key=lambda j: cos[i][j])
        else:
            knn_x = sorted(cos[i], reverse=True)[:k]
            cands = sorted(range(n), key=lambda j: -cos[i][j])[:k]
            best, pick = -float("inf"), None
            for j in cands:
                knn_y = sorted((cos[q][j] for q in range(n)), reverse=True)[:k]
                score = cos[i][j] / ((sum(knn_x) / k + sum(knn_y) / k) / 2)
                if score > best:
                    best, pick = score, j
        hits.append(pick == i)
    return hits


def planted(n=12, d=16, seed=0):
    """Noisy translations plus a 'hub' target close to every query: plain cosine is pulled
    to the hub, the ratio margin discounts it."""
    g = torch.Generator().manual_seed(seed)
    src = torch.randn(n, d, generator=g)
    tgt = src + 1.5 * torch.randn(n, d, generator=g)
    tgt[0] = src.sum(0) + 0.3 * torch.randn(d, generator=g)
    return src, tgt


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("margin", ["ratio", "cosine"])
def test_matches_brute_force(seed, margin):
    src, tgt = planted(seed=seed)
    for a, b in ((src, tgt), (tgt, src)):
        assert retrieval_accuracy(a, b, margin=margin, k=4) == pytest.approx(
            brute_force(a, b, margin, 4))


def test_planted_hub_separates_margin_from_cosine():
    src, tgt = planted(seed=2)
    cosine = retrieval_accuracy(src, tgt, margin="cosine")
    ratio = retrieval_accuracy(src, tgt, margin="ratio", k=4)
    assert cosine == pytest.approx(brute_force(src, tgt, "cosine", 4))
    assert ratio == pytest.approx(brute_force(src, tgt, "ratio", 4))
    assert ratio - cosine > 0.25  # the hub steals plain-cosine queries


def test_perfect_and_permutation_invariance():
    x = torch.randn(20, 8)
    assert retrieval_accuracy(x, x * 2.0) == 1.0
    src, tgt = planted(seed=3)
    perm = torch.randperm(len(src))
    assert retrieval_accuracy(src[perm], tgt[perm]) == pytest.approx(retrieval_accuracy(src, tgt))


def test_all_pairs_matches_single_pair():
    torch.manual_seed(1)
    reps = {lang: torch.randn(3, 15, 8) for lang in ("en", "de", "zh")}
    reps["de"] = reps["en"] + 0.8 * torch.randn(3, 15, 8)
    df = all_pairs_retrieval(reps, margin="ratio", k=4, layers=[0, 5, 10])
    assert len(df) == 3 * 6 and set(df.layer) == {0, 5, 10}
    for (a, b), (li, label) in itertools.product(itertools.permutations(reps, 2),
                                                 enumerate([0, 5, 10])):
        got = df.query("src == @a and tgt == @b and layer == @label").accuracy.item()
        assert got == pytest.approx(brute_force(reps[a][li], reps[b][li], "ratio", 4))


def test_rejects_bad_input():
    x = torch.randn(5, 4)
    with pytest.raises(ValueError, match="margin"):
        retrieval_accuracy(x, x, margin="distance")
    with pytest.raises(ValueError, match="k=6"):
        retrieval_accuracy(x, x, k=6)
    with pytest.raises(ValueError, match="shape"):
        retrieval_accuracy(x, x[:4])
    bad = x.clone()
    bad[1, 1] = float("nan")
    with pytest.raises(ValueError, match="tgt contains NaN"):
        retrieval_accuracy(x, bad)
    with pytest.raises(TypeError):
        retrieval_accuracy(x.numpy(), x)
    with pytest.raises(ValueError, match="two languages"):
        all_pairs_retrieval({"en": torch.randn(2, 5, 4)})
    with pytest.raises(ValueError, match="same"):
        all_pairs_retrieval({"en": torch.randn(2, 5, 4), "de": torch.randn(2, 6, 4)})


def test_pivot_retrieval_three_directions_against_loops():
    torch.manual_seed(2)
    reps = {"en": torch.randn(2, 14, 6)}
    reps["de"] = reps["en"] + 0.9 * torch.randn(2, 14, 6)
    reps["sw"] = reps["en"] + 1.4 * torch.randn(2, 14, 6)
    df = pivot_retrieval(reps, "en", k=3)
    assert set(df.lang) == {"de", "sw"} and len(df) == 2 * 2 * 3
    for lang, layer in itertools.product(("de", "sw"), (0, 1)):
        fwd = brute_force_hits(reps["en"][layer], reps[lang][layer], "ratio", 3)
        bwd = brute_force_hits(reps[lang][layer], reps["en"][layer], "ratio", 3)
        want = {"pivot_to_xx": sum(fwd) / 14, "xx_to_pivot": sum(bwd) / 14,
                "bidirectional": sum(f and b for f, b in zip(fwd, bwd)) / 14}
        got = df[(df.lang == lang) & (df.layer == layer)].set_index("direction").accuracy
        for direction, value in want.items():
            assert got[direction] == pytest.approx(value), (lang, layer, direction)
    with pytest.raises(ValueError, match="pivot 'fr'"):
        pivot_retrieval(reps, "fr")


def test_lazy_sources_and_layer_chunks_give_the_same_numbers():
    from xlnb import cache

    torch.manual_seed(3)
    reps = {lang: torch.randn(5, 12, 8) for lang in ("en", "de", "zh")}
    reps["de"] += reps["en"]
    lazy = {}
    for lang, t in reps.items():
        cache.save_tensor(f"lazy-{lang}", t, store="float32")
        lazy[lang] = cache.open_tensor(f"lazy-{lang}")
    whole = all_pairs_retrieval(reps)
    chunked = all_pairs_retrieval(lazy, memory_gb=1e-9)  # one layer at a time
    def tidy(df):
        return df.sort_values(["layer", "src", "tgt"]).reset_index(drop=True)

    pd.testing.assert_frame_equal(tidy(whole), tidy(chunked))


@pytest.mark.parametrize("block_bytes", [1, 2**30])
def test_similarity_blocks_of_any_size_give_the_brute_force_hits(block_bytes):
    from xlnb.metrics.retrieval import _PairHits

    layers = [planted(seed=s) for s in range(3)]
    x = torch.nn.functional.normalize(torch.stack([s for s, _ in layers]), dim=-1)
    y = torch.nn.functional.normalize(torch.stack([t for _, t in layers]), dim=-1)
    pair_hits = _PairHits("ratio", 4, block_bytes=block_bytes)
    for _ in range(2):  # the second call reuses the block
        forward, backward = pair_hits(x, y)
        for layer in range(3):
            assert forward[layer].tolist() == brute_force_hits(x[layer], y[layer], "ratio", 4)
            assert backward[layer].tolist() == brute_force_hits(y[layer], x[layer], "ratio", 4)
    # capped by the bytes, the layers and the threads
    assert pair_hits.work.shape[0] == (1 if block_bytes == 1 else min(3, torch.get_num_threads()))
