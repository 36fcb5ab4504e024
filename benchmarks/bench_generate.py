"""How much batched greedy decoding with the KV cache saves over the naive way.

    python benchmarks/bench_generate.py [--model gemma-3-270m] [--n 8] [--batch-size 16]
                                        [--max-new-tokens 16] [--threads 0]

Prints, for one model on the prompts of the first N English MASSIVE test utterances (the
slot-filling prompt of MidAlign App. D.2 through the chat template; a few fixed commands
when ../shared/data is absent), side by side in one run:
- ``xlnb.generate.generate``: length-sorted batches, left padding, the KV cache;
- the same one prompt at a time (batch size 1, KV cache): what batching alone adds;
- the naive way: one prompt at a time, a full forward over prompt + answer so far for every
  new token, no cache -- goal: ``generate`` >= 4x faster. It asks only for the last
  position's logits (``logits_to_keep=1``), so it is not charged for a 262k-wide LM head at
  every position;
and new tokens per second (the naive loop's count of tokens before the stop; the three
approaches are checked to produce the same text).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

MASSIVE = Path(__file__).resolve().parents[2] / "shared" / "data" / "massive"
COMMANDS = ["wake me up at five am this week", "what's the weather like in paris tomorrow",
            "play some jazz in the kitchen", "set the lights to red", "olly quiet",
            "remind me to call mum on friday at noon", "how do i make pancakes",
            "tell me a joke about cats"]


def prompts(tokenizer, n: int) -> list[str]:
    from xlnb.tasks import Example, get_task
    from xlnb.tasks.chat import prompt_text

    task = get_task("slot_filling")
    if MASSIVE.is_dir():
        examples = task.load("en", "test", n=n, path=str(MASSIVE))
    else:
        texts = (COMMANDS * (n // len(COMMANDS) + 1))[:n]
        examples = [Example(id=str(i), language="en", source=s, target="")
                    for i, s in enumerate(texts)]
    return [prompt_text(tokenizer, task.messages(ex)) for ex in examples]


def naive(model, tokenizer, texts, max_new_tokens):
    """One prompt at a time, a full forward per new token, no cache: (outputs, new tokens)."""
    import torch

    from xlnb.tasks.chat import encode_prompt, stop_token_ids

    stops, outputs, count = set(stop_token_ids(tokenizer)), [], 0
    with torch.inference_mode():
        for text in texts:
            ids, new = encode_prompt(tokenizer, text), []
            for _ in range(max_new_tokens):
                logits = model(input_ids=torch.tensor([ids + new]), use_cache=False,
                               logits_to_keep=1).logits
                token = int(logits[0, -1].argmax())
                if token in stops:
                    break
                new.append(token)
            outputs.append(tokenizer.decode(new, skip_special_tokens=True))
            count += len(new)
    return outputs, count


def timed(fn, *args):
    start = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - start, result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="gemma-3-270m")
    parser.add_argument("--n", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--max-new-tokens", type=int, default=16)
    parser.add_argument("--threads", type=int, default=0,
                        help="torch threads; 0 keeps torch's default (1 is steadier on a "
                             "machine shared with other jobs)")
    args = parser.parse_args()
    import torch

    from xlnb.generate import generate
    from xlnb.models import load_model

    if args.threads:
        torch.set_num_threads(args.threads)
    model, tok = load_model(args.model)
    texts = prompts(tok, args.n)
    new = args.max_new_tokens
    generate(model, tok, texts[:2], max_new_tokens=2)  # warm-up
    naive(model, tok, texts[:1], 2)
    runs = {
        "generate (batched, KV cache)": timed(
            lambda: generate(model, tok, texts, max_new_tokens=new, batch_size=args.batch_size)),
        "one at a time, KV cache": timed(
            lambda: generate(model, tok, texts, max_new_tokens=new, batch_size=1)),
    }
    seconds, (naive_out, count) = timed(naive, model, tok, texts, new)
    runs["naive (one at a time, no cache)"] = (seconds, naive_out)
    ours = runs["generate (batched, KV cache)"][0]
    print(f"\n{args.model}, {args.n} prompts, batch size {args.batch_size}, "
          f"max {new} new tokens, {count} generated, {torch.get_num_threads()} threads")
    print(f"{'approach':34s} {'seconds':>9s} {'ratio to ours':>14s} {'new tok/s':>10s}"
          f" {'same text':>10s}")
    for name, (secs, out) in runs.items():
        same = sum(a == b for a, b in zip(out, naive_out))
        print(f"{name:34s} {secs:9.2f} {secs / ours:14.2f} {count / secs:10.2f}"
              f" {same:>6d}/{len(out)}")
    slow = runs["naive (one at a time, no cache)"][0]
    print(f"\nnaive / generate = {slow / ours:.1f}x (goal >= 4)")


if __name__ == "__main__":
    main()
