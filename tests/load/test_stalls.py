"""Coordinated omission: a backend that stalls for a known time at a known period.

The fixture (tests/support/stalling_backend.py) blocks its event loop for STALL_S every
EVERY_S seconds. Iterations arriving at a steady rate meet a stall with probability
STALL_S / EVERY_S and wait what is left of it, so the latency exceeded by a share q of all
requests (q below that probability) is STALL_S - q * EVERY_S, plus the service time:
p90 300 ms, p95 450 ms, p99 570 ms here. The open model must report those within TOLERANCE.
The closed model at the same nominal load (10 users thinking 0.25 s on average: 40 requests a
second) sends at most one request per user into each stall and none while its users wait, so
fewer than a tenth of its requests meet one: its p90 is the service time, not the stalls'
300 ms. (Its p95 and p99 do show the stalls: a tenth of its requests wait in one.)
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.stack.waits import wait_for_http_ok
from tests.stack.cli import REPO, harness, harness_with_env
from tests.support.postgres import free_port

pytestmark = [pytest.mark.slow]
STALL_S, EVERY_S, RATE = 0.6, 3.0, 40
ANALYTIC_MS = {q: (STALL_S - (1 - q) * EVERY_S) * 1000 for q in (0.90, 0.95, 0.99)}
TOLERANCE = 0.10  # of the analytic value, plus SERVICE_MS
SERVICE_MS = 15.0  # the fixture's own time and the load generator's, on a busy 2-core machine
RUN = "--scenario feed --duration 30 --warmup 3 --workers 1 --skip-profile"


@pytest.fixture
def stalling(tmp_path: Path) -> Iterator[Path]:
    """The fixture backend, and a harness home whose current stack targets it."""
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.support.stalling_backend",
            str(port),
            str(STALL_S * 1000),
            str(EVERY_S),
        ],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    home = tmp_path / "home"
    try:
        wait_for_http_ok(f"http://127.0.0.1:{port}/health", 30, lambda: server.poll() is None)
        up = harness(home, "up", "--target", f"http://127.0.0.1:{port}", timeout=60)
        assert up.returncode == 0, up.stderr[-2000:]
        yield home
    finally:
        harness(home, "down", timeout=60)
        server.terminate()
        server.wait(timeout=10)


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
        "--shape baseline --users 10",
        {"CV_WAIT_SCALE": "0.125"},  # think 0.125-0.375 s: 10 users offer about 40 requests/s
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
