"""The local provider (no Docker) and the external provider's guard, through the CLI."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import httpx
import psutil
import pytest

from harness.errors import ConfigError, TargetRefused
from harness.stack.external import guard_dsn, guard_target, is_loopback
from harness.stack.lifecycle import resolve_provider
from tests.stack.cli import harness, harness_with_env, status
from tests.support.postgres import free_port


def test_local_provider_up_reuse_down(tmp_path: Path) -> None:
    up = harness(tmp_path, "up", "--provider", "local", "--bcrypt-rounds", "4")
    assert up.returncode == 0, up.stderr
    info = status(tmp_path)
    assert info["provider"] == "local" and info["running"] is True
    assert info["backend_url"].startswith("http://127.0.0.1:")
    assert info["db_dsn"].startswith("sqlite:///") and str(tmp_path) in info["db_dsn"]
    assert httpx.get(f"{info['backend_url']}/health").status_code == 200
    pid = int(json.loads((Path(info["folder"]) / "stack.json").read_text())["pid"])
    again = harness(tmp_path, "up", "--provider", "local")
    assert "reusing the running local stack" in again.stdout
    other = harness(tmp_path, "up", "--target", info["backend_url"])
    assert other.returncode == 2 and "already up" in other.stderr  # never replaced silently
    elsewhere = tmp_path / "other-home"
    attached = harness(elsewhere, "up", "--target", info["backend_url"])
    assert attached.returncode == 0, attached.stderr  # a loopback target needs no flag
    assert status(elsewhere)["provider"] == "external"
    assert harness(elsewhere, "down").returncode == 0
    assert httpx.get(f"{info['backend_url']}/health").status_code == 200  # not ours to stop
    assert harness(tmp_path, "down").returncode == 0
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


def test_remote_target_is_refused_without_the_flag(tmp_path: Path) -> None:
    done = harness(tmp_path, "up", "--target", "http://10.20.30.40:8000")
    assert done.returncode == 2
    assert "not a loopback address" in done.stderr and "--allow-remote-target" in done.stderr
    assert "Traceback" not in done.stderr


def test_unreachable_target_is_exit_2(tmp_path: Path) -> None:
    done = harness(tmp_path, "up", "--target", f"http://127.0.0.1:{free_port()}")
    assert done.returncode == 2 and "unreachable" in done.stderr and "hint:" in done.stderr


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["up", "--provider", "cloud"], "is not one of"),
        (["up", "--backend-workers", "0"], "must be 1 or more"),
        (["up", "--target", "ftp://127.0.0.1"], "not an http(s) URL"),
        (["up", "--provider", "docker", "--target", "http://127.0.0.1:1"], "--target names"),
        (["launch"], "no such command"),
        ([], "missing command"),
    ],
)
def test_bad_arguments_are_exit_2_with_hint(tmp_path: Path, args: list[str], needle: str) -> None:
    done = harness(tmp_path, *args)
    assert done.returncode == 2, done.stdout + done.stderr
    assert needle in done.stderr and "hint:" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("localhost", True),
        ("10.0.0.1", False),
        ("192.168.1.10", False),
        ("8.8.8.8", False),
        ("no-such-host.invalid", False),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_guards() -> None:
    guard_target("http://127.0.0.1:8000", allow_remote=False)
    guard_target("https://staging.example.com", allow_remote=True)
    with pytest.raises(TargetRefused):
        guard_target("https://staging.example.com", allow_remote=False)
    with pytest.raises(TargetRefused):
        guard_dsn("postgresql://u:p@db.example.com/cv", allow_remote=False)
    guard_dsn("postgresql://u:p@127.0.0.1/cv", allow_remote=False)
    with pytest.raises(ConfigError):
        resolve_provider("external", None)


def test_taken_port_is_exit_2_and_starts_nothing(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = harness(tmp_path, "up", "--provider", "local", "--port", str(port))
    assert done.returncode == 2 and "already in use" in done.stderr and "hint:" in done.stderr
    assert status(tmp_path)["running"] is False
    assert not (tmp_path / "stacks").exists()


def test_local_provider_on_a_fixed_port(tmp_path: Path) -> None:
    port = free_port()
    done = harness(
        tmp_path, "up", "--provider", "local", "--port", str(port), "--bcrypt-rounds", "4"
    )
    try:
        assert done.returncode == 0, done.stderr
        assert status(tmp_path)["backend_url"] == f"http://127.0.0.1:{port}"
    finally:
        harness(tmp_path, "down")


def test_docker_not_running_is_exit_2(tmp_path: Path) -> None:
    env_home = tmp_path / "home"
    done = harness_with_env(
        env_home, {"DOCKER_HOST": f"unix://{tmp_path}/no-docker.sock"}, "up", "--provider", "docker"
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Docker daemon" in done.stderr and "hint: start it" in done.stderr
    assert "Traceback" not in done.stderr
