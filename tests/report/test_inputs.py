"""Reading a run folder: what is missing is None, what is cut short is skipped, all is redacted."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from harness.errors import ConfigError
from harness.report.inputs import (
    CONTAINERS,
    HOST,
    LOCUST_HISTORY,
    POSTGRES,
    PROFILE_SUMMARY,
    TOP_QUERIES,
    read_run,
)
from tests.report.run_folders import (
    FLAME,
    SECRETS,
    SKIPPED_PROFILE,
    VALID_CONTAINER_LINES,
    edit_results,
)


def test_a_full_run_reads_every_file(full_run: Path) -> None:
    run = read_run(full_run)
    assert run.results.run.id == "20261129-101500-load"
    assert run.results.run.kind == "load"  # a version 1 file: migrated
    assert run.history is not None and len(run.history) == 61  # Aggregated rows only
    assert run.containers is not None and len(run.containers) == VALID_CONTAINER_LINES
    assert run.postgres is not None and len(run.postgres) == 62
    assert run.top_queries is not None and len(run.top_queries) == 8


def test_the_truncated_last_jsonl_line_is_skipped_and_noted(full_run: Path) -> None:
    last = (full_run / CONTAINERS).read_text().splitlines()[-1]
    assert not last.endswith("}"), "the fixture should end with a line cut short"
    run = read_run(full_run)
    assert run.unreadable == {CONTAINERS: "1 unreadable line skipped (cut short by a crash?)"}
    assert all("mem_bytes" in row for row in run.containers or [])


def test_lines_that_parse_but_are_not_samples_are_skipped(full_run: Path) -> None:
    lines = [
        '{"t": 1.0, "connections": {"active": 1}, "max_connections": 100}',
        "[1, 2, 3]",
        '{"connections": {}}',
        '{"t": "soon"}',
        '{"t": NaN}',
        "",
        '{"t": "2.5", "max_connections": 100}',
    ]
    (full_run / POSTGRES).write_text("\n".join(lines) + "\n")
    run = read_run(full_run)
    assert [row["t"] for row in run.postgres or []] == [1.0, 2.5]
    assert run.unreadable[POSTGRES].startswith("4 unreadable lines skipped")


def test_history_keeps_aggregated_rows_and_reads_na_as_missing(full_run: Path) -> None:
    history = read_run(full_run).history or []
    assert history[0].p95_ms is None and history[0].rps == 0.0  # Locust writes N/A at first
    assert history[-1].users == 50
    assert all(a.t < b.t for a, b in itertools.pairwise(history))
    assert max(s.p95_ms or 0 for s in history) > 400  # the spike the fixture carries


def test_missing_files_are_none(bench_run: Path) -> None:
    run = read_run(bench_run)
    assert (run.history, run.containers, run.postgres, run.top_queries) == (None,) * 4
    assert (run.host, run.profile) == (None, None)
    assert run.unreadable == {}
    assert run.results.verdict == "FAIL"


def test_an_unreadable_top_queries_file_is_left_out_with_a_note(full_run: Path) -> None:
    (full_run / TOP_QUERIES).write_text('{"query": "not a list"}')
    (full_run / LOCUST_HISTORY).write_text("Timestamp,User Count,Type,Name,Requests/s\n")
    run = read_run(full_run)
    assert run.top_queries is None
    assert run.history == []
    assert run.unreadable[TOP_QUERIES] == "not a JSON list of queries; left out"


def test_everything_read_is_redacted(full_run: Path) -> None:
    run = read_run(full_run)
    assert "postgresql://cv:***@127.0.0.1" in run.results.warnings[1]
    assert run.results.warnings[2].endswith("CV_JWT_SECRET=***")
    assert not any(secret in run.results.model_dump_json() for secret in SECRETS)
    queries = [q["query"] for q in run.top_queries or []]
    assert "ALTER ROLE cv PASSWORD '***'" in queries
    raw = json.loads((full_run / "results.json").read_text())
    assert SECRETS[1] in raw["warnings"][2]  # the run folder itself is left alone


def test_a_record_that_does_not_fit_the_model_is_refused_without_its_secret(
    full_run: Path,
) -> None:
    edit_results(full_run, db_dsn="postgresql://cv:hunter2secret@postgres/cv")
    with pytest.raises(ConfigError) as raised:
        read_run(full_run)
    assert "db_dsn: Extra inputs are not permitted" in raised.value.message
    assert "hunter2secret" not in raised.value.render()


def test_host_samples_and_the_profile_summary_are_read(diagnosed: Path) -> None:
    run = read_run(diagnosed)
    assert run.host is not None and len(run.host) == 62
    assert run.host[0]["stack_cores"] == 0.3 and run.host[0]["top"][0]["name"] == "backup.sh"
    assert run.profile is not None and len(run.profile["flame"]) == len(FLAME)
    assert run.unreadable == {CONTAINERS: "1 unreadable line skipped (cut short by a crash?)"}


def test_a_profile_not_recorded_reads_no_summary(diagnosed: Path) -> None:
    edit_results(diagnosed, profile=SKIPPED_PROFILE)
    assert read_run(diagnosed).profile is None


def test_an_unreadable_profile_summary_is_left_out_with_a_note(diagnosed: Path) -> None:
    (diagnosed / PROFILE_SUMMARY).write_text("[1, 2]")
    run = read_run(diagnosed)
    assert run.profile is None
    assert run.unreadable[PROFILE_SUMMARY] == "not a JSON object (a profile summary); left out"


def test_the_profile_summary_is_redacted(diagnosed: Path) -> None:
    summary = {"flame": [{"id": "a", "parent": "", "label": "connect", "value": 1}],
               "dsn": "postgresql://cv:hunter2secret@db/cv",
               "note": "password=hunter2secret"}  # fmt: skip
    (diagnosed / PROFILE_SUMMARY).write_text(json.dumps(summary))
    profile = read_run(diagnosed).profile
    assert profile is not None and "hunter2secret" not in json.dumps(profile)
    assert profile["dsn"] == "***" and profile["note"] == "password=***"


def test_host_rows_without_a_time_are_skipped(diagnosed: Path) -> None:
    (diagnosed / HOST).write_text('{"t": 1.0, "cores": 2}\n{"cores": 2}\n')
    run = read_run(diagnosed)
    assert run.host == [{"t": 1.0, "cores": 2}]
    assert run.unreadable[HOST].startswith("1 unreadable line skipped")
