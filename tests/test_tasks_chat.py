"""Chat formatting: prompts, labelled training sequences and stop ids (MidAlign App. D.2)."""

from pathlib import Path

import pytest

from xlnb.models import load_model
from xlnb.tasks.chat import (GEMMA_TEMPLATE, chat_template, encode_example, prompt_text,
                             stop_token_ids)

MESSAGES = [{"role": "system", "content": "Extract the slots."},
            {"role": "user", "content": "wecke mich um fünf uhr"}]
TARGET = "time: fünf uhr"
GEMMA_DIR = Path.home() / ".cache" / "xlnb" / "models" / "gemma-3-270m"


@pytest.fixture(scope="module")
def byte_tok():
    """The tiny models' byte tokenizer: one token per UTF-8 byte, BOS added, no template."""
    return load_model("tiny-llama")[1]


@pytest.fixture(scope="module")
def gemma_tok():
    """Gemma 3 270M's tokenizer from the converted copy ``load_model`` caches."""
    if not (GEMMA_DIR / "tokenizer.json").is_file():
        pytest.skip(f"no converted Gemma 3 270M at {GEMMA_DIR} (run load_model('gemma-3-270m'))")
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(GEMMA_DIR)


def split(encoded):
    """(prompt ids, labelled ids) of an encoded example; labels must be -100 then a copy."""
    ids, labels = encoded["input_ids"], encoded["labels"]
    assert len(ids) == len(labels)
    n = labels.count(-100)
    assert labels[:n] == [-100] * n and labels[n:] == ids[n:]
    return ids[:n], ids[n:]


# -- plain template (no chat template) ---------------------------------------------------------


def test_plain_prompt_is_the_fixed_template(byte_tok):
    assert chat_template(byte_tok) is None
    assert prompt_text(byte_tok, MESSAGES) == \
        "Extract the slots.\n\nUser: wecke mich um fünf uhr\nAssistant:"
    assert prompt_text(byte_tok, MESSAGES[1:]) == "User: wecke mich um fünf uhr\nAssistant:"


def test_plain_labels_cover_space_target_and_eos(byte_tok):
    prompt, answer = split(encode_example(byte_tok, MESSAGES, TARGET))
    text = "Extract the slots.\n\nUser: wecke mich um fünf uhr\nAssistant:"
    # byte tokenizer: BOS + one token per UTF-8 byte ("ü" is two bytes)
    assert len(prompt) == 1 + len(text.encode("utf-8"))
    assert prompt[0] == byte_tok.bos_token_id and prompt.count(byte_tok.bos_token_id) == 1
    assert byte_tok.decode(prompt, skip_special_tokens=True) == prompt_text(byte_tok, MESSAGES)
    assert len(answer) == len(" time: fünf uhr".encode("utf-8")) + 1
    assert answer[-1] == byte_tok.eos_token_id
    assert byte_tok.decode(answer[:-1]) == " " + TARGET


def test_plain_stop_ids_are_eos(byte_tok):
    assert stop_token_ids(byte_tok) == [byte_tok.eos_token_id]


def test_max_length_cuts_the_answer_never_the_prompt(byte_tok):
    full = encode_example(byte_tok, MESSAGES, TARGET)
    n_prompt = full["labels"].count(-100)
    cut = encode_example(byte_tok, MESSAGES, TARGET, max_length=n_prompt + 3)
    assert cut["input_ids"] == full["input_ids"][:n_prompt + 3]
    assert cut["labels"] == full["labels"][:n_prompt + 3]
    with pytest.raises(ValueError, match="max_length=10"):
        encode_example(byte_tok, MESSAGES, TARGET, max_length=10)
    assert encode_example(byte_tok, MESSAGES, TARGET, max_length=10_000) == full


def test_bad_messages_and_targets_raise(byte_tok):
    with pytest.raises(ValueError, match="roles"):
        prompt_text(byte_tok, MESSAGES[::-1])
    with pytest.raises(ValueError, match="non-empty"):
        prompt_text(byte_tok, [])
    with pytest.raises(ValueError, match="target"):
        encode_example(byte_tok, MESSAGES, "  ")


def test_template_without_system_role_gets_system_folded_into_user(byte_tok):
    tok = load_model("tiny-llama")[1]
    tok.chat_template = (
        "{% for m in messages %}{% if m['role'] == 'system' %}"
        "{{ raise_exception('System role not supported') }}{% endif %}"
        "[{{ m['role'] }}]{{ m['content'] }}{{ eos_token }}{% endfor %}"
        "{% if add_generation_prompt %}[assistant]{% endif %}")
    text = prompt_text(tok, MESSAGES)
    assert text == "[user]Extract the slots.\n\nwecke mich um fünf uhr<eos>[assistant]"
    # the template closes a turn with EOS: that is the end marker; its text has no BOS so
    # the tokenizer adds one
    prompt, answer = split(encode_example(tok, MESSAGES, TARGET))
    assert prompt[0] == tok.bos_token_id and prompt.count(tok.bos_token_id) == 1
    assert answer[-1] == tok.eos_token_id and tok.decode(answer[:-1]) == TARGET


# -- Gemma 3 (chat template with <end_of_turn>, no system role) --------------------------------


@pytest.mark.slow
def test_gemma_prompt_folds_system_into_user_turn(gemma_tok):
    assert gemma_tok.chat_template is None  # the GGUF carries none: GEMMA_TEMPLATE is used
    assert chat_template(gemma_tok) == GEMMA_TEMPLATE
    assert prompt_text(gemma_tok, MESSAGES) == (
        "<bos><start_of_turn>user\nExtract the slots.\n\nwecke mich um fünf uhr<end_of_turn>\n"
        "<start_of_turn>model\n")


@pytest.mark.slow
def test_gemma_encoding_one_bos_labels_target_and_end_of_turn(gemma_tok):
    encoded = encode_example(gemma_tok, MESSAGES, TARGET)
    prompt, answer = split(encoded)
    bos = gemma_tok.convert_tokens_to_ids("<bos>")
    eot = gemma_tok.convert_tokens_to_ids("<end_of_turn>")
    assert encoded["input_ids"].count(bos) == 1 and prompt[0] == bos
    assert gemma_tok.decode(prompt) == prompt_text(gemma_tok, MESSAGES)
    assert answer[-1] == eot and eot not in answer[:-1]
    assert gemma_tok.decode(answer) == TARGET + "<end_of_turn>"
    # the same text the template writes for the whole conversation, up to the end marker
    turns = MESSAGES + [{"role": "assistant", "content": TARGET}]
    full = gemma_tok.apply_chat_template(turns, chat_template=GEMMA_TEMPLATE, tokenize=False)
    assert full.startswith(gemma_tok.decode(encoded["input_ids"]))
    assert full[len(gemma_tok.decode(encoded["input_ids"])):] == "\n"


@pytest.mark.slow
def test_gemma_stop_ids_are_eos_and_end_of_turn(gemma_tok):
    assert stop_token_ids(gemma_tok) == [gemma_tok.convert_tokens_to_ids("<eos>"),
                                         gemma_tok.convert_tokens_to_ids("<end_of_turn>")]
