"""xlnb.evaluate's modules import one way (no cycle), in any order, in a fresh interpreter."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import xlnb.evaluate

PACKAGE = Path(xlnb.evaluate.__file__).parent
MODULES = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__")


def _imports(module: str) -> set[str]:
    """Sibling modules that ``module`` imports anywhere (top level or inside functions)."""
    tree = ast.parse((PACKAGE / f"{module}.py").read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        for name in names:
            if name.startswith("xlnb.evaluate."):
                found.add(name.split(".")[2])
    return found & set(MODULES)


def test_sibling_imports_form_no_cycle():
    graph = {m: _imports(m) for m in MODULES}
    assert "tasks" not in graph["multiple_choice"] and "spec" not in graph["multiple_choice"]

    def reaches(start: str, goal: str, seen: frozenset = frozenset()) -> bool:
        return any(n == goal or (n not in seen and reaches(n, goal, seen | {n}))
                   for n in graph[start])

    cycles = [m for m in MODULES if reaches(m, m)]
    assert cycles == [], f"import cycle through {cycles}: {graph}"


@pytest.mark.parametrize("order", [
    ["multiple_choice", "tasks"], ["spec", "tasks"], ["tasks", "multiple_choice"],
    ["xnli", "multiple_choice"],
])
def test_import_order_in_a_fresh_interpreter(order):
    code = "; ".join(f"import xlnb.evaluate.{m}" for m in order)
    code += "; from xlnb.evaluate.tasks import evaluate_task; print(evaluate_task.__module__)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "xlnb.evaluate.tasks"


def test_package_exports_evaluate_task_from_tasks():
    assert xlnb.evaluate.evaluate_task.__module__ == "xlnb.evaluate.tasks"
