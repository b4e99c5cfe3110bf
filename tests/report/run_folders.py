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
# The charts a full run draws, in page order.
CHARTS = ("throughput", "latency", "cpu", "memory", "db-connections", "db-transactions", "db-cache")
VALID_CONTAINER_LINES = 244  # containers.jsonl also ends with one line cut short

DATA = re.compile(r'<script type="application/json" id="report-data">(.*?)</script>', re.DOTALL)


def copy_run(source: Path, into: Path) -> Path:
    """A writable copy of a fixture run folder (the report writes into its run folder)."""
    target = into / source.name
    shutil.copytree(source, target)
    return target


def page_data(html: str) -> dict[str, Any]:
    """The chart data index.html embeds for its script."""
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
