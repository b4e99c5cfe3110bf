"""The report's tables as rows of plain text, shared by the HTML page and the Markdown summary.

Rows carry a status ("fail", "warn", "ok", "total" or "") so each renderer can mark them
its own way; cells are unescaped text, escaped by the renderer for its format.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from harness.record import BenchRow, ComparisonRow, EndpointStats, RunRecord, SloRow
from harness.report.figures import (
    MISSING,
    delta,
    duration,
    mebibytes,
    ms,
    number,
    per_call,
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


def bench_rows(record: RunRecord) -> list[BenchRow]:
    return record.benchmarks.benchmarks if record.benchmarks is not None else []


def compared_rows(record: RunRecord) -> dict[str, ComparisonRow]:
    """The baseline comparison's rows by benchmark name; {} without a comparison."""
    return {c.name: c for c in record.comparison.rows} if record.comparison is not None else {}


def slo_rows(record: RunRecord) -> list[SloRow]:
    """The SLO rows, failed ones first (each group keeps the verdict's order)."""
    return sorted(record.slo, key=lambda r: r.passed)


def slo_name(row: SloRow) -> str:
    return f"{row.endpoint} [{row.group or 'failures only'}]"


def slo_table(record: RunRecord) -> Table | None:
    rows = slo_rows(record)
    if not rows:
        return None
    return Table(
        columns=("result", "endpoint", "group", "p95 ms", "target", "failures", "limit", "why"),
        rows=tuple(
            Row(
                (
                    "ok" if r.passed else "FAIL",
                    r.endpoint,
                    r.group or "(failures only)",
                    ms(r.p95_ms),
                    ms(r.target_p95_ms),
                    percent(r.failure_rate),
                    percent(r.max_failure_rate),
                    r.reason,
                ),
                "ok" if r.passed else "fail",
            )
            for r in rows
        ),
        numeric=frozenset({3, 4, 5, 6}),
    )


def _endpoint_row(method: str, name: str, e: EndpointStats, status: str) -> Row:
    return Row(
        (
            method,
            name,
            number(e.requests),
            number(e.failures),
            percent(e.failure_rate),
            ms(e.p50_ms),
            ms(e.p95_ms),
            ms(e.p99_ms),
            number(e.rps, 1),
        ),
        status,
    )


def endpoint_table(record: RunRecord) -> Table | None:
    rows = [
        _endpoint_row(e.method, e.name, e, "warn" if e.failures > 0 else "")
        for e in record.endpoints
    ]
    if record.aggregate is not None:
        rows.append(_endpoint_row("", "all endpoints", record.aggregate, "total"))
    if not rows:
        return None
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
        rows=tuple(rows),
        numeric=frozenset(range(2, 9)),
    )


def failure_table(record: RunRecord) -> Table | None:
    """Failed requests grouped by endpoint, status and message, the most frequent first."""
    if not record.failures:
        return None
    return Table(
        columns=("count", "method", "endpoint", "status", "message"),
        rows=tuple(
            Row((number(f.count), f.method, f.name, text(f.status) or "no response", f.message))
            for f in sorted(record.failures, key=lambda f: -f.count)
        ),
        numeric=frozenset({0}),
    )


BENCH_COLUMNS = ("result", "benchmark", "rounds", "min ms", "median", "p95", "target")
DB_COLUMNS = ("queries/call", "rows/call", "blocks hit/read per call", "query limit")
BASELINE_COLUMNS = ("baseline median", "change", "95 % band", "vs baseline")
ARROW = "\u2192"


@dataclass(frozen=True)
class _BenchColumns:
    """Which optional column groups the benchmark table has."""

    db: bool  # database cost per call (pg_stat_statements), and the targets' query limits
    baseline: bool  # deltas to a saved baseline
    queries: bool  # queries per call against the baseline's


def bench_table(record: RunRecord) -> Table | None:
    """Benchmarks with their targets and database cost; with a comparison, the deltas too."""
    benches = bench_rows(record)
    compared = compared_rows(record)
    if not benches and not compared:
        return None
    shown = _BenchColumns(
        db=any(b.db is not None or b.max_queries is not None for b in benches),
        baseline=bool(compared),
        queries=any(
            c.baseline_queries is not None or c.current_queries is not None or c.more_queries
            for c in compared.values()
        ),
    )
    columns: tuple[str, ...] = BENCH_COLUMNS
    columns += DB_COLUMNS if shown.db else ()
    columns += BASELINE_COLUMNS if shown.baseline else ()
    columns += (f"queries baseline {ARROW} now",) if shown.queries else ()
    rows = [_bench_row(b.name, b, compared.pop(b.name, None), shown) for b in benches]
    # in the baseline but not measured in this run
    rows += [_bench_row(c.name, None, c, shown) for c in compared.values()]
    text_columns = {"result", "benchmark", "vs baseline"}
    return Table(
        (*columns, "note"),
        tuple(rows),
        numeric=frozenset(i for i, c in enumerate(columns) if c not in text_columns),
    )


def _db_cells(b: BenchRow | None) -> tuple[str, ...]:
    db = b.db if b is not None else None
    if db is None:
        return (MISSING, MISSING, MISSING, number(b.max_queries if b is not None else None))
    return (
        per_call(db.queries),
        per_call(db.rows),
        f"{per_call(db.shared_hit)} / {per_call(db.shared_read)}",
        number(b.max_queries if b is not None else None),
    )


def _baseline_cells(c: ComparisonRow | None) -> tuple[str, ...]:
    band = c.band if c is not None else None
    return (
        ms(c.baseline_median_ms if c is not None else None),
        delta(c.ratio if c is not None else None),
        f"{band[0]:.2f}-{band[1]:.2f}x" if band is not None else MISSING,
        c.verdict if c is not None else MISSING,
    )


def _queries_cell(c: ComparisonRow | None) -> str:
    if c is None or (c.baseline_queries is None and c.current_queries is None):
        return MISSING
    cell = f"{per_call(c.baseline_queries)} {ARROW} {per_call(c.current_queries)}"
    return cell + (" more queries" if c.more_queries else "")


def _bench_row(name: str, b: BenchRow | None, c: ComparisonRow | None, shown: _BenchColumns) -> Row:
    """One benchmark's row; `b` None for one in the baseline that this run did not measure."""
    outcome = b.outcome if b is not None else "not run"
    regression = c is not None and c.verdict == "regression"
    more_queries = c is not None and c.more_queries
    notes = []
    if b is not None and b.unstable:
        notes.append("unstable: noisy rounds, trust the median less")
    if more_queries:
        notes.append("more queries per call than the baseline: the gate fails on it")
    if b is not None and b.message and outcome != "passed":
        notes.append(b.message)
    result = {"passed": "ok"}.get(outcome, outcome.upper())
    if regression and outcome == "passed":
        result = "REGRESSION"
    elif more_queries and outcome == "passed":
        result = "MORE QUERIES"
    cells: tuple[str, ...] = (result, name)
    if b is not None:
        cells += (
            number(b.rounds),
            ms(b.min_ms),
            ms(b.median_ms),
            ms(b.p95_ms),
            ms(b.target_p95_ms),
        )
    else:
        cells += (MISSING,) * 5
    if shown.db:
        cells += _db_cells(b)
    if shown.baseline:
        cells += _baseline_cells(c)
    if shown.queries:
        cells += (_queries_cell(c),)
    if outcome in ("failed", "error") or regression or more_queries:
        status = "fail"
    elif (b is not None and b.unstable) or outcome != "passed":
        status = "warn"
    else:
        status = "ok"
    return Row((*cells, "; ".join(notes)), status)


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


def model_lines(record: RunRecord) -> list[str]:
    """Which load model the run used, where its percentiles come from, and its arrivals."""
    shape = record.run.shape
    if shape is None:
        return []
    lines = []
    if shape.model == "open":
        top = shape.rate * shape.steps
        asked = (
            f"{shape.rate:g} to {top:g} iterations/s in steps of {shape.rate:g}"
            if shape.kind == "capacity"
            else f"{shape.rate / 10:g} to {shape.rate:g} iterations/s"
            if shape.kind == "rate-ramp"
            else f"{shape.rate:g} iterations/s"
        )
        lines.append(
            f"Open model: {asked}, taken by a pool of {shape.users} users; each request is "
            "timed from its iteration's scheduled start, so a stall counts against every "
            "request it delayed."
        )
    else:
        lines.append(
            f"Closed model: {shape.users} users, each waiting for its response before its next "
            "request (a stall delays at most one request per user)."
        )
    latency = record.latency
    if latency is None:
        lines.append(
            "Percentiles: Locust's (exact below 100 ms, 10 ms steps to 1 s, 100 ms above)."
        )
        return lines
    lines.append(
        f"Percentiles: HDR histograms per endpoint, merged from the workers "
        f"({latency.significant_figures} significant figures: each the lower bound of its "
        "bucket, within 0.1 %). Locust's own table (locust.html) keeps its rounded ones."
    )
    a = latency.arrivals
    if a is not None:
        lines.append(
            f"Iterations: {a.scheduled:,} due, {a.started:,} started, {a.dropped:,} dropped "
            f"(no free user), {a.late:,} late (more than {a.late_ms:.0f} ms after their time); "
            f"the longest start lag {a.max_lag_ms:.0f} ms."
        )
    return lines


def capacity_table(record: RunRecord) -> Table | None:
    found = record.capacity
    if found is None:
        return None
    rows = []
    for step in found.steps:
        held = "held" if step.held else ("not judged" if not step.judged else "broke")
        why = "; ".join(step.reasons) if step.reasons else (step.closest or "")
        at_capacity = found.rate is not None and step.held and step.rate == found.rate
        rows.append(
            Row(
                (
                    str(step.index + 1),
                    number(step.rate, 1),
                    number(step.sent_per_s, 1) if step.judged else MISSING,
                    MISSING if step.dropped is None else number(step.dropped),
                    MISSING if step.late is None else number(step.late),
                    held,
                    why,
                ),
                "ok" if at_capacity else ("fail" if step.judged and not step.held else ""),
            )
        )
    return Table(
        columns=("step", "rate/s", "req/s", "dropped", "late", "result", "evidence"),
        rows=tuple(rows),
        numeric=frozenset({1, 2, 3, 4}),
    )


def capacity_line(record: RunRecord) -> str | None:
    found = record.capacity
    if found is None:
        return None
    stop = f" The search stopped at {found.stopped}." if found.stopped else ""
    if found.rate is None:
        return f"Capacity: below the first step ({found.steps[0].rate:g}/s): it broke.{stop}"
    if found.at_least:
        return (
            f"Capacity: at least {found.rate:g} iterations/s: every step held (a search with a "
            "higher --rate or more --steps finds where it breaks)."
        )
    return f"Capacity: {found.rate:g} iterations/s, the highest rate whose step held.{stop}"
