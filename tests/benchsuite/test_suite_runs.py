"""`harness bench` against a real stack (local provider: the backend process on SQLite)."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.bench.runner import DEFAULT_TARGETS
from tests.stack.cli import harness, status

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("home")
    up = harness(home, "up", "--provider", "local", "--bcrypt-rounds", "4")
    assert up.returncode == 0, up.stderr
    try:
        yield home
    finally:
        harness(home, "down")


def bench(home: Path, reports: Path, *args: str) -> tuple[int, str, Path]:
    done = harness(
        home, "bench", "--rounds", "4", "--warmup", "1", "--reports", str(reports), *args
    )
    return done.returncode, done.stderr, (reports / "latest").resolve()


def test_every_benchmark_measures_and_writes_github_action_benchmark_json(
    local_stack: Path, tmp_path: Path
) -> None:
    code, err, run_dir = bench(local_stack, tmp_path)
    assert code == 0, err[-3000:]
    assert "bench: PASS" in err and "test_trip_query_with_relationships" in err
    raw = json.loads((run_dir / "benchmark.json").read_text())
    assert raw["machine_info"] and "commit_info" in raw
    assert len(raw["benchmarks"]) == 12
    for b in raw["benchmarks"]:  # what github-action-benchmark's `pytest` tool reads
        assert b["fullname"].endswith("::" + b["name"])
        assert b["stats"]["rounds"] == 4 and len(b["stats"]["data"]) == 4
        assert b["stats"]["ops"] > 0 and b["stats"]["mean"] > 0 and b["stats"]["stddev"] >= 0
        assert b["extra_info"]["passed"] is True and b["extra_info"]["target_p95_ms"] > 0
    results = json.loads((run_dir / "results.json").read_text())
    assert results["verdict"] == "PASS" and results["run"]["kind"] == "bench"
    rows = results["benchmarks"]["benchmarks"]
    assert {r["outcome"] for r in rows} == {"passed"}
    assert all(r["min_ms"] <= r["median_ms"] <= r["p95_ms"] <= r["max_ms"] for r in rows)
    assert (run_dir / "bench-junit.xml").exists() and (run_dir / "bench-table.txt").exists()
    # SQLite has no pg_stat_statements: no database cost, said once, and nothing fails for it
    assert all(r["db"] is None for r in rows)
    assert err.count("bench: SQLite has no pg_stat_statements: database cost not measured") == 1


def test_a_benchmark_over_its_target_fails_the_run(local_stack: Path, tmp_path: Path) -> None:
    strict = tmp_path / "strict.toml"
    strict.write_text(
        DEFAULT_TARGETS.read_text().replace("p95_ms = 200", "p95_ms = 0.001")
    )  # the health, feed and list targets become impossible
    code, err, run_dir = bench(local_stack, tmp_path / "r", "--targets", str(strict))
    assert code == 1, err[-2000:]
    rows = {
        r["name"]: r
        for r in json.loads((run_dir / "results.json").read_text())["benchmarks"]["benchmarks"]
    }
    assert rows["test_health_endpoint_latency"]["outcome"] == "failed"
    assert "over the target" in rows["test_health_endpoint_latency"]["message"]
    assert rows["test_health_endpoint_latency"]["p95_ms"] > 0.001  # measured, then judged
    assert rows["test_login_endpoint_latency"]["outcome"] == "passed"
    assert "bench: FAIL" in err and "verdict: FAIL" in err


DB_PASSWORD = "Sup3r-Secret-pw-4711"


def test_a_failing_bench_writes_the_database_password_in_no_file_or_line(
    local_stack: Path, tmp_path: Path
) -> None:
    """The local backend as an external target, with a DSN whose server is not there: every
    benchmark over an impossible target fails, every database benchmark errors, and pytest
    prints their arguments (the suite settings, the DSN) into bench.log and its JUnit file."""
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    dsn = f"postgresql://contravento:{DB_PASSWORD}@127.0.0.1:{port}/contravento"
    home = tmp_path / "external"
    up = harness(home, "up", "--target", status(local_stack)["backend_url"], "--db-dsn", dsn)
    assert up.returncode == 0, up.stderr
    try:
        shown = harness(home, "status")
        for said in (up, shown):
            assert DB_PASSWORD not in said.stdout + said.stderr
            assert f"contravento:***@127.0.0.1:{port}/contravento" in said.stdout
        assert status(home)["db_dsn"] == dsn  # `status --json` keeps it whole, for tools
        strict = tmp_path / "strict.toml"
        strict.write_text(DEFAULT_TARGETS.read_text().replace("p95_ms = 200", "p95_ms = 0.001"))
        code, err, run_dir = bench(home, tmp_path / "r", "--targets", str(strict))
        assert code == 1, err[-2000:]
        assert DB_PASSWORD not in err
        rows = json.loads((run_dir / "results.json").read_text())["benchmarks"]["benchmarks"]
        outcomes = {r["name"]: r["outcome"] for r in rows}
        assert outcomes["test_health_endpoint_latency"] == "failed"
        assert outcomes["test_user_lookup_by_username"] == "error"  # no database there
        log = (run_dir / "bench.log").read_text()
        assert f"contravento:***@127.0.0.1:{port}" in log  # printed, and masked
        files = [p for p in run_dir.rglob("*") if p.is_file()]
        assert {"bench.log", "bench-junit.xml", "results.json", "index.html"} <= {
            p.name for p in files
        }
        leaks = [p.name for p in files if DB_PASSWORD.encode() in p.read_bytes()]
        assert leaks == []
    finally:
        harness(home, "down")


def test_baseline_then_compare_prints_and_saves_the_table(
    local_stack: Path, tmp_path: Path
) -> None:
    baselines = tmp_path / "baselines"
    code, err, _ = bench(
        local_stack, tmp_path / "a", "--save-baseline", "laptop", "--baselines", str(baselines)
    )
    assert code == 0 and any((baselines / "laptop").glob("*.json")), err[-2000:]
    code, err, run_dir = bench(
        local_stack, tmp_path / "b", "--compare", "laptop", "--baselines", str(baselines)
    )
    assert "comparison with baseline 'laptop'" in err and "gate:" in err
    saved = (run_dir / "compare-laptop.txt").read_text()
    assert "test_health_endpoint_latency" in saved
    comparison = json.loads((run_dir / "results.json").read_text())["comparison"]
    assert len(comparison["rows"]) == 12
    assert code == (1 if comparison["failed"] else 0)


def test_bench_bad_inputs_fail_before_measuring(local_stack: Path, tmp_path: Path) -> None:
    for args, needle in [
        (["--compare", "never-saved"], "no baseline named 'never-saved'"),
        (["--save-baseline", "../x"], "not a usable baseline name"),
        (["--targets", str(tmp_path / "none.toml")], "no targets file at"),
        (["--rounds", "0"], "must be 1 or more"),
        (["--db-dsn", "postgresql://x@127.0.0.1/db"], "only go with --target"),
        (["--target", "http://10.1.2.3:8000"], "not a loopback address"),
    ]:
        code, err, _ = bench(local_stack, tmp_path / "reports", *args)
        assert code == 2 and needle in err and "hint:" in err, (args, err)
    assert not (tmp_path / "reports").exists() or not any((tmp_path / "reports").glob("*-bench"))


def test_bench_without_a_stack_says_how_to_start_one(tmp_path: Path) -> None:
    done = harness(tmp_path, "bench")
    assert done.returncode == 2 and "no stack is up" in done.stderr
    assert "make harness-up" in done.stderr
