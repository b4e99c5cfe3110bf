"""Database cost per call on the Docker stack (PostgreSQL, pg_stat_statements): exact counts,
and an N+1 planted in the reference backend (CV_N_PLUS_ONE=1) caught twice, by max_queries and
by the baseline gate."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from harness.bench.suite.support import USER_TRIPS
from tests.stack.cli import harness

pytestmark = [pytest.mark.docker, pytest.mark.slow]

ROUNDS, WARMUP = 3, 1
TRIPS = "test_user_trips_latency_with_data"
# The reference backend as the built-in project file describes it, with the N+1 knob on.
N_PLUS_ONE = """
[backend]
name = "reference"
image = "@reference"
port = 8000
health_path = "/health"
database_scheme = "postgresql"

[backend.env]
DATABASE_URL = "{database_url}"
SECRET_KEY = "{secret}"
APP_ENV = "testing"
BCRYPT_ROUNDS = "{bcrypt_rounds}"
WEB_CONCURRENCY = "{workers}"
CV_N_PLUS_ONE = "1"
"""


@contextmanager
def docker_stack(home: Path, *args: str) -> Iterator[None]:
    up = harness(home, "up", "--provider", "docker", "--bcrypt-rounds", "4", *args)
    assert up.returncode == 0, up.stderr[-3000:]
    try:
        yield
    finally:
        harness(home, "down")


def bench(home: Path, reports: Path, *args: str) -> tuple[int, str, Path]:
    done = harness(
        home,
        "bench",
        *("--rounds", str(ROUNDS), "--warmup", str(WARMUP), "--reports", str(reports)),
        *args,
    )
    return done.returncode, done.stderr, (reports / "latest").resolve()


def results(run_dir: Path) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((run_dir / "results.json").read_text())
    return body


def rows_of(run_dir: Path) -> dict[str, dict[str, Any]]:
    return {r["name"]: r for r in results(run_dir)["benchmarks"]["benchmarks"]}


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The reference backend as shipped, benched and saved as baseline "plain":
    (the run folder, the baselines folder)."""
    root = tmp_path_factory.mktemp("plain")
    baselines = root / "baselines"
    with docker_stack(root / "home"):
        code, err, run_dir = bench(
            root / "home",
            root / "reports",
            "--save-baseline",
            "plain",
            "--baselines",
            str(baselines),
        )
    assert code == 0, err[-3000:]
    return run_dir, baselines


def test_queries_per_call_are_exact_counts_within_the_default_limits(
    plain: tuple[Path, Path],
) -> None:
    run_dir, _ = plain
    rows = rows_of(run_dir)
    queries = {name: row["db"]["queries"] for name, row in rows.items() if row["db"]}
    assert queries == {
        "test_health_endpoint_latency": 0,  # never touches the database
        "test_login_endpoint_latency": 7,
        "test_token_refresh_latency": 5,
        "test_public_feed_latency_empty": 4,
        "test_public_feed_latency_with_data": 4,
        "test_create_trip_latency": 19,
        "test_publish_trip_latency": 13,  # no achievement earned in these rounds
        TRIPS: 5,  # BEGIN, the user, the page of trips, their tags, ROLLBACK
        "test_user_lookup_by_username": 1,
        "test_trip_query_with_relationships": 4,
    }
    trips = rows[TRIPS]["db"]
    assert trips["calls"] == ROUNDS and trips["rows"] > USER_TRIPS and trips["shared_hit"] > 0
    assert any(
        s["query"].startswith("SELECT trip_tags.trip_id, tags.name") for s in trips["statements"]
    )
    assert all(row["outcome"] == "passed" for row in rows.values())
    saved = json.loads(next((plain[1] / "plain").glob("*.json")).read_text())
    kept = {b["name"]: b["extra_info"].get("db") for b in saved["benchmarks"]}
    assert kept[TRIPS]["queries"] == 5  # the baseline holds the counts the gate compares
    table = (run_dir / "bench-table.txt").read_text().splitlines()
    assert table[0].split()[-6:] == ["target", "queries", "max", "q", "rows", "result"]


def test_an_n_plus_one_fails_its_query_limit_and_the_baseline_gate(
    plain: tuple[Path, Path], tmp_path: Path
) -> None:
    _, baselines = plain
    config = tmp_path / "harness.toml"
    config.write_text(N_PLUS_ONE)
    with docker_stack(tmp_path / "home", "--config", str(config)):
        code, err, run_dir = bench(
            tmp_path / "home",
            tmp_path / "reports",
            "--compare",
            "plain",
            "--baselines",
            str(baselines),
        )
    assert code == 1, err[-3000:]
    rows = rows_of(run_dir)
    # the trips it lists: the fixture's, and the drafts the create and publish benchmarks made
    listed = USER_TRIPS + 2 * (ROUNDS + WARMUP)
    trips = rows[TRIPS]
    assert trips["db"]["queries"] == 4 + listed  # one tags query per trip instead of one in all
    assert trips["outcome"] == "failed"
    assert f"{4 + listed} queries per call > max_queries 5: an N+1?" in trips["message"]
    assert "SELECT tags.name FROM tags JOIN trip_tags" in trips["message"]
    assert f"x{listed} per call" in trips["message"]
    assert {name for name, row in rows.items() if row["outcome"] != "passed"} == {TRIPS}

    comparison = results(run_dir)["comparison"]
    assert comparison["failed"] is True
    more = {r["name"]: r for r in comparison["rows"] if r["more_queries"]}
    assert list(more) == [TRIPS]
    assert (more[TRIPS]["baseline_queries"], more[TRIPS]["current_queries"]) == (5, 4 + listed)
    assert "gate: FAIL" in err and "more queries" in err
    assert f"5->{4 + listed}" in (run_dir / "compare-plain.txt").read_text()
