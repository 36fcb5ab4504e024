"""What the early exit saves in a MidAlign alignment step, and training throughput.

    python benchmarks/bench_train.py [--model gemma-3-270m] [--pairs 4] [--repeats 2]
                                     [--updates 2] [--threads 1]

(defaults sized for a few minutes on two shared CPU cores; ``--pairs 16 --repeats 5`` for a
fuller run)

Part 1, on one batch of N FLORES-200 de-en pairs (2N sentences; the shipped micro set when
../shared/data is absent), LoRA r=8 on all projections, each step = forward + backward +
AdamW, medians over interleaved repeats after a warm-up:
- alignment step with early exit at the middle layer (``xlnb.train.objectives.align_loss``);
- the same with ``length_buckets=4`` (rows sorted by length, four passes, less padding);
- the same alignment loss from a full forward with ``output_hidden_states`` (all blocks and
  the LM head run, as in a model patched to return an extra loss);
- a task step on the same 2N sequences, every token labelled (LM head on every position).
Goal: alignment with early exit <= 0.25 x the task step.
Also: a slot-filling task micro-batch (MASSIVE en, App. D.2 prompt, answer labelled only)
with ``task_loss`` (the LM head on the labelled positions only) vs Hugging Face's loss
(logits everywhere), and ``task_loss`` with ``shared_prefix`` (the prompt tokens that every
example shares run once) vs without.

Part 2: ``train()`` in joint mode on MASSIVE en + FLORES de-en pairs for a few updates:
training tokens/s (real tokens of all micro-batches / wall time of the run).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def pairs(n: int) -> list[tuple[str, str]]:
    from xlnb.data import load_parallel

    flores = DATA / "flores200"
    if flores.is_dir():
        par = load_parallel("flores200", ["de", "en"], n=n, path=flores, split="devtest")
    else:
        par = load_parallel("micro", ["de", "en"], n=n)
    return list(zip(par["de"], par["en"]))


def slot_examples(tokenizer, n: int) -> list[dict]:
    from xlnb.tasks import get_task
    from xlnb.tasks.chat import encode_example

    task = get_task("slot_filling")
    path = DATA / "massive"
    examples = task.load("en", "train", n=n, path=str(path) if path.is_dir() else None)
    return [encode_example(tokenizer, task.messages(ex), ex.target) for ex in examples]


def lora_model(name: str):
    from xlnb.models import load_model
    from xlnb.train import TrainConfig, add_lora

    model, tokenizer = load_model(name, device="cpu")
    model = add_lora(model, TrainConfig())
    model.train()
    return model, tokenizer


def step_timers(model, tokenizer, batch_pairs, slot_batch):
    """name -> a function running one training step (forward, backward, optimizer)."""
    import dataclasses

    import torch

    from xlnb.arch import n_blocks
    from xlnb.pooling import pool
    from xlnb.train import TrainConfig, contrastive_loss
    from xlnb.train.batches import PairTokens, pair_batch
    from xlnb.train.objectives import align_loss, task_loss

    config = TrainConfig()
    middle = n_blocks(model) // 2
    batch = pair_batch(PairTokens.encode(tokenizer, batch_pairs, None),
                       list(range(len(batch_pairs))), tokenizer.pad_token_id, "cpu")
    ids, mask = batch["input_ids"], batch["attention_mask"]
    labels = ids.masked_fill(mask == 0, -100)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-6)

    def step(loss_fn):
        def run():
            loss = loss_fn()
            loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
        return run

    def align_full():
        hidden = model(input_ids=ids, attention_mask=mask, output_hidden_states=True,
                       use_cache=False).hidden_states[middle]
        src, tgt = pool(hidden, mask).chunk(2)
        return contrastive_loss(src, tgt, config.temperature)

    return {
        "align, early exit": step(lambda: align_loss(model, batch, middle, config)),
        "align, 4 length buckets": step(lambda: align_loss(
            model, batch, middle, dataclasses.replace(config, length_buckets=4))),
        "align, full forward": step(align_full),
        "task, same batch": step(lambda: model(input_ids=ids, attention_mask=mask,
                                               labels=labels, use_cache=False).loss),
        "slot task, task_loss": step(lambda: task_loss(model, **slot_batch)),
        "slot task, shared prefix": step(lambda: task_loss(model, **slot_batch,
                                                           shared_prefix=True)),
        "slot task, HF loss": step(lambda: model(**slot_batch, use_cache=False).loss),
    }, int(mask.sum())


def time_steps(timers: dict, repeats: int) -> dict:
    for run in timers.values():  # warm-up
        run()
    times = {name: [] for name in timers}
    for _ in range(repeats):  # interleaved, so load changes hit every variant alike
        for name, run in timers.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
        print("  " + ", ".join(f"{n}: {t[-1]:.2f} s" for n, t in times.items()), flush=True)
    return {name: statistics.median(t) for name, t in times.items()}


def throughput(name: str, updates: int, n_pairs: int) -> tuple[float, int, float]:
    """(tokens/s, tokens, seconds) of train() in joint mode."""
    from xlnb.models import load_model
    from xlnb.train import TrainConfig, train

    model, tokenizer = load_model(name, device="cpu")
    config = TrainConfig(mode="joint", micro_batch_size=n_pairs, pair_batch_size=n_pairs,
                         accumulation=2, max_steps=updates, eval_every=10_000,
                         checkpoint_every=10_000)
    task = slot_examples(tokenizer, n_pairs * updates)
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        result = train(model, tokenizer, config, task_data=task, pairs=pairs(n_pairs * updates),
                       output_dir=out)
        seconds = time.perf_counter() - start
    tokens = int(result.history["tokens"].sum())
    return tokens / seconds, tokens, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="gemma-3-270m")
    parser.add_argument("--pairs", type=int, default=4, help="pairs per alignment batch")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--updates", type=int, default=2, help="updates for tokens/s")
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    model, tokenizer = lora_model(args.model)
    slot = slot_examples(tokenizer, args.pairs)
    from xlnb.train.batches import task_batch

    timers, tokens = step_timers(model, tokenizer, pairs(args.pairs),
                                 task_batch(slot, tokenizer.pad_token_id, "cpu"))
    medians = time_steps(timers, args.repeats)
    print(f"{args.model}, {args.pairs} pairs = {2 * args.pairs} sentences, {tokens} tokens, "
          f"{torch.get_num_threads()} threads, median of {args.repeats}")
    for name, seconds in medians.items():
        print(f"  {name:25s} {seconds * 1000:8.0f} ms")
    early, full, task = (medians[k] for k in ("align, early exit", "align, full forward",
                                              "task, same batch"))
    print(f"  align early exit / task step: {early / task:.2f} (goal <= 0.25); "
          f"/ align full forward: {early / full:.2f}; "
          f"4 length buckets / one padded pass: {medians['align, 4 length buckets'] / early:.2f}")
    print(f"  slot task step, task_loss / HF loss: "
          f"{medians['slot task, task_loss'] / medians['slot task, HF loss']:.2f}; "
          f"with the shared prompt prefix run once / without: "
          f"{medians['slot task, shared prefix'] / medians['slot task, task_loss']:.2f}")
    rate, n_tokens, seconds = throughput(args.model, args.updates, args.pairs)
    print(f"train() joint, {args.updates} updates: {n_tokens} tokens in {seconds:.1f} s = "
          f"{rate:.0f} tokens/s")


if __name__ == "__main__":
    main()
