"""Workers from "other machines": `harness worker` joins a master that `harness load` opened."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.stack.cli import REPO, harness

HARNESS = (sys.executable, "-m", "harness")
ANYWHERE = "0.0.0.0"  # noqa: S104 -- the refused request under test; nothing binds it


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A local stack standing in for a backend every machine can reach."""
    home = tmp_path_factory.mktemp("backend-home")
    done = harness(home, "up", "--provider", "local", "--bcrypt-rounds", "4", timeout=180)
    assert done.returncode == 0, done.stderr
    url = json.loads(harness(home, "status", "--json").stdout)["backend_url"]
    yield str(url)
    assert harness(home, "down").returncode == 0


@pytest.fixture
def external(backend: str, tmp_path: Path) -> Path:
    """A harness home whose current stack is that backend, as an external target."""
    home = tmp_path / "home"
    done = harness(home, "up", "--target", backend)
    assert done.returncode == 0, done.stderr
    return home


def test_remote_workers_join_the_master_and_share_the_load(external: Path, tmp_path: Path) -> None:
    reports, err, port = tmp_path / "reports", tmp_path / "load.txt", free_port()
    args = (
        "load --shape baseline --users 6 --spawn-rate 6 --duration 8 --warmup 2 --workers 1 "
        f"--remote-workers 2 --master-port {port} --reports {reports}"
    )
    env = {**os.environ, "HARNESS_HOME": str(external)}
    with err.open("w") as sink:
        load = subprocess.Popen(
            [*HARNESS, *args.split()],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=sink,
        )
        deadline = time.monotonic() + 60
        while f"listens on 127.0.0.1:{port} for this run only" not in err.read_text():
            assert load.poll() is None and time.monotonic() < deadline, err.read_text()
            time.sleep(0.2)
        joining = f"worker --master-host 127.0.0.1 --master-port {port} --processes 2"
        worker = subprocess.run(
            [*HARNESS, *joining.split()],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert load.wait(timeout=120) in (0, 1), err.read_text()[-2000:]
    assert worker.returncode == 0, worker.stderr[-2000:]
    assert "the master ended the run" in worker.stderr
    run_dir = (reports / "latest").resolve()
    results = json.loads((run_dir / "results.json").read_text())
    assert results["run"]["remote_workers"] == 2 and results["aggregate"]["requests"] > 0
    master_log = (run_dir / "master.log").read_text()
    assert "3 workers connected" in master_log  # one local, two from `harness worker`
    with socket.socket() as s:  # the master's port was open for that run only
        assert s.connect_ex(("127.0.0.1", port)) != 0


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ("load --remote-workers 1 --master-bind everywhere", "is not an IP address"),
        (f"load --master-bind {ANYWHERE}", "only go with --remote-workers"),
    ],
)
def test_bad_remote_worker_options(external: Path, args: str, needle: str) -> None:
    done = harness(external, *args.split())
    assert done.returncode == 2 and needle in done.stderr and "hint:" in done.stderr


def test_remote_workers_are_refused_for_a_stack_only_this_machine_reaches(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert harness(home, "up", "--provider", "local", "--bcrypt-rounds", "4").returncode == 0
    try:
        done = harness(home, "load", "--remote-workers", "1", "--master-bind", ANYWHERE)
        assert done.returncode == 2, done.stderr
        assert "remote workers cannot reach this local stack" in done.stderr
        assert "harness up --target URL" in done.stderr
    finally:
        assert harness(home, "down").returncode == 0
