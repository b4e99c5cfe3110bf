"""A backend that is not the reference one, from its harness.toml: up, seed, bench, load, down.

The fixture (tests/fixtures/other_backend) has its own Dockerfile (FROM python:3.11-slim,
pip install), an Alembic migration and an init script run as setup steps, environment names
of its own, NOT NULL timestamp columns the seeder does not know, an extra table and strict
e-mail validation. In Docker and with the local provider (a subprocess on SQLite).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.stack.cli import harness_with_env, labelled

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "other_backend"
CONFIG = str(FIXTURE / "harness.toml")


@pytest.fixture(scope="module")
def fixture_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture's own dependencies (alembic, email-validator, ...) for the local provider."""
    venv = tmp_path_factory.mktemp("other-venv")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", "-r", str(FIXTURE / "requirements.txt")],
        check=True,
        timeout=600,
    )
    return venv


def run(home: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return harness_with_env(home, env, *args, timeout=1200)


def secret_free(folder: Path, secret: str) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            assert secret not in path.read_text(errors="replace"), path


def walk_through(home: Path, env: dict[str, str], provider: str) -> dict[str, Any]:
    """up -> seed -> bench -> load -> down; returns what a test checks."""
    reports = home / "reports"
    env = {**env, "HARNESS_REPORTS": str(reports)}
    up = run(home, env, "up", "--provider", provider, "--config", CONFIG, "--bcrypt-rounds", "4")
    assert up.returncode == 0, up.stderr[-3000:]
    state = json.loads(next((home / "stacks").glob("*/stack.json")).read_text())
    folder = Path(state["folder"])
    try:
        # the setup steps ran, and their output was kept
        assert (folder / "setup-migrate.log").exists() and (folder / "setup-init.log").exists()
        seed = run(home, env, "seed", "--profile", "tiny", "--reset")
        assert seed.returncode == 0, seed.stderr[-3000:]
        user = (folder / "seed-usernames.txt").read_text().split()[0]
        manifest = json.loads((folder / "seed-manifest.json").read_text())
        login = httpx.post(
            f"{state['backend_url']}/auth/login",
            json={"login": user, "password": manifest["password"]},
            timeout=30,
        )
        assert login.status_code == 200, login.text  # the seeded user, through its own API
        bench = run(home, env, "bench", "--rounds", "3", "--warmup", "1")
        assert bench.returncode in (0, 1), bench.stderr[-3000:]
        benched = json.loads((reports / "latest" / "results.json").read_text())
        outcomes = {b["name"]: b["outcome"] for b in benched["benchmarks"]["benchmarks"]}
        assert "error" not in outcomes.values(), outcomes  # e.g. a refused e-mail at set-up
        load = run(home, env, "load", "--shape", "baseline", "--duration", "15", "--users", "5")
        assert load.returncode in (0, 1), load.stderr[-3000:]
        results: dict[str, Any] = json.loads((reports / "latest" / "results.json").read_text())
        password = (state["db_dsn"] or "").partition("@")[0].rpartition(":")[2]
        if provider == "docker":
            secret_free(reports, password)
        return {"results": results, "stack": state}
    finally:
        down = run(home, env, "down")
        assert down.returncode == 0, down.stderr


def check_load(results: dict[str, Any]) -> None:
    assert results["aggregate"]["requests"] > 0
    assert results["aggregate"]["failures"] == 0, results["endpoints"]
    assert results["users"]["reached"] == results["users"]["planned"] == 5, results["users"]


@pytest.mark.docker
@pytest.mark.slow
def test_own_backend_in_docker(tmp_path: Path) -> None:
    seen = walk_through(tmp_path / "home", {}, "docker")
    assert seen["stack"]["backend_name"] == "otherapp"
    check_load(seen["results"])
    assert labelled("container", seen["stack"]["stack_id"]) == []


@pytest.mark.slow
def test_own_backend_with_the_local_provider(tmp_path: Path, fixture_venv: Path) -> None:
    path = f"{fixture_venv / 'bin'}{os.pathsep}{os.environ['PATH']}"
    # Returning users log in again (weight 1 of 30 by default: in 15 s with 5 users that may
    # not happen); as likely as the other tasks here, so login is surely measured.
    env = {"PATH": path, "CV_NEW_SESSION_WEIGHT": "30"}
    seen = walk_through(tmp_path / "home", env, "local")
    assert seen["stack"]["db_dsn"].startswith("sqlite:///")
    check_load(seen["results"])
    assert any(row["endpoint"] == "POST /auth/login" for row in seen["results"]["slo"])


def test_a_running_stack_of_another_backend_is_not_reused(tmp_path: Path) -> None:
    home = tmp_path / "home"
    up = run(home, {}, "up", "--provider", "local")  # the reference backend
    assert up.returncode == 0, up.stderr
    try:
        other = run(home, {}, "up", "--provider", "local", "--config", CONFIG)
        assert other.returncode == 2, other.stderr
        assert "runs the backend of" in other.stderr and "hint:" in other.stderr
        again = run(home, {}, "up", "--provider", "local")
        assert again.returncode == 0 and "reusing the running local stack" in again.stdout
    finally:
        assert run(home, {}, "down").returncode == 0


@pytest.fixture(autouse=True)
def _no_leftover_stack(tmp_path: Path) -> Iterator[None]:
    yield
    stacks = tmp_path / "home" / "stacks"
    for state in stacks.glob("*/stack.json") if stacks.exists() else []:
        pytest.fail(f"a stack was left running: {state}")
