"""Pieces of the runner that need no Docker: Locust arguments, saturation, reading its files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.errors import HarnessError
from harness.load.runner import (
    USER_STARTS,
    WINDOW,
    LoadPlan,
    failure_reason,
    locust_args,
    read_endpoints,
    read_failures,
    read_users,
    saturated,
    worker_args,
)

STATS = """Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%
GET,/trips/public,200,2,12,15.5,3,90,1000,10.0,0.1,12,14,15,16,20,31,40,55,90,90,90
POST,/auth/login,0,0,0,0.0,0,0,0,0.0,0.0,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A
,Aggregated,200,2,12,15.5,3,90,1000,10.0,0.1,12,14,15,16,20,31,40,55,90,90,90
"""


def plan(tmp_path: Path) -> LoadPlan:
    return LoadPlan(
        run_dir=tmp_path,
        classes=("ContraVentoUser",),
        shape={"warmup": None, "stages": []},
        warmup_s=5,
        total_s=20,
        workers=2,
        usernames_file=None,
        password="x",
    )


def test_master_and_worker_arguments(tmp_path: Path) -> None:
    args = locust_args(plan(tmp_path), "/s", "/r", "http://backend:8000", ui=False)
    assert args[:2] == ["-f", "/s/contravento.py,/s/staged_shape.py,/s/open_model.py"]
    assert "--headless" in args and args[args.index("--expect-workers") + 1] == "2"
    assert args[-1] == "ContraVentoUser"
    ui = locust_args(plan(tmp_path), "/s", "/r", "http://backend:8000", ui=True)
    assert "--headless" not in ui and "staged_shape" not in ui[1]  # the UI drives users by hand
    assert worker_args("/s", "m", ("A",))[-4:] == ["--worker", "--master-host", "m", "A"]


def test_saturation_is_read_from_locust_logs(tmp_path: Path) -> None:
    quiet, busy = tmp_path / "a.log", tmp_path / "b.log"
    quiet.write_text("INFO/locust.main: Starting Locust\n")
    busy.write_text(
        "WARNING/locust.runners: Worker abc (index 0) exceeded cpu threshold (will only log this once per worker)\n"
    )
    assert not saturated([quiet]) and saturated([quiet, busy])


def test_stats_are_parsed_per_endpoint(tmp_path: Path) -> None:
    (tmp_path / "locust_stats.csv").write_text(STATS)
    endpoints, aggregate = read_endpoints(tmp_path)
    feed = endpoints[0]
    assert (feed["method"], feed["name"], feed["requests"], feed["failures"]) == (
        "GET",
        "/trips/public",
        200,
        2,
    )
    assert feed["failure_rate"] == 0.01 and feed["p95_ms"] == 31 and feed["p99_ms"] == 55
    assert endpoints[1]["p95_ms"] == 0.0 and endpoints[1]["requests"] == 0  # N/A when no samples
    assert aggregate is not None and aggregate["requests"] == 200


def test_missing_stats_is_a_harness_error(tmp_path: Path) -> None:
    with pytest.raises(HarnessError) as caught:
        read_endpoints(tmp_path)
    assert "no statistics" in caught.value.message and "master.log" in caught.value.hint


FAILURES = """Method,Name,Error,Occurrences,First Seen,Last Seen
GET,/trips/[trip_id],"CatchResponseError('403 PRIVATE_PROFILE: This profile is private')",7,1,2
GET,/trips/[trip_id],"CatchResponseError(""403 PRIVATE_PROFILE: This profile is private"")",3,1,2
POST,/auth/login,"CatchResponseError('401 INVALID_CREDENTIALS: Wrong login or password')",2,1,2
GET,/feed,"CatchResponseError('502: <html>Bad gateway</html>')",1,1,2
GET,/trips/public,"ConnectionRefusedError(111, 'Connection refused')",4,1,2
GET,/achievements,"CatchResponseError('500 INTERNAL_ERROR: boom')",0,1,2
"""


def test_failures_are_grouped_by_endpoint_status_and_message(tmp_path: Path) -> None:
    (tmp_path / "locust_failures.csv").write_text(FAILURES)
    groups = read_failures(tmp_path)
    assert groups == [
        {
            "method": "GET",
            "name": "/trips/[trip_id]",
            "status": 403,
            "message": "PRIVATE_PROFILE: This profile is private",
            "count": 10,  # the same failure, quoted two ways by Locust's repr
        },
        {
            "method": "GET",
            "name": "/trips/public",
            "status": None,
            "message": "ConnectionRefusedError(111, 'Connection refused')",
            "count": 4,
        },
        {
            "method": "POST",
            "name": "/auth/login",
            "status": 401,
            "message": "INVALID_CREDENTIALS: Wrong login or password",
            "count": 2,
        },
        {
            "method": "GET",
            "name": "/feed",
            "status": 502,
            "message": "<html>Bad gateway</html>",
            "count": 1,
        },
    ]
    assert read_failures(tmp_path / "nowhere") is None


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (
            "CatchResponseError('400 VALIDATION_ERROR: bad email')",
            (400, "VALIDATION_ERROR: bad email"),
        ),
        ("404", (404, "")),
        ("no response: timed out", (None, "no response: timed out")),
        ("HTTP 403 (expected (200,)): {}", (None, "HTTP 403 (expected (200,)): {}")),  # older
        ("CatchResponseError('unterminated)", (None, "CatchResponseError('unterminated)")),
    ],
)
def test_failure_reason_splits_the_status(error: str, expected: tuple[int | None, str]) -> None:
    assert failure_reason(error) == expected


HISTORY_HEAD = "Timestamp,User Count,Type,Name,Requests/s\n"


def history(rows: list[tuple[int, int]]) -> str:
    lines = [f"{t},{users},,Aggregated,1.0" for t, users in rows]
    lines += [f"{t},{users},GET,/feed,1.0" for t, users in rows]  # per-endpoint rows: ignored
    return HISTORY_HEAD + "\n".join(lines) + "\n"


def window(folder: Path, start: float) -> None:
    (folder / WINDOW).write_text(json.dumps({"start": start, "warmup_s": 5, "users": 2}))


def test_users_reached_are_read_in_the_window_with_the_start_tally(tmp_path: Path) -> None:
    # 10 users spawned in the warm-up; 8 could not start and stopped before the window began
    samples = [(1000, 4), (1002, 10), (1004, 6), (1006, 2), (1010, 2), (1020, 2)]
    (tmp_path / "locust_stats_history.csv").write_text(history(samples))
    window(tmp_path, 1005.5)
    starts = {
        "started": 2,
        "failed": 8,
        "by_class": {},
        "first_error": {
            "user_class": "ContraVentoUser",
            "endpoint": "POST /auth/register",
            "status": 400,
            "message": "400 VALIDATION_ERROR: special-use or reserved name",
            "at": 1001.5,
        },
    }
    (tmp_path / USER_STARTS).write_text(json.dumps(starts))
    assert read_users(tmp_path, planned=10) == {
        "planned": 10,
        "reached": 2,  # the peak of 10 fell in the warm-up
        "started": 2,
        "start_failures": 8,
        "first_start_error": {
            "user_class": "ContraVentoUser",
            "endpoint": "POST /auth/register",
            "status": 400,
            "message": "VALIDATION_ERROR: special-use or reserved name",
        },
    }
    # without a warm-up the spawn's 10 is measured, but only 2 of them ever started
    window(tmp_path, 1000.0)
    assert read_users(tmp_path, planned=10)["reached"] == 2


def test_users_count_from_the_window_the_shape_recorded(tmp_path: Path) -> None:
    # workers connect for 4 s with no users; 6 users spawn; the window begins at 1009
    samples = [(1000, 0), (1002, 0), (1004, 3), (1006, 6), (1008, 6), (1009, 5), (1012, 5)]
    (tmp_path / "locust_stats_history.csv").write_text(history(samples))
    window(tmp_path, 1009.2)  # whole-second stamps: the 1009 row is the window's first
    users = read_users(tmp_path, planned=6)  # no start tally: history alone
    assert (users["reached"], users["started"], users["start_failures"]) == (5, None, 0)
    (tmp_path / WINDOW).unlink()  # stopped in its warm-up: the most users it ever ran
    assert read_users(tmp_path, planned=6)["reached"] == 6
    (tmp_path / "locust_stats_history.csv").write_text(history([(1000, 0), (1001, 0)]))
    assert read_users(tmp_path, planned=6)["reached"] == 0  # nobody ever ran


def test_users_without_locust_files_are_unknown(tmp_path: Path) -> None:
    (tmp_path / USER_STARTS).write_text("{not json")
    assert read_users(tmp_path, planned=None) == {
        "planned": None,
        "reached": None,
        "started": None,
        "start_failures": 0,
        "first_start_error": None,
    }


def test_the_scenarios_knobs_reach_every_worker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CV_WAIT_SCALE", "0.5")
    monkeypatch.delenv("CV_REGISTER_FRACTION", raising=False)
    env = plan(tmp_path).environment("/seed/usernames.txt")
    assert env["CV_WAIT_SCALE"] == "0.5" and "CV_REGISTER_FRACTION" not in env
    assert env["CV_LOAD_PROCESSES"] == "2"
