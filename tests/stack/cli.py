"""Run the harness CLI as a user would, in a separate process, with its own HARNESS_HOME."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


def harness(home: Path, *args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    return harness_with_env(home, {}, *args, timeout=timeout)


def harness_with_env(
    home: Path, extra: dict[str, str], *args: str, timeout: float = 900
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HARNESS_HOME": str(home), **extra}
    return subprocess.run(
        [sys.executable, "-m", "harness", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def status(home: Path) -> dict[str, Any]:
    done = harness(home, "status", "--json")
    assert done.returncode == 0, done.stderr
    body: dict[str, Any] = json.loads(done.stdout)
    return body


def labelled(kind: str, stack_id: str | None = None) -> list[str]:
    """Names of Docker objects carrying the harness label (optionally of one stack)."""
    # Objects of stacks (and their load generators) only: every container made from the
    # harness images also inherits the images' own org.contravento.harness=1 label.
    selector = ["--filter", "label=org.contravento.harness.stack"]
    if stack_id:
        selector += ["--filter", f"label=org.contravento.harness.stack={stack_id}"]
    cmd = {
        "container": ["docker", "ps", "-a", "--format", "{{.Names}}"],
        "network": ["docker", "network", "ls", "--format", "{{.Name}}"],
        "volume": ["docker", "volume", "ls", "--format", "{{.Name}}"],
    }[kind]
    out = subprocess.run([*cmd, *selector], capture_output=True, text=True, check=True).stdout
    return [line for line in out.splitlines() if line]


@contextmanager
def in_background(home: Path, args: str, err: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`harness args` running in the background, its stderr in `err`; killed if still running."""
    with err.open("w") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "harness", *args.split()],
            cwd=REPO,
            env={**os.environ, "HARNESS_HOME": str(home)},
            stdout=subprocess.DEVNULL,
            stderr=sink,
        )
        try:
            yield proc
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def measured(stderr: str) -> bool:
    """A progress line after the warm-up whose rps is not zero: requests have been counted."""
    return any("measuring" in line and "rps     0.0" not in line for line in stderr.splitlines())


def wait_for_stderr(
    proc: subprocess.Popen[bytes], err: Path, ready: Callable[[str], bool], timeout: float = 180
) -> None:
    """Poll the command's stderr until `ready` says so; fail if it exits or time runs out."""
    deadline = time.monotonic() + timeout
    while not ready(err.read_text()):
        assert proc.poll() is None and time.monotonic() < deadline, err.read_text()[-3000:]
        time.sleep(0.2)


def running_stack_of(home: Path) -> dict[str, Any]:
    """The state file of the one stack a command in `home` started."""
    state: dict[str, Any] = json.loads(next((home / "stacks").glob("*/stack.json")).read_text())
    return state
