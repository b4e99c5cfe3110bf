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


def _slo(endpoint: str, passed: bool) -> dict[str, Any]:
    return {"endpoint": endpoint, "group": "g", "p95_ms": 1.0, "passed": passed, "reason": ""}


def test_failed_slo_rows_first_in_their_original_order() -> None:
    rows = [_slo("a", True), _slo("b", False), _slo("c", True), _slo("d", False)]
    table = slo_table({"slo": rows})
    assert table is not None
    assert [r.cells[1] for r in table.rows] == ["b", "d", "a", "c"]
    assert [r.status for r in table.rows] == ["fail", "fail", "ok", "ok"]


def test_the_aggregate_closes_the_endpoint_table() -> None:
    table = endpoint_table(
        {
            "endpoints": [{"method": "GET", "name": "/feed", "requests": 10, "failures": 1}],
            "aggregate": {"method": "ALL", "name": "Aggregated", "requests": 10, "failures": 1},
        }
    )
    assert table is not None
    assert [(r.cells[:2], r.status) for r in table.rows] == [
        (("GET", "/feed"), "warn"),
        (("", "all endpoints"), "total"),
    ]


def test_bench_columns_grow_with_a_baseline() -> None:
    bench = {"benchmarks": [{"name": "a", "outcome": "passed", "median_ms": 2.0}]}
    plain = bench_table({"benchmarks": bench})
    assert plain is not None and len(plain.columns) == 8
    compared = bench_table(
        {
            "benchmarks": bench,
            "comparison": {"rows": [{"name": "a", "ratio": 0.5, "band": [0.4, 0.6]}]},
        }
    )
    assert compared is not None and len(compared.columns) == 12
    assert compared.rows[0].cells[8:10] == ("-50.0 %", "0.40-0.60x")
    assert all(len(r.cells) == len(t.columns) for t in (plain, compared) for r in t.rows)


def test_odd_results_make_no_table_instead_of_crashing() -> None:
    odd: dict[str, Any] = {"slo": "oops", "endpoints": [1, None], "benchmarks": [1, 2]}
    assert slo_table(odd) is None
    assert endpoint_table(odd) is None
    assert bench_table(odd) is None
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
