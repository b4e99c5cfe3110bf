"""A PostgreSQL restart and a backend crash during a Docker load: counted, explained, not hung."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.stack.cli import in_background, labelled, measured, running_stack_of, wait_for_stderr
from tests.support.docker import require_docker

pytestmark = [pytest.mark.docker, pytest.mark.slow]


def feed_answers(url: str) -> bool:
    """The public feed needs the database: 200 means the backend has its connections back."""
    try:
        with urllib.request.urlopen(f"{url}/trips/public?page=1", timeout=5) as response:  # noqa: S310
            return int(response.status) == 200
    except (urllib.error.URLError, OSError):
        return False


def test_postgres_restart_then_backend_crash(tmp_path: Path) -> None:
    require_docker()
    home, reports, err = tmp_path / "home", tmp_path / "reports", tmp_path / "stderr.txt"
    args = (
        "full-load --provider docker --skip-bench --profile tiny --users 6 --duration 240 "
        f"--warmup 2 --workers 1 --bcrypt-rounds 4 --down-grace 5 --reports {reports}"
    )
    with in_background(home, args, err) as proc:
        wait_for_stderr(proc, err, measured, timeout=300)
        state = running_stack_of(home)
        names = {c["role"]: c["name"] for c in state["containers"]}
        subprocess.run(["docker", "restart", names["postgres"]], check=True, timeout=120)
        deadline = time.monotonic() + 120
        while not feed_answers(state["backend_url"]):  # same port after the restart
            assert proc.poll() is None and time.monotonic() < deadline, err.read_text()
            time.sleep(0.5)
        subprocess.run(["docker", "kill", names["backend"]], check=True, timeout=60)
        assert proc.wait(timeout=180) == 1, err.read_text()[-3000:]  # FAIL, well before 240 s
    stderr = err.read_text()
    assert "stopping the load: backend has been down for" in stderr
    run_dir = (reports / "latest").resolve()
    results = json.loads((run_dir / "results.json").read_text())
    found = {i["service"]: i for i in results["incidents"]}
    assert found["postgres"]["exit_code"] == 0 and found["postgres"]["back_after_s"] is not None
    assert found["backend"]["exit_code"] == 137 and found["backend"]["back_after_s"] is None
    assert results["verdict"] == "FAIL" and results["run"]["partial"] is True
    assert results["aggregate"]["failures"] > 0  # requests to the dead backend were counted
    # The master stopped as told and wrote its results, its workers' last samples in them:
    # not killed 30 s later, having sent 30 s more requests to the dead backend.
    assert "Shutting down" in (run_dir / "master.log").read_text().splitlines()[-1]
    postgres_log = (run_dir / "services" / "postgres.log").read_text()
    assert "database system is ready to accept connections" in postgres_log
    assert "shutting down" in postgres_log  # the restart is in the tail
    page = (run_dir / "index.html").read_text()
    assert "Last lines of the backend log" in page and "Last lines of the postgres log" in page
    assert "postgres exited with code 0" in page and "backend exited with code 137" in page
    assert state["db_dsn"].split(":")[2].split("@")[0] not in "".join(
        p.read_text(errors="replace") for p in run_dir.rglob("*") if p.is_file()
    )  # the stack's database password reached no file of the run
    assert labelled("container", state["stack_id"]) == []  # the throwaway stack is gone
