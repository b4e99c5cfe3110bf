"""The verdict's reasons, the warnings the saved data implies, and the metadata list."""

from __future__ import annotations

from pathlib import Path

from harness.record import RunRecord
from harness.report.inputs import RunFolder
from harness.report.overview import (
    failure_line,
    incident_line,
    metadata,
    reasons,
    users_line,
    warnings,
)
from tests.report.run_folders import (
    FAILURE_GROUPS,
    INVALID,
    SHORT_USERS,
    SHORT_USERS_LINE,
    bench_summary,
    record,
)


def _run(results: RunRecord, unreadable: dict[str, str] | None = None) -> RunFolder:
    return RunFolder(path=Path("run"), results=results, unreadable=unreadable or {})


def _slo(passed: bool) -> dict[str, object]:
    return {
        "endpoint": "GET /feed",
        "group": "lists",
        "target_p95_ms": 200.0,
        "p95_ms": 150.0 if passed else 250.0,
        "failure_rate": 0.0,
        "max_failure_rate": 0.01,
        "passed": passed,
        "reason": "" if passed else "p95 250 ms > 200 ms",
    }


def test_saturation_and_a_partial_run_are_warned_even_when_results_forgot() -> None:
    found = warnings(_run(record(run={"partial": True}, load_generator_saturated=True)))
    assert found == [
        "load generator saturated: results are not trustworthy",
        "partial run: it was interrupted; results cover only part of it",
    ]


def test_warnings_the_run_wrote_are_not_repeated() -> None:
    written = [
        "load generator saturated: a worker ran above 90 % CPU; results are not trustworthy",
        "interrupted: partial results",
    ]
    results = record(
        run={"partial": True},
        load_generator_saturated=True,
        warnings=[*written, written[0]],
    )
    assert warnings(_run(results, {"monitor/postgres.jsonl": "2 unreadable lines"})) == [
        *written,
        "monitor/postgres.jsonl: 2 unreadable lines",
    ]


def test_reasons_say_what_decided_the_verdict() -> None:
    results = record(
        slo=[_slo(True), _slo(False), _slo(True)],
        benchmarks=bench_summary(
            [{"name": "a", "outcome": "error"}, {"name": "b", "outcome": "passed"}]
        ),
        comparison={
            "baseline": "main",
            "rows": [{"name": "b", "tolerance": 0.15, "verdict": "new"}],
            "failed": False,
        },
    )
    assert reasons(results) == [
        "1 of 3 SLO rows failed",
        "1 of 2 benchmarks failed: a",
        "no regression against baseline 'main'",
    ]
    assert reasons(record()) == ["no SLO rows: the load recorded no requests"]
    assert reasons(record("bench")) == []


def test_incident_lines_read_the_record_and_the_watch_alike() -> None:
    incident = {"service": "backend", "event": "oom", "at_s": 12.4, "exit_code": 137}
    line = "backend was killed for lack of memory 12 s into the load and did not come back"
    assert incident_line(incident) == line
    recorded = record(incidents=[incident]).incidents
    assert recorded is not None and incident_line(recorded[0]) == line


def test_metadata_leaves_out_what_was_not_recorded() -> None:
    pairs = dict(
        metadata(
            record(
                "bench",
                run={"id": "r1", "commit": None},
                benchmarks=bench_summary([], seconds=10),
            )
        )
    )
    assert pairs == {
        "run": "r1",
        "kind": "benchmark suite only",
        "provider": "local",
        "stack": "cv-00000000",
        "target": "http://127.0.0.1:8000",
        "host": "test",
        "python": "3.11.7",
        "started": "2026-12-01T12:00:00+00:00",
        "finished": "2026-12-01T12:01:10+00:00",
        "wall time": "1 min 10 s",
        "benchmarks": "5 rounds (+1 warm-up), bcrypt rounds 12, 10 s",
    }


def test_metadata_of_a_load_run_describes_its_shape_and_seed() -> None:
    pairs = dict(metadata(record(run={"seed": {"profile": "small", "seed": 7}})))
    assert pairs["shape"] == "baseline, 10 users, 1 min 00 s measured, after 10 s warm-up, " + (
        "spawn 5.0/s, steady"
    )
    assert pairs["seed"] == "profile small, seed 7"
    assert dict(metadata(record()))["seed"] == "not seeded (or not recorded)"


def test_the_users_line_says_planned_and_reached() -> None:
    assert users_line({"planned": 10, "reached": 10, "started": 10}) == (
        "users: 10 planned, 10 reached"
    )
    assert users_line(SHORT_USERS) == SHORT_USERS_LINE
    assert users_line({"planned": None, "reached": 4}) == (
        "users: 4 reached (set by hand, none planned)"
    )
    assert users_line({"planned": 5}) == "users: 5 planned, ? reached"


def test_the_users_line_is_a_reason_and_not_repeated_as_a_warning() -> None:
    results = record(users=SHORT_USERS, warnings=[SHORT_USERS_LINE, "interrupted: partial results"])
    assert reasons(results)[0] == SHORT_USERS_LINE
    assert warnings(_run(results)) == ["interrupted: partial results"]


def test_a_failure_line_names_count_endpoint_status_and_message() -> None:
    lines = [failure_line(f) for f in FAILURE_GROUPS]
    assert lines[1] == "2 x POST /auth/login -> 401 BAD: x"
    assert lines[2] == (
        "1 x GET /trips/public -> ConnectionRefusedError(111, 'Connection refused')"
    )


def test_an_invalid_run_says_first_that_it_was_not_judged() -> None:
    lines = reasons(record(verdict="INVALID", invalid=INVALID[:1], slo=[_slo(False)]))
    assert lines == [
        "not judged: 1 reason the numbers describe the test bed rather than the backend",
        "1 of 1 SLO rows failed",
    ]
