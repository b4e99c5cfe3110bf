"""Chart data: one time origin for every chart, gaps kept, spikes kept when thinning."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.record import Window
from harness.report.inputs import read_run
from harness.report.series import MAX_POINTS, chart_data, origin, phases, thin
from tests.report.run_folders import CHARTS, WINDOW


def _series(chart: dict[str, Any], label: str) -> list[list[float | None]]:
    return next(s["points"] for s in chart["series"] if s["label"] == label)


def test_a_full_run_has_every_chart_on_one_time_axis(full_run: Path) -> None:
    data = chart_data(read_run(full_run))
    charts = data["charts"]
    assert set(charts) == set(CHARTS)
    time_charts = [c for c in charts.values() if c["kind"] == "time"]
    assert len(time_charts) == len(CHARTS) - 1  # all but the knee
    xs = [p[0] for c in time_charts for s in c["series"] for p in s["points"]]
    assert min(xs) == 0.0
    assert data["x_max"] == max(xs)
    assert 60 < data["x_max"] < 66


def test_the_warmup_marker_sits_where_the_warmup_ends(full_run: Path) -> None:
    run = read_run(full_run)
    t0 = origin(run)
    assert t0 is not None and run.history
    marker = chart_data(run)["charts"]["latency"]["markers"][0]
    assert marker == {"x": round(run.history[0].t + 15 - t0, 2), "label": "warm-up ends"}


def test_a_container_that_started_late_starts_late_on_the_chart(full_run: Path) -> None:
    cpu = chart_data(read_run(full_run))["charts"]["cpu"]
    assert len(cpu["series"]) == 4
    worker = _series(cpu, "cv-a1b2c3d4-20261129-101500-load-locust-worker-1")
    backend = _series(cpu, "cv-a1b2c3d4-backend")
    assert (worker[0][0] or 0) > 3.9 and (backend[0][0] or 0) < 0.1
    memory = chart_data(read_run(full_run))["charts"]["memory"]
    assert 170 < (_series(memory, "cv-a1b2c3d4-backend")[0][1] or 0) < 190  # MiB


def test_connections_are_drawn_by_state_against_the_limit(full_run: Path) -> None:
    chart = chart_data(read_run(full_run))["charts"]["db-connections"]
    labels = [s["label"] for s in chart["series"]]
    assert labels == ["active", "idle", "idle in transaction", "total", "max_connections"]
    assert {p[1] for p in _series(chart, "max_connections")} == {100.0}
    limit = next(s for s in chart["series"] if s["label"] == "max_connections")
    assert limit["dash"] is True


def test_a_missing_cache_ratio_is_a_gap_not_a_zero(full_run: Path) -> None:
    cache = chart_data(read_run(full_run))["charts"]["db-cache"]
    points = _series(cache, "cache hit %")
    assert points[0][1] is None
    assert all(90 < (p[1] or 0) <= 100 for p in points[1:])
    assert cache["y_max"] == 100.0


def test_a_run_without_samples_has_no_charts(bench_run: Path) -> None:
    assert chart_data(read_run(bench_run)) == {"x_max": 0, "charts": {}}


def test_thinning_keeps_the_spike_and_the_order() -> None:
    points: list[list[float | None]] = [[float(i), 10.0] for i in range(5000)]
    points[3333][1] = 999.0
    points[4000][1] = None
    kept = thin(points)
    assert len(kept) <= MAX_POINTS + 10
    assert [3333.0, 999.0] in kept
    assert any(p[1] is None for p in kept)
    xs = [p[0] or 0.0 for p in kept]
    assert xs == sorted(xs)
    short: list[list[float | None]] = [[0.0, 1.0], [1.0, 2.0]]
    assert thin(short) is short


def test_a_recorded_window_shades_the_warmup_and_the_measured_window(diagnosed: Path) -> None:
    run = read_run(diagnosed)
    t0 = origin(run)
    assert t0 is not None
    charts = chart_data(run)["charts"]
    latency = charts["latency"]
    assert latency["markers"] == []  # the bands say it: no "warm-up ends" rule besides
    warmup, measured = latency["bands"]
    assert (warmup["label"], measured["label"]) == ("warm-up", "measured window")
    assert warmup["x0"] == round(WINDOW["start"] - WINDOW["warmup_s"] - t0, 2)
    assert warmup["x1"] == measured["x0"] == round(WINDOW["start"] - t0, 2)
    assert measured["x1"] == round(WINDOW["end"] - t0, 2)
    assert all(c["bands"] == latency["bands"] for c in charts.values() if c["kind"] == "time")


def test_a_ramp_labels_its_window_as_measured_with_the_ramp() -> None:
    window = Window.model_validate(WINDOW | {"ramp_measured": True, "warmup_s": 0})
    bands = phases(window, t0=WINDOW["start"])
    assert bands == [
        {"x0": 0.0, "x1": 41.0, "label": "measured (ramp included)", "phase": "measured"}
    ]


def test_the_knee_is_a_point_per_second_with_its_users_and_phase(diagnosed: Path) -> None:
    run = read_run(diagnosed)
    knee = chart_data(run)["charts"]["knee"]
    assert knee["kind"] == "knee" and knee["windowed"] is True
    points = knee["points"]
    assert len(points) == 60  # Locust's first second has no p95 yet: left out
    assert {p["phase"] for p in points} == {"warmup", "measured"}
    spike = max(points, key=lambda p: p["p95_ms"])
    assert (spike["p95_ms"], spike["users"], spike["phase"]) == (556.0, 50, "measured")
    assert min(p["users"] for p in points if p["phase"] == "measured") == 50


def test_the_host_chart_stacks_who_used_the_cpu_under_the_cores(diagnosed: Path) -> None:
    host = chart_data(read_run(diagnosed))["charts"]["host-cpu"]
    labels = [(s["label"], s["stack"]) for s in host["series"]]
    assert labels == [
        ("stack", True),
        ("load generator", True),
        ("harness", True),
        ("outside the test", True),
        ("stolen by the hypervisor", False),
        ("cores", False),
    ]


def test_wait_events_are_stacked_with_gaps_where_not_sampled(diagnosed: Path) -> None:
    waits = chart_data(read_run(diagnosed))["charts"]["db-waits"]
    assert [s["label"] for s in waits["series"]] == ["CPU", "Lock", "IO", "Client"]
    cpu = _series(waits, "CPU")
    assert [p[1] for p in cpu[:4]] == [None, None, None, 6.0]


def test_without_wait_events_there_is_no_wait_chart(full_run: Path) -> None:
    assert "db-waits" not in chart_data(read_run(full_run))["charts"]
