"""The runner's summary and table: per benchmark, the database cost per call and its limit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.bench.runner import (
    BenchRequest,
    bench_table,
    db_notes,
    load_targets,
    summarise,
)
from harness.record import BenchSummary

TRIPS, HEALTH, HASHING = (
    "test_user_trips_latency_with_data",
    "test_health_endpoint_latency",
    "test_password_hashing_latency",
)
COST = {
    "calls": 4,
    "queries": 34.0,
    "rows": 121.0,
    "shared_hit": 160.5,
    "shared_read": 0.0,
    "exec_ms": 0.9,
    "statements": [
        {
            "query": "SELECT tags.name FROM tags JOIN trip_tags ON trip_tags.tag_id = tags.tag_id",
            "calls": 30.0,
            "rows": 3.0,
            "exec_ms": 0.02,
        }
    ],
}
FAILURE = "AssertionError: 34 queries per call > max_queries 5: an N+1? top statement: SELECT"


def bench(name: str, extra: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "stats": {"data": [0.004, 0.005, 0.006, 0.005]}, "extra_info": extra}


def run_files(tmp_path: Path) -> tuple[Path, Path]:
    json_path = tmp_path / "benchmark.json"
    json_path.write_text(
        json.dumps(
            {
                "benchmarks": [
                    bench(TRIPS, {"db": COST}),
                    bench(HEALTH, {"db_note": "SQLite has no pg_stat_statements"}),
                    bench(HASHING, {}),
                ]
            }
        )
    )
    junit = tmp_path / "bench-junit.xml"
    junit.write_text(
        "<testsuites><testsuite>"
        f'<testcase name="{TRIPS}"><failure message="{FAILURE}">x</failure></testcase>'
        f'<testcase name="{HEALTH}"/><testcase name="{HASHING}"/>'
        "</testsuite></testsuites>"
    )
    return json_path, junit


def test_each_row_carries_its_database_cost_and_limit(tmp_path: Path) -> None:
    json_path, junit = run_files(tmp_path)
    request = BenchRequest(
        target="http://127.0.0.1:8000", dsn=None, run_dir=tmp_path, bcrypt_rounds=4
    )
    summary = summarise(json_path, junit, 3.0, request, load_targets(None))
    record = BenchSummary.model_validate(summary)  # what results.json holds
    rows = {r.name: r for r in record.benchmarks}
    trips = rows[TRIPS]
    assert trips.db is not None and trips.db.queries == 34 and trips.db.calls == 4
    assert trips.db.statements[0].calls == 30 and trips.max_queries == 5
    assert trips.outcome == "failed" and "max_queries 5" in trips.message
    assert rows[HEALTH].db is None and rows[HEALTH].max_queries == 0
    assert rows[HASHING].db is None and rows[HASHING].max_queries is None
    assert db_notes(json_path) == ["SQLite has no pg_stat_statements"]

    lines = bench_table(summary).plain_lines()
    assert lines[0].split()[-6:] == ["target", "queries", "max", "q", "rows", "result"]
    by_name = {line.split()[0]: line.split() for line in lines[1:-1]}
    assert by_name[TRIPS][6:9] == ["34", "5", "121"]  # queries, max q, rows per call
    assert by_name[HEALTH][6:9] == ["-", "0", "-"]  # a limit, but nothing measured
    assert by_name[HASHING][6:9] == ["-", "-", "-"]
