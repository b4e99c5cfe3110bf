"""The import arrows of the house style hold: siblings never import each other."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PHASES = ("stack", "seed", "load", "bench", "monitor", "report", "images")


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def python_files(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.py")) if folder.exists() else []


def test_backend_and_harness_never_import_each_other() -> None:
    for path in python_files(REPO / "backend"):
        bad = {m for m in imports_of(path) if m.split(".")[0] in ("harness", "tests")}
        assert not bad, f"{path} imports {bad}"
    for path in python_files(REPO / "harness"):
        bad = {m for m in imports_of(path) if m.split(".")[0] in ("backend", "tests")}
        assert not bad, f"{path} imports {bad}"


@pytest.mark.parametrize("phase", PHASES)
def test_phase_packages_do_not_import_siblings(phase: str) -> None:
    others = {f"harness.{p}" for p in PHASES if p != phase}
    for path in python_files(REPO / "harness" / phase):
        bad = {m for m in imports_of(path) if any(m == o or m.startswith(o + ".") for o in others)}
        assert not bad, f"{path} imports sibling phase(s) {bad}"


def test_scenarios_use_only_locust_and_the_standard_library() -> None:
    allowed = set(sys.stdlib_module_names) | {"locust", "gevent", "harness"}
    for path in python_files(REPO / "harness" / "load" / "scenarios"):
        for module in imports_of(path):
            top = module.split(".")[0]
            assert top in allowed, f"{path} imports {module}"
            if top == "harness":
                assert module.startswith("harness.load.scenarios"), f"{path} imports {module}"


def test_the_checker_sees_imports() -> None:
    """Guard against a checker that silently finds nothing."""
    assert "backend.settings" in imports_of(REPO / "backend" / "app.py")
