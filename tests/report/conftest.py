"""Writable copies of the fixture run folders, one per test."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.report.run_folders import BENCH_ONLY, FULL_LOAD, copy_run


@pytest.fixture
def full_run(tmp_path: Path) -> Path:
    """A load run with every file: Locust history, four containers, PostgreSQL, a comparison."""
    return copy_run(FULL_LOAD, tmp_path)


@pytest.fixture
def bench_run(tmp_path: Path) -> Path:
    """A real benchmark-only run (two failed benchmarks): no Locust or monitor files."""
    return copy_run(BENCH_ONLY, tmp_path)
