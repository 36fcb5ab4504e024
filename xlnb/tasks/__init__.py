"""Generative tasks (MidAlign §4.1): slot filling (MASSIVE), machine translation
(ALMA / WMT23) and JSON named entities (UNER), each a reader, the paper's prompt, a parser
and a metric.

``get_task(name)`` returns a registered task; log-likelihood scoring of XNLI / XCOPA stays in
:mod:`xlnb.evaluate`.
"""

from __future__ import annotations

from xlnb.tasks.base import Example, Task

_REGISTRY: dict[str, "callable"] = {}


def register(name: str):
    """Class decorator: make ``get_task(name)`` return an instance of the class."""
    def wrap(cls):
        _REGISTRY[name] = cls
        return cls
    return wrap


def task_names() -> list[str]:
    _import_builtin()
    return sorted(_REGISTRY)


def get_task(name: str) -> Task:
    """The task registered as ``name`` (``slot_filling``, ``mt``, ``json_ner``)."""
    _import_builtin()
    if name not in _REGISTRY:
        raise LookupError(f"unknown task {name!r}; known tasks: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name]()


def _import_builtin() -> None:
    """Import the built-in task modules so their ``@register`` lines run."""
    import importlib

    for module in ("massive", "mt", "uner"):
        try:
            importlib.import_module(f"xlnb.tasks.{module}")
        except ModuleNotFoundError as err:  # a task module not written yet
            if err.name != f"xlnb.tasks.{module}":
                raise


__all__ = ["Example", "Task", "get_task", "register", "task_names"]
