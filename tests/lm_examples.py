"""Training sequences written out by hand for the trainer tests: a prompt labelled -100, then
the answer and EOS labelled (what :func:`xlnb.midalign.systems.encode` makes through a chat
template, without one)."""


def encode(tokenizer, source: str, target: str, prompt: str = "") -> dict:
    ids = tokenizer(prompt + source)["input_ids"]
    answer = tokenizer(target, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    return {"input_ids": ids + answer, "labels": [-100] * len(ids) + answer}
