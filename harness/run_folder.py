"""Run folders: where they go, how they are named, `reports/latest`, and the commit."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from harness.errors import ConfigError
from harness.pipeline import REPO_ROOT

RESULTS_SCHEMA_VERSION = 1
EXIT_PASS, EXIT_FAIL = 0, 1


def reports_root(reports_dir: Path | None, environ: Mapping[str, str]) -> Path:
    root = reports_dir or Path(environ.get("HARNESS_REPORTS") or REPO_ROOT / "reports")
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


def new_run_dir(root: Path, shape: str) -> Path:
    run_id = datetime.now(UTC).strftime("%Y%m%d-%H%M%S") + f"-{shape}"
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


def commit() -> str | None:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() or None
