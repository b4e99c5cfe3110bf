"""Pieces of the runner that need no Docker: Locust arguments, saturation, stats parsing."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import HarnessError
from harness.load.runner import LoadPlan, locust_args, read_endpoints, saturated, worker_args

STATS = """Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%
GET,/trips/public,200,2,12,15.5,3,90,1000,10.0,0.1,12,14,15,16,20,31,40,55,90,90,90
POST,/auth/login,0,0,0,0.0,0,0,0,0.0,0.0,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A
,Aggregated,200,2,12,15.5,3,90,1000,10.0,0.1,12,14,15,16,20,31,40,55,90,90,90
"""


def plan(tmp_path: Path) -> LoadPlan:
    return LoadPlan(
        run_dir=tmp_path,
        classes=("ContraVentoUser",),
        stages=[],
        warmup_s=5,
        total_s=20,
        workers=2,
        usernames_file=None,
        password="x",
    )


def test_master_and_worker_arguments(tmp_path: Path) -> None:
    args = locust_args(plan(tmp_path), "/s", "/r", "http://backend:8000", ui=False)
    assert args[:2] == ["-f", "/s/contravento.py,/s/staged_shape.py"]
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
