"""Readiness checks with deadlines: a SQL query, an HTTP 200, and the log tail on failure."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import httpx
import psycopg

POLL_S = 0.2


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def wait_for_sql(dsn: str, timeout_s: float, still_starting: Callable[[], bool]) -> None:
    """Until `SELECT 1` answers on dsn; stops early when still_starting() says the service died."""
    deadline = time.monotonic() + timeout_s
    last = ""
    while time.monotonic() < deadline:
        try:
            with psycopg.connect(dsn, connect_timeout=2) as conn:
                conn.execute("SELECT 1")
            return
        except psycopg.Error as exc:
            last = str(exc).strip()
        if not still_starting():
            raise RuntimeError(f"the database stopped before answering ({last})")
        time.sleep(POLL_S)  # between polls of the condition, not in place of it
    raise TimeoutError(f"no answer to SELECT 1 within {timeout_s:.0f}s ({last})")


def wait_for_http_ok(url: str, timeout_s: float, still_starting: Callable[[], bool]) -> None:
    """Until GET url answers 200; stops early when still_starting() says the service died."""
    deadline = time.monotonic() + timeout_s
    last = ""
    while time.monotonic() < deadline:
        try:
            response = httpx.get(url, timeout=2)
            if response.status_code == 200:
                return
            last = f"HTTP {response.status_code}"
        except httpx.TransportError as exc:
            last = type(exc).__name__
        if not still_starting():
            raise RuntimeError(f"the service exited before {url} answered ({last})")
        time.sleep(POLL_S)
    raise TimeoutError(f"{url} did not answer 200 within {timeout_s:.0f}s ({last})")
