"""Token-level hidden states of one sentence, for CL-ICP's token cosines (§4, Fig. 2; App. B.1).

Hook points (via :func:`xlnb.hooks.capture_residual`, identity reduce):
- ``model.embed_tokens`` -> ``[1, T, d]`` (representation index 0)
- ``model.layers.{i}``   -> ``[1, T, d]`` (representation index i + 1, the output of block
  i + 1; the top index n is ``hidden_states[-1]``, the model's final norm applied)

One sentence per forward pass (no padding), the forward stopped after the deepest layer asked
for; the hooks are removed when the pass ends (``capture_residual``'s ``finally``).
"""

from __future__ import annotations

from typing import Sequence

import torch

from xlnb.arch import model_device, n_blocks
from xlnb.hooks import capture_residual, run_model
from xlnb.progress import progress

__all__ = ["token_states", "corpus_token_states", "check_layers"]


def check_layers(model, layers: Sequence[int] | None) -> list[int]:
    """Representation indices 0..n_blocks (0 = embeddings, i = output of block i); None: all.
    Raises TypeError/ValueError naming the bad value; duplicates are rejected."""
    top = n_blocks(model)
    if layers is None:
        return list(range(top + 1))
    if isinstance(layers, (str, bytes)) or not isinstance(layers, Sequence) or not layers:
        raise TypeError(f"layers must be a non-empty list of ints or None, got {layers!r}")
    for i in layers:
        if isinstance(i, bool) or not isinstance(i, int):
            raise TypeError(f"layer index {i!r} is not an int")
        if not 0 <= i <= top:
            raise ValueError(f"layer index {i} out of range 0..{top} (0 = embeddings, "
                             f"{top} = last block)")
    if len(set(layers)) != len(layers):
        raise ValueError(f"layers has duplicates: {list(layers)}")
    return list(layers)


def _token_text(tokenizer, token_id: int) -> str:
    """Readable text of one token (decoded alone; raw vocabulary entry when that is empty)."""
    text = tokenizer.decode([token_id])
    return text if text.strip() else tokenizer.convert_ids_to_tokens(token_id)


def token_states(model, tokenizer, sentence: str, layers: Sequence[int] | None = None, *,
                 exclude_special: bool = True, max_length: int | None = None
                 ) -> tuple[torch.Tensor, list[str]]:
    """Hidden states of every token of ``sentence`` -> (float32 CPU ``[L, T, d]``, T strings).

    layers: representation indices (Hugging Face ``hidden_states`` numbering, 0 =
    embeddings, i = output of block i; the top index is ``hidden_states[-1]``, with the
    model's final norm); None = all. exclude_special: drop BOS and other special tokens from the returned
    positions (they still take part in the forward pass, so the other states are unchanged).
    """
    if not isinstance(sentence, str):
        raise TypeError(f"sentence must be a string, got {type(sentence).__name__}")
    if not sentence.strip():
        raise ValueError(f"sentence is empty: {sentence!r}")
    layers = check_layers(model, layers)
    enc = tokenizer(sentence, add_special_tokens=True, return_special_tokens_mask=True,
                    truncation=max_length is not None, max_length=max_length)
    ids, special = enc["input_ids"], enc["special_tokens_mask"]
    keep = [t for t, s in enumerate(special) if not (exclude_special and s)]
    if not keep:
        raise ValueError(f"sentence {sentence!r} has no token left once special tokens "
                         "are excluded")
    input_ids = torch.tensor([ids], device=model_device(model))  # [1, T]
    with torch.inference_mode():
        with capture_residual(model, layers, lambda h: h[0].float().cpu()) as got:  # [T, d]
            run_model(model, input_ids=input_ids, attention_mask=torch.ones_like(input_ids))
    states = torch.stack([got[i] for i in layers])[:, keep]  # [L, T_kept, d]
    if not torch.isfinite(states).all():
        raise ValueError(f"non-finite hidden states for sentence {sentence!r}")
    return states, [_token_text(tokenizer, ids[t]) for t in keep]


def corpus_token_states(model, tokenizer, sentences: Sequence[str],
                        layers: Sequence[int] | None = None, *, exclude_special: bool = True,
                        max_length: int | None = None, desc: str = "token states"
                        ) -> list[torch.Tensor]:
    """:func:`token_states` of each sentence -> list of ``[L, T_i, d]`` (input order)."""
    if isinstance(sentences, str) or not isinstance(sentences, Sequence) or not sentences:
        raise TypeError(f"sentences must be a non-empty list of strings, got {sentences!r:.80}")
    layers = check_layers(model, layers)
    return [token_states(model, tokenizer, s, layers, exclude_special=exclude_special,
                         max_length=max_length)[0]
            for s in progress(sentences, total=len(sentences), desc=desc)]
