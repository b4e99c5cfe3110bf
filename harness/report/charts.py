"""The report's charts as plotly figures: the chart data of harness.report.series in, JSON out.

plotly builds and validates each figure here, so a misspelt property fails while the report
is built rather than as a blank chart in a browser. The page embeds the figures as JSON and
plotly.js, inlined once from the installed plotly package, draws them: values on hover,
zoom, and nothing fetched from the network (no Chart Studio link, no sharing button).
"""

from __future__ import annotations

import json
import zlib
from functools import cache
from typing import Any

import plotly.graph_objects as go  # type: ignore[import-untyped]
from plotly.offline import get_plotlyjs  # type: ignore[import-untyped]

from harness.report.figures import finite
from harness.report.inputs import RunFolder
from harness.report.series import chart_data

# Okabe-Ito first: told apart with any colour vision
COLORS = (
    "#0072b2",
    "#d55e00",
    "#009e73",
    "#cc79a7",
    "#e69f00",
    "#56b4e9",
    "#7f3c8d",
    "#3b3b3b",
    "#a6761d",
    "#e7298a",
)
FLAME_COLORS = ("#e8590c", "#f08c00", "#f59f00", "#d9480f", "#fab005", "#e67700", "#c92a2a")
BANDS = {"warmup": "rgba(120, 120, 120, 0.14)", "measured": "rgba(0, 114, 178, 0.06)"}
HEIGHT = 340
MAX_FLAME_NODES = 3000  # a deeper profile is cut to its heaviest frames; the rest is in its file
# Passed to Plotly.newPlot: no logo, no upload to Plotly's cloud, no MathJax look-up. Not
# "responsive": it sizes the chart to its slot, which has no height until the chart is drawn.
CONFIG: dict[str, Any] = {
    "displaylogo": False,
    "showSendToCloud": False,
    "plotlyServerURL": "",
    "typesetMath": False,
    "modeBarButtonsToRemove": ["select2d", "lasso2d"],
}


@cache
def plotly_js() -> str:
    """plotly.js as the installed plotly package ships it, safe to inline in a <script>."""
    # It holds no "</script" today; should a release ever, "<\/" is the same text to JS.
    return str(get_plotlyjs()).replace("</script", "<\\/script")


def label(text: str) -> str:
    """Text from the run as plotly shows it: literally, with no tag of its pseudo-HTML."""
    # plotly reads <b>, <br> and even <a href> in names and labels; entities it shows as text
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _json(figure: Any) -> dict[str, Any]:
    """The figure as plain JSON data (plotly's encoder turns any array into lists)."""
    data: dict[str, Any] = json.loads(figure.to_json(validate=True, pretty=False))
    data["layout"].pop("template", None)  # plotly.js's own defaults; saves ~8 KB a chart
    return data


def _base_layout(height: int = HEIGHT) -> dict[str, Any]:
    return {
        "height": height,
        "template": "none",
        "font": {"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 12},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "legend": {"orientation": "h", "yanchor": "top", "y": -0.22, "x": 0},
        "hoverlabel": {"namelength": -1},
    }


def _lone_points(ys: list[float | None]) -> bool:
    """True when a value stands between two gaps: a line alone would not show it."""
    padded = [None, *ys, None]
    return any(
        padded[i] is not None and padded[i - 1] is None and padded[i + 1] is None
        for i in range(1, len(padded) - 1)
    )


def _time_trace(line: dict[str, Any], color: str, right_axis: bool) -> dict[str, Any]:
    xs = [p[0] for p in line["points"]]
    ys = [p[1] for p in line["points"]]
    trace: dict[str, Any] = {
        "type": "scatter",
        "x": xs,
        "y": ys,
        "name": label(line["label"]) + (" (right axis)" if right_axis else ""),
        "mode": "lines+markers" if _lone_points(ys) else "lines",
        "marker": {"size": 4, "color": color},
        "line": {"color": color, "width": 1.8, "dash": "dash" if line["dash"] else "solid"},
        "hovertemplate": "%{y:,.2~f}",
    }
    if right_axis:
        trace["yaxis"] = "y2"
    if line.get("stack"):
        trace |= {"stackgroup": "stack", "line": {"color": color, "width": 0.8}}
    return trace


def _phase_shapes(spec: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The run's phases as shaded bands, and markers as dotted rules, each with its label."""
    shapes: list[dict[str, Any]] = []
    notes: list[dict[str, Any]] = []
    for band in spec.get("bands", []):
        shapes.append(
            {
                "type": "rect",
                "xref": "x",
                "yref": "paper",
                "x0": band["x0"],
                "x1": band["x1"],
                "y0": 0,
                "y1": 1,
                "fillcolor": BANDS[band["phase"]],
                "line": {"width": 0},
                "layer": "below",
            }
        )
        notes.append(_note(band["x0"], band["label"]))
    for marker in spec.get("markers", []):
        shapes.append(
            {
                "type": "line",
                "xref": "x",
                "yref": "paper",
                "x0": marker["x"],
                "x1": marker["x"],
                "y0": 0,
                "y1": 1,
                "line": {"color": "#8a949c", "width": 1, "dash": "dot"},
            }
        )
        notes.append(_note(marker["x"], marker["label"]))
    return shapes, notes


def _note(x: float, text: str) -> dict[str, Any]:
    return {
        "x": x,
        "xref": "x",
        "y": 1,
        "yref": "paper",
        "yanchor": "bottom",
        "xanchor": "left",
        "text": text,
        "showarrow": False,
        "font": {"size": 11, "color": "#5f6b76"},
    }


def time_figure(spec: dict[str, Any], x_max: float) -> dict[str, Any]:
    """A chart against time: lines (or stacked areas), on the run's shared time axis."""
    right = any(s["axis"] == "right" for s in spec["series"])
    traces = [
        _time_trace(s, COLORS[i % len(COLORS)], s["axis"] == "right")
        for i, s in enumerate(spec["series"])
    ]
    shapes, notes = _phase_shapes(spec)
    y_axis: dict[str, Any] = {
        "title": {"text": spec["y_label"]},
        "rangemode": "tozero",
        "gridcolor": "#eceff1",
        "zeroline": False,
    }
    if spec.get("y_max") is not None:
        y_axis["range"] = [0, spec["y_max"]]
    layout = _base_layout() | {
        "margin": {"l": 64, "r": 64 if right else 24, "t": 28, "b": 40},
        "showlegend": True,  # even for one line: the legend names what is drawn
        "xaxis": {
            "title": {"text": spec["x_label"]},
            "range": [0, max(x_max, 1.0)],
            "ticksuffix": " s",
            "gridcolor": "#eceff1",
            "zeroline": False,
        },
        "yaxis": y_axis,
        "hovermode": "x unified",
        "shapes": shapes,
        "annotations": notes,
    }
    if right:
        layout["yaxis2"] = {
            "title": {"text": spec["y_right_label"] or ""},
            "overlaying": "y",
            "side": "right",
            "tickmode": "auto",  # its own round ticks, not ones synced to the left axis
            "rangemode": "tozero",
            "showgrid": False,
            "zeroline": False,
        }
    return _json(go.Figure(data=traces, layout=layout))


def knee_figure(spec: dict[str, Any]) -> dict[str, Any]:
    """p95 against requests/s, a point per second coloured by the users running then."""
    groups = (
        [("warmup", "warm-up", "diamond", 0.45), ("measured", "measured window", "circle", 0.9)]
        if spec["windowed"]
        else [("measured", "each second of the load", "circle", 0.9)]
    )
    traces = []
    for phase, name, symbol, opacity in groups:
        points = [p for p in spec["points"] if p["phase"] == phase]
        if not points:
            continue
        traces.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": name,
                "x": [p["rps"] for p in points],
                "y": [p["p95_ms"] for p in points],
                "customdata": [[p["users"], p["x"]] for p in points],
                "marker": {
                    "symbol": symbol,
                    "size": 8,
                    "color": [p["users"] for p in points],
                    "coloraxis": "coloraxis",
                    "opacity": opacity,
                    "line": {"width": 0.5, "color": "#ffffff"},
                },
                "hovertemplate": "%{x:,.1f} requests/s<br>p95 %{y:,.0f} ms<br>%{customdata[0]} "
                "users<br>at +%{customdata[1]:.0f} s<extra>%{fullData.name}</extra>",
            }
        )
    layout = _base_layout() | {
        "margin": {"l": 64, "r": 24, "t": 16, "b": 40},
        "xaxis": {
            "title": {"text": spec["x_label"]},
            "rangemode": "tozero",
            "gridcolor": "#eceff1",
        },
        "yaxis": {
            "title": {"text": spec["y_label"]},
            "rangemode": "tozero",
            "gridcolor": "#eceff1",
        },
        "coloraxis": {
            "colorscale": "Viridis",
            "colorbar": {"title": {"text": spec["color_label"]}, "thickness": 14},
        },
        "hovermode": "closest",
        # no legend: plotly cannot draw a colour-mapped marker in one (it warns, in black);
        # the page's note names the symbols, and the hover names each point's phase
        "showlegend": False,
    }
    return _json(go.Figure(data=traces, layout=layout))


def flame_nodes(raw: object) -> list[dict[str, Any]]:
    """The summary's flame nodes that make a tree: known parents, finite values, the heaviest."""
    nodes: list[dict[str, Any]] = []
    for node in raw if isinstance(raw, list) else []:
        if not isinstance(node, dict):
            continue
        value = finite(node.get("value"))
        if node.get("id") is None or value is None or value < 0:
            continue
        parent = node.get("parent")
        nodes.append(
            {
                "id": str(node["id"]),
                "parent": "" if parent is None else str(parent),
                "label": str(node.get("label") or node["id"]),
                "value": value,
            }
        )
    nodes.sort(key=lambda n: -n["value"])
    kept = {n["id"]: n for n in nodes[:MAX_FLAME_NODES]}
    # a node whose parent was cut (or never written), or that is its own ancestor, would
    # float free: plotly would leave the whole chart blank, so it goes
    return [n for n in kept.values() if _rooted(n["id"], kept)]


def _rooted(node_id: str, nodes: dict[str, dict[str, Any]]) -> bool:
    """True when following `node_id`'s parents reaches a root ("") without a gap or a loop."""
    at = node_id
    for _ in range(len(nodes) + 1):
        if at not in nodes:
            return False
        at = nodes[at]["parent"]
        if at == "":
            return True
    return False


def _branch_values(nodes: list[dict[str, Any]]) -> str:
    """ "total" when each node's value includes its children's (inclusive samples)."""
    children: dict[str, float] = {}
    for node in nodes:
        children[node["parent"]] = children.get(node["parent"], 0.0) + node["value"]
    inclusive = all(n["value"] + 1e-9 >= children.get(n["id"], 0.0) for n in nodes)
    return "total" if inclusive else "remainder"


def _depth(nodes: list[dict[str, Any]]) -> int:
    parents = {n["id"]: n["parent"] for n in nodes}
    deepest = 0
    for start in parents:
        depth, at = 1, parents[start]
        while at and depth <= len(parents):
            depth, at = depth + 1, parents.get(at, "")
        deepest = max(deepest, depth)
    return deepest


def flame_figure(nodes: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The profile as a flame graph: callers below callees, width = share of the samples."""
    if not nodes:
        return None
    colors = [
        FLAME_COLORS[zlib.crc32(n["label"].encode()) % len(FLAME_COLORS)] for n in nodes
    ]  # by name, so a function keeps its colour wherever it appears
    trace = {
        "type": "icicle",
        "ids": [n["id"] for n in nodes],
        "labels": [label(n["label"]) for n in nodes],
        "parents": [n["parent"] for n in nodes],
        "values": [n["value"] for n in nodes],
        "branchvalues": _branch_values(nodes),
        "tiling": {"orientation": "v", "flip": "y"},  # roots at the bottom, as in a flame graph
        "marker": {"colors": colors, "line": {"width": 0.5, "color": "#ffffff"}},
        "textinfo": "label",
        "hovertemplate": "%{label}<br>%{value:,} samples<br>%{percentRoot:.1%} of all samples"
        "<extra></extra>",
    }
    height = min(900, max(280, 24 * _depth(nodes) + 40))
    layout = _base_layout(height) | {"margin": {"l": 8, "r": 8, "t": 8, "b": 8}}
    return _json(go.Figure(data=[trace], layout=layout))


def build_charts(run: RunFolder) -> dict[str, dict[str, Any]]:
    """Every chart of the run: name -> {"title", "figure"}, the time charts on one axis."""
    data = chart_data(run)
    charts: dict[str, dict[str, Any]] = {}
    for name, spec in data["charts"].items():
        figure = knee_figure(spec) if spec["kind"] == "knee" else time_figure(spec, data["x_max"])
        charts[name] = {"title": spec["title"], "figure": figure}
    flame = flame_figure(flame_nodes((run.profile or {}).get("flame")))
    if flame is not None:
        charts["flame"] = {"title": "Flame graph of the backend (py-spy)", "figure": flame}
    return charts
