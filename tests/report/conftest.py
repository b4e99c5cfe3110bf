"""Writable copies of the fixture run folders, one per test."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.report.run_folders import BENCH_ONLY, FULL_LOAD, copy_run, diagnosed_run, invalid_run


@pytest.fixture
def full_run(tmp_path: Path) -> Path:
    """A load run with every file: Locust history, four containers, PostgreSQL, a comparison."""
    return copy_run(FULL_LOAD, tmp_path)


@pytest.fixture
def bench_run(tmp_path: Path) -> Path:
    """A real benchmark-only run (two failed benchmarks): no Locust or monitor files."""
    return copy_run(BENCH_ONLY, tmp_path)


@pytest.fixture
def diagnosed(tmp_path: Path) -> Path:
    """The full-load run as issue 15 records it: FAIL with causes, window, host, profile."""
    return diagnosed_run(tmp_path / "diagnosed")


@pytest.fixture
def invalid(tmp_path: Path) -> Path:
    """The diagnosed run judged INVALID (a busy host, monitor samples missing)."""
    return invalid_run(tmp_path / "invalid")
