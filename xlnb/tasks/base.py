"""What every generative task provides (MidAlign §4.1, App. D.2): examples read from the
original files or the hub, the paper's prompt as chat messages, an output parser and a metric."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class Example:
    """One input/output pair of a generative task.

    language: ISO 639-1 code of the input (MT: the non-English side of the direction).
    source: the user turn (an utterance, a source sentence).
    target: the reference output text the model is trained to produce.
    meta: task-specific extras (e.g. ``{"src": "de", "tgt": "en"}`` for MT).
    """

    id: str
    language: str
    source: str
    target: str
    meta: dict = field(default_factory=dict, hash=False, compare=False)


class Task(Protocol):
    """A generative task: see :mod:`xlnb.tasks` for the registry."""

    name: str
    hub_id: str
    max_new_tokens: int

    def load(self, language: str, split: str, *, n: int | None = None,
             path: str | None = None, seed: int = 0) -> list[Example]: ...

    def messages(self, example: Example, *, zero_shot: bool = False) -> list[dict]: ...

    def parse(self, output: str) -> Any: ...

    def score(self, outputs: list[str], examples: list[Example]) -> dict[str, float]: ...
