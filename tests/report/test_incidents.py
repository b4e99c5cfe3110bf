"""A run in which stack services crashed or restarted: the report says so and shows their logs."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from harness.report import build_report
from tests.report.run_folders import edit_results

INCIDENTS = [
    {
        "service": "postgres",
        "event": "exited",
        "at_s": 41.3,
        "exit_code": 0,
        "back_after_s": 3.6,
        "log_tail": "services/postgres.log",
    },
    {
        "service": "backend",
        "event": "exited",
        "at_s": 70.0,
        "exit_code": 137,
        "back_after_s": None,
        "log_tail": "../../etc/backend.log",  # only the services folder is ever read
    },
]
BACKEND_LOG = (
    "".join(f"INFO request {i}\n" for i in range(40))
    + "ERROR <b>boom</b> connecting to postgresql://cv:pl4nted-pw@postgres:5432/cv\n"
    + "``` a fence in a log line\n"
)


def with_incidents(run_dir: Path) -> Path:
    edit_results(run_dir, incidents=INCIDENTS, verdict="FAIL")
    (run_dir / "services").mkdir()
    (run_dir / "services" / "postgres.log").write_text("LOG:  database system is ready\n")
    (run_dir / "services" / "backend.log").write_text(BACKEND_LOG)
    build_report(run_dir)
    return run_dir


def test_the_page_lists_the_incidents_and_shows_the_escaped_log_tails(full_run: Path) -> None:
    page = (with_incidents(full_run) / "index.html").read_text()
    assert '<section id="incidents">' in page
    assert "postgres exited with code 0 41 s into the load and restarted 4 s later" in page
    assert "backend exited with code 137 70 s into the load and did not come back" in page
    assert "Last lines of the backend log" in page and "INFO request 39" in page
    assert "&lt;b&gt;boom&lt;/b&gt;" in page and "<b>boom</b>" not in page
    assert "pl4nted-pw" not in page
    assert page.index('id="verdict"') < page.index('id="incidents"') < page.index('id="endpoints"')


def test_the_verdict_reasons_name_the_incidents(full_run: Path) -> None:
    summary = (with_incidents(full_run) / "summary.md").read_text()
    assert "- service incident: backend exited with code 137 70 s into the load" in summary
    tail = summary.split("### Last lines of the backend log", 1)[1]
    assert "````text" in tail  # a longer fence than the log's own backticks
    assert "INFO request 39" in tail and "INFO request 19" not in tail  # the last 20 lines
    assert "pl4nted-pw" not in summary


def test_junit_has_a_failing_case_per_incident(full_run: Path) -> None:
    root = ET.fromstring((with_incidents(full_run) / "junit.xml").read_bytes())  # noqa: S314
    suite = next(s for s in root if s.get("name") == "services")
    assert suite.get("failures") == "2"
    names = [c.get("name") for c in suite]
    assert names == ["postgres", "backend"]


def test_a_watched_run_without_incidents_says_so(full_run: Path) -> None:
    edit_results(full_run, incidents=[])
    build_report(full_run)
    page = (full_run / "index.html").read_text()
    assert "No stack service crashed or restarted during the load." in page


def test_a_run_without_a_watch_has_no_incidents_section(full_run: Path) -> None:
    build_report(full_run)  # the fixture predates the watch: no "incidents" key
    assert 'id="incidents"' not in (full_run / "index.html").read_text()
