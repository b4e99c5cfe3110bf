"""Run the harness CLI as a user would, in a separate process, with its own HARNESS_HOME."""

from __future__ import annotations

import json
import os
import subprocess
import sys
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
