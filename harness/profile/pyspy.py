"""Running `py-spy record`: its options, and what its output says when it did not record."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

# On a one-thread loop (tests/bench/profile_figures.py, 2 cores) py-spy takes about 2 / 5 / 9 %
# of one core at 20 / 50 / 100 Hz. On the reference backend under 100 users (some 40 threads,
# the load shape, interleaved with runs without it) 50 Hz took about 32 % of a core, pausing
# the backend so often that its throughput fell by a quarter and its p95 tripled; 20 Hz took
# about 8 %, with throughput within the runs' noise. 20 Hz still gives 1200 samples a minute
# per busy thread: a flame-graph box of 0.5 % (the report's floor) rests on 6 of them.
DEFAULT_RATE_HZ = 20
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 30.0
# What py-spy prints when the kernel refuses it the target (compared in lower case).
_DENIED = ("permission denied", "operation not permitted", "os error 1)", "os error 13)")


class NotRecorded(Exception):
    """No profile: `skipped` (nothing to sample, or not allowed to) or `failed` (py-spy erred)."""

    def __init__(
        self, status: Literal["skipped", "failed"], reason: str, hint: str | None = None
    ) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.hint = hint


class Recording(Protocol):
    """py-spy on one target, wherever it runs; every step may raise NotRecorded."""

    def start(self) -> str:
        """Sample until stop(); returns the process sampled, described."""

    def stop(self) -> None:
        """Stop sampling; the raw collapsed stacks are then in the output file."""

    def discard(self) -> None:
        """Whatever happened, leave nothing running."""


@dataclass(frozen=True)
class Sampling:
    """How py-spy samples: the rate, and whether it pauses the target for each sample."""

    rate_hz: int = DEFAULT_RATE_HZ
    # Pausing (py-spy's default) reads consistent stacks; not pausing would spare the target
    # the stop/resume per sample but may read a stack mid-change, and measured no cheaper.
    nonblocking: bool = False

    def record_options(self, output: str) -> list[str]:
        """`py-spy record` options after `--pid N`. Idle threads (blocked on a socket, the
        database, a lock) are left out, as py-spy does by default: the profile is CPU."""
        options = [
            "--subprocesses",  # uvicorn/gunicorn workers are children of the process sampled
            "--function",  # a function's samples under its first line, not spread over lines
            "--format",
            "raw",
            "--rate",
            str(self.rate_hz),
            "--output",
            output,
        ]
        return [*options, "--nonblocking"] if self.nonblocking else options


def first_error(output: str) -> str:
    """The line that says what went wrong: py-spy's `Error: ...`, else the last line."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("Error:")]
    return (errors or lines or ["py-spy ended without output"])[0].removeprefix("Error: ")


def not_recorded(output: str, denied_hint: str) -> NotRecorded:
    """py-spy ended without recording: not allowed to attach is a skip, anything else a failure."""
    if any(mark in output.lower() for mark in _DENIED):
        return NotRecorded(
            "skipped",
            "py-spy is not allowed to attach to the backend (permission denied)",
            denied_hint,
        )
    return NotRecorded("failed", f"py-spy: {first_error(output)}")
