"""`harness seed` on a running local stack, as a user types it."""

from __future__ import annotations

import json
from pathlib import Path

from tests.stack.cli import harness, status


def test_seed_the_local_stack_then_refuse_then_reset(tmp_path: Path) -> None:
    assert harness(tmp_path, "up", "--provider", "local", "--bcrypt-rounds", "4").returncode == 0
    try:
        folder = Path(status(tmp_path)["folder"])
        done = harness(tmp_path, "seed", "--profile", "tiny", "--seed", "3")
        assert done.returncode == 0, done.stderr
        assert "seeded" in done.stdout and "rows/s" in done.stderr  # per-table progress
        manifest = json.loads((folder / "seed-manifest.json").read_text())
        assert manifest["bcrypt_rounds"] == 4  # the stack's backend rounds, not the default 12
        again = harness(tmp_path, "seed", "--profile", "tiny")
        assert again.returncode == 2 and "already holds data" in again.stderr
        reset = harness(tmp_path, "seed", "--profile", "tiny", "--seed", "3", "--reset")
        assert reset.returncode == 0, reset.stderr
        assert (
            json.loads((folder / "seed-manifest.json").read_text())["checksum"]
            == manifest["checksum"]
        )
        bad = harness(tmp_path, "seed", "--profile", "gigantic")
        assert bad.returncode == 2 and "is not one of" in bad.stderr
        negative = harness(tmp_path, "seed", "--users", "-3")
        assert negative.returncode == 2 and "must be 0 or more" in negative.stderr
    finally:
        harness(tmp_path, "down")


def test_seed_without_a_stack_is_exit_2(tmp_path: Path) -> None:
    done = harness(tmp_path, "seed", "--profile", "tiny")
    assert (
        done.returncode == 2
        and "no stack is up" in done.stderr
        and "make harness-up" in done.stderr
    )
