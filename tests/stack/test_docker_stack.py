"""The Docker provider end to end through the CLI: up, use, reuse, down, and a failing backend."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.stack.cli import harness, labelled, status

pytestmark = [pytest.mark.docker, pytest.mark.slow]


def test_up_use_reuse_down(tmp_path: Path) -> None:
    up = harness(tmp_path, "up", "--provider", "docker")
    assert up.returncode == 0, up.stderr
    info = status(tmp_path)
    stack_id = info["stack_id"]
    try:  # from here on, a failed check still tears the kept stack down
        assert "tear down: make harness-down" in up.stdout
        assert info["running"] is True and info["provider"] == "docker"
        assert info["backend_url"] in up.stdout
        user, _, rest = info["db_dsn"].partition("://")[2].partition(":")
        password, _, where = rest.partition("@")
        # `up` prints the DSN with its password masked; `status --json` keeps it for tools
        assert f"postgresql://{user}:***@{where}" in up.stdout and password not in up.stdout
        health = httpx.get(f"{info['backend_url']}/health", timeout=10)
        assert health.status_code == 200 and health.json()["data"]["status"] == "healthy"
        with psycopg.connect(info["db_dsn"]) as conn:
            assert conn.execute("SELECT count(*) FROM achievements").fetchone() == (9,)
            libs = conn.execute("SHOW shared_preload_libraries").fetchone()
            assert libs is not None and "pg_stat_statements" in libs[0]
        for container in labelled("container", stack_id):
            inspect = subprocess.run(
                ["docker", "inspect", container], capture_output=True, text=True, check=True
            )
            attrs = json.loads(inspect.stdout)[0]
            bindings = [b for port in attrs["HostConfig"]["PortBindings"].values() for b in port]
            assert bindings and all(b["HostIp"] == "127.0.0.1" for b in bindings), bindings
            if container.endswith("-backend"):
                assert attrs["Config"]["User"] not in ("", "root", "0")
        assert {"backend.log", "postgres.log"} <= {p.name for p in Path(info["folder"]).iterdir()}
        again = harness(tmp_path, "up", "--provider", "docker")
        assert again.returncode == 0, again.stderr
        assert f"reusing the running docker stack {stack_id}" in again.stdout
    finally:
        down = harness(tmp_path, "down")
    assert down.returncode == 0 and stack_id in down.stdout
    for kind in ("container", "network", "volume"):
        assert labelled(kind, stack_id) == [], kind
    assert status(tmp_path)["running"] is False


def test_backend_that_cannot_start_shows_its_log(tmp_path: Path) -> None:
    # BCRYPT_ROUNDS=99 passes the CLI (a positive number) but the backend refuses it at start.
    up = harness(tmp_path, "up", "--provider", "docker", "--bcrypt-rounds", "99")
    assert up.returncode == 2, up.stdout + up.stderr
    assert "the backend did not become ready" in up.stderr
    assert "BCRYPT_ROUNDS=99 is out of range" in up.stderr  # the log tail, in the error
    assert "hint:" in up.stderr and "Traceback" not in up.stderr
    leftovers = [
        n
        for kind in ("container", "network", "volume")
        for n in labelled(kind)
        if n.startswith("cv-") and (tmp_path / "stacks" / n.split("-")[1]).exists()
    ]
    assert leftovers == []
    assert status(tmp_path)["running"] is False
