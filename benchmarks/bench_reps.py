"""How close ``sentence_reps`` comes to a bare forward pass, and how much it saves.

    python benchmarks/bench_reps.py [--model gemma-3-270m] [--n 500] [--batch-size 32]

Prints, for one model on the first N FLORES-200 English devtest sentences (the shipped micro
set, repeated, when ../shared/data is absent), side by side:
- ``sentence_reps`` with all layers (the top with the final norm, as ``hidden_states[-1]``),
  disk cache off; it runs the top-level CausalLM (so adapters and soft prompts would apply)
  and stops after the final norm, before the LM head;
- the floor: the bare decoder stack (no LM head, no hidden-state outputs) over the same
  length-sorted batches -- goal: ratio <= 1.1;
- the naive way: one sentence at a time through the CausalLM with
  ``output_hidden_states=True`` -- goal: sentence_reps >= 3x faster;
and each one's peak resident memory, every approach measured in its own process.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import time
from pathlib import Path

FLORES = Path(__file__).resolve().parents[2] / "shared" / "data" / "flores200"


def sentences(n: int) -> list[str]:
    from xlnb.data import load_parallel

    if FLORES.is_dir():
        return load_parallel("flores200", ["en"], n=n, path=FLORES)["en"]
    micro = load_parallel("micro", ["en"])["en"]
    return (micro * (n // len(micro) + 1))[:n]


def load(name: str):
    from xlnb.models import load_model

    try:
        return load_model(name)
    except ImportError:
        print(f"{name} unavailable, using tiny-llama")
        return load_model("tiny-llama")


def run_reps(model, tok, sents, batch_size):
    from xlnb.reps import sentence_reps

    sentence_reps(model, tok, sents, batch_size=batch_size, use_cache=False)


def run_floor(model, tok, sents, batch_size):
    import torch

    from xlnb.arch import decoder_of

    order = sorted(range(len(sents)), key=lambda i: len(tok(sents[i]).input_ids))
    decoder = decoder_of(model)
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            batch = [sents[i] for i in order[start:start + batch_size]]
            enc = tok(batch, return_tensors="pt", padding=True)
            decoder(**enc, use_cache=False)


def run_naive(model, tok, sents, batch_size):
    import torch

    with torch.inference_mode():
        for s in sents:
            out = model(**tok([s], return_tensors="pt"), output_hidden_states=True)
            torch.stack([h[0].mean(0) for h in out.hidden_states])


APPROACHES = {"sentence_reps": run_reps, "floor (bare decoder)": run_floor,
              "naive (one by one, CausalLM)": run_naive}


def measure(args, which, queue):
    import torch

    torch.manual_seed(0)
    model, tok = load(args.model)
    sents = sentences(args.n)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    APPROACHES[which](model, tok, sents[:8], args.batch_size)  # warm-up
    start = time.perf_counter()
    APPROACHES[which](model, tok, sents, args.batch_size)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    queue.put((seconds, peak / 1024, (peak - base) / 1024))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="gemma-3-270m")
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()
    ctx = mp.get_context("spawn")
    results = {}
    for which in APPROACHES:
        queue = ctx.Queue()
        proc = ctx.Process(target=measure, args=(args, which, queue))
        proc.start()
        results[which] = queue.get()
        proc.join()
    ours = results["sentence_reps"][0]
    print(f"\n{args.model}, {args.n} sentences, batch size {args.batch_size}")
    print(f"{'approach':32s} {'seconds':>9s} {'ratio to ours':>14s} {'peak RSS MB':>12s}"
          f" {'MB during run':>14s}")
    for which, (seconds, peak, grown) in results.items():
        print(f"{which:32s} {seconds:9.2f} {seconds / ours:14.2f} {peak:12.0f} {grown:14.0f}")
    floor = results["floor (bare decoder)"][0]
    naive = results["naive (one by one, CausalLM)"][0]
    print(f"\nsentence_reps / floor = {ours / floor:.2f} (goal <= 1.1); "
          f"naive / sentence_reps = {naive / ours:.1f}x (goal >= 3)")


if __name__ == "__main__":
    main()
