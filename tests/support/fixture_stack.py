"""A harness home whose current stack is the stalling fixture backend (an external target)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from harness.stack.waits import wait_for_http_ok
from tests.stack.cli import REPO, harness
from tests.support.postgres import free_port


@dataclass(frozen=True)
class Fixture:
    home: Path  # a harness home whose current stack is the fixture
    url: str

    def served(self) -> int:
        """How many feed requests the fixture has answered so far."""
        return int(httpx.get(f"{self.url}/fixture/served", timeout=10).json()["served"])


@contextmanager
def fixture_stack(
    home: Path, stall_ms: float, every_s: float, service_ms: float
) -> Iterator[Fixture]:
    """The fixture backend, and a harness home whose current stack targets it."""
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.support.stalling_backend",
            str(port),
            str(stall_ms),
            str(every_s),
            str(service_ms),
        ],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http_ok(f"{url}/health", 30, lambda: server.poll() is None)
        up = harness(home, "up", "--target", url, timeout=60)
        assert up.returncode == 0, up.stderr[-2000:]
        yield Fixture(home, url)
    finally:
        harness(home, "down", timeout=60)
        server.terminate()
        server.wait(timeout=10)
