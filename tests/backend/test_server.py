"""`python -m backend` as a real process: refuses bad settings, serves with workers on PostgreSQL."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psutil
import pytest

from tests.backend.api import PASSWORD
from tests.conftest import TEST_SECRET
from tests.support.postgres import LocalPostgres, free_port

REPO = Path(__file__).resolve().parents[2]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SECRET_KEY")}
    env.update({"SECRET_KEY": TEST_SECRET, "APP_ENV": "testing", "BCRYPT_ROUNDS": "4"})
    env.update(extra)
    return env


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "backend", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_short_secret_exits_2_with_hint() -> None:
    done = _run(_env(SECRET_KEY="too-short"))
    assert done.returncode == 2
    assert done.stderr.startswith("error: SECRET_KEY is 9 characters long")
    assert "hint:" in done.stderr and "Traceback" not in done.stderr


def test_port_taken_exits_2(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = _run(_env(DATABASE_URL=f"sqlite:///{tmp_path}/x.db"), "--port", str(port))
    assert done.returncode == 2 and "already in use" in done.stderr


def test_unreachable_database_exits_2() -> None:
    url = f"postgresql://u:p@127.0.0.1:{free_port()}/nothing"
    done = _run(_env(DATABASE_URL=url), "--port", str(free_port()), "--db-timeout", "1")
    assert done.returncode == 2 and "database did not answer" in done.stderr


@contextmanager
def serving(env: dict[str, str], *args: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "backend", "--port", str(port), *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:  # readiness: the first 200 from /health
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            assert time.monotonic() < deadline, "backend did not become ready"
            time.sleep(0.1)
        yield url, proc
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.mark.postgres
def test_two_workers_on_postgres(postgres_server: LocalPostgres) -> None:
    dsn = postgres_server.create_database("server_test")
    with serving(_env(DATABASE_URL=dsn, WEB_CONCURRENCY="2")) as (url, proc):
        children = psutil.Process(proc.pid).children()
        workers = [p for p in children if "spawn_main" in " ".join(p.cmdline())]
        assert len(workers) == 2, [p.cmdline() for p in children]
        with httpx.Client(base_url=url, timeout=10) as c:
            body = {"username": "srv_user", "email": "srv@example.com", "password": PASSWORD}
            assert c.post("/auth/register", json=body).status_code == 201
            login = c.post("/auth/login", json={"login": "srv_user", "password": PASSWORD})
            assert login.status_code == 200
            assert c.get("/achievements").json()["data"]["total_count"] == 9
    assert not any(w.is_running() and w.status() != psutil.STATUS_ZOMBIE for w in workers)
