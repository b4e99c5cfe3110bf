"""Coordinated omission: a backend that stalls for a known time at a known period.

The fixture (tests/support/stalling_backend.py) blocks its event loop for STALL_S every
EVERY_S seconds. Iterations arriving at a steady rate meet a stall with probability
STALL_S / EVERY_S and wait what is left of it, so the latency exceeded by a share q of all
requests (q below that probability) is STALL_S - q * EVERY_S, plus the service time:
p90 300 ms, p95 450 ms, p99 570 ms here. The open model must report those within TOLERANCE.
The closed model at the same nominal load (4 users thinking 0.1 s on average: 40 requests a
second) sends at most one request per user into each stall and none while its users wait, so
about 4 of every 120 requests meet one: its p90 is the service time, not the stalls' 300 ms,
and in the same 30 s it sends fewer requests.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.stack.cli import harness, harness_with_env
from tests.support.fixture_stack import fixture_stack

pytestmark = [pytest.mark.slow]
STALL_S, EVERY_S, RATE = 0.6, 3.0, 40
ANALYTIC_MS = {q: (STALL_S - (1 - q) * EVERY_S) * 1000 for q in (0.90, 0.95, 0.99)}
TOLERANCE = 0.10  # of the analytic value, plus SERVICE_MS
SERVICE_MS = 15.0  # the fixture's own time and the load generator's, on a busy 2-core machine
RUN = "--scenario feed --duration 30 --warmup 3 --workers 1 --skip-profile"


@pytest.fixture
def stalling(tmp_path: Path) -> Iterator[Path]:
    with fixture_stack(tmp_path / "home", STALL_S * 1000, EVERY_S, 0.0) as fixture:
        yield fixture.home


def load(home: Path, reports: Path, args: str, env: dict[str, str] | None = None) -> Any:
    done = harness_with_env(
        home, env or {}, "load", *args.split(), *RUN.split(), "--reports", str(reports)
    )
    assert done.returncode in (0, 1, 3), done.stderr[-3000:]
    return json.loads((reports / "latest" / "results.json").read_text())


def test_the_open_model_reports_the_stalls_and_the_closed_model_under_reports_them(
    stalling: Path, tmp_path: Path
) -> None:
    open_run = load(stalling, tmp_path / "open", f"--shape rate --rate {RATE}")
    closed_run = load(
        stalling,
        tmp_path / "closed",
        "--shape baseline --users 4",
        {"CV_WAIT_SCALE": "0.05"},  # think 0.05-0.15 s: 4 users offer about 40 requests/s
    )
    (feed,) = open_run["endpoints"]
    assert open_run["run"]["shape"]["model"] == "open" and feed["percentiles"] == "hdr"
    arrivals = open_run["latency"]["arrivals"]
    assert arrivals["dropped"] == 0 and arrivals["late"] <= arrivals["started"] * 0.05, arrivals
    assert arrivals["scheduled"] == pytest.approx(RATE * 30, rel=0.05)
    for q, name in ((0.90, "p90_ms"), (0.95, "p95_ms"), (0.99, "p99_ms")):
        expected = ANALYTIC_MS[q]
        assert abs(feed[name] - expected) <= TOLERANCE * expected + SERVICE_MS, (name, feed)
    (closed,) = closed_run["endpoints"]
    assert closed_run["run"]["shape"]["model"] == "closed" and closed["percentiles"] == "hdr"
    assert closed_run["latency"]["arrivals"] is None
    assert closed["p90_ms"] < ANALYTIC_MS[0.90] / 3, closed
    # the same 30 s at the same nominal rate: the closed users sent less
    assert closed["requests"] < feed["requests"] * 0.95, (closed, feed)


def test_a_capacity_search_finds_a_known_capacity_and_stops_at_the_break(tmp_path: Path) -> None:
    """20 ms of CPU per request on one event loop: at most 50 requests a second. The
    iterations arrive evenly spaced, so they barely queue until the fixture is full: steps of
    10/s hold up to 40 and may at 50 (100 % busy); past it the queue grows without bound, so
    the search stops at 60 and never runs the last steps."""
    with fixture_stack(tmp_path / "home", 0, 1000, 20.0) as fixture:
        done = harness(
            fixture.home,
            "load",
            *["--shape", "capacity", "--rate", "10", "--steps", "8", "--duration", "8"],
            *RUN.replace("--duration 30 ", "").split(),
            "--reports",
            str(tmp_path / "reports"),
        )
    results = json.loads((tmp_path / "reports" / "latest" / "results.json").read_text())
    found = results["capacity"]
    assert done.returncode == {"PASS": 0, "FAIL": 1, "INVALID": 3}[results["verdict"]]
    assert found["rate"] in (40, 50), found
    judged = [s for s in found["steps"] if s["judged"]]
    assert [s["held"] for s in judged] == [True] * (len(judged) - 1) + [False]
    assert found["stopped"].startswith(f"step {len(judged)}: ")
    assert not found["steps"][-1]["judged"]  # stopped: 80/s never ran to its end
    assert "capacity: " in done.stderr and "iterations/s, the highest rate" in done.stderr
