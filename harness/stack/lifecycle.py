"""Bringing a stack up (reusing a running one), down, and reporting its status."""

from __future__ import annotations

import shutil
import socket
from dataclasses import dataclass, field
from pathlib import Path

from harness.docker_api import docker_answers
from harness.errors import ConfigError, StackError
from harness.owner import Owner
from harness.project import Project
from harness.stack import state as st
from harness.stack.docker_provider import (
    DockerStackOptions,
    start_docker_stack,
)
from harness.stack.external import attach_external
from harness.stack.local_provider import start_local_stack
from harness.stack.reaper import write_owner
from harness.stack.stacks import stack_of

PROVIDERS = ("auto", "docker", "local", "external")


@dataclass(frozen=True)
class UpRequest:
    provider: str  # docker | local | external (already resolved from auto)
    home: Path
    project: Project  # the backend under test (the reference one when there is no harness.toml)
    persistent: bool = True
    images: dict[str, str] = field(default_factory=dict)  # role -> tag (Docker stacks)
    target: str | None = None
    db_dsn: str | None = None
    allow_remote: bool = False
    bcrypt_rounds: int = 12
    backend_workers: int = 1
    port: int | None = None


def ensure_port_free(port: int) -> None:
    """Refuse a fixed port that something already listens on, before anything is started."""
    if not 1 <= port <= 65535:
        raise ConfigError(f"port {port} is out of range", "use a port in 1..65535")
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            raise ConfigError(
                f"127.0.0.1:{port} is already in use",
                "stop what listens there (`ss -ltnp | grep :PORT`) or choose another --port",
            ) from None


def resolve_provider(provider: str, target: str | None) -> str:
    if provider not in PROVIDERS:
        raise ConfigError(f"unknown provider {provider!r}", f"use one of {', '.join(PROVIDERS)}")
    if target is not None:
        if provider not in ("auto", "external"):
            raise ConfigError(
                f"--target names an external stack, but --provider is {provider}",
                "drop --provider, or drop --target to start a stack",
            )
        return "external"
    if provider == "external":
        raise ConfigError(
            "--provider external needs --target URL", "add --target http://127.0.0.1:8000"
        )
    if provider == "auto":
        return "docker" if docker_answers() else "local"
    return provider


def is_alive(state: st.StackState) -> bool:
    return stack_of(state).alive()


def current(home: Path) -> st.StackState | None:
    return st.load_current(home)


def reusable(home: Path, provider: str) -> st.StackState | None:
    """The one place that decides reuse: the running current stack if it is of this provider;
    a current stack whose processes are gone is cleared; a running one of another kind refused.
    """
    existing = st.load_current(home)
    if existing is None:
        return None
    alive = is_alive(existing)
    if alive and existing.provider == provider:
        return existing
    if alive:
        raise StackError(
            f"a {existing.provider} stack ({existing.stack_id}) is already up",
            "run `make harness-down` first, or use that stack",
        )
    stop(existing)  # its processes are gone: clear what is left and start afresh
    st.clear_current(home, existing.stack_id)
    return None


def up(request: UpRequest) -> st.StackState:
    """Start a new stack (ask `reusable` first for a kept one); it becomes current if kept."""
    stack_id = st.new_stack_id()
    folder = st.stack_folder(request.home, stack_id)
    owner = Owner.current()
    write_owner(folder, owner)
    try:
        state = _start(request, stack_id, folder, owner)
    except BaseException:
        if request.provider != "docker":  # a Docker stack's folder keeps the failed service's log
            shutil.rmtree(folder, ignore_errors=True)
        raise
    state.persistent = request.persistent
    state.bcrypt_rounds = request.bcrypt_rounds
    backend = request.project.backend
    templates = [*backend.command, *backend.env.values()]
    # Known only where the backend is started with the harness's figure (a placeholder).
    if request.provider != "external" and any("{workers}" in str(t) for t in templates):
        state.backend_workers = request.backend_workers
    if request.provider != "external" and any("{bcrypt_rounds}" in str(t) for t in templates):
        state.hash_rounds = request.bcrypt_rounds
    state.images = {**state.images, **request.images}
    state.project_file = str(request.project.source)
    state.health_path = backend.health_path
    st.save(state)
    if request.persistent:
        st.set_current(request.home, state)
        # A kept stack outlives `harness up`, so it forgets its owner; a throwaway one keeps
        # it, so the reaper can tell a killed run's local backend from a kept one.
        (folder / "owner.json").unlink(missing_ok=True)
    return state


def _start(request: UpRequest, stack_id: str, folder: Path, owner: Owner) -> st.StackState:
    if request.provider == "docker":
        options = DockerStackOptions(
            backend=request.project.backend,
            backend_image=request.images["backend"],
            postgres_image=request.images["postgres"],
            bcrypt_rounds=request.bcrypt_rounds,
            backend_workers=request.backend_workers,
            backend_port=request.port,
        )
        return start_docker_stack(stack_id, folder, options, owner, request.persistent)
    if request.provider == "local":
        return start_local_stack(
            stack_id,
            folder,
            request.project,
            bcrypt_rounds=request.bcrypt_rounds,
            backend_workers=request.backend_workers,
            port=request.port,
        )
    assert request.target is not None
    return attach_external(stack_id, folder, request.target, request.db_dsn, request.allow_remote)


def stop(state: st.StackState) -> None:
    """Tear a stack down: containers, network and volumes, or the local backend process."""
    stack_of(state).stop()


def down(home: Path) -> st.StackState | None:
    state = st.load_current(home)
    if state is None:
        return None
    stop(state)
    st.clear_current(home, state.stack_id)
    return state
