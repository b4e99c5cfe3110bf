"""The local provider (no Docker): the backend as a subprocess on SQLite in the stack's folder."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import psutil

from harness.errors import StackError
from harness.owner import Owner, still_running_after
from harness.project import Project, fill
from harness.stack.backend_env import backend_run
from harness.stack.state import StackState
from harness.stack.waits import tail, wait_for_http_ok


def free_loopback_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_local_stack(
    stack_id: str,
    folder: Path,
    project: Project,
    *,
    bcrypt_rounds: int = 12,
    backend_workers: int = 1,
    ready_timeout_s: float = 60.0,
    setup_timeout_s: float = 600.0,
    port: int | None = None,
) -> StackState:
    spec = project.backend
    local = spec.local
    if local is None:
        raise StackError(
            f"{project.source} has no [backend.local] table, so the backend cannot run"
            " without Docker",
            "add [backend.local] with the command that serves it on 127.0.0.1:{port},"
            " or use --provider docker",
        )
    port = port or free_loopback_port()
    data_dir = folder / "data"
    data_dir.mkdir(exist_ok=True)
    values = {"data_dir": str(data_dir), "python": sys.executable}
    database_url = fill(local.database_url, values)
    run = backend_run(
        spec,
        database_url=database_url,
        secret=secrets.token_urlsafe(48),
        bcrypt_rounds=bcrypt_rounds,
        workers=backend_workers,
        port=port,
        data_dir=str(data_dir),
        overrides=local.env,
    )
    env = {**os.environ, **run.env}
    cwd = project.path(local.cwd)
    for step, command in (("migrate", spec.setup.migrate), ("init", spec.setup.init)):
        if command:
            _setup_step(step, run.command(command), cwd, env, folder, setup_timeout_s)
    log = folder / "backend.log"
    with log.open("ab") as sink:
        # Its own session: the backend outlives `harness up`, and down signals the whole group.
        proc = subprocess.Popen(
            run.command(local.command),
            cwd=cwd,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http_ok(f"{url}{spec.health_path}", ready_timeout_s, lambda: proc.poll() is None)
    except (TimeoutError, RuntimeError) as exc:
        stop_process_group(proc.pid)
        raise StackError(
            f"the backend did not become ready: {exc}\n--- last lines of its log ---\n{tail(log)}",
            f"the full log is in {log}",
        ) from None
    started = psutil.Process(proc.pid).create_time()
    return StackState(
        stack_id=stack_id,
        provider="local",
        backend_url=url,
        db_dsn=plain_sqlite_dsn(database_url),
        folder=str(folder),
        pid=proc.pid,
        pid_start=f"{started:.2f}",
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )


def plain_sqlite_dsn(database_url: str) -> str:
    """sqlite+aiosqlite:///path -> sqlite:///path: the DSN the seeder and monitors take."""
    scheme, sep, rest = database_url.partition("://")
    return f"{scheme.split('+')[0]}{sep}{rest}"


def _setup_step(
    step: str, command: list[str], cwd: Path, env: dict[str, str], folder: Path, timeout_s: float
) -> None:
    """A one-shot command before the backend starts; its output kept, shown when it fails."""
    log = folder / f"setup-{step}.log"
    try:
        with log.open("wb") as sink:
            done = subprocess.run(
                command, cwd=cwd, env=env, stdout=sink, stderr=subprocess.STDOUT, timeout=timeout_s
            )
        code: int | None = done.returncode
    except FileNotFoundError:
        raise StackError(
            f"the backend's {step} step cannot run: {command[0]!r} was not found",
            "check [backend.setup] in the project file (and the PATH of the local provider)",
        ) from None
    except subprocess.TimeoutExpired:
        code = None
    if code != 0:
        what = f"exited with {code}" if code is not None else f"did not finish in {timeout_s:.0f}s"
        raise StackError(
            f"the backend's {step} step ({' '.join(command)}) {what}"
            f"\n--- last lines of its log ---\n{tail(log)}",
            f"the full log is in {log}; fix the cause, or [backend.setup] in the project file",
        )


def local_stack_alive(state: StackState) -> bool:
    return state.pid is not None and Owner(state.pid, state.pid_start or "").alive()


def stop_process_group(pid: int, timeout_s: float = 20.0) -> None:
    """SIGTERM the process group, then SIGKILL whatever is left after timeout_s."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGTERM)
    try:
        left = still_running_after([psutil.Process(pid)], timeout_s)
    except psutil.NoSuchProcess:
        return
    if left:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
