"""compose/stack.yml and compose/locust.yml: read statically, validated by each compose CLI, run."""

from __future__ import annotations

import csv
import functools
import json
import os
import re
import secrets
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.images import build_images, tag_latest
from harness.stack.local_provider import free_loopback_port
from tests.stack.cli import REPO
from tests.support.docker import docker_required, require_docker

STACK = REPO / "compose" / "stack.yml"
LOCUST = REPO / "compose" / "locust.yml"
FILES = (STACK, LOCUST)
LATEST = {
    "contravento-harness/backend:latest",
    "contravento-harness/locust:latest",
    "contravento-harness/postgres:latest",
}
SECRETS = ("POSTGRES_PASSWORD", "SECRET_KEY")
# `docker compose` (v2) first, as a user with both would type it; Debian ships only 1.29.
CLIS = {"docker compose": ("docker", "compose"), "docker-compose": ("docker-compose",)}
# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?message}, ${NAME?message}
BRACED = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")
ANY_VARIABLE = re.compile(r"(?<!\$)\$\{?([A-Za-z_][A-Za-z0-9_]*)")
READY_LINE = re.compile(r"reported as ready\. 2 workers connected\.")  # Locust's master log
PROJECT_LABEL = "com.docker.compose.project"
RUN_DEADLINE_S = 300


# --- reading the files as text and YAML -------------------------------------------------


def header(path: Path) -> str:
    """The comment block the file starts with (up to its first line of YAML)."""
    lines = path.read_text().splitlines()
    first_code = next(i for i, line in enumerate(lines) if line and not line.startswith("#"))
    return "\n".join(lines[:first_code])


def body(path: Path) -> str:
    """The file without its comment lines: what compose interpolates."""
    return "\n".join(
        line for line in path.read_text().splitlines() if not line.lstrip().startswith("#")
    )


def variables(path: Path) -> set[str]:
    return set(ANY_VARIABLE.findall(body(path)))


def interpolate(value: Any, environ: Mapping[str, str]) -> Any:
    """Compose's substitution on every string of a parsed file (a required value must be set)."""
    if isinstance(value, dict):
        return {k: interpolate(v, environ) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, environ) for v in value]
    if not isinstance(value, str):
        return value

    def one(match: re.Match[str]) -> str:
        name, op, arg = match.group(1), match.group(2), match.group(3)
        if name in environ and (environ[name] or not (op or "").startswith(":")):
            return environ[name]
        if op and op.endswith("?"):
            raise KeyError(f"{name} is required: {arg}")
        return arg if op else ""

    return BRACED.sub(one, value)


def services(*paths: Path, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The services of the files merged (later files add services), with defaults applied."""
    environ = {name: "x" for name in SECRETS} if environ is None else environ
    merged: dict[str, Any] = {}
    for path in paths:
        merged.update(interpolate(yaml.safe_load(path.read_text()), environ)["services"])
    return merged


def host_ips(ports: list[Any]) -> list[str]:
    """The host address of each published port, short ("ip:host:container") or long syntax."""
    found = []
    for port in ports:
        if isinstance(port, dict):
            found.append(str(port.get("host_ip", "")))
        else:
            parts = str(port).split(":")
            found.append(parts[0] if len(parts) == 3 else "")  # "host:container" binds 0.0.0.0
    return found


# --- static checks ------------------------------------------------------------------------


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_published_port_binds_loopback_only(path: Path) -> None:
    published = {name: svc.get("ports", []) for name, svc in services(path).items()}
    for name, ports in published.items():
        assert all(ip == "127.0.0.1" for ip in host_ips(ports)), (name, ports)
    if path == STACK:
        assert host_ips(published["backend"]) == ["127.0.0.1"]
        assert published["postgres"] == []  # reachable on the stack's network only


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_secrets_have_no_default(path: Path) -> None:
    text = body(path)
    for match in BRACED.finditer(text):
        name, op = match.group(1), match.group(2) or ""
        if re.search(r"PASSWORD|SECRET|TOKEN|_KEY$", name):
            assert op == ":?", f"{match.group(0)}: a secret must be required, without a default"
    for svc in yaml.safe_load(path.read_text())["services"].values():
        for key, value in (svc.get("environment") or {}).items():
            if re.search(r"PASSWORD|SECRET|TOKEN|_KEY$", key):
                assert BRACED.fullmatch(str(value)), f"{key} must come from the environment"


def test_the_stack_refuses_to_start_without_its_secrets() -> None:
    for missing in SECRETS:
        environ = {name: "x" for name in SECRETS if name != missing}
        with pytest.raises(KeyError, match=f"{missing} is required"):
            services(STACK, environ=environ)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_variable_is_documented_in_the_header(path: Path) -> None:
    used = variables(path)
    assert used  # the scan sees the file's variables
    documented = header(path)
    assert {name for name in used if not re.search(rf"\b{name}\b", documented)} == set()
    for cli in CLIS:  # both spellings of the commands are in the header
        assert f"{cli} -f compose/" in documented


def test_workers_scale_and_nothing_is_pinned_by_name() -> None:
    merged = services(STACK, LOCUST)
    assert set(merged) == {"postgres", "backend", "master", "worker"}
    assert all("container_name" not in svc for svc in merged.values())  # projects side by side
    assert "ports" not in merged["worker"] and "ports" not in merged["master"]
    assert "--worker" in merged["worker"]["command"]
    assert merged["worker"]["command"][-2:] == ["--master-host", "master"]


def test_images_are_the_three_latest_names_and_nothing_is_built() -> None:
    merged = services(STACK, LOCUST)
    assert {svc["image"] for svc in merged.values()} == LATEST
    assert all("build" not in svc for svc in merged.values())


def test_the_load_is_bounded_and_headless_by_default() -> None:
    master = services(LOCUST)["master"]
    env = master["environment"]
    assert env["LOCUST_HOST"] == "http://backend:8000"
    assert int(env["LOCUST_USERS"]) <= 50 and env["LOCUST_RUN_TIME"] == "60s"
    assert "--headless" in master["command"] and "--master" in master["command"]
    assert master["command"][master["command"].index("--expect-workers") + 1] == "2"
    assert "/results/locust" in master["command"]


def test_the_stack_waits_for_a_healthy_database() -> None:
    stack = services(STACK)
    assert stack["backend"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert "pg_isready" in stack["postgres"]["healthcheck"]["test"]
    url = stack["backend"]["environment"]["DATABASE_URL"]
    assert url == "postgresql://contravento:x@postgres:5432/contravento"


# --- the compose CLIs ---------------------------------------------------------------------


@functools.cache
def cli_works(name: str) -> bool:
    try:
        done = subprocess.run(
            [*CLIS[name], "version"], capture_output=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def compose_env(extra: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without anything the files read, plus `extra`.

    A user's exported POSTGRES_PASSWORD or COMPOSE_FILE must not change what a test sees.
    """
    used = set().union(*(variables(path) for path in FILES))
    base = {k: v for k, v in os.environ.items() if k not in used and not k.startswith("COMPOSE_")}
    return {**base, **extra}


@pytest.mark.parametrize("cli", list(CLIS))
@pytest.mark.parametrize(
    "paths", [(STACK,), (STACK, LOCUST), (LOCUST,)], ids=["stack", "stack+locust", "locust"]
)
def test_the_cli_validates_the_files(cli: str, paths: tuple[Path, ...]) -> None:
    if not cli_works(cli):
        pytest.skip(f"`{cli} version` does not run here")
    files = [arg for path in paths for arg in ("-f", str(path))]
    env = compose_env({"POSTGRES_PASSWORD": "pw", "SECRET_KEY": "key", "BACKEND_PORT": "18123"})
    done = subprocess.run(
        [*CLIS[cli], *files, "config"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    config = yaml.safe_load(done.stdout)["services"]
    assert set(config) == {name for path in paths for name in services(path)}
    if STACK in paths:
        assert host_ips(config["backend"]["ports"]) == ["127.0.0.1"]
        assert "18123" in str(config["backend"]["ports"])
        env.pop("SECRET_KEY")  # a missing secret stops compose, with the file's hint
        refused = subprocess.run(
            [*CLIS[cli], *files, "config"], env=env, capture_output=True, text=True, timeout=60
        )
        assert refused.returncode != 0 and "set SECRET_KEY" in refused.stderr, refused.stderr


# --- bringing it up -----------------------------------------------------------------------


@dataclass(frozen=True)
class Project:
    """One compose project (unique name) over both files, and the environment it runs with."""

    cli: tuple[str, ...]
    name: str
    env: dict[str, str]

    def command(self, *args: str) -> list[str]:
        return [*self.cli, "-p", self.name, "-f", str(STACK), "-f", str(LOCUST), *args]

    def run(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.command(*args), env=self.env, capture_output=True, text=True, timeout=timeout
        )

    def containers(self, service: str | None = None) -> list[str]:
        selector = ["--filter", f"label={PROJECT_LABEL}={self.name}"]
        if service:
            selector += ["--filter", f"label=com.docker.compose.service={service}"]
        return docker("ps", "-aq", *selector).split()

    def leftovers(self) -> dict[str, list[str]]:
        label = f"label={PROJECT_LABEL}={self.name}"
        return {
            "containers": docker("ps", "-aq", "--filter", label).split(),
            "networks": docker("network", "ls", "-q", "--filter", label).split(),
            "volumes": docker("volume", "ls", "-q", "--filter", label).split(),
        }


def docker(*args: str) -> str:
    return subprocess.run(
        ["docker", *args], capture_output=True, text=True, check=True, timeout=60
    ).stdout


def pick_cli() -> tuple[str, ...]:
    for name, cli in CLIS.items():
        if cli_works(name):
            return cli
    if docker_required(os.environ):
        pytest.fail("CI needs a compose CLI (`docker compose` or `docker-compose`); neither runs")
    pytest.skip("neither `docker compose` nor `docker-compose` runs here")


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    require_docker()
    cli = pick_cli()
    # The files name the `:latest` tags; make sure they are this checkout's images.
    assert set(tag_latest(build_images(REPO))) == LATEST
    results = tmp_path / "results"
    results.mkdir()
    results.chmod(0o777)  # the master runs as uid 10002
    env = compose_env(
        {
            "POSTGRES_PASSWORD": secrets.token_hex(16),
            "SECRET_KEY": secrets.token_hex(32),
            "BACKEND_PORT": str(free_loopback_port()),
            "BCRYPT_ROUNDS": "4",
            "WORKERS": "2",
            "LOCUST_USERS": "6",
            "LOCUST_SPAWN_RATE": "6",
            "LOCUST_RUN_TIME": "15s",
            "RESULTS_DIR": str(results),
        }
    )
    created = Project(cli=cli, name=f"cvtest{uuid.uuid4().hex[:10]}", env=env)
    try:
        yield created
    finally:
        down = created.run("down", "-v", "--remove-orphans", "-t", "10")
        assert down.returncode == 0, down.stderr
        assert created.leftovers() == {"containers": [], "networks": [], "volumes": []}


def wait_for_health(url: str, up: subprocess.Popen[bytes], deadline: float) -> int:
    """The first status /health answers while `compose up` runs (0: it never answered)."""
    while time.monotonic() < deadline and up.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 -- http://127.0.0.1
                return int(response.status)
        except OSError:
            time.sleep(0.5)  # polling the backend, not waiting in its place
    return 0


def port_bindings(container: str) -> list[str]:
    out = docker("inspect", "--format", "{{json .HostConfig.PortBindings}}", container)
    bindings = json.loads(out) or {}
    return [b["HostIp"] for per_port in bindings.values() for b in per_port or []]


@pytest.mark.docker
@pytest.mark.slow
def test_stack_and_two_workers_run_a_bounded_load(project: Project, tmp_path: Path) -> None:
    """The documented one-liner: `up --scale worker=2 --exit-code-from master` on both files."""
    log = tmp_path / "compose-up.log"
    deadline = time.monotonic() + RUN_DEADLINE_S
    args = ("up", "--no-color", "--scale", "worker=2", "--exit-code-from", "master")
    with log.open("wb") as sink:
        up = subprocess.Popen(
            project.command(*args), env=project.env, stdout=sink, stderr=subprocess.STDOUT
        )
    try:
        port = project.env["BACKEND_PORT"]
        health = wait_for_health(f"http://127.0.0.1:{port}/health", up, deadline)
        assert health == 200, log.read_text()[-3000:]
        # Published on loopback only: the backend's binding, and no other container has one.
        (backend,) = project.containers("backend")
        assert docker("port", backend, "8000").split() == [f"127.0.0.1:{port}"]
        assert port_bindings(backend) == ["127.0.0.1"]
        others = [c for c in project.containers() if c != backend]
        assert len(others) == 4 and all(port_bindings(c) == [] for c in others)
        status = up.wait(timeout=max(1.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        pytest.fail(f"the run did not end within {RUN_DEADLINE_S}s:\n{log.read_text()[-3000:]}")
    finally:
        if up.poll() is None:
            up.kill()
            up.wait()
    (master,) = project.containers("master")
    master_log = subprocess.run(
        ["docker", "logs", master], capture_output=True, text=True, check=True
    )
    output = master_log.stdout + master_log.stderr
    exit_code = int(docker("inspect", "--format", "{{.State.ExitCode}}", master))
    assert (status, exit_code) == (0, 0), output[-3000:]  # 0: no request failed
    assert len(project.containers("worker")) == 2
    assert READY_LINE.search(output), output[-3000:]
    # It ended on its own: a worker exiting first would have had compose stop it mid-report.
    assert "Got SIGTERM" not in output and output.count("Shutting down (exit code 0)") == 1
    results = Path(project.env["RESULTS_DIR"])
    with (results / "locust_stats.csv").open() as f:
        rows = {row["Name"]: row for row in csv.DictReader(f)}
    aggregated = rows["Aggregated"]
    assert int(aggregated["Request Count"]) > 0 and int(aggregated["Failure Count"]) == 0
    assert "/auth/register" in rows  # the users signed themselves up on the compose backend
    assert (results / "locust.html").stat().st_size > 0


@pytest.mark.docker
@pytest.mark.slow
def test_a_results_folder_the_master_cannot_write_is_reported(
    project: Project, tmp_path: Path
) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o755)  # owned by this user, not by the container's uid 10002
    env = {**project.env, "RESULTS_DIR": str(locked)}
    done = subprocess.run(
        project.command("run", "--rm", "--no-deps", "master"),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    output = done.stdout + done.stderr
    assert "/results (RESULTS_DIR) is not writable by uid 10002" in output
    assert "hint: mkdir -p the folder and chmod 0777 it" in output
