"""Training data for the loop: checked inputs, reproducible shuffled streams, padded batches.

Task examples are ``{"input_ids", "labels"}`` dicts (``xlnb.tasks.chat.encode_example``);
alignment pairs are ``xlnb.tasks.pairs.Pair`` objects or ``(text, english)`` tuples.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass

import torch


def as_pairs(pairs, name: str = "pairs") -> list[tuple[str, str]]:
    """``(non-English text, English text)`` tuples from Pair objects or 2-tuples."""
    out = []
    for i, pair in enumerate(pairs):
        if hasattr(pair, "text") and hasattr(pair, "english"):
            text, english = pair.text, pair.english
        elif isinstance(pair, (tuple, list)) and len(pair) == 2:
            text, english = pair
        else:
            raise ValueError(f"{name}[{i}] is neither a Pair nor a (text, english) tuple: "
                             f"{pair!r}")
        for side in (text, english):
            if not isinstance(side, str) or not side.strip():
                raise ValueError(f"{name}[{i}] has an empty or non-string side: {pair!r}")
        out.append((text, english))
    return out


def check_task_data(examples, name: str = "task_data") -> list[dict]:
    """Examples with equal-length ``input_ids`` / ``labels`` lists and at least one label."""
    out = []
    for i, ex in enumerate(examples):
        if not isinstance(ex, dict) or "input_ids" not in ex or "labels" not in ex:
            raise ValueError(f"{name}[{i}] must be a dict with input_ids and labels "
                             f"(xlnb.tasks.chat.encode_example), got {type(ex).__name__}")
        ids, labels = list(ex["input_ids"]), list(ex["labels"])
        if len(ids) != len(labels) or len(ids) < 2:
            raise ValueError(f"{name}[{i}]: input_ids ({len(ids)}) and labels ({len(labels)}) "
                             "must have the same length, at least 2")
        if all(label == -100 for label in labels[1:]):
            raise ValueError(f"{name}[{i}] has no labelled token after the first position")
        out.append({"input_ids": ids, "labels": labels})
    return out


def data_digest(task_data=None, pairs=None) -> str:
    """sha256 over the task examples' tokens and the pairs' texts, in order."""
    h = hashlib.sha256()
    for ex in task_data or []:
        h.update(json.dumps([ex["input_ids"], ex["labels"]]).encode())
    h.update(b"\x01")
    for text, english in pairs or []:
        h.update(json.dumps([text, english], ensure_ascii=False).encode())
    return h.hexdigest()[:32]


class Stream:
    """Batches of ``batch`` item indices in a fresh shuffled order each epoch; the last
    incomplete batch of an epoch is dropped, so a contrastive batch never holds one pair
    twice. The order depends only on (name, seed, epoch), so a checkpoint stores just the
    position (:meth:`state`)."""

    def __init__(self, n: int, batch: int, seed: int, name: str):
        if n < batch:
            raise ValueError(f"{name}: {n} items are fewer than one batch of {batch}; lower "
                             f"the batch size or give more data")
        self.n, self.batch, self.seed, self.name = n, batch, seed, name
        self.epoch, self.pos = 0, 0
        self._order = self._shuffled(0)

    def _shuffled(self, epoch: int) -> list[int]:
        order = list(range(self.n))
        random.Random(f"{self.name}:{self.seed}:{epoch}").shuffle(order)
        return order

    @property
    def batches_per_epoch(self) -> int:
        return self.n // self.batch

    def next(self) -> list[int]:
        if self.pos + self.batch > self.n:
            self.epoch, self.pos = self.epoch + 1, 0
            self._order = self._shuffled(self.epoch)
        idx = self._order[self.pos:self.pos + self.batch]
        self.pos += self.batch
        return idx

    def state(self) -> dict:
        return {"epoch": self.epoch, "pos": self.pos}

    def load(self, state: dict) -> None:
        self.epoch, self.pos = int(state["epoch"]), int(state["pos"])
        self._order = self._shuffled(self.epoch)


def pad(rows: list[list[int]], value: int) -> torch.Tensor:
    """Right-pad lists of ints to ``[B, max_len]``."""
    out = torch.full((len(rows), max(len(r) for r in rows)), value, dtype=torch.long)
    for i, row in enumerate(rows):
        out[i, :len(row)] = torch.tensor(row, dtype=torch.long)
    return out


def task_batch(examples: list[dict], pad_id: int, device) -> dict:
    """input_ids / attention_mask / labels ``[B, T]``, right padding, labels -100 on pads."""
    ids = [ex["input_ids"] for ex in examples]
    return {"input_ids": pad(ids, pad_id).to(device),
            "attention_mask": pad([[1] * len(x) for x in ids], 0).to(device),
            "labels": pad([ex["labels"] for ex in examples], -100).to(device)}


@dataclass
class PairTokens:
    """Tokenised pairs: ids and special-token masks of each side, and one integer key per
    distinct text of each side (equal keys: the same sentence; for duplicate masking)."""
    src: list[list[int]]
    tgt: list[list[int]]
    src_special: list[list[int]]
    tgt_special: list[list[int]]
    src_key: list[int]
    tgt_key: list[int]

    @classmethod
    def encode(cls, tokenizer, pairs: list[tuple[str, str]], max_length: int | None):
        def enc(texts):
            out = tokenizer(texts, add_special_tokens=True, truncation=max_length is not None,
                            max_length=max_length, return_special_tokens_mask=True)
            return out["input_ids"], out["special_tokens_mask"]
        src, src_special = enc([p[0] for p in pairs])
        tgt, tgt_special = enc([p[1] for p in pairs])
        return cls(src, tgt, src_special, tgt_special, _text_keys([p[0] for p in pairs]),
                   _text_keys([p[1] for p in pairs]))

    def __len__(self) -> int:
        return len(self.src)


def pair_batch(tokens: PairTokens, idx: list[int], pad_id: int, device) -> dict:
    """One padded batch of 2B rows: the B non-English sentences, then their B English
    translations (one forward pass for both sides)."""
    ids = [tokens.src[i] for i in idx] + [tokens.tgt[i] for i in idx]
    special = [tokens.src_special[i] for i in idx] + [tokens.tgt_special[i] for i in idx]
    return {"input_ids": pad(ids, pad_id).to(device),
            "attention_mask": pad([[1] * len(x) for x in ids], 0).to(device),
            "special_mask": pad(special, 1).to(device),
            "src_key": torch.tensor([tokens.src_key[i] for i in idx], device=device),
            "tgt_key": torch.tensor([tokens.tgt_key[i] for i in idx], device=device)}


def _text_keys(texts: list[str]) -> list[int]:
    """One integer per distinct text, in order of first appearance."""
    ids: dict[str, int] = {}
    return [ids.setdefault(t, len(ids)) for t in texts]


class TrainData:
    """A run's checked, tokenised data and its shuffled streams (``task``, ``align``).
    Raises ValueError when the data does not suit ``config.mode`` / ``config.dev_loss``."""

    def __init__(self, config, tokenizer, task_data, dev_task_data, pairs, dev_pairs):
        needs_task, needs_pairs = _check_needs(config, task_data, dev_task_data, pairs,
                                               dev_pairs)
        self.pad_id = tokenizer.pad_token_id
        self.task = check_task_data(task_data) if needs_task else None
        self.dev_task = (check_task_data(dev_task_data, "dev_task_data")
                         if needs_task and dev_task_data else None)
        pair_list = as_pairs(pairs) if needs_pairs else None
        self.digest = data_digest(self.task, pair_list)
        self.pairs = PairTokens.encode(tokenizer, pair_list, config.max_length) \
            if needs_pairs else None
        self.dev_pairs = None
        if needs_pairs and dev_pairs:
            dev_list = as_pairs(dev_pairs, "dev_pairs")
            if len(dev_list) < 2:
                raise ValueError("dev_pairs needs at least 2 pairs")
            self.dev_pairs = PairTokens.encode(tokenizer, dev_list, config.max_length)
        self.has_dev = self.dev_task is not None or self.dev_pairs is not None
        self.streams = {}
        if self.task is not None:
            self.streams["task"] = Stream(len(self.task), config.micro_batch_size,
                                          config.seed, "task")
        if self.pairs is not None:
            self.streams["align"] = Stream(len(self.pairs), config.pair_batch_size,
                                           config.seed, "pairs")

    def next_batch(self, kind: str, device) -> dict:
        """The next micro-batch of ``kind`` (``task`` or ``align``)."""
        idx = self.streams[kind].next()
        if kind == "task":
            return task_batch([self.task[i] for i in idx], self.pad_id, device)
        return pair_batch(self.pairs, idx, self.pad_id, device)

    def epochs_done(self) -> float:
        """Passes over the task data so far (over the pairs without task data)."""
        stream = self.streams.get("task") or self.streams["align"]
        return stream.epoch + stream.pos / (stream.batches_per_epoch * stream.batch)

    def positions(self) -> dict:
        return {kind: s.state() for kind, s in self.streams.items()}

    def load_positions(self, positions: dict) -> None:
        for kind, state in positions.items():
            self.streams[kind].load(state)


def _check_needs(config, task_data, dev_task_data, pairs, dev_pairs) -> tuple[bool, bool]:
    """Which data the mode uses; ValueError when it is missing."""
    needs_task, needs_pairs = config.mode in ("task", "joint"), config.mode in ("align", "joint")
    if needs_task and not task_data:
        raise ValueError(f"mode {config.mode!r} needs task_data")
    if needs_pairs and not pairs:
        raise ValueError(f"mode {config.mode!r} needs pairs")
    if config.dev_loss in ("task", "sum") and not (needs_task and dev_task_data):
        raise ValueError(f"dev_loss={config.dev_loss!r} needs dev_task_data and a mode with "
                         f"the task loss (mode is {config.mode!r})")
    if config.dev_loss in ("align", "sum") and not (needs_pairs and dev_pairs):
        raise ValueError(f"dev_loss={config.dev_loss!r} needs dev_pairs and a mode with the "
                         f"alignment loss (mode is {config.mode!r})")
    return needs_task, needs_pairs
