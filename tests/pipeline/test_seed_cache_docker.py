"""A kept Docker stack's seeded data as a template: `make full-load` seeds and keeps it on its
first run, and the next runs start from it, not from what the last load left."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from harness.pipeline.context import RunContext
from harness.pipeline.specs import SeedOptions, check_seed
from harness.pipeline.stack_phase import cached_seed, running_stack
from harness.seed import list_templates, read_manifest
from tests.stack.cli import harness, status
from tests.support.docker import require_docker

pytestmark = [pytest.mark.docker, pytest.mark.slow]
SHORT = (
    "full-load --skip-bench --skip-profile --profile tiny --shape baseline --users 10"
    " --duration 15 --warmup 3 --workers 1"
)


@pytest.fixture
def kept_stack(tmp_path: Path) -> Iterator[Path]:
    require_docker()
    home = tmp_path / "home"
    done = harness(home, "up", "--provider", "docker", "--bcrypt-rounds", "4")
    assert done.returncode == 0, done.stderr[-3000:]
    try:
        yield home
    finally:
        harness(home, "down")


def counts(dsn: str) -> tuple[int, int]:
    with psycopg.connect(dsn) as conn:
        users = conn.execute("SELECT count(*) FROM users").fetchone()
        trips = conn.execute("SELECT count(*) FROM trips").fetchone()
    assert users is not None and trips is not None
    return int(users[0]), int(trips[0])


def test_full_load_keeps_a_template_then_starts_every_run_from_it(
    kept_stack: Path, tmp_path: Path
) -> None:
    home, reports = kept_stack, str(tmp_path / "reports")
    first = harness(home, *SHORT.split(), "--reports", reports, timeout=600)
    assert first.returncode in (0, 1, 3), first.stderr[-3000:]
    assert "kept as a template for next runs" in first.stderr
    dsn = status(home)["db_dsn"]
    assert len(list_templates(dsn)) == 1
    stack_folder = Path(status(home)["folder"])
    manifest = read_manifest(stack_folder / "seed-manifest.json")
    assert manifest is not None
    seeded = (manifest.rows["users"], manifest.rows["trips"])
    loaded = counts(dsn)
    assert loaded[1] > seeded[1]  # the load created trips

    ctx = RunContext.build({**os.environ, "HARNESS_HOME": str(home)}, lambda _: None)
    cache = cached_seed(ctx, running_stack(ctx), check_seed(SeedOptions(profile="tiny")))
    assert cache is not None and cache.seeded_s is None
    assert counts(dsn) == seeded  # exactly the seeded rows again
    assert (
        cached_seed(ctx, running_stack(ctx), check_seed(SeedOptions(profile="tiny", seed=2)))
        is None
    )

    second = harness(home, *SHORT.split(), "--reports", reports, timeout=600)
    assert second.returncode in (0, 1, 3), second.stderr[-3000:]
    assert "restored from the stack's template" in second.stderr
    assert "seeding profile" not in second.stderr
