"""The shared tables: row order and status, columns with and without a baseline, odd input."""

from __future__ import annotations

from typing import Any

from harness.report.tables import (
    bench_table,
    container_table,
    endpoint_table,
    slo_table,
    top_queries_table,
)
from tests.report.run_folders import bench_summary, record


def _slo(endpoint: str, passed: bool) -> dict[str, Any]:
    return {
        "endpoint": endpoint,
        "group": "g",
        "p95_ms": 1.0,
        "failure_rate": 0.0,
        "max_failure_rate": 0.01,
        "passed": passed,
        "reason": "",
    }


def _endpoint(method: str, name: str, requests: int, failures: int) -> dict[str, Any]:
    return {
        "method": method,
        "name": name,
        "requests": requests,
        "failures": failures,
        "failure_rate": failures / requests,
        "p50_ms": 3.0,
        "p95_ms": 9.0,
        "p99_ms": 15.0,
        "avg_ms": 3.8,
        "max_ms": 30.0,
        "rps": 7.1,
    }


def test_failed_slo_rows_first_in_their_original_order() -> None:
    rows = [_slo("a", True), _slo("b", False), _slo("c", True), _slo("d", False)]
    table = slo_table(record(slo=rows))
    assert table is not None
    assert [r.cells[1] for r in table.rows] == ["b", "d", "a", "c"]
    assert [r.status for r in table.rows] == ["fail", "fail", "ok", "ok"]


def test_the_aggregate_closes_the_endpoint_table() -> None:
    table = endpoint_table(
        record(
            endpoints=[_endpoint("GET", "/feed", 10, 1), _endpoint("GET", "/health", 10, 0)],
            aggregate=_endpoint("ALL", "Aggregated", 20, 1),
        )
    )
    assert table is not None
    assert [(r.cells[:2], r.status) for r in table.rows] == [
        (("GET", "/feed"), "warn"),
        (("GET", "/health"), ""),
        (("", "all endpoints"), "total"),
    ]


def test_a_percentile_locust_could_not_take_is_a_dash() -> None:
    unmeasured = _endpoint("GET", "/feed", 1, 0) | {"p99_ms": None, "max_ms": None}
    table = endpoint_table(record(endpoints=[unmeasured]))
    assert table is not None
    assert table.rows[0].cells[5:8] == ("3.00", "9.00", "-")


def test_bench_columns_grow_with_a_baseline() -> None:
    bench = bench_summary(
        [
            {
                "name": "a",
                "outcome": "passed",
                "rounds": 5,
                "min_ms": 1.5,
                "median_ms": 2.0,
                "p95_ms": 2.5,
                "max_ms": 3.0,
            }
        ]
    )
    plain = bench_table(record("bench", benchmarks=bench))
    assert plain is not None and len(plain.columns) == 8
    compared = bench_table(
        record(
            "bench",
            benchmarks=bench,
            comparison={
                "baseline": "main",
                "rows": [
                    {
                        "name": "a",
                        "tolerance": 0.15,
                        "baseline_median_ms": 4.0,
                        "current_median_ms": 2.0,
                        "ratio": 0.5,
                        "band": [0.4, 0.6],
                        "verdict": "improvement",
                    },
                    {"name": "gone", "tolerance": 0.15, "verdict": "missing"},
                ],
                "failed": False,
            },
        )
    )
    assert compared is not None and len(compared.columns) == 12
    assert compared.rows[0].cells[8:11] == ("-50.0 %", "0.40-0.60x", "improvement")
    assert compared.rows[1].cells[:3] == ("NOT RUN", "gone", "-")
    assert compared.rows[1].status == "warn"
    assert all(len(r.cells) == len(t.columns) for t in (plain, compared) for r in t.rows)


def test_a_record_without_rows_makes_no_table() -> None:
    empty = record("bench")
    assert slo_table(empty) is None
    assert endpoint_table(empty) is None
    assert bench_table(empty) is None
    assert top_queries_table([]) is None


def test_top_queries_by_total_time_with_whitespace_folded() -> None:
    table = top_queries_table(
        [
            {"query": "SELECT 1", "calls": 1, "total_ms": 1.0},
            {"query": "SELECT\n    2", "calls": 5, "total_ms": 90.0},
        ]
    )
    assert table is not None
    assert [r.cells[0] for r in table.rows] == ["SELECT 2", "SELECT 1"]


def test_container_counters_survive_a_restart() -> None:
    samples = [
        {"t": 10.0, "role": "backend", "cpu_percent": 50.0, "net_rx_bytes": 1024**2},
        {"t": 11.0, "role": "backend", "cpu_percent": 150.0, "net_rx_bytes": 3 * 1024**2},
        {"t": 12.0, "role": "backend", "cpu_percent": 100.0, "net_rx_bytes": 1024**2},
    ]
    table = container_table({"cv-backend": samples}, t0=10.0)
    assert table is not None
    row = dict(zip(table.columns, table.rows[0].cells, strict=True))
    assert row["net in"] == "3.0 MiB"  # 2 MiB before the restart, 1 MiB after
    assert (row["CPU % mean"], row["CPU % peak"], row["seen"]) == ("100.0", "150.0", "+0 s to +2 s")


MEASURED: dict[str, Any] = {
    "outcome": "passed",
    "rounds": 5,
    "min_ms": 1.5,
    "median_ms": 2.0,
    "p95_ms": 2.5,
    "max_ms": 3.0,
}
DB_COST: dict[str, Any] = {
    "calls": 5,
    "queries": 4.0,
    "rows": 2.5,
    "shared_hit": 120.0,
    "shared_read": 3.0,
    "exec_ms": 0.8,
    "statements": [{"query": "SELECT 1", "calls": 1.0, "rows": 1.0, "exec_ms": 0.1}],
}


def _cells(table: Any, row: int) -> dict[str, str]:
    return dict(zip(table.columns, table.rows[row].cells, strict=True))


def test_bench_rows_show_the_database_cost_per_call_and_the_query_limit() -> None:
    bench = bench_summary(
        [
            {"name": "feed", **MEASURED, "db": DB_COST, "max_queries": 5},
            {"name": "health", **MEASURED},
        ]
    )
    table = bench_table(record("bench", benchmarks=bench))
    assert table is not None
    feed = _cells(table, 0)
    assert (feed["queries/call"], feed["rows/call"]) == ("4", "2.50")
    assert feed["blocks hit/read per call"] == "120 / 3"
    assert feed["query limit"] == "5"
    health = _cells(table, 1)
    assert (health["queries/call"], health["query limit"]) == ("-", "-")
    assert {table.columns.index(c) for c in ("queries/call", "query limit")} <= table.numeric
    plain = bench_table(record("bench", benchmarks=bench_summary([{"name": "a", **MEASURED}])))
    assert plain is not None and "queries/call" not in plain.columns


def test_more_queries_than_the_baseline_is_flagged_and_fails_the_row() -> None:
    bench = bench_summary(
        [
            {"name": "feed", **MEASURED, "db": DB_COST},
            {"name": "health", **MEASURED, "db": DB_COST | {"queries": 1.0}},
        ]
    )
    comparison = {
        "baseline": "main",
        "rows": [
            {"name": "feed", "tolerance": 0.15, "baseline_median_ms": 2.0,
             "current_median_ms": 2.0, "ratio": 1.0, "band": [0.9, 1.1], "verdict": "same",
             "baseline_queries": 3.0, "current_queries": 4.0, "more_queries": True},
            {"name": "health", "tolerance": 0.15, "baseline_median_ms": 2.0,
             "current_median_ms": 2.0, "ratio": 1.0, "band": [0.9, 1.1], "verdict": "same",
             "baseline_queries": 1.0, "current_queries": 1.0},
        ],
        "failed": True,
    }  # fmt: skip
    table = bench_table(record("bench", benchmarks=bench, comparison=comparison))
    assert table is not None
    feed, health = _cells(table, 0), _cells(table, 1)
    assert feed["queries baseline → now"] == "3 → 4 more queries"
    assert feed["result"] == "MORE QUERIES" and table.rows[0].status == "fail"
    assert "more queries per call than the baseline" in feed["note"]
    assert health["queries baseline → now"] == "1 → 1"
    assert health["result"] == "ok" and table.rows[1].status == "ok"
    assert all(len(r.cells) == len(table.columns) for r in table.rows)
