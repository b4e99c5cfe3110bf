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
from harness.stack.state import StackState
from harness.stack.waits import tail, wait_for_http_ok


def free_loopback_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_local_stack(
    stack_id: str,
    folder: Path,
    repo_root: Path,
    *,
    bcrypt_rounds: int = 12,
    backend_workers: int = 1,
    ready_timeout_s: float = 60.0,
    port: int | None = None,
) -> StackState:
    port = port or free_loopback_port()
    db_path = folder / "contravento.db"
    log = folder / "backend.log"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{db_path}",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "APP_ENV": "testing",
        "BCRYPT_ROUNDS": str(bcrypt_rounds),
        "WEB_CONCURRENCY": str(backend_workers),
    }
    with log.open("ab") as sink:
        # Its own session: the backend outlives `harness up`, and down signals the whole group.
        proc = subprocess.Popen(
            [sys.executable, "-m", "backend", "--host", "127.0.0.1", "--port", str(port)],
            cwd=repo_root,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http_ok(f"{url}/health", ready_timeout_s, lambda: proc.poll() is None)
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
        db_dsn=f"sqlite:///{db_path}",
        folder=str(folder),
        pid=proc.pid,
        pid_start=f"{started:.2f}",
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
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
