"""Run folders: where they go, how they are named, `reports/latest`, and the commit."""

from __future__ import annotations

import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.errors import ConfigError
from harness.record import RunRecord, write_record
from harness.stack import Stack

# 2 is a usage error (harness.errors); 3: the run's numbers describe the test bed, not the system
EXIT_PASS, EXIT_FAIL, EXIT_INVALID = 0, 1, 3


def check_writable(root: Path) -> Path:
    """The reports folder, created if need be; refused before anything starts if unwritable."""
    try:
        root.mkdir(parents=True, exist_ok=True)
        probe = root / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise ConfigError(
            f"the reports folder {root} is not writable ({exc.strerror})",
            "choose another with --reports DIR (or HARNESS_REPORTS)",
        ) from None
    return root


def new_run_dir(root: Path, name: str) -> Path:
    run_id = datetime.now(UTC).strftime("%Y%m%d-%H%M%S") + f"-{name}"
    run_dir = root / run_id
    suffix = 1
    while run_dir.exists():
        suffix += 1
        run_dir = root / f"{run_id}-{suffix}"
    run_dir.mkdir(parents=True)
    latest = root / "latest"
    tmp = root / ".latest.tmp"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(run_dir.name)
    tmp.replace(latest)
    return run_dir


def commit(repo_root: Path) -> str | None:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=repo_root,
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() or None


def run_meta(
    repo_root: Path, run_dir: Path, kind: str, stack: Stack, started: datetime
) -> dict[str, Any]:
    """The run block every results.json starts with: what ran, against what, when, where."""
    return {
        "id": run_dir.name,
        "kind": kind,
        "provider": stack.kind,
        "stack_id": stack.stack_id,
        "target": stack.backend_url,
        "started_at": started.isoformat(timespec="seconds"),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit(repo_root),
        "host": platform.node(),
        "python": sys.version.split()[0],
    }


def write_results(run_dir: Path, results: dict[str, Any]) -> RunRecord:
    """results.json, validated by its model on the way out: what the report will read."""
    record = RunRecord.model_validate(results)
    write_record(run_dir, record)
    return record
