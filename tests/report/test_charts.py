"""The plotly figures: shared time axis, phases, stacking, the knee, the flame graph, safe text."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from plotly.offline import get_plotlyjs  # type: ignore[import-untyped]

from harness.report.charts import (
    MAX_FLAME_NODES,
    build_charts,
    flame_figure,
    flame_nodes,
    knee_figure,
    label,
    plotly_js,
    time_figure,
)
from harness.report.inputs import read_run
from harness.report.series import chart, series
from tests.report.run_folders import CHARTS, DIAGNOSED_CHARTS, FLAME


def _spec(**changes: Any) -> dict[str, Any]:
    lines = [
        series("requests/s", [[0.0, 1.0], [1.0, 2.0], [2.0, 3.0]]),
        series("users", [[0.0, 5.0], [2.0, 5.0]], axis="right", dash=True),
    ]
    return chart("t", "per second", lines, t0=0.0, y_right_label="users", **changes)


def test_a_time_chart_has_both_axes_and_the_shared_range() -> None:
    figure = time_figure(_spec(), x_max=62.5)
    layout = figure["layout"]
    assert layout["xaxis"]["range"] == [0, 62.5]
    assert layout["yaxis2"]["overlaying"] == "y" and layout["yaxis2"]["side"] == "right"
    names = [t["name"] for t in figure["data"]]
    assert names == ["requests/s", "users (right axis)"]
    assert figure["data"][1]["yaxis"] == "y2" and figure["data"][1]["line"]["dash"] == "dash"
    assert layout["hovermode"] == "x unified"  # every line's value at the hovered moment
    assert "template" not in layout


def test_phases_are_bands_and_an_older_run_a_marker() -> None:
    bands = [
        {"x0": 0.0, "x1": 19.0, "label": "warm-up", "phase": "warmup"},
        {"x0": 19.0, "x1": 60.0, "label": "measured window", "phase": "measured"},
    ]
    layout = time_figure(_spec(bands=bands), 60.0)["layout"]
    rects = [s for s in layout["shapes"] if s["type"] == "rect"]
    assert [(r["x0"], r["x1"], r["layer"]) for r in rects] == [
        (0.0, 19.0, "below"),
        (19.0, 60.0, "below"),
    ]
    marked = time_figure(_spec(markers=[{"x": 15.0, "label": "warm-up ends"}]), 60.0)["layout"]
    assert [s["type"] for s in marked["shapes"]] == ["line"]
    assert [a["text"] for a in marked["annotations"]] == ["warm-up ends"]


def test_stacked_series_share_a_stack_group() -> None:
    lines = [
        series("stack", [[0.0, 1.0], [1.0, 1.2]], stack=True),
        series("outside", [[0.0, 0.1], [1.0, 0.2]], stack=True),
        series("cores", [[0.0, 2.0], [1.0, 2.0]], dash=True),
    ]
    figure = time_figure(chart("host", "cores", lines, t0=0.0), 1.0)
    assert [t.get("stackgroup") for t in figure["data"]] == ["stack", "stack", None]


def test_a_lone_sample_between_gaps_gets_a_marker() -> None:
    lines = [series("x", [[0.0, None], [1.0, 5.0], [2.0, None], [3.0, 1.0], [4.0, 2.0]])]
    figure = time_figure(chart("t", "y", lines, t0=0.0), 4.0)
    assert figure["data"][0]["mode"] == "lines+markers"


def test_names_from_the_run_are_shown_as_text_not_read_as_plotly_markup() -> None:
    assert label('<a href="https://x">a</a> & b') == (
        '&lt;a href="https://x"&gt;a&lt;/a&gt; &amp; b'
    )
    lines = [series("<b>x</b>", [[0.0, 1.0], [1.0, 2.0]])]
    figure = time_figure(chart("t", "y", lines, t0=0.0), 1.0)
    assert figure["data"][0]["name"] == "&lt;b&gt;x&lt;/b&gt;"


def test_the_knee_colours_each_second_by_its_users() -> None:
    points = [
        {"rps": 10.0, "p95_ms": 80.0, "users": 10, "x": 1.0, "phase": "warmup"},
        {"rps": 140.0, "p95_ms": 150.0, "users": 50, "x": 30.0, "phase": "measured"},
        {"rps": 141.0, "p95_ms": 520.0, "users": 50, "x": 40.0, "phase": "measured"},
    ]
    spec = {
        "kind": "knee",
        "title": "t",
        "x_label": "requests per second",
        "y_label": "p95 milliseconds",
        "color_label": "users",
        "windowed": True,
        "points": points,
    }
    figure = knee_figure(spec)
    warmup, measured = figure["data"]
    assert (warmup["name"], measured["name"]) == ("warm-up", "measured window")
    assert measured["x"] == [140.0, 141.0] and measured["y"] == [150.0, 520.0]
    assert measured["marker"]["color"] == [50, 50]
    assert measured["marker"]["coloraxis"] == "coloraxis"
    assert "users" in measured["hovertemplate"]
    assert figure["layout"]["coloraxis"]["colorbar"]["title"]["text"] == "users"


def test_flame_nodes_form_a_tree() -> None:
    raw = [
        *FLAME,
        {"id": "lost", "parent": "nowhere", "label": "orphan", "value": 5},
        {"id": "a", "parent": "b", "label": "loop a", "value": 1},
        {"id": "b", "parent": "a", "label": "loop b", "value": 1},
        {"id": "nan", "parent": "all", "label": "bad", "value": "many"},
        "not a node",
    ]
    kept = {n["id"] for n in flame_nodes(raw)}
    assert kept == {n["id"] for n in FLAME}
    assert flame_nodes(None) == [] and flame_figure([]) is None


def test_a_deep_profile_is_cut_to_its_heaviest_frames() -> None:
    chain = [{"id": "0", "parent": "", "label": "root", "value": 10_000}]
    chain += [
        {"id": str(i), "parent": "0", "label": f"f{i}", "value": 10_000 - i}
        for i in range(1, MAX_FLAME_NODES + 50)
    ]
    nodes = flame_nodes(chain)
    assert len(nodes) == MAX_FLAME_NODES
    assert "root" in {n["label"] for n in nodes}


def test_the_flame_graph_is_an_icicle_with_roots_at_the_bottom() -> None:
    figure = flame_figure(flame_nodes(FLAME))
    assert figure is not None
    trace = figure["data"][0]
    assert trace["type"] == "icicle"
    assert trace["tiling"] == {"orientation": "v", "flip": "y"}
    assert trace["branchvalues"] == "total"  # the fixture's values are inclusive
    assert "samples" in trace["hovertemplate"]
    own = [n | {"value": 1} for n in flame_nodes(FLAME)]  # a parent smaller than its children
    remainder = flame_figure(own)
    assert remainder is not None and remainder["data"][0]["branchvalues"] == "remainder"


def test_plotly_js_is_the_installed_packages() -> None:
    assert plotly_js() == get_plotlyjs()
    assert "</script" not in plotly_js().lower()


def test_every_chart_is_built_in_page_order(full_run: Path, diagnosed: Path) -> None:
    assert list(build_charts(read_run(full_run))) == list(CHARTS)
    built = build_charts(read_run(diagnosed))
    assert sorted(built) == sorted(DIAGNOSED_CHARTS)
    assert all(set(c) == {"title", "figure"} for c in built.values())
