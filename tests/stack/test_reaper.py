"""`harness clean` removes objects whose owner process is gone, and keeps live or ready stacks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from harness.labels import READY_MARKER_ROLE, labels_for
from harness.owner import Owner
from tests.stack.cli import harness, labelled

pytestmark = pytest.mark.docker


def dead_owner() -> Owner:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    owner = Owner(proc.pid, Owner.current().start)  # a start time that cannot match
    proc.wait()
    return owner


def _make(kind: str, name: str, labels: dict[str, str]) -> None:
    flags = [arg for k, v in labels.items() for arg in ("--label", f"{k}={v}")]
    subprocess.run(["docker", kind, "create", *flags, name], check=True, capture_output=True)


def test_clean_removes_orphans_only(tmp_path: Path) -> None:
    crashed, live, ready = "cv-test0dead", "cv-test0live", "cv-test0redy"
    try:
        _make("network", f"{crashed}-net", labels_for(crashed, dead_owner(), "network"))
        _make("volume", f"{crashed}-pgdata", labels_for(crashed, dead_owner(), "pgdata"))
        _make("network", f"{live}-net", labels_for(live, Owner.current(), "network"))
        _make("volume", f"{ready}-pgdata", labels_for(ready, dead_owner(), "pgdata"))
        _make("volume", f"{ready}-ready", labels_for(ready, dead_owner(), READY_MARKER_ROLE))
        done = harness(tmp_path, "clean")
        assert done.returncode == 0, done.stderr
        assert "removed" in done.stdout
        assert labelled("network", crashed) == [] and labelled("volume", crashed) == []
        assert labelled("network", live) == [f"{live}-net"]
        assert sorted(labelled("volume", ready)) == [f"{ready}-pgdata", f"{ready}-ready"]
    finally:
        for name in (f"{live}-net", f"{crashed}-net"):
            subprocess.run(["docker", "network", "rm", name], capture_output=True)
        for name in (f"{ready}-pgdata", f"{ready}-ready", f"{crashed}-pgdata"):
            subprocess.run(["docker", "volume", "rm", name], capture_output=True)
