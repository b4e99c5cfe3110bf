"""The charts' data: time series from Locust's history and the monitor samples, as plain JSON.

Every time chart shares one time origin (the earliest sample of any source), so a spike at
"+95 s" in the latency chart lines up with the same moment in the CPU chart, and carries the
run's phases as bands: the warm-up, then the measured window. A chart is a dict that
harness.report.charts turns into a figure: title, axis labels, series of [x, y] points (y may
be null: a gap), bands, and optional vertical markers. The latency-versus-throughput chart
("knee") is the one chart not drawn against time: its points are Locust's seconds.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from harness.record import Window
from harness.report.inputs import LocustSample, RunFolder

# Enough points for a 1000-pixel-wide chart; a 30-minute soak at 1 Hz is thinned to this.
MAX_POINTS = 600
MIB = 1024 * 1024
STATE_ORDER = ("active", "idle", "idle in transaction", "idle in transaction (aborted)")
# PostgreSQL's wait_event_type values (CPU: active and waiting on nothing), most telling first
WAIT_ORDER = ("CPU", "Lock", "LWLock", "IO", "IPC", "BufferPin", "Client", "Timeout", "Activity")
# host.jsonl's split of the busy cores, stacked bottom to top
HOST_PARTS = (
    ("stack_cores", "stack"),
    ("generator_cores", "load generator"),
    ("harness_cores", "harness"),
    ("outside_cores", "outside the test"),
)

Point = list[float | None]


def origin(run: RunFolder) -> float | None:
    """The earliest timestamp of any recorded sample: "0 s" on every chart."""
    times = [s.t for s in run.history or []]
    times += [
        float(r["t"]) for r in (run.containers or []) + (run.postgres or []) + (run.host or [])
    ]
    return min(times) if times else None


def clock(t0: float) -> str:
    return datetime.fromtimestamp(t0, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def series(
    label: str, points: list[Point], axis: str = "left", dash: bool = False, stack: bool = False
) -> dict[str, Any]:
    """One line; `stack`: an area stacked on the chart's other stacked series."""
    return {"label": label, "points": thin(points), "axis": axis, "dash": dash, "stack": stack}


def chart(
    title: str,
    y_label: str,
    lines: list[dict[str, Any]],
    t0: float,
    *,
    y_right_label: str | None = None,
    y_max: float | None = None,
    markers: Sequence[dict[str, Any]] = (),
    bands: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    return {
        "kind": "time",
        "title": title,
        "x_label": f"seconds since {clock(t0)}",
        "y_label": y_label,
        "y_right_label": y_right_label,
        "y_max": y_max,
        "series": [s for s in lines if any(p[1] is not None for p in s["points"])],
        "markers": list(markers),
        "bands": list(bands),
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


def phases(window: Window | None, t0: float) -> list[dict[str, Any]]:
    """The warm-up and the measured window as bands on the time axis; [] without a window."""
    if window is None:
        return []
    bands = []
    if window.warmup_s > 0:
        bands.append(
            {
                "x0": _x(window.start - window.warmup_s, t0),
                "x1": _x(window.start, t0),
                "label": "warm-up",
                "phase": "warmup",
            }
        )
    label = "measured (ramp included)" if window.ramp_measured else "measured window"
    bands.append(
        {"x0": _x(window.start, t0), "x1": _x(window.end, t0), "label": label, "phase": "measured"}
    )
    return bands


def warmup_marker(
    history: list[LocustSample], t0: float, warmup_s: float | None
) -> list[dict[str, Any]]:
    """Where the shape's warm-up ended, for a run that recorded no window (an older harness)."""
    if history and warmup_s:
        return [{"x": _x(history[0].t + warmup_s, t0), "label": "warm-up ends"}]
    return []


def locust_charts(
    history: list[LocustSample],
    t0: float,
    markers: Sequence[dict[str, Any]] = (),
    bands: Sequence[dict[str, Any]] = (),
) -> dict[str, dict[str, Any]]:
    """Requests/s and failures/s, and p50/p95, each against the user count (right axis)."""
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
            bands=bands,
        ),
        "latency": chart(
            "Response time (all endpoints)",
            "milliseconds",
            latency,
            t0,
            y_right_label="users",
            markers=markers,
            bands=bands,
        ),
    }


def knee_chart(
    history: list[LocustSample], t0: float, window: Window | None
) -> dict[str, Any] | None:
    """p95 against requests/s, one point per second of Locust's history, with its user count.

    Where p95 turns upward while requests/s stops growing is the knee: the most load the
    system takes before queueing. A ramp walks along the curve; a steady run shows one cluster.
    """
    points = []
    for s in history:
        if s.p95_ms is None or s.rps <= 0:
            continue  # Locust's first seconds: no request finished yet
        inside = window is None or window.start <= s.t <= window.end
        points.append(
            {
                "rps": round(s.rps, 2),
                "p95_ms": s.p95_ms,
                "users": s.users,
                "x": _x(s.t, t0),
                "phase": "measured" if inside else "warmup",
            }
        )
    if not points:
        return None
    return {
        "kind": "knee",
        "title": "Response time against throughput (all endpoints)",
        "x_label": "requests per second",
        "y_label": "p95 milliseconds",
        "color_label": "users",
        "windowed": window is not None,
        "points": points,
    }


def by_container(rows: Iterable[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Samples per container, in time order, containers in order of first appearance."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        grouped.setdefault(str(row["container"]), []).append(row)
    return grouped


def container_charts(
    rows: list[dict[str, Any]], t0: float, bands: Sequence[dict[str, Any]] = ()
) -> dict[str, dict[str, Any]]:
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
        "cpu": chart("CPU (100 % = one core)", "CPU %", cpu, t0, bands=bands),
        "memory": chart("Memory in use", "MiB", memory, t0, bands=bands),
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


def database_charts(
    rows: list[dict[str, Any]], t0: float, bands: Sequence[dict[str, Any]] = ()
) -> dict[str, dict[str, Any]]:
    """Connections by state against max_connections, transactions/s, the cache hit ratio, and
    (when the monitor sampled them) the sessions by wait event type."""
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
    charts = {
        "db-connections": chart("Connections by state", "connections", lines, t0, bands=bands),
        "db-transactions": chart(
            "Transactions per second", "per second", transactions, t0, bands=bands
        ),
        "db-cache": chart("Buffer cache hit ratio", "hit %", cache, t0, y_max=100.0, bands=bands),
    }
    waits = wait_chart(rows, t0, bands)
    if waits is not None:
        charts["db-waits"] = waits
    return charts


def _waits(row: dict[str, Any]) -> dict[str, Any] | None:
    value = row.get("wait_events")
    return value if isinstance(value, dict) else None


def wait_types(rows: list[dict[str, Any]]) -> list[str]:
    seen: set[str] = set()
    for row in rows:
        seen.update(str(k) for k in _waits(row) or {})
    known = [w for w in WAIT_ORDER if w in seen]
    return known + sorted(seen - set(known))


def wait_chart(
    rows: list[dict[str, Any]], t0: float, bands: Sequence[dict[str, Any]] = ()
) -> dict[str, Any] | None:
    """Active sessions by what they waited on, stacked; None when no sample had wait events."""
    types = wait_types(rows)
    if not types:
        return None
    lines = []
    for kind in types:
        points: list[Point] = []
        for r in rows:
            waits = _waits(r)
            points.append([_x(r["t"], t0), None if waits is None else _num(waits.get(kind, 0))])
        lines.append(series(kind, points, stack=True))
    return chart("Database sessions by wait event type", "sessions", lines, t0, bands=bands)


def host_chart(
    rows: list[dict[str, Any]], t0: float, bands: Sequence[dict[str, Any]] = ()
) -> dict[str, Any]:
    """The host's busy cores split by who used them, stacked, under the cores it has."""
    lines = [
        series(label, [[_x(r["t"], t0), _num(r.get(key))] for r in rows], stack=True)
        for key, label in HOST_PARTS
    ]
    steal = [[_x(r["t"], t0), _num(r.get("steal_cores"))] for r in rows]
    if any(p[1] for p in steal):
        lines.append(series("stolen by the hypervisor", steal, dash=True))
    lines.append(series("cores", [[_x(r["t"], t0), _num(r.get("cores"))] for r in rows], dash=True))
    return chart("Host CPU by who used it", "cores", lines, t0, bands=bands)


def _percent(value: Any) -> float | None:
    ratio = _num(value)
    return None if ratio is None else round(ratio * 100, 2)


def chart_data(run: RunFolder) -> dict[str, Any]:
    """Every chart this run has data for; the time charts on one time axis."""
    t0 = origin(run)
    if t0 is None:
        return {"x_max": 0, "charts": {}}
    charts: dict[str, dict[str, Any]] = {}
    window = run.results.window
    bands = phases(window, t0)
    if run.history:
        shape = run.results.run.shape
        warmup = shape.warmup_s if shape is not None else None
        markers = [] if bands else warmup_marker(run.history, t0, warmup)
        charts.update(locust_charts(run.history, t0, markers, bands))
        knee = knee_chart(run.history, t0, window)
        if knee is not None:
            charts["knee"] = knee
    if run.containers:
        charts.update(container_charts(run.containers, t0, bands))
    if run.postgres:
        charts.update(database_charts(run.postgres, t0, bands))
    if run.host:
        charts["host-cpu"] = host_chart(run.host, t0, bands)
    xs = [
        p[0] or 0.0
        for c in charts.values()
        if c["kind"] == "time"
        for s in c["series"]
        for p in s["points"]
    ]
    xs += [b["x1"] for b in bands]
    # one x range for all charts, so the same moment sits at the same place in each
    return {"x_max": max(xs, default=0.0), "charts": charts}
