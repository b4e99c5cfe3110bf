"""The run record: version 1 files load, unknown keys and versions are refused, a round trip holds."""

from __future__ import annotations

import copy
import json
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from harness.bench.gate import compare, gate_failed
from harness.bench.runner import BenchRequest, load_targets, summarise
from harness.errors import ConfigError
from harness.load.runner import USER_STARTS, read_endpoints, read_failures, read_users
from harness.load.shapes import resolve_shape
from harness.monitor.services import ServiceWatch
from harness.record import (
    RESULTS,
    SCHEMA_VERSION,
    RunRecord,
    migrate,
    read_record,
    write_record,
)
from harness.verdict import evaluate, load_slo


def _endpoint(method: str, name: str, requests: int, failures: int) -> dict[str, Any]:
    return {
        "method": method,
        "name": name,
        "requests": requests,
        "failures": failures,
        "failure_rate": failures / requests if requests else 0.0,
        "p50_ms": 38.0,
        "p95_ms": 142.0,
        "p99_ms": 210.0,
        "avg_ms": 47.5,
        "max_ms": 420.0,
        "rps": 31.24,
    }


# What `harness load` wrote before the model: no run.kind.
V1_LOAD: dict[str, Any] = {
    "schema_version": 1,
    "run": {
        "id": "20261129-101500-load",
        "shape": {
            "name": "load",
            "users": 50,
            "spawn_rate": 10.0,
            "duration_s": 45,
            "warmup_s": 15,
            "kind": "steady",
        },
        "scenario": "mixed",
        "user_classes": ["ContraVentoUser", "FeedBrowsingUser"],
        "workers": 2,
        "remote_workers": 0,
        "http_client": "fast",
        "provider": "docker",
        "stack_id": "cv-a1b2c3d4",
        "target": "http://backend:8000",
        "started_at": "2026-11-29T10:14:58+00:00",
        "finished_at": "2026-11-29T10:16:04+00:00",
        "commit": "e6d4462",
        "host": "ci-runner-7",
        "python": "3.11.7",
        "slo_file": "/work/main/harness/verdict/default-slo.toml",
        "seed": {"seed": 42, "checksum": "9f2c1e7a", "total_rows": 48210, "profile": "small"},
        "partial": False,
        "aborted": None,
    },
    "endpoints": [_endpoint("GET", "/feed", 1150, 3), _endpoint("GET", "/health", 319, 0)],
    "aggregate": _endpoint("ALL", "Aggregated", 1469, 3),
    "slo": [
        {
            "endpoint": "GET /feed",
            "group": "lists",
            "target_p95_ms": 200.0,
            "p95_ms": 142.0,
            "failure_rate": 0.0026,
            "max_failure_rate": 0.01,
            "passed": True,
            "reason": "",
        },
        {
            "endpoint": "GET /health",
            "group": None,
            "target_p95_ms": None,
            "p95_ms": 142.0,
            "failure_rate": 0.0,
            "max_failure_rate": 0.01,
            "passed": True,
            "reason": "",
        },
    ],
    "benchmarks": None,
    "incidents": [
        {
            "service": "postgres",
            "event": "exited",
            "at_s": 41.3,
            "exit_code": 0,
            "back_after_s": 3.6,
            "log_tail": "services/postgres.log",
        }
    ],
    "verdict": "FAIL",
    "load_generator_saturated": False,
    "warnings": [],
}

# What `harness bench` wrote before the model: run.kind "bench", no load fields.
V1_BENCH: dict[str, Any] = {
    "schema_version": 1,
    "run": {
        "id": "20261124-030837-bench",
        "kind": "bench",
        "provider": "local",
        "stack_id": "cv-1aa721c7",
        "target": "http://127.0.0.1:43559",
        "started_at": "2026-11-24T03:08:37+00:00",
        "finished_at": "2026-11-24T03:08:47+00:00",
        "commit": None,
        "host": "vm",
        "python": "3.11.7",
    },
    "benchmarks": {
        "suite": "harness/bench/suite",
        "rounds": 5,
        "warmup_rounds": 1,
        "bcrypt_rounds": 12,
        "seconds": 10.0,
        "json": "benchmark.json",
        "junit": "bench-junit.xml",
        "benchmarks": [
            {
                "name": "test_health_endpoint_latency",
                "outcome": "passed",
                "message": "",
                "target_p95_ms": 200.0,
                "tolerance": 0.15,
                "rounds": 5,
                "min_ms": 2.374,
                "median_ms": 3.898,
                "p95_ms": 7.255,
                "max_ms": 7.523,
                "unstable": True,
            },
            {
                "name": "test_create_trip_latency",
                "outcome": "failed",
                "message": "AssertionError: assert 'draft' == 'DRAFT'",
                "target_p95_ms": 1000.0,
            },
        ],
        "verdict": "FAIL",
    },
    "comparison": {
        "baseline": "main-2026-11",
        "rows": [
            {
                "name": "test_health_endpoint_latency",
                "tolerance": 0.15,
                "baseline_median_ms": 2.255,
                "current_median_ms": 3.898,
                "ratio": 1.7286,
                "band": [1.2612, 1.5873],
                "verdict": "regression",
            },
            {"name": "test_feed_pagination_latency", "tolerance": 0.15, "verdict": "missing"},
        ],
        "failed": True,
    },
    "verdict": "FAIL",
}


def _write(run_dir: Path, data: object) -> Path:
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / RESULTS).write_text(json.dumps(data))
    return run_dir


def _refusal(run_dir: Path) -> str:
    with pytest.raises(ConfigError) as raised:
        read_record(run_dir)
    assert raised.value.hint
    return raised.value.message


def test_a_version_1_load_file_loads_as_a_load_run(tmp_path: Path) -> None:
    record = read_record(_write(tmp_path, V1_LOAD))
    assert (record.schema_version, record.run.kind) == (2, "load")
    assert record.run.shape is not None and record.run.shape.users == 50
    assert record.run.started_at == datetime(2026, 11, 29, 10, 14, 58, tzinfo=UTC)
    assert record.run.seed is not None and record.run.seed.total_rows == 48210
    assert [e.name for e in record.endpoints] == ["/feed", "/health"]
    assert record.aggregate is not None and record.aggregate.requests == 1469
    assert record.slo[1].group is None and record.slo[1].target_p95_ms is None
    assert record.incidents is not None and record.incidents[0].back_after_s == 3.6
    assert record.benchmarks is None and record.comparison is None


def test_an_early_version_1_load_file_lacks_the_later_fields_and_still_loads(
    tmp_path: Path,
) -> None:
    early = copy.deepcopy(V1_LOAD)
    for key in ("remote_workers", "aborted"):
        del early["run"][key]
    for key in ("benchmarks", "incidents"):
        del early[key]
    record = read_record(_write(tmp_path, early))
    assert (record.run.remote_workers, record.run.aborted) == (0, None)
    assert record.incidents is None  # not watched, which the report tells from "none happened"


def test_a_version_1_bench_file_loads_as_a_bench_run(tmp_path: Path) -> None:
    record = read_record(_write(tmp_path, V1_BENCH))
    assert (record.schema_version, record.run.kind) == (2, "bench")
    assert record.run.shape is None and record.run.commit is None
    assert record.benchmarks is not None and record.benchmarks.json_file == "benchmark.json"
    measured, failed = record.benchmarks.benchmarks
    assert (measured.median_ms, measured.unstable) == (3.898, True)
    assert (failed.outcome, failed.median_ms, failed.tolerance, failed.unstable) == (
        "failed",
        None,
        None,
        None,
    )
    assert record.comparison is not None and record.comparison.rows[0].band == (1.2612, 1.5873)
    assert record.comparison.rows[1].ratio is None
    assert record.incidents is None and record.endpoints == [] and record.slo == []


def test_migration_adds_the_kind_only_where_version_1_left_it_out() -> None:
    load, bench = migrate(V1_LOAD), migrate(V1_BENCH)
    assert (load["schema_version"], load["run"]["kind"]) == (2, "load")
    assert (bench["schema_version"], bench["run"]["kind"]) == (2, "bench")
    assert "kind" not in V1_LOAD["run"] and V1_LOAD["schema_version"] == 1  # input kept
    version_2 = {**V1_BENCH, "schema_version": 2}
    assert migrate(version_2) == version_2


@pytest.mark.parametrize(
    ("where", "named"),
    [
        (lambda d: d["run"].update(db_dsn="postgresql://cv:pw@db/cv"), "run.db_dsn"),
        (lambda d: d["endpoints"][1].update(p9999_ms=1.0), "endpoints[1].p9999_ms"),
        (lambda d: d["run"]["shape"].update(ramp=True), "run.shape.ramp"),
        (lambda d: d.update(notes="hand-written"), "notes"),
    ],
)
def test_an_unknown_key_is_refused_naming_it(tmp_path: Path, where: Any, named: str) -> None:
    data = copy.deepcopy(V1_LOAD)
    where(data)
    message = _refusal(_write(tmp_path, data))
    assert f"{named}: Extra inputs are not permitted" in message
    assert "pw@" not in message  # the message names the key, never the value


def test_an_unknown_key_in_a_bench_row_is_refused_naming_it(tmp_path: Path) -> None:
    data = copy.deepcopy(V1_BENCH)
    data["benchmarks"]["benchmarks"][1]["medain_ms"] = 1.0
    message = _refusal(_write(tmp_path, data))
    assert "benchmarks.benchmarks[1].medain_ms: Extra inputs are not permitted" in message


@pytest.mark.parametrize(
    ("version", "shown"), [(3, "3"), (0, "0"), ("2", "'2'"), (True, "True"), (None, "None")]
)
def test_an_unknown_schema_version_is_refused_naming_it(
    tmp_path: Path, version: object, shown: str
) -> None:
    data = {**V1_LOAD, "schema_version": version}
    if version is None:
        del data["schema_version"]
    message = _refusal(_write(tmp_path, data))
    assert f"has schema_version {shown}; this harness reads 1, 2" in message


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda d: d["run"]["shape"].update(users="many"), "run.shape.users: Input should be"),
        (
            lambda d: d.update(verdict="maybe"),
            "verdict: Input should be 'PASS', 'FAIL' or 'INVALID'",
        ),
        (lambda d: d["run"].update(started_at="yesterday"), "run.started_at: Input should be"),
        (lambda d: d["run"].update(started_at="2026-11-29T10:14:58"), "run.started_at:"),
        (lambda d: d["slo"][0].pop("passed"), "slo[0].passed: Field required"),
        (lambda d: d["run"].pop("shape"), "run: Value error, a load run records its shape"),
        (lambda d: d["run"].update(kind="bench"), "run: Value error, a bench run has no load"),
    ],
)
def test_a_value_that_does_not_fit_is_refused_naming_its_field(
    tmp_path: Path, change: Any, named: str
) -> None:
    data = copy.deepcopy(V1_LOAD)
    change(data)
    assert named in _refusal(_write(tmp_path, data))


def test_comparison_figures_go_with_the_verdict(tmp_path: Path) -> None:
    data = copy.deepcopy(V1_BENCH)
    data["comparison"]["rows"][1]["ratio"] = 1.0  # a "missing" benchmark has no ratio
    assert "comparison.rows[1]: Value error" in _refusal(_write(tmp_path, data))


def test_a_bench_run_without_its_suite_is_refused(tmp_path: Path) -> None:
    data = {**V1_BENCH, "benchmarks": None}
    assert "a bench run records its benchmarks" in _refusal(_write(tmp_path, data))


def test_a_missing_or_unreadable_file_is_a_config_error(tmp_path: Path) -> None:
    assert "there is no run folder" in _refusal(tmp_path / "missing")
    assert f"{tmp_path} has no results.json" in _refusal(tmp_path)
    (tmp_path / RESULTS).mkdir()
    assert "cannot read" in _refusal(tmp_path)


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b'{"run": "\xff"}', "is not UTF-8"),
        (b'{"schema_version": 1,', "is not valid JSON"),
        (b"[1, 2]", "holds no results object"),
    ],
)
def test_a_file_that_is_no_json_object_is_a_config_error(
    tmp_path: Path, content: bytes, says: str
) -> None:
    (tmp_path / RESULTS).write_bytes(content)
    assert says in _refusal(tmp_path)


@pytest.mark.parametrize("v1", [V1_LOAD, V1_BENCH], ids=["load", "bench"])
def test_a_record_written_reads_back_equal(tmp_path: Path, v1: dict[str, Any]) -> None:
    record = RunRecord.model_validate(migrate(v1))
    path = write_record(tmp_path, record)
    assert path == tmp_path / RESULTS
    assert read_record(tmp_path) == record
    text = path.read_text()
    assert text.startswith('{\n  "schema_version": 2,\n  "run": {\n    "id": ')
    assert text.endswith("}\n") and not text.endswith("\n\n")
    assert '"started_at": "' + v1["run"]["started_at"] + '"' in text  # as version 1 wrote it
    assert sorted(p.name for p in tmp_path.iterdir()) == [RESULTS]  # no temporary file left


def test_writing_replaces_the_record(tmp_path: Path) -> None:
    write_record(tmp_path, RunRecord.model_validate(migrate(V1_LOAD)))
    passed = RunRecord.model_validate(migrate(V1_LOAD) | {"verdict": "PASS"})
    write_record(tmp_path, passed)
    assert read_record(tmp_path).verdict == "PASS"


def _locust_stats(run_dir: Path) -> None:
    header = "Type,Name,Request Count,Failure Count,50%,95%,99%,Average Response Time,"
    (run_dir / "locust_stats.csv").write_text(
        header
        + "Max Response Time,Requests/s\n"
        + "GET,/feed,1150,3,61,188,260,76.2,520,25.56\n"
        + "GET,/never,0,0,N/A,N/A,N/A,0,N/A,0\n"
        + ",Aggregated,1150,3,61,188,260,76.2,520,25.56\n"
    )


def _bench_files(run_dir: Path) -> tuple[Path, Path, dict[str, Any]]:
    rounds = {"data": [0.0021, 0.0019, 0.0020, 0.0022, 0.0020]}
    current = {"benchmarks": [{"name": "test_health_endpoint_latency", "stats": rounds}]}
    baseline = {
        "benchmarks": [
            {"name": "test_health_endpoint_latency", "stats": rounds},
            {"name": "test_feed_pagination_latency", "stats": rounds},
        ]
    }
    json_path = run_dir / "benchmark.json"
    json_path.write_text(json.dumps(current))
    junit_path = run_dir / "bench-junit.xml"
    junit_path.write_text(
        '<testsuites><testsuite><testcase name="test_health_endpoint_latency"/>'
        '<testcase name="test_create_trip_latency"><failure message="AssertionError: slow"/>'
        "</testcase></testsuite></testsuites>"
    )
    return json_path, junit_path, baseline


def test_what_the_writers_build_is_a_version_2_record_once_the_load_run_names_its_kind(
    tmp_path: Path,
) -> None:
    """The results dicts built as the load and bench runs build them, from the real parts."""
    _locust_stats(tmp_path)
    endpoints, aggregate = read_endpoints(tmp_path)
    rows, verdict = evaluate(load_slo(), endpoints)
    json_path, junit_path, baseline = _bench_files(tmp_path)
    request = BenchRequest(target="http://127.0.0.1:1", dsn=None, run_dir=tmp_path, bcrypt_rounds=4)
    summary = summarise(json_path, junit_path, 1.23, request, load_targets(None))
    tolerances = {row["name"]: row["tolerance"] for row in summary["benchmarks"]}
    compared = compare([baseline], json.loads(json_path.read_text()), tolerances)
    comparison = {"baseline": "main", "rows": compared, "failed": gate_failed(compared)}
    watch = ServiceWatch(grace_s=60)
    watch.went_down("backend", "exited", watch.began + 2, 137)
    run = {
        "id": tmp_path.name,
        "provider": "docker",
        "stack_id": "cv-a1b2c3d4",
        "target": "http://backend:8000",
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": None,
        "host": "ci",
        "python": "3.11.7",
    }
    load = {
        "schema_version": SCHEMA_VERSION,
        "run": run
        | {
            "kind": "load",  # the one addition version 2 asks of the load run
            "shape": asdict(resolve_shape("baseline")),
            "scenario": "mixed",
            "user_classes": ["ContraVentoUser", "FeedBrowsingUser"],
            "workers": 2,
            "remote_workers": 0,
            "http_client": "fast",
            "slo_file": str(load_slo().source),
            "seed": {"seed": 1, "checksum": None, "total_rows": None, "profile": None},
            "partial": False,
            "aborted": None,
        },
        "endpoints": endpoints,
        "aggregate": aggregate,
        "slo": rows,
        "benchmarks": summary,
        "incidents": watch.records(),
        "verdict": verdict,
        "load_generator_saturated": False,
        "warnings": [],
    }
    bench = {
        "schema_version": SCHEMA_VERSION,
        "run": run | {"kind": "bench"},
        "benchmarks": summary,
        "comparison": comparison,
        "verdict": "FAIL",
    }
    load_record = RunRecord.model_validate(load)
    assert [e.name for e in load_record.endpoints] == ["/feed", "/never"]
    assert load_record.incidents is not None and load_record.incidents[0].exit_code == 137
    bench_record = RunRecord.model_validate(bench)
    assert bench_record.benchmarks is not None
    assert [b.outcome for b in bench_record.benchmarks.benchmarks] == ["passed", "failed"]
    assert bench_record.comparison is not None
    assert [r.verdict for r in bench_record.comparison.rows] == ["missing", "unjudged"]


def test_files_without_users_or_failures_still_load_and_say_nothing_of_them(
    tmp_path: Path,
) -> None:
    v2 = migrate(V1_LOAD)  # a version 2 file from before users and failures were recorded
    record = read_record(_write(tmp_path, v2))
    assert record.users is None and record.failures is None


def test_users_and_failures_as_the_load_run_reads_them_round_trip(tmp_path: Path) -> None:
    (tmp_path / "locust_stats_history.csv").write_text(
        "Timestamp,User Count,Type,Name\n100,10,,Aggregated\n120,92,,Aggregated\n"
    )
    (tmp_path / USER_STARTS).write_text(
        json.dumps(
            {
                "started": 92,
                "failed": 8,
                "first_error": {
                    "user_class": "ContraVentoUser",
                    "endpoint": "POST /auth/register",
                    "status": 400,
                    "message": "400 VALIDATION_ERROR: special-use or reserved name",
                    "at": 101.2,
                },
            }
        )
    )
    (tmp_path / "locust_failures.csv").write_text(
        "Method,Name,Error,Occurrences\n"
        "GET,/trips/[trip_id],\"CatchResponseError('403 FORBIDDEN: private trip')\",12\n"
    )
    data = migrate(V1_LOAD) | {
        "users": read_users(tmp_path, planned=100),
        "failures": read_failures(tmp_path),
    }
    record = RunRecord.model_validate(data)
    assert record.users is not None and record.users.short
    assert (record.users.planned, record.users.reached, record.users.start_failures) == (100, 92, 8)
    error = record.users.first_start_error
    assert error is not None and (error.status, error.endpoint) == (400, "POST /auth/register")
    assert record.failures is not None and record.failures[0].endpoint == "GET /trips/[trip_id]"
    assert (record.failures[0].status, record.failures[0].count) == (403, 12)
    write_record(tmp_path, record)
    assert read_record(tmp_path) == record


def test_a_bench_run_records_no_users_or_failures(tmp_path: Path) -> None:
    data = migrate(V1_BENCH) | {"users": {"planned": 10, "reached": 10}}
    assert "no users or failures" in _refusal(_write(tmp_path, data))
    data = migrate(V1_BENCH) | {"failures": []}
    assert "no users or failures" in _refusal(_write(tmp_path / "b", data))


def test_a_failure_group_counts_at_least_one(tmp_path: Path) -> None:
    group = {"method": "GET", "name": "/feed", "status": 500, "message": "x", "count": 0}
    data = migrate(V1_LOAD) | {"failures": [group]}
    assert "failures[0].count" in _refusal(_write(tmp_path, data))
