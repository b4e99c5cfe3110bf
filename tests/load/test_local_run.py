"""full-load on the local provider: Locust master and worker processes, no Docker needed."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import psutil
import pytest

from harness.owner import is_running
from tests.stack.cli import (
    harness,
    harness_with_env,
    in_background,
    measured,
    running_stack_of,
    wait_for_stderr,
)


def test_full_load_with_local_processes(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    done = harness(
        tmp_path / "home",
        "full-load",
        "--provider",
        "local",
        "--profile",
        "tiny",
        "--users",
        "6",
        "--duration",
        "8",
        "--warmup",
        "2",
        "--workers",
        "2",
        "--bcrypt-rounds",
        "4",
        "--bench-rounds",
        "3",
        "--reports",
        str(reports),
        timeout=300,
    )
    assert done.returncode in (0, 1), done.stderr[-2000:]
    run_dir = (reports / "latest").resolve()
    results = json.loads((run_dir / "results.json").read_text())
    assert results["run"]["provider"] == "local" and results["run"]["workers"] == 2
    assert results["aggregate"]["requests"] > 0
    assert done.returncode == (0 if results["verdict"] == "PASS" else 1)
    assert {"worker-1.log", "worker-2.log", "master.log"} <= {p.name for p in run_dir.iterdir()}
    assert "== tear down" in done.stderr
    assert len(results["benchmarks"]["benchmarks"]) == 12  # the suite ran first, on SQLite
    rows = (run_dir / "monitor" / "containers.jsonl").read_text().splitlines()
    assert rows and {json.loads(r)["role"] for r in rows} == {"process"}
    assert (run_dir / "index.html").exists() and (run_dir / "junit.xml").exists()
    leftovers = [
        p
        for p in psutil.process_iter(["cmdline"])
        if any("locust" in part for part in (p.info["cmdline"] or []))
        and str(run_dir) in " ".join(p.info["cmdline"] or [])
    ]
    assert leftovers == []


# A run far longer than any test waits: each test ends it (signal, crash, kill) on purpose.
LONG_LOCAL_RUN = (
    "full-load --provider local --skip-bench --profile tiny --users 4 --duration 300 "
    "--warmup 2 --workers 1 --bcrypt-rounds 4"
)


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_stop_signal_during_load_keeps_partial_results_and_tears_down(
    tmp_path: Path, sig: signal.Signals, code: int
) -> None:
    home, reports, err = tmp_path / "home", tmp_path / "reports", tmp_path / "stderr.txt"
    args = f"{LONG_LOCAL_RUN} --reports {reports}"
    with in_background(home, args, err) as proc:
        wait_for_stderr(proc, err, measured)
        state = running_stack_of(home)
        proc.send_signal(sig)
        assert proc.wait(timeout=120) == code, err.read_text()[-2000:]
    stderr = err.read_text()
    assert "== tear down" in stderr and "partial results" in stderr
    run_dir = (reports / "latest").resolve()
    results = json.loads((run_dir / "results.json").read_text())
    assert (
        results["run"]["partial"] is True and "interrupted: partial results" in results["warnings"]
    )
    assert results["aggregate"]["requests"] > 0  # what was measured before the signal is kept
    assert (run_dir / "index.html").exists() and (run_dir / "monitor" / "containers.jsonl").exists()
    assert not psutil.pid_exists(state["pid"]) or psutil.Process(state["pid"]).status() == "zombie"
    assert not [
        p
        for p in psutil.process_iter(["cmdline"])
        if str(run_dir) in " ".join(p.info["cmdline"] or [])
    ]


def test_a_backend_crash_mid_load_ends_the_run_with_the_reason_and_its_log(tmp_path: Path) -> None:
    home, reports, err = tmp_path / "home", tmp_path / "reports", tmp_path / "stderr.txt"
    args = f"{LONG_LOCAL_RUN} --down-grace 3 --reports {reports}"
    with in_background(home, args, err) as proc:
        wait_for_stderr(proc, err, measured)
        state = running_stack_of(home)
        os.killpg(state["pid"], signal.SIGKILL)  # the backend and its workers, as a crash would
        assert proc.wait(timeout=120) == 1, err.read_text()[-2000:]  # FAIL, not 300 s later
    stderr = err.read_text()
    assert "stopping the load: backend has been down for" in stderr
    run_dir = (reports / "latest").resolve()
    results = json.loads((run_dir / "results.json").read_text())
    [incident] = results["incidents"]
    assert incident["service"] == "backend" and incident["back_after_s"] is None
    assert results["verdict"] == "FAIL" and results["run"]["aborted"].startswith("backend has")
    assert results["run"]["partial"] is True
    assert results["aggregate"]["requests"] > 0 and results["aggregate"]["failures"] > 0
    assert "Shutting down" in (run_dir / "master.log").read_text().splitlines()[-1]
    assert "Uvicorn running" in (run_dir / "services" / "backend.log").read_text()
    page = (run_dir / "index.html").read_text()
    assert "backend exited" in page and "Last lines of the backend log" in page
    assert "== tear down" in stderr


def test_kill_9_of_a_local_run_the_watchdog_stops_its_backend_and_locust(tmp_path: Path) -> None:
    home, reports, err = tmp_path / "home", tmp_path / "reports", tmp_path / "stderr.txt"
    args = f"{LONG_LOCAL_RUN} --reports {reports}"
    with in_background(home, args, err) as proc:
        wait_for_stderr(proc, err, measured)
        state = running_stack_of(home)
        locust = [p for p in psutil.Process(proc.pid).children() if "locust" in p.cmdline()]
        assert len(locust) == 2  # master and one worker, as processes
        proc.kill()  # only the harness: its watchdog, in its own session, survives
        proc.wait()
    watched = [psutil.Process(state["pid"]), *locust]
    deadline = time.monotonic() + 60  # no harness command runs: the watchdog alone cleans up
    while any(is_running(p) for p in watched):
        assert time.monotonic() < deadline, "the backend or a Locust process is still running"
        time.sleep(0.5)
    while "was killed: removed" not in (home / "watchdog.log").read_text():  # written after
        assert time.monotonic() < deadline, "the watchdog logged no clean-up"
        time.sleep(0.5)
    assert not (home / "stacks" / state["stack_id"]).exists()


def test_users_renew_their_access_token_before_it_expires(tmp_path: Path) -> None:
    """A backend issuing 1-minute tokens: a 70 s run refreshes and never gets a 401.

    Users do not log in again here (CV_NEW_SESSION_WEIGHT 0): each new login resets the
    refresh schedule, so the refreshes would be left to chance.
    """
    reports = tmp_path / "reports"
    args = (
        "full-load --provider local --skip-bench --profile tiny --scenario contravento "
        f"--users 3 --duration 65 --warmup 2 --workers 1 --bcrypt-rounds 4 --reports {reports}"
    )
    done = harness_with_env(
        tmp_path / "home",
        # the local backend and the Locust processes inherit the environment
        {"ACCESS_TOKEN_EXPIRE_MINUTES": "1", "CV_NEW_SESSION_WEIGHT": "0"},
        *args.split(),
        timeout=300,
    )
    assert done.returncode in (0, 1), done.stderr[-2000:]
    results = json.loads(((reports / "latest").resolve() / "results.json").read_text())
    by_name = {(e["method"], e["name"]): e for e in results["endpoints"]}
    assert by_name[("POST", "/auth/refresh")]["requests"] >= 3  # each user renewed at ~45 s
    assert results["aggregate"]["failures"] == 0, results["endpoints"]
