"""The regression gate over saved runs: the noise between baseline runs decides, not rounds."""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path
from typing import Any

import pytest
from scipy import stats

from harness.bench import (
    KEEP_RUNS,
    check_name,
    compare,
    comparison_table,
    find_baseline,
    gate_failed,
    read_bench_json,
    save_baseline,
)
from harness.errors import ConfigError
from harness.record import ComparisonRow

FIXTURES = Path(__file__).parent / "fixtures"
HEALTH, LOGIN, FEED = (
    "test_health_endpoint_latency",
    "test_login_endpoint_latency",
    "test_public_feed_latency_with_data",
)
# Five saved runs of the same code: per benchmark, each run's rounds scaled by its factor.
# Health and login move by a few % from run to run, the feed by up to 25 %.
RUN_FACTORS = {
    HEALTH: (1.00, 0.97, 1.03, 0.98, 1.02),
    LOGIN: (1.00, 1.01, 0.99, 1.00, 1.005),
    FEED: (1.00, 0.80, 1.25, 0.90, 1.15),
}


def fixture(name: str) -> dict[str, Any]:
    return read_bench_json(FIXTURES / f"{name}.json")


def scaled(run: dict[str, Any], factors: dict[str, float]) -> dict[str, Any]:
    """`run` with each named benchmark's rounds multiplied by its factor."""
    body = json.loads(json.dumps(run))
    for bench in body["benchmarks"]:
        factor = factors.get(bench["name"], 1.0)
        bench["stats"]["data"] = [s * factor for s in bench["stats"]["data"]]
    return body


def baseline_runs() -> list[dict[str, Any]]:
    base = fixture("baseline")
    return [scaled(base, {n: f[i] for n, f in RUN_FACTORS.items()}) for i in range(5)]


def bench_run(medians_ms: dict[str, float]) -> dict[str, Any]:
    """A benchmark.json whose benchmarks have one round each, at the given milliseconds."""
    return {
        "benchmarks": [
            {"name": name, "stats": {"data": [ms / 1000]}, "extra_info": {}}
            for name, ms in medians_ms.items()
        ]
    }


def verdicts(rows: list[dict[str, Any]]) -> dict[str, str]:
    return {r["name"]: r["verdict"] for r in rows}


def by_name(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["name"]: r for r in rows}


def test_a_run_far_above_the_baseline_runs_is_a_regression_and_fails_the_gate() -> None:
    rows = compare(baseline_runs(), fixture("regressed"), {})
    assert verdicts(rows) == {HEALTH: "regression", LOGIN: "same", FEED: "noise"}
    assert gate_failed(rows)
    health = by_name(rows)[HEALTH]
    assert 1.4 < health["ratio"] < 1.6 and health["band"][1] < 1.15
    assert health["baseline_runs"] == 5
    assert health["baseline_median_ms"] == pytest.approx(4.953, abs=0.001)  # the middle run's
    assert [ComparisonRow.model_validate(r).verdict for r in rows] == list(verdicts(rows).values())
    lines = comparison_table(rows, "base").plain_lines()
    assert "95 % prediction interval of one run from the baseline's 5 runs" in lines[0]
    assert lines[-1] == "gate: FAIL (regression)"


def test_a_ratio_past_the_tolerance_but_inside_the_runs_spread_is_noise_not_a_failure() -> None:
    feed = [r for r in compare(baseline_runs(), fixture("regressed"), {}) if r["name"] == FEED]
    assert feed[0]["verdict"] == "noise"
    assert feed[0]["ratio"] > 1.15 and feed[0]["band"][1] > feed[0]["ratio"]
    assert not gate_failed(feed)
    assert "noise" in comparison_table(feed, "base").plain_lines()[2]


def test_an_improvement_and_a_missing_benchmark_do_not_fail() -> None:
    rows = compare(baseline_runs(), fixture("improved"), {})
    assert verdicts(rows) == {HEALTH: "improvement", LOGIN: "same", FEED: "missing"}
    assert by_name(rows)[FEED]["baseline_runs"] == 5
    assert not gate_failed(rows)
    assert comparison_table(rows, "base").plain_lines()[-1] == "gate: PASS"


def test_a_wider_tolerance_absorbs_the_same_slowdown() -> None:
    rows = compare(baseline_runs(), fixture("regressed"), {HEALTH: 0.6})
    assert verdicts(rows)[HEALTH] == "same" and not gate_failed(rows)


def test_the_band_is_the_t_prediction_interval_of_one_run_on_log_scale() -> None:
    medians = [10.0, 10.5, 9.5, 10.2, 9.8]
    rows = compare([bench_run({HEALTH: m}) for m in medians], bench_run({HEALTH: 10.1}), {})
    logs = [math.log(m) for m in medians]
    half = stats.t.ppf(0.975, 4) * statistics.stdev(logs) * math.sqrt(1 + 1 / 5)
    low, high = (math.exp(statistics.fmean(logs) + d) / 10.0 for d in (-half, half))
    row = rows[0]
    assert (row["verdict"], row["baseline_median_ms"], row["ratio"]) == ("same", 10.0, 1.01)
    assert row["band"] == [pytest.approx(low, abs=1e-4), pytest.approx(high, abs=1e-4)]


def test_holm_keeps_a_borderline_run_from_being_a_regression_among_many_benchmarks() -> None:
    """p is about 0.016: a regression when it is judged alone, noise among 20 benchmarks."""
    medians = [10.0, 9.0, 11.0, 10.5, 9.5]
    others = {f"test_other_{i:02d}": 5.0 + i for i in range(19)}
    base = [bench_run({HEALTH: m} | {n: v * m / 10 for n, v in others.items()}) for m in medians]
    current = 14.2  # ratio 1.42: past the 15 % tolerance either way

    alone = compare([bench_run({HEALTH: m}) for m in medians], bench_run({HEALTH: current}), {})
    assert verdicts(alone) == {HEALTH: "regression"} and gate_failed(alone)

    rows = compare(base, bench_run({HEALTH: current} | others), {})
    health = by_name(rows)[HEALTH]
    assert health["verdict"] == "noise" and health["band"][1] > health["ratio"] > 1.15
    assert {r["verdict"] for r in rows if r["name"] != HEALTH} == {"same"}
    assert not gate_failed(rows)


def test_one_baseline_run_leaves_the_timings_unjudged_but_not_the_query_counts() -> None:
    base = with_queries(fixture("baseline"), {LOGIN: 7, FEED: 4})
    rows = compare([base], with_queries(fixture("regressed"), {LOGIN: 7, FEED: 4}), {})
    assert verdicts(rows) == dict.fromkeys((FEED, HEALTH, LOGIN), "unjudged")
    health = by_name(rows)[HEALTH]
    assert health["band"] is None and health["ratio"] > 1.4 and health["baseline_runs"] == 1
    assert not gate_failed(rows)  # 1.5 times slower, but the noise between runs is unknown
    assert [ComparisonRow.model_validate(r).band for r in rows] == [None] * 3
    lines = comparison_table(rows, "nightly").plain_lines()
    assert "no band: the baseline has 1 run)" in lines[0]
    row = next(line for line in lines if line.startswith(HEALTH))
    assert "unjudged: save 2 or more baseline runs (make bench-baseline NAME=nightly twice)" in row
    assert lines[-1] == "gate: PASS"

    more = compare([base], with_queries(fixture("regressed"), {LOGIN: 7, FEED: 5}), {})
    assert gate_failed(more) and [r["name"] for r in more if r["more_queries"]] == [FEED]
    assert comparison_table(more, "nightly").plain_lines()[-1] == "gate: FAIL (more queries)"


def test_a_saved_baseline_keeps_the_rounds_and_records_where_it_came_from(tmp_path: Path) -> None:
    saved = save_baseline(FIXTURES / "baseline.json", tmp_path, "main-1", "abc1234")
    assert saved.parent == tmp_path / "main-1"
    assert find_baseline(tmp_path, "main-1") == [saved]
    body = json.loads(saved.read_text())
    assert body["harness_baseline"]["commit"] == "abc1234"
    assert body["machine_info"] and body["benchmarks"][0]["stats"]["data"]
    second = save_baseline(FIXTURES / "baseline.json", tmp_path, "main-1", "abc1234")
    runs = [read_bench_json(p) for p in find_baseline(tmp_path, "main-1")]
    assert find_baseline(tmp_path, "main-1") == [saved, second]
    assert verdicts(compare(runs, fixture("baseline"), {})) == dict.fromkeys(
        (FEED, HEALTH, LOGIN), "same"
    )


def test_a_legacy_single_file_baseline_reads_as_one_run_and_joins_the_folder_on_save(
    tmp_path: Path,
) -> None:
    legacy = tmp_path / "nightly.json"
    old = fixture("baseline") | {
        "harness_baseline": {"name": "nightly", "saved_at": "2026-11-24T02:10:00+00:00"}
    }
    legacy.write_text(json.dumps(old))
    assert find_baseline(tmp_path, "nightly") == [legacy]
    rows = compare([read_bench_json(legacy)], fixture("baseline"), {})
    assert set(verdicts(rows).values()) == {"unjudged"}

    saved = save_baseline(FIXTURES / "regressed.json", tmp_path, "nightly", None)
    assert not legacy.exists()
    moved = tmp_path / "nightly" / "20261124T021000Z-1.json"
    assert find_baseline(tmp_path, "nightly") == [moved, saved]
    assert json.loads(moved.read_text()) == old


def test_only_the_newest_runs_are_kept(tmp_path: Path) -> None:
    sources = []
    for i in range(KEEP_RUNS + 2):
        source = tmp_path / f"run-{i:02d}.json"
        source.write_text((FIXTURES / "baseline.json").read_text())
        save_baseline(source, tmp_path / "baselines", "main", None)
        sources.append(str(source))
    runs = find_baseline(tmp_path / "baselines", "main")
    kept = [json.loads(p.read_text())["harness_baseline"]["source"] for p in runs]
    assert kept == sources[2:]  # oldest first; the two oldest are gone
    assert len(list((tmp_path / "baselines" / "main").iterdir())) == KEEP_RUNS  # no temp file


@pytest.mark.parametrize("name", ["", "../etc", "a b", "x" * 65, "-lead", "ok/no"])
def test_unusable_baseline_names_are_refused(name: str) -> None:
    with pytest.raises(ConfigError) as caught:
        check_name(name)
    assert "NAME=" in caught.value.hint


def test_an_unknown_baseline_names_the_saved_ones(tmp_path: Path) -> None:
    save_baseline(FIXTURES / "baseline.json", tmp_path, "nightly", None)
    (tmp_path / "old-laptop.json").write_text((FIXTURES / "baseline.json").read_text())
    with pytest.raises(ConfigError) as caught:
        find_baseline(tmp_path, "weekly")
    assert "bench-baseline NAME=weekly" in caught.value.hint
    assert "saved baselines: nightly, old-laptop" in caught.value.hint


def test_no_baseline_folder_at_all_is_the_same_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no baseline named 'main'") as caught:
        find_baseline(tmp_path / "none", "main")
    assert caught.value.hint == "save one with `make bench-baseline NAME=main`"


@pytest.mark.parametrize(
    ("content", "message"),
    [("not json", "is not JSON"), ('{"benchmarks": []}', "holds no benchmark rounds")],
)
def test_a_broken_benchmark_file_is_a_clear_error(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "b.json"
    path.write_text(content)
    with pytest.raises(ConfigError, match=message):
        read_bench_json(path)
    with pytest.raises(ConfigError):
        save_baseline(path, tmp_path / "baselines", "x", None)
    assert not (tmp_path / "baselines").exists()


def with_queries(bench_json: dict[str, Any], queries: dict[str, float]) -> dict[str, Any]:
    """The run with a database cost per call (as the suite writes it) on some benchmarks."""
    body = json.loads(json.dumps(bench_json))
    for bench in body["benchmarks"]:
        if bench["name"] in queries:
            q = queries[bench["name"]]
            bench["extra_info"]["db"] = {
                "calls": 30,
                "queries": q,
                "rows": q,
                "shared_hit": 2 * q,
                "shared_read": 0.0,
                "exec_ms": 0.1,
                "statements": [],
            }
    return body


def test_more_queries_per_call_fail_the_gate_whatever_the_timings() -> None:
    """Counts compare exactly: one more query per call fails, even on the very same rounds."""
    base = [with_queries(run, {HEALTH: 0, LOGIN: 7, FEED: 4}) for run in baseline_runs()]
    now = with_queries(fixture("baseline"), {HEALTH: 0, LOGIN: 7, FEED: 5})
    rows = by_name(compare(base, now, {}))
    assert {name: r["verdict"] for name, r in rows.items()} == dict.fromkeys(rows, "same")
    assert [name for name, r in rows.items() if r["more_queries"]] == [FEED]
    assert (rows[FEED]["baseline_queries"], rows[FEED]["current_queries"]) == (4, 5)
    assert rows[LOGIN]["baseline_queries"] == rows[LOGIN]["current_queries"] == 7
    assert gate_failed(list(rows.values()))
    assert ComparisonRow.model_validate(rows[FEED]).more_queries  # results.json takes the rows
    lines = comparison_table(list(rows.values()), "base").plain_lines()
    feed = next(line for line in lines if line.startswith(FEED))
    assert "4->5" in feed and "MORE QUERIES" in feed
    assert lines[-1] == "gate: FAIL (more queries)"


def test_the_query_counts_come_from_the_newest_baseline_run_that_measured_them() -> None:
    runs = baseline_runs()
    base = [with_queries(run, {FEED: 5}) for run in runs[:3]]  # an N+1 fixed after these
    base += [with_queries(runs[3], {FEED: 4}), runs[4]]  # the newest did not measure it
    rows = by_name(compare(base, with_queries(fixture("baseline"), {FEED: 5}), {}))
    assert (rows[FEED]["baseline_queries"], rows[FEED]["more_queries"]) == (4, True)


def test_fewer_or_unmeasured_queries_do_not_fail_the_gate() -> None:
    base = [with_queries(run, {HEALTH: 1, LOGIN: 7.0333}) for run in baseline_runs()]
    now = with_queries(fixture("baseline"), {HEALTH: 0, FEED: 9})  # LOGIN not measured now
    rows = compare(base, now, {})
    assert not gate_failed(rows) and not any(r["more_queries"] for r in rows)
    named = by_name(rows)
    assert named[LOGIN]["current_queries"] is None and named[FEED]["baseline_queries"] is None
    assert comparison_table(rows, "base").plain_lines()[-1] == "gate: PASS"


def test_a_saved_baseline_keeps_the_query_counts(tmp_path: Path) -> None:
    run = tmp_path / "benchmark.json"
    run.write_text(json.dumps(with_queries(fixture("baseline"), {FEED: 4})))
    saved = read_bench_json(save_baseline(run, tmp_path / "baselines", "main", None))
    rows = compare([saved], with_queries(fixture("baseline"), {FEED: 24}), {})
    assert [r["name"] for r in rows if r["more_queries"]] == [FEED]
