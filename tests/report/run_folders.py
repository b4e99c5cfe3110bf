"""The report tests' run folders (fixtures, copies to write into), small run records, page data."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

from harness.record import BenchSummary, RunMeta, RunRecord, Shape

FIXTURES = Path(__file__).resolve().parent / "fixtures"
FULL_LOAD = FIXTURES / "full-load"
BENCH_ONLY = FIXTURES / "bench-only"
# Planted in the full-load fixture: a DSN password in a warning, a JWT secret in another, an
# ALTER ROLE in the top queries.
SECRETS = ("hunter2secret", "jwt-signing-key")
XSS_NAME = "/search?q=<script>alert(1)</script>"
# The charts a full run draws, in page order; a diagnosed run (issue 15) draws three more.
CHARTS = (
    "throughput",
    "latency",
    "knee",
    "cpu",
    "memory",
    "db-connections",
    "db-transactions",
    "db-cache",
)
DIAGNOSED_CHARTS = (*CHARTS, "db-waits", "host-cpu", "flame")
VALID_CONTAINER_LINES = 244  # containers.jsonl also ends with one line cut short

DATA = re.compile(r'<script type="application/json" id="report-data">(.*?)</script>', re.DOTALL)


def copy_run(source: Path, into: Path) -> Path:
    """A writable copy of a fixture run folder (the report writes into its run folder)."""
    target = into / source.name
    shutil.copytree(source, target)
    return target


def page_data(html: str) -> dict[str, Any]:
    """The figures index.html embeds for plotly: {"config", "charts": {name: figure}}."""
    match = DATA.search(html)
    assert match is not None, "index.html embeds no report-data"
    data: dict[str, Any] = json.loads(match[1])
    return data


def edit_results(run_dir: Path, **changes: Any) -> None:
    path = run_dir / "results.json"
    results = json.loads(path.read_text())
    results.update(changes)
    path.write_text(json.dumps(results))


def run_meta(kind: str = "load", **changes: Any) -> RunMeta:
    """The "run" block of a load (or bench) run, with `changes` on top."""
    fields: dict[str, Any] = {
        "id": f"20261201-120000-{kind}",
        "kind": kind,
        "provider": "local",
        "stack_id": "cv-00000000",
        "target": "http://127.0.0.1:8000",
        "started_at": "2026-12-01T12:00:00+00:00",
        "finished_at": "2026-12-01T12:01:10+00:00",
        "host": "test",
        "python": "3.11.7",
    }
    if kind == "load":
        fields |= {
            "shape": Shape(
                name="baseline", users=10, spawn_rate=5, duration_s=60, warmup_s=10, kind="steady"
            ),
            "scenario": "mixed",
            "user_classes": ["ContraVentoUser"],
            "workers": 1,
            "http_client": "fast",
            "slo_file": "default-slo.toml",
        }
    return RunMeta.model_validate(fields | changes)


def bench_summary(rows: list[dict[str, Any]], **changes: Any) -> BenchSummary:
    """A benchmark suite's summary holding `rows`."""
    fields: dict[str, Any] = {
        "suite": "harness/bench/suite",
        "rounds": 5,
        "warmup_rounds": 1,
        "bcrypt_rounds": 12,
        "seconds": 10.0,
        "json": "benchmark.json",
        "junit": "bench-junit.xml",
        "benchmarks": rows,
        "verdict": "PASS",
    }
    return BenchSummary.model_validate(fields | changes)


def record(kind: str = "load", run: dict[str, Any] | None = None, **changes: Any) -> RunRecord:
    """A run record of `kind` (a bench run gets an empty suite), with `changes` on top."""
    fields: dict[str, Any] = {"run": run_meta(kind, **(run or {})), "verdict": "PASS"}
    if kind == "bench":
        fields["benchmarks"] = bench_summary([])
    return RunRecord.model_validate(fields | changes)


# A load that fell short of its users, and its failures grouped (one message is hostile).
SHORT_USERS: dict[str, Any] = {
    "planned": 100,
    "reached": 92,
    "started": 92,
    "start_failures": 8,
    "first_start_error": {
        "user_class": "ContraVentoUser",
        "endpoint": "POST /auth/register",
        "status": 400,
        "message": "VALIDATION_ERROR: special-use or reserved name",
    },
}
SHORT_USERS_LINE = (
    "users: reached 92 of 100 planned; 8 could not start; first error: "
    "POST /auth/register -> 400 VALIDATION_ERROR: special-use or reserved name"
)
FAILURE_GROUPS: list[dict[str, Any]] = [
    {
        "method": "GET",
        "name": "/trips/[trip_id]",
        "status": 403,
        "message": "FORBIDDEN: <script>alert(1)</script> | private",
        "count": 37,
    },
    {"method": "POST", "name": "/auth/login", "status": 401, "message": "BAD: x", "count": 2},
    {
        "method": "GET",
        "name": "/trips/public",
        "status": None,
        "message": "ConnectionRefusedError(111, 'Connection refused')",
        "count": 1,
    },
]


# Issue 15: a load run judged for validity and diagnosed. Its times sit on the full-load
# fixture's: Locust's history runs from LOAD_START to +60 s.
LOAD_START = 1795947302.0
WINDOW: dict[str, Any] = {
    "start": LOAD_START + 19,
    "end": LOAD_START + 60,
    "warmup_s": 19.0,
    "ramp_measured": False,
    "users": 50,
    "starts_done": True,
    "steady": True,
    "checks": [
        {
            "metric": "rps",
            "first": 141.2,
            "last": 137.9,
            "change": -0.0234,
            "tau": -0.2,
            "steady": True,
        },
        {
            "metric": "p95_ms",
            "first": 150.0,
            "last": 196.0,
            "change": 0.3067,
            "tau": 0.4,
            "steady": True,
        },
        {"metric": "users", "first": 50, "last": 50, "change": 0.0, "tau": None, "steady": True},
    ],
}
WINDOW_LINE = "Measured window: 41 s after a 19 s warm-up (50 users running, all started); steady"
HOST_LOAD: dict[str, Any] = {
    "cores": 2,
    "samples": 41,
    "busy": 0.62,
    "outside": 0.05,
    "steal": 0.01,
    "harness": 0.03,
    "top_outside": [
        {"pid": 4711, "name": "<b>backup</b>.sh", "cores": 0.08},
        {"pid": 815, "name": "dockerd", "cores": 0.02},
    ],
}
COVERAGE = {"cv-a1b2c3d4-backend": 1.0, "cv-a1b2c3d4-postgres": 0.975}
PROFILE: dict[str, Any] = {
    "status": "recorded",
    "samples": 4000,
    "processes": 2,
    "rate_hz": 100.0,
    "top": [
        {
            "function": "hashpw",
            "file": "bcrypt/__init__.py",
            "own_share": 0.41,
            "total_share": 0.41,
            "own_samples": 1640,
        },
        {
            "function": "execute",
            "file": "sqlalchemy/engine/base.py",
            "own_share": 0.12,
            "total_share": 0.3,
            "own_samples": 480,
        },
        {
            "function": "<lambda>",
            "file": None,
            "own_share": 0.02,
            "total_share": 0.02,
            "own_samples": 80,
        },
    ],
    "summary": "profile/summary.json",
}
SKIPPED_PROFILE = {"status": "skipped", "reason": "py-spy needs SYS_PTRACE on this host"}
# inclusive samples: a node's value holds its children's
FLAME = [
    {"id": "all", "parent": "", "label": "all", "value": 4000},
    {"id": "w", "parent": "all", "label": "uvicorn worker", "value": 3900},
    {"id": "login", "parent": "w", "label": "login (auth.py:40)", "value": 2100},
    {"id": "hash", "parent": "login", "label": "hashpw (bcrypt/__init__.py:88)", "value": 1640},
    {"id": "feed", "parent": "w", "label": "feed (trips.py:12)", "value": 1500},
    {"id": "exec", "parent": "feed", "label": "execute (base.py:1400)", "value": 1200},
    {"id": "xss", "parent": "feed", "label": "<img src=x onerror=alert(1)>", "value": 100},
]
CAUSES: list[dict[str, Any]] = [
    {
        "code": "db_waits",
        "summary": "sessions waited on row locks",
        "endpoints": [f"GET {XSS_NAME}"],
        "evidence": ["Lock waits: median 4 sessions over the window"],
        "hint": None,
        "weight": 0.3,
    },
    {
        "code": "bcrypt",
        "summary": "bcrypt hashing took the backend's CPU",
        "endpoints": ["POST /auth/login"],
        "evidence": ["hashpw: 41 % of the profile's samples", "backend CPU at 98 % of its cores"],
        "hint": "lower the bcrypt rounds for the test, or add backend workers",
        "weight": 0.9,
    },
]
INVALID: list[dict[str, Any]] = [
    {
        "code": "host_busy",
        "message": "other programs used 35% of the machine during the window",
        "evidence": ["outside: <b>backup</b>.sh (pid 4711) 0.70 cores"],
        "hint": "close the programs named above, then run again",
    },
    {
        "code": "samples_missing",
        "message": "the monitors missed part of the window",
        "evidence": ["cv-a1b2c3d4-postgres: 61% of the expected 1 Hz samples"],
        "hint": "close other programs and run again",
    },
]


def _host_rows() -> list[dict[str, Any]]:
    rows = []
    for i in range(62):
        stack = 0.3 if i < 15 else 1.0 + (i % 5) * 0.02
        rows.append(
            {
                "t": LOAD_START - 1.5 + i,
                "cores": 2,
                "busy_cores": stack + 0.35,
                "steal_cores": 0.02,
                "iowait_cores": 0.0,
                "stack_cores": stack,
                "generator_cores": 0.2,
                "harness_cores": 0.05,
                "outside_cores": 0.1,
                "top": [{"pid": 4711, "name": "backup.sh", "cores": 0.08}],
            }
        )
    return rows


def _add_wait_events(run_dir: Path) -> None:
    path = run_dir / "monitor" / "postgres.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    for i, row in enumerate(rows):
        if i >= 3:  # the first samples predate the wait-event sampler: gaps, not zeros
            row["wait_events"] = {"CPU": 3 + i % 4, "Lock": i % 3, "IO": 1, "Client": 6}
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def diagnosed_run(into: Path, **changes: Any) -> Path:
    """The full-load run as issue 15's pipeline writes it: a FAIL with its causes, a window,
    the host's load, monitor coverage, a recorded profile, host and wait-event samples."""
    run_dir = copy_run(FULL_LOAD, into)
    lines = "".join(json.dumps(r) + "\n" for r in _host_rows())
    (run_dir / "monitor" / "host.jsonl").write_text(lines)
    _add_wait_events(run_dir)
    (run_dir / "profile").mkdir()
    summary = {"status": "recorded", "samples": 4000, "duration_s": 41.0, "flame": FLAME}
    (run_dir / "profile" / "summary.json").write_text(json.dumps(summary))
    run = json.loads((run_dir / "results.json").read_text())["run"]
    fields: dict[str, Any] = {
        "schema_version": 2,
        "run": {**run, "kind": "load"},
        "window": WINDOW,
        "host": HOST_LOAD,
        "coverage": COVERAGE,
        "profile": PROFILE,
        "causes": CAUSES,
    }
    edit_results(run_dir, **(fields | changes))
    return run_dir


def invalid_run(into: Path, **changes: Any) -> Path:
    """The diagnosed run judged INVALID: the host was busy and the monitors missed samples."""
    fields = {"verdict": "INVALID", "invalid": INVALID, "causes": None}
    return diagnosed_run(into, **(fields | changes))
