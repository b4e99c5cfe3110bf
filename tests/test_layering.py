"""The import arrows of the house style hold: siblings never import each other."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PHASES = (
    "stack",
    "seed",
    "load",
    "bench",
    "monitor",
    "report",
    "images",
    "verdict",
    "profile",
)
# Modules every part may import: they import no phase and no pipeline themselves.
FOUNDATION = (
    "errors",
    "labels",
    "owner",
    "docker_api",
    "record",
    "config_file",
    "console",
    "project",
    "runstats",
    "comparison_record",
)


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


def harness_parts(path: Path) -> set[str]:
    """The harness parts (phase, pipeline, foundation module, cli) a file imports."""
    return {m.split(".")[1] for m in imports_of(path) if m.startswith("harness.")}


def test_phase_packages_exist() -> None:
    for phase in (*PHASES, "pipeline"):
        assert (REPO / "harness" / phase / "__init__.py").exists(), phase


@pytest.mark.parametrize("phase", PHASES)
def test_phases_never_import_the_pipeline_or_the_cli(phase: str) -> None:
    for path in python_files(REPO / "harness" / phase):
        bad = harness_parts(path) & {"pipeline", "cli"}
        assert not bad, f"{path} imports {bad}"


def test_foundation_modules_import_no_phase() -> None:
    for name in FOUNDATION:
        path = REPO / "harness" / f"{name}.py"
        bad = harness_parts(path) - set(FOUNDATION)
        assert not bad, f"{path} imports {bad}"


def test_the_cli_has_one_way_down() -> None:
    """cli.py parses, calls the pipeline, prints: it imports no phase itself."""
    parts = harness_parts(REPO / "harness" / "cli.py")
    assert "pipeline" in parts
    assert parts <= {"pipeline", *FOUNDATION}, parts


def test_only_the_pipeline_imports_two_phases() -> None:
    for path in python_files(REPO / "harness"):
        if "pipeline" in path.relative_to(REPO / "harness").parts:
            continue
        phases = harness_parts(path) & set(PHASES)
        own = path.relative_to(REPO / "harness").parts[0]
        assert len(phases - {own}) <= 1 and not (phases - {own} and own in PHASES), (
            f"{path} imports {sorted(phases)}"
        )


def test_the_report_reads_only_saved_results() -> None:
    for path in python_files(REPO / "harness" / "report"):
        bad = harness_parts(path) - {"report", *FOUNDATION}
        assert not bad, f"{path} imports {bad}"


def provider_comparisons(path: Path) -> list[int]:
    """Lines that compare something named provider (a stack's kind) with a value."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            names = {
                s.attr if isinstance(s, ast.Attribute) else s.id
                for s in sides
                if isinstance(s, ast.Attribute | ast.Name)
            }
            if "provider" in names:
                found.append(node.lineno)
    return found


def test_only_the_stack_compares_providers() -> None:
    """Ask the stack object, don't compare its kind: no `provider ==` outside harness/stack."""
    for path in python_files(REPO / "harness"):
        if path.is_relative_to(REPO / "harness" / "stack"):
            continue
        assert not provider_comparisons(path), f"{path}:{provider_comparisons(path)}"
    assert provider_comparisons(REPO / "harness" / "stack" / "lifecycle.py")  # the checker sees


def test_scenarios_use_only_locust_hdrhistogram_and_the_standard_library() -> None:
    # hdrh: HdrHistogram, pinned in requirements/locust.lock with Locust
    allowed = set(sys.stdlib_module_names) | {"locust", "gevent", "hdrh", "harness"}
    for path in python_files(REPO / "harness" / "load" / "scenarios"):
        for module in imports_of(path):
            top = module.split(".")[0]
            assert top in allowed, f"{path} imports {module}"
            if top == "harness":
                assert module.startswith("harness.load.scenarios"), f"{path} imports {module}"


def test_the_checker_sees_imports() -> None:
    """Guard against a checker that silently finds nothing."""
    assert "backend.settings" in imports_of(REPO / "backend" / "app.py")
