"""The functional core imports no I/O library and reads no clock (conventions.md habit 1)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ENGINE = Path(__file__).resolve().parents[2] / "engine"
CORE = (
    "codec",
    "commands",
    "description",
    "errors",
    "events",
    "listing",
    "model",
    "offer_rules",
    "orders",
    "planning",
    "policy",
    "ports",
    "quantity",
    "reducer",
    "state",
    "upcasting",
)
ALLOWED_STDLIB = {
    "__future__",
    "collections",
    "dataclasses",
    "datetime",
    "decimal",
    "enum",
    "functools",
    "hashlib",
    "html",
    "re",
    "types",
    "typing",
    "urllib",
    "uuid",
}
ALLOWED_THIRD_PARTY = {"orjson"}
CLOCK_CALLS = {"now", "utcnow", "today", "time", "monotonic", "perf_counter", "uuid1", "uuid4", "random"}


def _imports(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module == "engine":
            names |= {f"engine.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("module", CORE)
def test_core_module_imports_only_pure_modules(module: str) -> None:
    tree = ast.parse((ENGINE / f"{module}.py").read_text())
    for name in _imports(tree):
        top = name.split(".")[0]
        if top == "engine":
            assert name.split(".")[1] in CORE, f"engine/{module}.py imports {name}, which is not part of the core"
        else:
            assert top in ALLOWED_STDLIB | ALLOWED_THIRD_PARTY, f"engine/{module}.py imports {name} (I/O or unknown)"


@pytest.mark.parametrize("module", CORE)
def test_core_module_reads_no_clock_and_draws_no_random(module: str) -> None:
    tree = ast.parse((ENGINE / f"{module}.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            assert node.func.attr not in CLOCK_CALLS, f"engine/{module}.py line {node.lineno} calls .{node.func.attr}()"


def test_purity_check_catches_a_clock_read(tmp_path: Path) -> None:
    tree = ast.parse("import datetime\nx = datetime.datetime.now()\n")
    calls = [n.func.attr for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)]
    assert "now" in calls and set(calls) & CLOCK_CALLS
