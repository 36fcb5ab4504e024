"""Chat formatting of task examples (MidAlign App. D.2): the prompt a model sees and the
labelled training sequence.

Every task gives its prompt as chat messages (``system`` + ``user``). :func:`prompt_text`
renders them with the tokenizer's chat template, ending with the assistant's generation
prompt; :func:`encode_example` appends the reference answer and the template's end-of-turn
marker and labels only those; :func:`stop_token_ids` are the ids that end a generated
answer. Which template:

1. the tokenizer's own ``chat_template``;
2. else, when the vocabulary has Gemma's ``<start_of_turn>`` / ``<end_of_turn>`` tokens,
   :data:`GEMMA_TEMPLATE` (Gemma 3's published template: no system role, the system text
   opens the first user turn followed by a blank line). The Gemma 3 270M GGUF that
   ``load_model("gemma-3-270m")`` converts carries no template, so this is what it gets;
3. else the plain :data:`PLAIN_TEMPLATE` (``"{system}\\n\\nUser: {user}\\nAssistant:"``),
   whose answer is ``" " + target`` followed by EOS.

A template that rejects the ``system`` role (Gemma 2, Mistral) gets the system text folded
into the user turn, as Gemma 3's template does itself.
"""

from __future__ import annotations

from jinja2.exceptions import TemplateError

PLAIN_TEMPLATE = "{system}\n\nUser: {user}\nAssistant:"

# Gemma 3's chat template (text-only part of the template shipped with google/gemma-3-*).
GEMMA_TEMPLATE = (
    "{{ bos_token }}"
    "{%- if messages[0]['role'] == 'system' -%}"
    "{%- set first_user_prefix = messages[0]['content'] + '\n\n' -%}"
    "{%- set loop_messages = messages[1:] -%}"
    "{%- else -%}"
    "{%- set first_user_prefix = '' -%}"
    "{%- set loop_messages = messages -%}"
    "{%- endif -%}"
    "{%- for message in loop_messages -%}"
    "{%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) -%}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}"
    "{%- endif -%}"
    "{%- set role = 'model' if message['role'] == 'assistant' else message['role'] -%}"
    "{{ '<start_of_turn>' + role + '\n' + (first_user_prefix if loop.first else '') }}"
    "{{ message['content'] | trim }}"
    "{{ '<end_of_turn>\n' }}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ '<start_of_turn>model\n' }}{%- endif -%}"
)

# End-of-turn markers of common chat templates (Gemma, Llama 3, Qwen / ChatML, Phi-3).
END_OF_TURN_TOKENS = ("<end_of_turn>", "<|eot_id|>", "<|im_end|>", "<|end|>")

_SENTINEL = "\u2063XLNB-ANSWER\u2063"


def _token_id(tokenizer, token: str) -> int | None:
    """The id of ``token`` when it is one entry of the vocabulary, else None."""
    ids = tokenizer.convert_tokens_to_ids([token])
    tid = ids[0] if ids else None
    if tid is None or tid == tokenizer.unk_token_id:
        return None
    return tid


def chat_template(tokenizer) -> str | None:
    """The chat template used for ``tokenizer`` (module docstring), or None for the plain one."""
    if getattr(tokenizer, "chat_template", None):
        return tokenizer.chat_template
    if _token_id(tokenizer, "<start_of_turn>") is not None \
            and _token_id(tokenizer, "<end_of_turn>") is not None:
        return GEMMA_TEMPLATE
    return None


def _check_messages(messages) -> tuple[str, str]:
    """(system, user) of a task's ``[system?, user]`` messages, validated."""
    if not isinstance(messages, (list, tuple)) or not messages:
        raise ValueError(f"messages must be a non-empty list of dicts, got {messages!r}")
    roles = [m.get("role") if isinstance(m, dict) else None for m in messages]
    if roles not in (["user"], ["system", "user"]):
        raise ValueError(f"messages must be [system, user] or [user], got roles {roles}")
    if not all(isinstance(m.get("content"), str) for m in messages):
        raise ValueError("every message's content must be a string")
    system = messages[0]["content"] if roles[0] == "system" else ""
    return system, messages[-1]["content"]


def _render(tokenizer, template: str, messages: list[dict], generation_prompt: bool) -> str:
    """Apply ``template``; fold the system text into the user turn if it has no system role."""
    kwargs = {"chat_template": template, "tokenize": False,
              "add_generation_prompt": generation_prompt}
    try:
        return tokenizer.apply_chat_template(messages, **kwargs)
    except TemplateError:
        if messages[0]["role"] != "system":
            raise
        system, user = messages[0]["content"], messages[1]
        folded = [{"role": "user", "content": f"{system}\n\n{user['content']}"}, *messages[2:]]
        return tokenizer.apply_chat_template(folded, **kwargs)


def prompt_text(tokenizer, messages: list[dict]) -> str:
    """The rendered prompt for ``[system, user]`` messages, ending where the answer starts.

    With a chat template: ``apply_chat_template(..., add_generation_prompt=True)`` (its BOS
    text included when the template writes one). Without: :data:`PLAIN_TEMPLATE` (an empty
    or absent system turn leaves just ``"User: ...\\nAssistant:"``).
    """
    system, user = _check_messages(messages)
    template = chat_template(tokenizer)
    if template is None:
        plain = PLAIN_TEMPLATE.format(system=system, user=user)
        return plain if system else plain.split("\n\n", 1)[1]
    return _render(tokenizer, template, list(messages), generation_prompt=True)


def encode_prompt(tokenizer, prompt: str) -> list[int]:
    """Token ids of a rendered prompt, BOS exactly once: special tokens are added only when
    the text does not already start with the BOS text (as :mod:`xlnb.generate` encodes it)."""
    bos = tokenizer.bos_token
    has_bos = bool(bos) and prompt.startswith(bos)
    return list(tokenizer(prompt, add_special_tokens=not has_bos)["input_ids"])


def end_of_turn_id(tokenizer) -> int:
    """The id that closes an answer: the first token the chat template writes after the
    assistant's text (``<end_of_turn>`` for Gemma), or EOS with the plain template or when the
    template writes nothing after it."""
    template = chat_template(tokenizer)
    if template is not None:
        turns = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": _SENTINEL}]
        rendered = _render(tokenizer, template, turns, generation_prompt=False)
        after = rendered.split(_SENTINEL, 1)[1] if _SENTINEL in rendered else ""
        ids = tokenizer(after.lstrip(" "), add_special_tokens=False)["input_ids"] if after else []
        if ids and ids[0] in set(stop_token_ids(tokenizer)):
            return ids[0]
    if tokenizer.eos_token_id is None:
        raise ValueError("the tokenizer has no EOS token and its template no end-of-turn marker")
    return tokenizer.eos_token_id


def stop_token_ids(tokenizer) -> list[int]:
    """EOS and every end-of-turn marker of :data:`END_OF_TURN_TOKENS` in the vocabulary."""
    ids = [] if tokenizer.eos_token_id is None else [tokenizer.eos_token_id]
    for token in END_OF_TURN_TOKENS:
        tid = _token_id(tokenizer, token)
        if tid is not None and tid not in ids:
            ids.append(tid)
    return ids


def encode_example(tokenizer, messages: list[dict], target: str,
                   max_length: int | None = None) -> dict[str, list[int]]:
    """A training sequence for supervised fine-tuning (MidAlign §3, task loss).

    input_ids = prompt ids (:func:`encode_prompt` of :func:`prompt_text`, the very ids
    generation starts from) + ids of the answer + the end marker (:func:`end_of_turn_id`).
    The answer is ``target`` after a chat template, ``" " + target`` after the plain one.
    labels = -100 over the prompt, the ids themselves over answer and end marker.

    The prompt and the answer are tokenized separately, so a token never straddles the
    boundary. max_length: when the sequence is longer, the answer is cut from the right
    (losing its end marker); a prompt that leaves no room for one answer token raises
    ``ValueError`` (the prompt's end is the generation prompt and is never cut).
    """
    if not isinstance(target, str) or not target.strip():
        raise ValueError(f"target must be a non-empty string, got {target!r}")
    prompt_ids = encode_prompt(tokenizer, prompt_text(tokenizer, messages))
    answer = target if chat_template(tokenizer) is not None else " " + target
    answer_ids = list(tokenizer(answer, add_special_tokens=False)["input_ids"])
    answer_ids.append(end_of_turn_id(tokenizer))
    if max_length is not None:
        if len(prompt_ids) >= max_length:
            raise ValueError(
                f"the prompt is {len(prompt_ids)} tokens, max_length={max_length} leaves no "
                f"room for the answer; raise max_length or shorten the input "
                f"({messages[-1]['content'][:60]!r}...)")
        answer_ids = answer_ids[:max_length - len(prompt_ids)]
    return {"input_ids": prompt_ids + answer_ids,
            "labels": [-100] * len(prompt_ids) + answer_ids}


__all__ = ["GEMMA_TEMPLATE", "PLAIN_TEMPLATE", "chat_template", "encode_example",
           "encode_prompt", "end_of_turn_id", "prompt_text", "stop_token_ids"]
