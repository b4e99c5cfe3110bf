"""build_report writes the three files into the run folder, leaks no secret, rejects bad input."""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

import pytest

from harness.errors import ConfigError
from harness.record import read_record, write_record
from harness.report import build_report
from tests.report.run_folders import BENCH_ONLY, FULL_LOAD, SECRETS, copy_run, edit_results, record

REPORT_SOURCE = Path(__file__).resolve().parents[2] / "harness" / "report"


def test_writes_the_three_files_into_the_run_folder(full_run: Path) -> None:
    written = build_report(full_run)
    assert written == [full_run / "index.html", full_run / "summary.md", full_run / "junit.xml"]
    assert all(p.stat().st_size > 500 for p in written)
    assert not list(full_run.glob(".*.tmp"))


def test_rebuilding_replaces_the_files(full_run: Path) -> None:
    build_report(full_run)
    edit_results(full_run, verdict="PASS", slo=[], benchmarks=None, comparison=None)
    build_report(full_run)
    assert "✅ PASS" in (full_run / "summary.md").read_text()


def test_the_planted_secrets_reach_no_output(full_run: Path) -> None:
    planted = "".join(p.read_text() for p in FULL_LOAD.rglob("*") if p.is_file())
    assert all(secret in planted for secret in SECRETS), "the fixture lost its planted secrets"
    for path in build_report(full_run):
        content = path.read_text()
        for secret in SECRETS:
            assert secret not in content, f"{secret!r} leaked into {path.name}"


def test_a_redacted_address_stays_readable(full_run: Path) -> None:
    build_report(full_run)
    summary = (full_run / "summary.md").read_text()
    assert "postgresql://cv:***@127.0.0.1:55432/contravento" in summary
    assert "ALTER ROLE cv PASSWORD &#x27;***&#x27;" in (full_run / "index.html").read_text()


def test_a_missing_folder_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        build_report(tmp_path / "no-such-run")
    assert "no run folder" in raised.value.message
    assert "reports/latest" in raised.value.hint


def test_a_folder_without_results_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        build_report(tmp_path)
    assert "results.json" in raised.value.message
    assert raised.value.hint
    assert not (tmp_path / "index.html").exists()


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ('{"schema_version": 1, "verdict": "PA', "not valid JSON"),
        ('{"schema_version": 3, "verdict": "PASS"}', "schema_version 3; this harness reads 1, 2"),
        ('{"schema_version": 2, "verdict": "PASS"}', "run: Field required"),
        ('{"schema_version": 1, "run": {}, "verdict": "maybe"}', "run.id: Field required"),
        ('{"verdict": "PASS"}', "schema_version None"),
        ('{"schema_version": true}', "schema_version True"),
        ("[1, 2]", "no results object"),
    ],
)
def test_unusable_results_are_config_errors(tmp_path: Path, content: str, says: str) -> None:
    (tmp_path / "results.json").write_text(content)
    with pytest.raises(ConfigError) as raised:
        build_report(tmp_path)
    assert says in raised.value.message
    assert raised.value.hint
    assert "error: " in raised.value.render() and "\nhint: " in raised.value.render()


def test_a_run_with_only_results_still_gets_a_report(tmp_path: Path) -> None:
    write_record(tmp_path, record(verdict="FAIL"))
    written = build_report(tmp_path)
    assert "❌ FAIL" in (tmp_path / "summary.md").read_text()
    assert len(written) == 3


@pytest.mark.parametrize("fixture", [FULL_LOAD, BENCH_ONLY], ids=["full-load", "bench-only"])
def test_a_version_2_record_reports_as_its_version_1_file_did(
    tmp_path: Path, fixture: Path
) -> None:
    old = copy_run(fixture, tmp_path / "v1")
    new = copy_run(fixture, tmp_path / "v2")
    write_record(new, read_record(old))
    assert json.loads((new / "results.json").read_text())["schema_version"] == 2
    for before, after in zip(build_report(old), build_report(new), strict=True):
        assert before.read_text() == after.read_text(), after.name


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_the_report_imports_only_the_standard_library_the_record_and_harness_errors() -> None:
    """And plotly, the charting library, in the modules that build the charts; the comparison
    report reads comparison.json through its model (pydantic's error for a file that is not)."""
    sources = sorted(REPORT_SOURCE.glob("*.py"))
    assert len(sources) > 5
    for path in sources:
        for module in _imports(path):
            top = module.split(".")[0]
            allowed = (
                top in sys.stdlib_module_names
                or module in ("harness.errors", "harness.record", "harness.comparison_record")
                or module.startswith("harness.report")
                or (top == "plotly" and path.name in ("charts.py", "comparison_charts.py"))
                or (top == "pydantic" and path.name == "comparison.py")
            )
            assert allowed, f"{path.name} imports {module}"
