"""The report's tables as rows of plain text, shared by the HTML page and the Markdown summary.

Rows carry a status ("fail", "warn", "ok", "total" or "") so each renderer can mark them
its own way; cells are unescaped text, escaped by the renderer for its format.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from harness.report.figures import (
    delta,
    duration,
    finite,
    mebibytes,
    ms,
    number,
    percent,
    text,
)


@dataclass(frozen=True)
class Row:
    cells: tuple[str, ...]
    status: str = ""


@dataclass(frozen=True)
class Table:
    columns: tuple[str, ...]
    rows: tuple[Row, ...]
    numeric: frozenset[int] = frozenset()  # right-aligned columns


def dicts(value: Any) -> list[dict[str, Any]]:
    """A results.json list of objects; anything else in it (or instead of it) is left out."""
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def items(value: Any) -> list[Any]:
    """A results.json list; [] when absent or not a list."""
    return value if isinstance(value, list) else []


def mapping(value: Any) -> dict[str, Any]:
    """A results.json section as a dict; {} when absent or of the wrong type."""
    return value if isinstance(value, dict) else {}


def bench_rows(results: dict[str, Any]) -> list[dict[str, Any]]:
    summary = results.get("benchmarks")
    return dicts(summary.get("benchmarks")) if isinstance(summary, dict) else []


def slo_rows(results: dict[str, Any]) -> list[dict[str, Any]]:
    """The SLO rows, failed ones first (each group keeps the verdict's order)."""
    rows = dicts(results.get("slo"))
    return sorted(rows, key=lambda r: bool(r.get("passed")))


def slo_name(row: dict[str, Any]) -> str:
    return f"{text(row.get('endpoint'))} [{text(row.get('group')) or 'failures only'}]"


def slo_table(results: dict[str, Any]) -> Table | None:
    rows = slo_rows(results)
    if not rows:
        return None
    return Table(
        columns=("result", "endpoint", "group", "p95 ms", "target", "failures", "limit", "why"),
        rows=tuple(
            Row(
                (
                    "ok" if r.get("passed") else "FAIL",
                    text(r.get("endpoint")),
                    text(r.get("group")) or "(failures only)",
                    ms(r.get("p95_ms")),
                    ms(r.get("target_p95_ms")),
                    percent(r.get("failure_rate")),
                    percent(r.get("max_failure_rate")),
                    text(r.get("reason")),
                ),
                "ok" if r.get("passed") else "fail",
            )
            for r in rows
        ),
        numeric=frozenset({3, 4, 5, 6}),
    )


def endpoint_table(results: dict[str, Any]) -> Table | None:
    endpoints = dicts(results.get("endpoints"))
    aggregate = results.get("aggregate")
    if isinstance(aggregate, dict):
        endpoints.append({**aggregate, "method": "", "name": "all endpoints", "total": True})
    if not endpoints:
        return None

    def row(e: dict[str, Any]) -> Row:
        failed = (finite(e.get("failures")) or 0) > 0
        return Row(
            (
                text(e.get("method")),
                text(e.get("name")),
                number(e.get("requests")),
                number(e.get("failures")),
                percent(e.get("failure_rate")),
                ms(e.get("p50_ms")),
                ms(e.get("p95_ms")),
                ms(e.get("p99_ms")),
                number(e.get("rps"), 1),
            ),
            "total" if e.get("total") else "warn" if failed else "",
        )

    return Table(
        columns=(
            "method",
            "endpoint",
            "requests",
            "failures",
            "fail %",
            "p50",
            "p95",
            "p99",
            "req/s",
        ),
        rows=tuple(row(e) for e in endpoints),
        numeric=frozenset(range(2, 9)),
    )


def bench_table(results: dict[str, Any]) -> Table | None:
    """Benchmarks with their targets; with a comparison, the deltas to the baseline too."""
    benches = bench_rows(results)
    comparison = results.get("comparison")
    compared = {
        str(c.get("name")): c
        for c in dicts(comparison.get("rows") if isinstance(comparison, dict) else None)
    }
    if not benches and not compared:
        return None
    with_baseline = bool(compared)
    columns: tuple[str, ...] = (
        "result",
        "benchmark",
        "rounds",
        "min ms",
        "median",
        "p95",
        "target",
    )
    if with_baseline:
        columns += ("baseline median", "change", "95 % band", "vs baseline")
    rows = [_bench_row(b, compared.pop(str(b.get("name")), None), with_baseline) for b in benches]
    # in the baseline but not measured in this run
    rows += [
        _bench_row({"name": c.get("name"), "outcome": "not run"}, c, with_baseline)
        for c in compared.values()
    ]
    return Table(
        (*columns, "note"),
        tuple(rows),
        numeric=frozenset(range(2, 10 if with_baseline else 7)),
    )


def _bench_row(b: dict[str, Any], c: dict[str, Any] | None, with_baseline: bool) -> Row:
    outcome = text(b.get("outcome")) or "-"
    regression = c is not None and c.get("verdict") == "regression"
    notes = []
    if b.get("unstable"):
        notes.append("unstable: noisy rounds, trust the median less")
    if b.get("message") and outcome != "passed":
        notes.append(text(b.get("message")))
    result = {"passed": "ok"}.get(outcome, outcome.upper())
    if regression and outcome == "passed":
        result = "REGRESSION"
    cells: tuple[str, ...] = (
        result,
        text(b.get("name")),
        number(b.get("rounds")),
        ms(b.get("min_ms")),
        ms(b.get("median_ms")),
        ms(b.get("p95_ms")),
        ms(b.get("target_p95_ms")),
    )
    if with_baseline:
        c = c or {}
        band = c.get("band")
        cells += (
            ms(c.get("baseline_median_ms")),
            delta(c.get("ratio")),
            f"{band[0]:.2f}-{band[1]:.2f}x" if band is not None and _pair(band) else "-",
            text(c.get("verdict")) or "-",
        )
    if outcome in ("failed", "error") or regression:
        status = "fail"
    elif b.get("unstable") or outcome != "passed":
        status = "warn"
    else:
        status = "ok"
    return Row((*cells, "; ".join(notes)), status)


def _pair(value: Any) -> bool:
    return (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
    )


def top_queries_table(queries: list[dict[str, Any]]) -> Table | None:
    if not queries:
        return None
    ordered = sorted(queries, key=lambda q: -(_float(q.get("total_ms")) or 0.0))
    return Table(
        columns=("query", "calls", "total ms", "mean ms", "rows"),
        rows=tuple(
            Row(
                (
                    " ".join(text(q.get("query")).split()),
                    number(q.get("calls")),
                    ms(q.get("total_ms")),
                    ms(q.get("mean_ms")),
                    number(q.get("rows")),
                )
            )
            for q in ordered
        ),
        numeric=frozenset({1, 2, 3, 4}),
    )


def _float(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def container_table(samples: dict[str, list[dict[str, Any]]], t0: float) -> Table | None:
    """Per container: when it was seen, CPU mean and peak, memory peak, traffic during the run."""
    if not samples:
        return None
    rows = []
    for name, rows_of in samples.items():
        cpu = [v for v in (_float(r.get("cpu_percent")) for r in rows_of) if v is not None]
        mem = [v for v in (_float(r.get("mem_bytes")) for r in rows_of) if v is not None]
        first, last = rows_of[0], rows_of[-1]
        rows.append(
            Row(
                (
                    text(name),
                    text(first.get("role")),
                    f"+{duration(float(first['t']) - t0)} to +{duration(float(last['t']) - t0)}",
                    number(sum(cpu) / len(cpu), 1) if cpu else "-",
                    number(max(cpu), 1) if cpu else "-",
                    mebibytes(max(mem)) if mem else "-",
                    mebibytes(_float(last.get("mem_limit_bytes"))),
                    mebibytes(_growth(rows_of, "net_rx_bytes")),
                    mebibytes(_growth(rows_of, "net_tx_bytes")),
                    mebibytes(_growth(rows_of, "blk_read_bytes")),
                    mebibytes(_growth(rows_of, "blk_write_bytes")),
                )
            )
        )
    return Table(
        columns=(
            "name",
            "role",
            "seen",
            "CPU % mean",
            "CPU % peak",
            "memory peak",
            "memory limit",
            "net in",
            "net out",
            "disk read",
            "disk write",
        ),
        rows=tuple(rows),
        numeric=frozenset(range(3, 11)),
    )


def _growth(rows: list[dict[str, Any]], key: str) -> float | None:
    """How much a cumulative counter grew over the run (a restart resets it: count from 0)."""
    values = [v for v in (_float(r.get(key)) for r in rows) if v is not None]
    if not values:
        return None
    grown = 0.0
    for before, after in itertools.pairwise(values):
        grown += after - before if after >= before else after
    return grown
