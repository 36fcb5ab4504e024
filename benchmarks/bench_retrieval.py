"""All-pairs margin retrieval: speed against a matmul floor and a naive loop; memory at
paper scale.

    python benchmarks/bench_retrieval.py                    # 35 langs x 1012 x 19 layers x 640
    python benchmarks/bench_retrieval.py --paper-scale 2    # + lazy on-disk run, 35 x 997 x 4096

Speed: ``all_pairs_hits`` on random data (the FLOPs do not depend on the values) against
(a) float32 matmul time for the FLOPs of all the similarity matrices, at the throughput of
a large square matmul, and (b) a naive per-pair, per-layer, per-direction loop of
``retrieval_accuracy`` (timed on a few pairs and extrapolated). Goals: ratio to the matmul <= 1.5; far faster than the loop.
Memory: ``--paper-scale L`` writes MidAlign's setting (35 languages x 997 sentences x
4096 dims) for L layers to the cache as lazy per-language files and runs all pairs from
disk, printing the peak resident memory (goal: under 4 GB; it does not grow with L, since
layers are read a chunk at a time).
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time

import torch


def random_reps(n_langs, n, layers, d, seed=0):
    g = torch.Generator().manual_seed(seed)
    base = torch.randn(layers, n, d, generator=g)
    return {f"l{i:02d}": base + 2.0 * torch.randn(layers, n, d, generator=g)
            for i in range(n_langs)}


def matmul_floor(n_langs, n, layers, d, size=4096):
    """Seconds one float32 matmul needs for the FLOPs of every pair's similarity matrices.

    A single matmul of that FLOP count would need tens of GB for its output, so the floor
    is the FLOP count divided by the throughput of a ``size``-cubed float32 matmul (the
    best case for the BLAS on this machine), timed after a warm-up.
    """
    pairs = n_langs * (n_langs - 1) // 2
    flops = 2.0 * pairs * layers * n * n * d
    a, b = torch.randn(size, size), torch.randn(size, size)
    a @ b  # warm-up
    seconds = []
    for _ in range(3):  # the best of three: the floor is the BLAS at its best
        start = time.perf_counter()
        a @ b
        seconds.append(time.perf_counter() - start)
    throughput = 2.0 * size**3 / min(seconds)
    return flops / throughput, flops


def naive_seconds(reps, pairs_to_time=3):
    from xlnb.metrics import retrieval_accuracy

    langs = list(reps)
    n_layers = next(iter(reps.values())).shape[0]
    start = time.perf_counter()
    for a, b in list(zip(langs, langs[1:]))[:pairs_to_time]:
        for layer in range(n_layers):
            retrieval_accuracy(reps[a][layer], reps[b][layer])
            retrieval_accuracy(reps[b][layer], reps[a][layer])
    per_pair = (time.perf_counter() - start) / pairs_to_time
    return per_pair * len(langs) * (len(langs) - 1) / 2


def speed(args):
    from xlnb.metrics import all_pairs_hits

    reps = random_reps(args.langs, args.n, args.layers, args.d)
    start = time.perf_counter()
    all_pairs_hits(reps)
    ours = time.perf_counter() - start
    floor, flops = matmul_floor(args.langs, args.n, args.layers, args.d)
    naive = naive_seconds(reps)
    print(f"all pairs: {args.langs} languages x {args.n} sentences x {args.layers} layers x "
          f"{args.d} dims ({flops / 1e12:.2f} TFLOP of similarities)")
    print(f"  all_pairs_hits         {ours:8.1f} s")
    print(f"  float32 matmul floor   {floor:8.1f} s   ratio {ours / floor:.2f} (goal <= 1.5)")
    print(f"  naive loop (extrap.)   {naive:8.1f} s   {naive / ours:.1f}x slower than ours")


def paper_scale(layers):
    from xlnb import cache
    from xlnb.metrics import all_pairs_hits

    os.environ["XLNB_CACHE_DIR"] = tempfile.mkdtemp(prefix="xlnb-bench-")
    handles = {}
    for i in range(35):  # written one language at a time, as sentence_reps does
        key = f"bench-{i}"
        cache.save_tensor(key, torch.randn(layers, 997, 4096))
        handles[f"l{i:02d}"] = cache.open_tensor(key)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    start = time.perf_counter()
    _, hits = all_pairs_hits(handles)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"paper scale, lazy from disk: 35 x 997 x {layers} layers x 4096 -> hits "
          f"{tuple(hits.shape)} in {seconds:.0f} s; peak RSS {peak:.2f} GB "
          f"(before the run {before:.2f} GB; goal < 4 GB)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--langs", type=int, default=35)
    parser.add_argument("--n", type=int, default=1012)
    parser.add_argument("--layers", type=int, default=19)
    parser.add_argument("--d", type=int, default=640)
    parser.add_argument("--paper-scale", type=int, default=0, metavar="LAYERS",
                        help="also run the on-disk paper-scale memory check with this many layers")
    args = parser.parse_args()
    print(f"torch threads: {torch.get_num_threads()}")
    if args.paper_scale:
        paper_scale(args.paper_scale)  # first, so the speed run's memory does not count
    speed(args)


if __name__ == "__main__":
    main()
