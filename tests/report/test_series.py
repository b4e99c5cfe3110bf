"""Chart data: one time origin for every chart, gaps kept, spikes kept when thinning."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.report.inputs import read_run
from harness.report.series import MAX_POINTS, chart_data, origin, thin
from tests.report.run_folders import CHARTS


def _series(chart: dict[str, Any], label: str) -> list[list[float | None]]:
    return next(s["points"] for s in chart["series"] if s["label"] == label)


def test_a_full_run_has_every_chart_on_one_time_axis(full_run: Path) -> None:
    data = chart_data(read_run(full_run))
    charts = data["charts"]
    assert set(charts) == set(CHARTS)
    xs = [p[0] for c in charts.values() for s in c["series"] for p in s["points"]]
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
