"""The charts' data: time series from Locust's history and the monitor samples, as plain JSON.

Every chart shares one time origin (the earliest sample of any source), so a spike at
"+95 s" in the latency chart lines up with the same moment in the CPU chart. A chart is
a dict the page's script draws: title, axis labels, series of [x, y] points (y may be
null: a gap), and optional vertical markers such as the end of the warm-up.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from harness.report.inputs import LocustSample, RunFolder

# Enough points for a 1000-pixel-wide chart; a 30-minute soak at 1 Hz is thinned to this.
MAX_POINTS = 600
MIB = 1024 * 1024
STATE_ORDER = ("active", "idle", "idle in transaction", "idle in transaction (aborted)")

Point = list[float | None]


def origin(run: RunFolder) -> float | None:
    """The earliest timestamp of any recorded sample: "0 s" on every chart."""
    times = [s.t for s in run.history or []]
    times += [float(r["t"]) for r in (run.containers or []) + (run.postgres or [])]
    return min(times) if times else None


def clock(t0: float) -> str:
    return datetime.fromtimestamp(t0, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def series(
    label: str, points: list[Point], axis: str = "left", dash: bool = False
) -> dict[str, Any]:
    return {"label": label, "points": thin(points), "axis": axis, "dash": dash}


def chart(
    title: str,
    y_label: str,
    lines: list[dict[str, Any]],
    t0: float,
    *,
    y_right_label: str | None = None,
    y_max: float | None = None,
    markers: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    return {
        "title": title,
        "x_label": f"seconds since {clock(t0)}",
        "y_label": y_label,
        "y_right_label": y_right_label,
        "y_max": y_max,
        "series": [s for s in lines if any(p[1] is not None for p in s["points"])],
        "markers": list(markers),
    }


def thin(points: list[Point], limit: int = MAX_POINTS) -> list[Point]:
    """At most ~`limit` points, keeping each bucket's lowest and highest so spikes survive."""
    if len(points) <= limit:
        return points
    size = -(-len(points) * 2 // limit)  # ceil: two points kept per bucket
    kept: list[Point] = []
    for start in range(0, len(points), size):
        bucket = points[start : start + size]
        values = [p for p in bucket if p[1] is not None]
        # a gap where samples were missing stays visible
        chosen = [p for p in bucket if p[1] is None][:1]
        if values:
            chosen.append(min(values, key=lambda p: p[1] or 0.0))
            chosen.append(max(values, key=lambda p: p[1] or 0.0))
        unique = {id(p): p for p in chosen}.values()
        kept += sorted(unique, key=lambda p: p[0] or 0.0)
    return kept


def _x(t: float, t0: float) -> float:
    return round(t - t0, 2)


def _num(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def locust_charts(
    history: list[LocustSample], t0: float, warmup_s: float | None
) -> dict[str, dict[str, Any]]:
    """Requests/s and failures/s, and p50/p95, each against the user count (right axis)."""
    markers = []
    if history and warmup_s:
        markers.append({"x": _x(history[0].t + warmup_s, t0), "label": "warm-up ends"})
    users = series("users", [[_x(s.t, t0), s.users] for s in history], axis="right", dash=True)
    throughput = [
        series("requests/s", [[_x(s.t, t0), s.rps] for s in history]),
        series("failures/s", [[_x(s.t, t0), s.failures_per_s] for s in history]),
        users,
    ]
    latency = [
        series("p95 ms", [[_x(s.t, t0), s.p95_ms] for s in history]),
        series("p50 ms", [[_x(s.t, t0), s.p50_ms] for s in history]),
        users,
    ]
    return {
        "throughput": chart(
            "Requests and failures per second (all endpoints)",
            "per second",
            throughput,
            t0,
            y_right_label="users",
            markers=markers,
        ),
        "latency": chart(
            "Response time (all endpoints)",
            "milliseconds",
            latency,
            t0,
            y_right_label="users",
            markers=markers,
        ),
    }


def by_container(rows: Iterable[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Samples per container, in time order, containers in order of first appearance."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        grouped.setdefault(str(row["container"]), []).append(row)
    return grouped


def container_charts(rows: list[dict[str, Any]], t0: float) -> dict[str, dict[str, Any]]:
    """CPU % and memory per container (or per process, when the run had no Docker)."""
    cpu, memory = [], []
    for name, samples in by_container(rows).items():
        cpu.append(series(name, [[_x(r["t"], t0), _num(r.get("cpu_percent"))] for r in samples]))
        memory.append(
            series(
                name,
                [[_x(r["t"], t0), _mib(r.get("mem_bytes"))] for r in samples],
            )
        )
    return {
        "cpu": chart("CPU (100 % = one core)", "CPU %", cpu, t0),
        "memory": chart("Memory in use", "MiB", memory, t0),
    }


def _mib(value: Any) -> float | None:
    number = _num(value)
    return None if number is None else round(number / MIB, 2)


def connection_states(rows: list[dict[str, Any]]) -> list[str]:
    seen: set[str] = set()
    for row in rows:
        connections = row.get("connections")
        if isinstance(connections, dict):
            seen.update(str(k) for k in connections)
    known = [s for s in STATE_ORDER if s in seen]
    return known + sorted(seen - set(known))


def _connections(row: dict[str, Any]) -> dict[str, Any]:
    value = row.get("connections")
    return value if isinstance(value, dict) else {}


def database_charts(rows: list[dict[str, Any]], t0: float) -> dict[str, dict[str, Any]]:
    """Connections by state against max_connections, transactions/s, and the cache hit ratio."""
    states = connection_states(rows)
    lines = [
        series(state, [[_x(r["t"], t0), _num(_connections(r).get(state, 0))] for r in rows])
        for state in states
    ]
    lines.append(
        series(
            "total",
            [
                [_x(r["t"], t0), sum(_num(v) or 0.0 for v in _connections(r).values())]
                for r in rows
                if _connections(r)
            ],
        )
    )
    lines.append(
        series(
            "max_connections",
            [[_x(r["t"], t0), _num(r.get("max_connections"))] for r in rows],
            dash=True,
        )
    )
    transactions = [
        series("commits/s", [[_x(r["t"], t0), _num(r.get("xact_commit_per_s"))] for r in rows]),
        series("rollbacks/s", [[_x(r["t"], t0), _num(r.get("xact_rollback_per_s"))] for r in rows]),
    ]
    cache = [
        series(
            "cache hit %",
            [[_x(r["t"], t0), _percent(r.get("cache_hit_ratio"))] for r in rows],
        )
    ]
    return {
        "db-connections": chart("Connections by state", "connections", lines, t0),
        "db-transactions": chart("Transactions per second", "per second", transactions, t0),
        "db-cache": chart("Buffer cache hit ratio", "hit %", cache, t0, y_max=100.0),
    }


def _percent(value: Any) -> float | None:
    ratio = _num(value)
    return None if ratio is None else round(ratio * 100, 2)


def chart_data(run: RunFolder) -> dict[str, Any]:
    """What the page's script draws: every chart this run has data for, on one time axis."""
    t0 = origin(run)
    if t0 is None:
        return {"x_max": 0, "charts": {}}
    charts: dict[str, dict[str, Any]] = {}
    shape = run.results.run.shape
    if run.history:
        warmup = shape.warmup_s if shape is not None else None
        charts.update(locust_charts(run.history, t0, warmup))
    if run.containers:
        charts.update(container_charts(run.containers, t0))
    if run.postgres:
        charts.update(database_charts(run.postgres, t0))
    xs = [p[0] or 0.0 for c in charts.values() for s in c["series"] for p in s["points"]]
    # one x range for all charts, so the same moment sits at the same place in each
    return {"x_max": max(xs, default=0.0), "charts": charts}
