"""Process identity: who started what (pid and start time), and whether a process still runs."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import psutil

# Processes the harness starts outside Docker (Locust master and workers) carry their owner in
# this variable, so a reaper can find and stop them once that owner is gone.
OWNER_ENV = "HARNESS_OWNER"


@dataclass(frozen=True)
class Owner:
    """A process identified by pid and start time, so a recycled pid is not mistaken for it."""

    pid: int
    start: str

    @classmethod
    def current(cls) -> Owner:
        pid = os.getpid()
        return cls(pid, _start_time(pid) or "")

    def alive(self) -> bool:
        started = _start_time(self.pid)
        return started is not None and started == self.start


def _start_time(pid: int) -> str | None:
    try:
        return f"{psutil.Process(pid).create_time():.2f}"
    except (psutil.NoSuchProcess, psutil.AccessDenied, ValueError):
        return None


def owner_environment(owner: Owner) -> dict[str, str]:
    return {OWNER_ENV: f"{owner.pid}:{owner.start}"}


def owner_from_environment(environ: dict[str, str]) -> Owner | None:
    pid, _, start = environ.get(OWNER_ENV, "").partition(":")
    return Owner(int(pid), start) if pid.isdigit() else None


def is_running(process: psutil.Process) -> bool:
    """Whether it still runs. A zombie has ended: the harness's processes are often not the
    waiter's children, and where init does not reap (some containers) a zombie never goes."""
    try:
        return bool(process.is_running() and process.status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False


def still_running_after(processes: list[psutil.Process], timeout_s: float) -> list[psutil.Process]:
    """Those of the (signalled) processes still running after timeout_s."""
    deadline = time.monotonic() + timeout_s
    left = [p for p in processes if is_running(p)]
    while left and time.monotonic() < deadline:
        time.sleep(0.2)  # checking whether signalled processes have ended
        left = [p for p in left if is_running(p)]
    return left
