"""The comparison's charts as plotly figures: every repetition drawn, A in one colour, B in another.

A comparison's evidence is its repetitions, so each one is a line or a point of its own:
the reader sees whether B's curves sit apart from A's or mingle with them, and whether one
repetition strayed. Per-endpoint charts carry a selector (a plotly dropdown) rather than one
chart per endpoint, so fifteen endpoints cost one slot on the page. Figures are validated by
plotly and handed to the page as JSON, as the run report's charts are.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import plotly.graph_objects as go  # type: ignore[import-untyped]

from harness.comparison_record import ComparisonFile, Label, RepEndpoint, Repetition
from harness.report.charts import COLORS, _base_layout, _json, label
from harness.report.comparison_tables import ROLES, benchmark_names, comparison_name, ordered
from harness.report.series import thin

VERSION_COLORS: dict[Label, str] = {"A": COLORS[0], "B": COLORS[1]}
GRID = "#eceff1"
Chart = dict[str, Any]  # {"title": str, "figure": plotly JSON}
Pick = Callable[[Repetition], RepEndpoint | None]


def _repetitions(comparison: ComparisonFile) -> list[Repetition]:
    return sorted(comparison.repetitions, key=lambda r: r.order)


def _legend(comparison: ComparisonFile, version: Label) -> str:
    return label(f"{version} ({ROLES[version]}): {comparison_name(comparison, version)}")


def _line(comparison: ComparisonFile, rep: Repetition, shown: set[str]) -> dict[str, Any]:
    """What every trace of a repetition shares: its version's colour, one legend entry each."""
    key = rep.version
    first = key not in shown
    shown.add(key)
    return {
        "name": _legend(comparison, rep.version),
        "legendgroup": rep.version,
        "showlegend": first,
        "line": {"color": VERSION_COLORS[rep.version], "width": 1.4},
        "marker": {"color": VERSION_COLORS[rep.version], "size": 5},
        "opacity": 0.8,
    }


def _layout(y_title: str, x_title: str, *, log_y: bool = False, height: int = 360) -> Any:
    return _base_layout(height) | {
        "margin": {"l": 64, "r": 24, "t": 40, "b": 48},
        "showlegend": True,
        "hovermode": "closest",
        "xaxis": {"title": {"text": x_title}, "gridcolor": GRID, "zeroline": False},
        "yaxis": {
            "title": {"text": y_title},
            "gridcolor": GRID,
            "zeroline": False,
            **({"type": "log"} if log_y else {"rangemode": "tozero"}),
        },
    }


def _selector(names: list[str], owners: list[int]) -> list[dict[str, Any]]:
    """A dropdown that shows one endpoint's traces: `owners[i]` is trace i's endpoint."""
    buttons = [
        {
            "label": label(name),
            "method": "restyle",
            "args": [{"visible": [owner == i for owner in owners]}],
        }
        for i, name in enumerate(names)
    ]
    return [
        {
            "type": "dropdown",
            "buttons": buttons,
            "active": 0,
            "x": 0,
            "xanchor": "left",
            "y": 1.02,
            "yanchor": "bottom",
            "showactive": True,
        }
    ]


def endpoint_picks(comparison: ComparisonFile) -> list[tuple[str, Pick]]:
    """The endpoints in the verdict table's order (failed first), then any only measured."""
    picks: list[tuple[str, Pick]] = []
    for row in ordered(comparison):
        if row.kind == "total":
            picks.append((row.name, _aggregate))
        elif row.kind == "endpoint":
            picks.append((row.name, _endpoint(row.name)))
    named = {name for name, _ in picks}
    for name in sorted({e for r in comparison.repetitions for e in r.endpoints} - named):
        picks.append((name, _endpoint(name)))
    if not any(row.kind == "total" for row in comparison.rows):
        picks.append(("all requests", _aggregate))
    return picks


def _aggregate(rep: Repetition) -> RepEndpoint | None:
    return rep.aggregate


def _endpoint(name: str) -> Pick:
    def pick(rep: Repetition) -> RepEndpoint | None:
        return rep.endpoints.get(name)

    return pick


def _quantile_name(key: str) -> str:
    """Locust's "0.95" as "p95", and its "1.0" as "max"."""
    value = float(key)
    return "max" if value >= 1 else f"p{value * 100:g}"


def percentile_figure(comparison: ComparisonFile) -> dict[str, Any] | None:
    """Each repetition's latency percentiles, one endpoint at a time, on a log scale."""
    reps = _repetitions(comparison)
    traces: list[dict[str, Any]] = []
    owners: list[int] = []
    names: list[str] = []
    keys: set[str] = set()
    for name, pick in endpoint_picks(comparison):
        shown: set[str] = set()
        index = len(names)
        for rep in reps:
            measured = pick(rep)
            found = measured.percentiles if measured is not None else {}
            # a log axis cannot draw 0 ms
            points = sorted((float(q), q, value) for q, value in found.items() if value > 0)
            if not points:
                continue
            keys.update(q for _, q, _ in points)
            traces.append(
                _line(comparison, rep, shown)
                | {
                    "type": "scatter",
                    "mode": "lines+markers",
                    "x": [_quantile_name(q) for _, q, _ in points],
                    "y": [value for _, _, value in points],
                    "visible": index == 0,
                    "hovertemplate": f"{rep.version} repetition {rep.order}: "
                    "%{x} %{y:,.1f} ms<extra></extra>",
                }
            )
            owners.append(index)
        if shown:
            names.append(name)
        # an endpoint with no percentiles in any repetition gets no button
    if not traces:
        return None
    order = [_quantile_name(q) for q in sorted(keys, key=float)]
    layout = _layout("ms (log scale)", "percentile", log_y=True)
    layout["xaxis"] |= {"type": "category", "categoryorder": "array", "categoryarray": order}
    layout["updatemenus"] = _selector(names, owners)
    layout["margin"]["t"] = 56
    return _json(go.Figure(data=traces, layout=layout))


def history_figure(comparison: ComparisonFile, column: int, y_title: str) -> dict[str, Any] | None:
    """One value of each repetition's history (1: requests/s, 2: p95) against time."""
    traces = []
    shown: set[str] = set()
    for rep in _repetitions(comparison):
        points = thin([[sample[0], sample[column]] for sample in rep.history])
        if not any(p[1] is not None for p in points):
            continue
        traces.append(
            _line(comparison, rep, shown)
            | {
                "type": "scatter",
                "mode": "lines",
                "x": [p[0] for p in points],
                "y": [p[1] for p in points],
                "hovertemplate": f"{rep.version} repetition {rep.order}: "
                "%{y:,.1f} at %{x:.0f} s<extra></extra>",
            }
        )
    if not traces:
        return None
    layout = _layout(y_title, "seconds into the measured window")
    layout["xaxis"]["ticksuffix"] = " s"
    return _json(go.Figure(data=traces, layout=layout))


def repetition_figure(comparison: ComparisonFile) -> dict[str, Any] | None:
    """p95 (above) and requests/s (below) of each repetition in the order they ran."""
    reps = _repetitions(comparison)
    traces: list[dict[str, Any]] = []
    owners: list[int] = []
    names: list[str] = []
    for name, pick in endpoint_picks(comparison):
        index = len(names)
        before = len(traces)
        for version in ROLES:
            mine = [(r, pick(r)) for r in reps if r.version == version]
            mine = [(r, m) for r, m in mine if m is not None]
            for axis, metric in (("", "p95_ms"), ("2", "rps")):
                values = [getattr(m, metric) for _, m in mine]
                if not any(v is not None for v in values):
                    continue
                traces.append(
                    {
                        "type": "scatter",
                        "mode": "lines+markers",
                        "name": _legend(comparison, version),
                        "legendgroup": version,
                        "showlegend": axis == "",
                        "x": [r.order for r, _ in mine],
                        "y": values,
                        "customdata": [r.pair for r, _ in mine],
                        "xaxis": "x" + axis,
                        "yaxis": "y" + axis,
                        "visible": index == 0,
                        "line": {"color": VERSION_COLORS[version], "width": 1, "dash": "dot"},
                        "marker": {"color": VERSION_COLORS[version], "size": 9},
                        "hovertemplate": f"{version}, repetition %{{x}} (pair %{{customdata}}): "
                        "%{y:,.1f}<extra></extra>",
                    }
                )
                owners.append(index)
        if len(traces) > before:
            names.append(name)
    if not traces:
        return None
    layout = _layout("p95 ms", "", height=480)
    layout["margin"]["t"] = 56
    layout["xaxis"] |= {"anchor": "y", "dtick": 1, "showticklabels": False}
    layout["yaxis"]["domain"] = [0.55, 1]
    layout["xaxis2"] = {
        "title": {"text": "repetition, in the order run"},
        "anchor": "y2",
        "matches": "x",
        "dtick": 1,
        "gridcolor": GRID,
    }
    layout["yaxis2"] = {
        "title": {"text": "requests/s"},
        "domain": [0, 0.45],
        "rangemode": "tozero",
        "gridcolor": GRID,
    }
    layout["updatemenus"] = _selector(names, owners)
    return _json(go.Figure(data=traces, layout=layout))


def _box(comparison: ComparisonFile, version: Label, xs: list[str], ys: list[float]) -> Any:
    return {
        "type": "box",
        "name": _legend(comparison, version),
        "legendgroup": version,
        "x": [label(x) for x in xs],
        "y": ys,
        "boxpoints": "all",
        "jitter": 0.3,
        "pointpos": 0,
        "marker": {"color": VERSION_COLORS[version], "size": 6},
        "line": {"color": VERSION_COLORS[version], "width": 1.2},
        "hovertemplate": "%{x}: %{y:,.2f}<extra>" + version + "</extra>",
    }


def grouped_figure(
    comparison: ComparisonFile,
    groups: list[str],
    value: Callable[[Repetition, str], float | None],
    y_title: str,
) -> dict[str, Any] | None:
    """Per group (a container group, a benchmark), A's and B's repetitions side by side."""
    traces = []
    for version in ROLES:
        xs: list[str] = []
        ys: list[float] = []
        for rep in _repetitions(comparison):
            if rep.version != version:
                continue
            for group in groups:
                figure = value(rep, group)
                if figure is not None:
                    xs.append(group)
                    ys.append(figure)
        if ys:
            traces.append(_box(comparison, version, xs, ys))
    if not traces:
        return None
    layout = _layout(y_title, "") | {"boxmode": "group"}
    return _json(go.Figure(data=traces, layout=layout))


def _resource(field: str) -> Callable[[Repetition, str], float | None]:
    def value(rep: Repetition, group: str) -> float | None:
        found = rep.resources.get(group)
        return None if found is None else getattr(found, field)

    return value


def _bench(field: str) -> Callable[[Repetition, str], float | None]:
    def value(rep: Repetition, name: str) -> float | None:
        found = rep.benchmarks.get(name)
        return None if found is None else getattr(found, field)

    return value


def comparison_charts(comparison: ComparisonFile) -> dict[str, Chart]:
    """Every chart of the comparison: name -> {"title", "figure"}; one without data left out."""
    groups = sorted({g for r in comparison.repetitions for g in r.resources})
    benches = benchmark_names(comparison)
    figures = {
        "percentiles": (
            "Latency percentiles of each repetition (choose the endpoint)",
            percentile_figure(comparison),
        ),
        "rps-time": (
            "Requests/s over the measured window, each repetition",
            history_figure(comparison, 1, "requests/s"),
        ),
        "p95-time": (
            "p95 over the measured window, each repetition",
            history_figure(comparison, 2, "p95 ms"),
        ),
        "per-repetition": (
            "p95 and requests/s of each repetition in the order run (choose the endpoint)",
            repetition_figure(comparison),
        ),
        "cpu": (
            "Mean CPU cores per container group, each repetition",
            grouped_figure(comparison, groups, _resource("cpu_cores"), "CPU cores (mean)"),
        ),
        "memory": (
            "Peak memory per container group, each repetition",
            grouped_figure(comparison, groups, _resource("memory_mib_peak"), "MiB (peak)"),
        ),
        "db-queries": (
            "Queries per call of each benchmark, each repetition",
            grouped_figure(comparison, benches, _bench("queries"), "queries per call"),
        ),
        "db-time": (
            "Database time per call of each benchmark, each repetition",
            grouped_figure(comparison, benches, _bench("exec_ms"), "ms per call in PostgreSQL"),
        ),
    }
    return {
        name: {"title": title, "figure": figure}
        for name, (title, figure) in figures.items()
        if figure is not None
    }
