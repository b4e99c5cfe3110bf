"""The trend files: github-action-benchmark's custom formats, built from results.json alone."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.errors import ConfigError
from harness.record import EndpointStats, write_record
from harness.report.trend import TREND_BIGGER, TREND_SMALLER, trend_entries, write_trend
from tests.report.run_folders import bench_summary, record

EXTRA = "verdict: FAIL\ncommit: abc1234\nrun: 20261201-120000-load"


def endpoint(
    method: str, name: str, requests: int, p95_ms: float | None, rps: float
) -> EndpointStats:
    return EndpointStats(
        method=method,
        name=name,
        requests=requests,
        failures=0,
        failure_rate=0.0,
        p50_ms=None if p95_ms is None else p95_ms / 2,
        p95_ms=p95_ms,
        avg_ms=0.0 if p95_ms is None else p95_ms / 2,
        rps=rps,
    )


BENCHMARKS = bench_summary(
    [
        {
            "name": "test_health_endpoint_latency",
            "outcome": "passed",
            "rounds": 5,
            "min_ms": 1.5,
            "median_ms": 1.8164,
            "p95_ms": 2.4,
            "max_ms": 2.5,
        },
        {"name": "test_create_trip_latency", "outcome": "error", "message": "no stack"},
    ]
)


def load_run(run_dir: Path) -> Path:
    """A FAIL load run: two endpoints with requests, one never called, the aggregate, a suite."""
    run = record(
        "load",
        run={"commit": "abc1234"},
        verdict="FAIL",
        endpoints=[
            endpoint("GET", "/feed", 1150, 188.0, 25.56),
            endpoint("POST", "/auth/login", 383, 640.0, 8.52),
            endpoint("GET", "/never", 0, None, 0.0),
        ],
        aggregate=endpoint("ALL", "Aggregated", 1533, 210.0, 34.08),
        benchmarks=BENCHMARKS,
    )
    run_dir.mkdir()
    write_record(run_dir, run)
    return run_dir


def test_a_load_run_gives_p95s_and_medians_smaller_and_throughputs_bigger(
    tmp_path: Path,
) -> None:
    smaller, bigger = trend_entries(load_run(tmp_path / "run"))
    assert smaller == [
        {"name": "p95 GET /feed", "unit": "ms", "value": 188.0, "extra": EXTRA},
        {"name": "p95 POST /auth/login", "unit": "ms", "value": 640.0, "extra": EXTRA},
        {"name": "p95 all requests", "unit": "ms", "value": 210.0, "extra": EXTRA},
        {
            "name": "bench test_health_endpoint_latency median",
            "unit": "ms",
            "value": 1.816,
            "extra": EXTRA,
        },
    ]
    assert bigger == [
        {"name": "rps GET /feed", "unit": "req/s", "value": 25.56, "extra": EXTRA},
        {"name": "rps POST /auth/login", "unit": "req/s", "value": 8.52, "extra": EXTRA},
        {"name": "rps all requests", "unit": "req/s", "value": 34.08, "extra": EXTRA},
    ]


def test_a_bench_only_run_gives_its_medians_and_no_throughput(tmp_path: Path) -> None:
    run_dir = tmp_path / "bench"
    run_dir.mkdir()
    write_record(run_dir, record("bench", benchmarks=BENCHMARKS))
    smaller, bigger = trend_entries(run_dir)
    assert [(e["name"], e["value"]) for e in smaller] == [
        ("bench test_health_endpoint_latency median", 1.816)
    ]
    assert smaller[0]["extra"] == "verdict: PASS\ncommit: unknown\nrun: 20261201-120000-bench"
    assert bigger == []


def check_format(entries: Any) -> None:
    """What github-action-benchmark's custom tools accept: an array of {name, unit, value,
    optional range and extra}, strings but the number."""
    assert isinstance(entries, list)
    for entry in entries:
        assert set(entry) <= {"name", "unit", "value", "range", "extra"}
        assert {"name", "unit", "value"} <= set(entry)
        assert isinstance(entry["value"], int | float) and not isinstance(entry["value"], bool)
        assert all(isinstance(entry[k], str) for k in set(entry) - {"value"})
    names = [e["name"] for e in entries]
    assert len(names) == len(set(names))  # one series per name


def test_the_files_written_are_the_actions_custom_formats(tmp_path: Path) -> None:
    run_dir = load_run(tmp_path / "run")
    written = write_trend(run_dir)
    assert written == [run_dir / TREND_SMALLER, run_dir / TREND_BIGGER]
    smaller, bigger = (json.loads(p.read_text()) for p in written)
    check_format(smaller)
    check_format(bigger)
    assert (smaller, bigger) == tuple(trend_entries(run_dir))
    assert sorted(p.name for p in run_dir.iterdir()) == sorted(
        ["results.json", TREND_SMALLER, TREND_BIGGER]
    )  # no temporary file left


def test_a_saved_full_load_run_gives_its_endpoints_and_suite(full_run: Path) -> None:
    smaller, bigger = trend_entries(full_run)
    values = {e["name"]: e["value"] for e in smaller + bigger}
    assert values["p95 GET /feed"] == 188.0 and values["rps all requests"] == 142.0
    assert values["bench test_login_endpoint_latency median"] == 339.821
    assert len(bigger) == 12  # 11 endpoints and the aggregate
    assert all("commit: e6d4462" in e["extra"] for e in smaller + bigger)
    check_format(smaller)


def test_a_saved_bench_only_run_needs_nothing_but_its_results(bench_run: Path) -> None:
    assert sorted(p.name for p in bench_run.iterdir()) == ["results.json"]
    smaller, bigger = trend_entries(bench_run)
    assert len(smaller) == 10 and bigger == []  # two benchmarks failed before measuring


def test_a_folder_without_results_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"has no results\.json"):
        write_trend(tmp_path)
    assert list(tmp_path.iterdir()) == []
