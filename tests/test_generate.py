"""Batched greedy generation against an independent one-at-a-time loop without the KV cache,
and evaluate_task wiring a task's prompt, budget and metric around it."""

import pytest
import torch

from xlnb.generate import generate
from xlnb.models import load_model
from xlnb.tasks.base import Example
from xlnb.tasks.chat import encode_prompt
from xlnb.tasks.evaluate import evaluate_task

# Lengths deliberately out of order, so length-sorting reorders them and padding is needed.
PROMPTS = ["Hello there, how are you today?", "a", "The quick brown fox jumps over the dog",
           "xyz", "猫が好きです。", "Tell me the time, slowly."]
MAX_NEW = 12


@pytest.fixture(scope="module", params=["tiny-llama", "tiny-qwen2", "tiny-gemma3"])
def tiny(request):
    model, tok = load_model(request.param)
    free = [reference_ids(model, tok, p, MAX_NEW, [tok.eos_token_id]) for p in PROMPTS]
    return model, tok, free


@pytest.fixture(scope="module")
def llama():
    return load_model("tiny-llama")


def reference_ids(model, tokenizer, prompt, max_new, stops):
    """Greedy new token ids of one prompt: a full forward per step, no padding, no cache."""
    ids = tokenizer(prompt)["input_ids"]  # the byte tokenizer prepends <bos>
    new = []
    with torch.no_grad():
        for _ in range(max_new):
            logits = model(input_ids=torch.tensor([ids + new]), use_cache=False).logits
            token = int(logits[0, -1].argmax())
            if token in stops:
                break
            new.append(token)
    return new


def cut(ids, stops):
    """The ids before the first stop id."""
    return ids[:next((j for j, t in enumerate(ids) if t in stops), len(ids))]


def test_batched_equals_one_at_a_time_without_cache(tiny):
    model, tok, free = tiny
    lengths = [len(tok(p)["input_ids"]) for p in PROMPTS]
    assert lengths != sorted(lengths) and lengths != sorted(lengths, reverse=True)
    got = generate(model, tok, PROMPTS, max_new_tokens=MAX_NEW, batch_size=3,
                   stop_ids=[tok.eos_token_id])
    assert got == [tok.decode(ids, skip_special_tokens=True) for ids in free]


def test_order_and_batch_size_do_not_change_outputs(tiny):
    model, tok, _ = tiny
    one = generate(model, tok, PROMPTS, max_new_tokens=6, batch_size=1)
    many = generate(model, tok, PROMPTS[::-1], max_new_tokens=6, batch_size=16)
    assert many == one[::-1]
    assert len(set(one)) > 1  # outputs differ, so a permutation would be caught


def test_stop_id_cuts_the_continuation(tiny):
    model, tok, free = tiny
    # greedy decoding is deterministic, so stopping earlier only truncates the free run:
    # stop at the continuation whose first not-yet-seen new token comes latest
    firsts = [next((j for j in range(1, len(ids)) if ids[j] not in ids[:j]), 0) for ids in free]
    row = max(range(len(free)), key=firsts.__getitem__)
    k = firsts[row]
    assert k >= 1
    stops = [tok.eos_token_id, free[row][k]]
    got = generate(model, tok, PROMPTS, max_new_tokens=MAX_NEW, batch_size=4, stop_ids=stops)
    assert got == [tok.decode(cut(ids, stops), skip_special_tokens=True) for ids in free]
    assert got[row] == tok.decode(free[row][:k], skip_special_tokens=True)


def test_stop_when_keeps_the_shortest_prefix_that_passes(tiny):
    model, tok, free = tiny

    def long_enough(text):  # passes after a different number of tokens in each row
        return len(text) >= 4

    want = []
    for ids in free:  # the first prefix of the unstopped run that passes, else all of it
        k = next((k for k in range(1, len(ids) + 1)
                  if long_enough(tok.decode(ids[:k], skip_special_tokens=True))), len(ids))
        want.append(tok.decode(ids[:k], skip_special_tokens=True))
    got = generate(model, tok, PROMPTS, max_new_tokens=MAX_NEW, batch_size=4,
                   stop_ids=[tok.eos_token_id], stop_when=long_enough)
    assert got == want
    full = [tok.decode(ids, skip_special_tokens=True) for ids in free]
    assert any(len(g) < len(f) for g, f in zip(got, full))  # the test did cut some rows
    never = generate(model, tok, PROMPTS, max_new_tokens=MAX_NEW, batch_size=4,
                     stop_ids=[tok.eos_token_id], stop_when=lambda text: False)
    assert never == full


def test_forced_eos_ends_generation_without_special_text():
    model, tok = load_model("tiny-llama")
    calls = {"n": 0}

    def favour_eos_from_third_step(module, inputs, output):
        calls["n"] += 1
        if calls["n"] > 2:  # prefill, then one step: two real tokens, then EOS
            output = output.clone()
            output[..., tok.eos_token_id] += 1e4
        return output

    handle = model.lm_head.register_forward_hook(favour_eos_from_third_step)
    try:
        got = generate(model, tok, ["abc", "a longer prompt"], max_new_tokens=MAX_NEW)
    finally:
        handle.remove()
    want = [tok.decode(reference_ids(model, tok, p, 2, []), skip_special_tokens=True)
            for p in ["abc", "a longer prompt"]]
    assert got == want
    assert all("<eos>" not in g for g in got)


def test_peft_model_and_padding_side_kept():
    from peft import LoraConfig, get_peft_model

    model, tok = load_model("tiny-llama")
    torch.manual_seed(1)
    peft_model = get_peft_model(model, LoraConfig(r=4, target_modules=["q_proj", "v_proj"],
                                                  init_lora_weights=False)).eval()
    got = generate(peft_model, tok, PROMPTS[:4], max_new_tokens=8, batch_size=2)
    want = [reference_ids(peft_model, tok, p, 8, [tok.eos_token_id]) for p in PROMPTS[:4]]
    assert got == [tok.decode(ids, skip_special_tokens=True) for ids in want]
    with peft_model.disable_adapter():  # the adapter really changes the output
        assert got != generate(peft_model, tok, PROMPTS[:4], max_new_tokens=8)
    assert tok.padding_side == "right"


def test_bos_added_once():
    _, tok = load_model("tiny-llama")
    plain = encode_prompt(tok, "abc")
    assert plain[0] == tok.bos_token_id and plain.count(tok.bos_token_id) == 1
    assert encode_prompt(tok, "<bos>abc") == plain


def test_bad_input():
    model, tok = load_model("tiny-llama")
    assert generate(model, tok, [], max_new_tokens=4) == []
    with pytest.raises(TypeError, match="single string"):
        generate(model, tok, "abc", max_new_tokens=4)
    with pytest.raises(TypeError, match="must be a string"):
        generate(model, tok, ["abc", 3], max_new_tokens=4)
    with pytest.raises(ValueError, match="max_new_tokens"):
        generate(model, tok, ["abc"], max_new_tokens=0)
    with pytest.raises(ValueError, match="batch_size"):
        generate(model, tok, ["abc"], max_new_tokens=4, batch_size=0)


# --- evaluate_task ---------------------------------------------------------------

EXAMPLES = [Example(id=str(i), language="en", source=s, target=t) for i, (s, t) in
            enumerate([("wake me up at five", "time: five"), ("set an alarm", "x"),
                       ("play some jazz music in the kitchen", "genre: jazz"),
                       ("tell me a joke", "y")])]
# The random tiny model answers these inputs with several tokens under both system prompts.
SHORT, LONG = "Extract the slots.", "Long zero-shot instruction."


class StubTask:
    """A task whose metric records what it was given."""

    name = "stub"
    hub_id = "none"
    max_new_tokens = 3

    def __init__(self):
        self.scored = None

    def messages(self, example, *, zero_shot=False):
        system = LONG if zero_shot else SHORT
        return [{"role": "system", "content": system}, {"role": "user", "content": example.source}]

    def parse(self, output):
        return output

    def score(self, outputs, examples):
        self.scored = (list(outputs), list(examples))
        return {"exact": sum(o == e.target for o, e in zip(outputs, examples)) / len(outputs)}


def plain_prompts(system):
    """The plain template written out by hand (the byte tokenizer has no chat template)."""
    return [f"{system}\n\nUser: {ex.source}\nAssistant:" for ex in EXAMPLES]


@pytest.mark.parametrize("zero_shot,system", [(False, SHORT), (True, LONG)])
def test_evaluate_task_outputs_and_scores(llama, zero_shot, system):
    model, tok = llama
    task = StubTask()
    outputs, scores = evaluate_task(model, tok, task, EXAMPLES, batch_size=2,
                                    zero_shot=zero_shot)
    assert outputs == generate(model, tok, plain_prompts(system), max_new_tokens=3)
    assert all(outputs)
    other = generate(model, tok, plain_prompts(SHORT if zero_shot else LONG), max_new_tokens=3)
    assert outputs != other  # the prompt matters, so a swapped system prompt would be caught
    assert task.scored == (outputs, EXAMPLES)
    assert scores == {"exact": 0.0}


def test_evaluate_task_budget_is_the_tasks(llama):
    model, tok = llama
    task = StubTask()
    task.max_new_tokens = 8
    outputs, _ = evaluate_task(model, tok, task, EXAMPLES)
    longer = generate(model, tok, plain_prompts(SHORT), max_new_tokens=8)
    shorter = generate(model, tok, plain_prompts(SHORT), max_new_tokens=3)
    assert outputs == longer and outputs != shorter


def test_evaluate_task_no_examples(llama):
    model, tok = llama
    with pytest.raises(ValueError, match="no examples"):
        evaluate_task(model, tok, StubTask(), [])
