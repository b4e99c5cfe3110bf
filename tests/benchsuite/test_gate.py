"""The regression gate on saved benchmark JSON: regression fails, improvement and noise do not."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.bench import (
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


def fixture(name: str) -> dict[str, Any]:
    return read_bench_json(FIXTURES / f"{name}.json")


def verdicts(rows: list[dict[str, Any]]) -> dict[str, str]:
    return {r["name"]: r["verdict"] for r in rows}


def test_a_slower_median_beyond_the_noise_band_is_a_regression_and_fails_the_gate() -> None:
    rows = compare(fixture("baseline"), fixture("regressed"), {})
    assert verdicts(rows) == {HEALTH: "regression", LOGIN: "same", FEED: "noise"}
    assert gate_failed(rows)
    health = next(r for r in rows if r["name"] == HEALTH)
    assert health["band"][0] > 1.15 and 1.4 < health["ratio"] < 1.6


def test_a_shift_inside_the_noise_band_is_reported_not_failed() -> None:
    rows = [r for r in compare(fixture("baseline"), fixture("regressed"), {}) if r["name"] == FEED]
    assert rows[0]["ratio"] > 1.15 and rows[0]["band"][0] < 1.15
    assert not gate_failed(rows)
    assert "noise" in comparison_table(rows, "base").plain_lines()[2]


def test_an_improvement_and_a_missing_benchmark_do_not_fail() -> None:
    rows = compare(fixture("baseline"), fixture("improved"), {})
    assert verdicts(rows) == {HEALTH: "improvement", LOGIN: "same", FEED: "missing"}
    assert not gate_failed(rows)
    assert comparison_table(rows, "base").plain_lines()[-1] == "gate: PASS"


def test_a_wider_tolerance_absorbs_the_same_slowdown() -> None:
    rows = compare(fixture("baseline"), fixture("regressed"), {HEALTH: 0.6})
    assert verdicts(rows)[HEALTH] == "same" and not gate_failed(rows)


def test_the_comparison_is_deterministic() -> None:
    first = compare(fixture("baseline"), fixture("regressed"), {})
    assert first == compare(fixture("baseline"), fixture("regressed"), {})


def test_a_saved_baseline_keeps_the_rounds_and_records_where_it_came_from(tmp_path: Path) -> None:
    saved = save_baseline(FIXTURES / "baseline.json", tmp_path, "main-1", "abc1234")
    assert saved == find_baseline(tmp_path, "main-1")
    body = json.loads(saved.read_text())
    assert body["harness_baseline"]["commit"] == "abc1234"
    assert body["machine_info"] and body["benchmarks"][0]["stats"]["data"]
    assert verdicts(compare(read_bench_json(saved), fixture("baseline"), {})) == {
        HEALTH: "same",
        LOGIN: "same",
        FEED: "same",
    }


@pytest.mark.parametrize("name", ["", "../etc", "a b", "x" * 65, "-lead", "ok/no"])
def test_unusable_baseline_names_are_refused(name: str) -> None:
    with pytest.raises(ConfigError) as caught:
        check_name(name)
    assert "NAME=" in caught.value.hint


def test_an_unknown_baseline_names_the_saved_ones(tmp_path: Path) -> None:
    save_baseline(FIXTURES / "baseline.json", tmp_path, "nightly", None)
    with pytest.raises(ConfigError) as caught:
        find_baseline(tmp_path, "weekly")
    assert "nightly" in caught.value.hint and "bench-baseline NAME=weekly" in caught.value.hint


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
    base = with_queries(fixture("baseline"), {HEALTH: 0, LOGIN: 7, FEED: 4})
    now = with_queries(fixture("baseline"), {HEALTH: 0, LOGIN: 7, FEED: 5})
    rows = {r["name"]: r for r in compare(base, now, {})}
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


def test_fewer_or_unmeasured_queries_do_not_fail_the_gate() -> None:
    base = with_queries(fixture("baseline"), {HEALTH: 1, LOGIN: 7.0333})
    now = with_queries(fixture("baseline"), {HEALTH: 0, FEED: 9})  # LOGIN not measured now
    rows = compare(base, now, {})
    assert not gate_failed(rows) and not any(r["more_queries"] for r in rows)
    by_name = {r["name"]: r for r in rows}
    assert by_name[LOGIN]["current_queries"] is None and by_name[FEED]["baseline_queries"] is None
    assert comparison_table(rows, "base").plain_lines()[-1] == "gate: PASS"


def test_a_saved_baseline_keeps_the_query_counts(tmp_path: Path) -> None:
    run = tmp_path / "benchmark.json"
    run.write_text(json.dumps(with_queries(fixture("baseline"), {FEED: 4})))
    saved = read_bench_json(save_baseline(run, tmp_path / "baselines", "main", None))
    rows = compare(saved, with_queries(fixture("baseline"), {FEED: 24}), {})
    assert [r["name"] for r in rows if r["more_queries"]] == [FEED]
