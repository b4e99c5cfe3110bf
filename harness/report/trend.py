"""A run's figures over nights: github-action-benchmark's two custom formats, from results.json.

github-action-benchmark keeps a history of named values per commit and charts it. Its custom
tools read a JSON array of {"name", "unit", "value", optional "range" and "extra" (both
strings)}, one tool per direction:

  trend-smaller.json (customSmallerIsBetter)  "p95 METHOD /path" and "p95 all requests" in ms,
                                              for a load run; "bench NAME median" in ms, for
                                              every benchmark of the suite that was measured
  trend-bigger.json (customBiggerIsBetter)    "rps METHOD /path" and "rps all requests" in
                                              req/s, for a load run; [] for a bench-only run

An endpoint without requests has no figure and is left out, as is a benchmark without a
median. Every entry's "extra" carries the run's verdict, commit and id, so a point on the chart
leads back to its run. Only results.json is read (redacted, as the report reads it): the
values published are the ones the run recorded.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.errors import ConfigError
from harness.record import RESULTS, EndpointStats, RunRecord, parse_record, read_raw
from harness.report.redact import redact

TREND_SMALLER = "trend-smaller.json"  # github-action-benchmark tool: customSmallerIsBetter
TREND_BIGGER = "trend-bigger.json"  # github-action-benchmark tool: customBiggerIsBetter
ALL_REQUESTS = "all requests"  # the name the aggregate goes by


def trend_entries(run_dir: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The run's (smaller-is-better, bigger-is-better) entries; ConfigError on a bad folder."""
    record = parse_record(redact(read_raw(run_dir)), run_dir / RESULTS)
    extra = _extra(record)
    smaller: list[dict[str, Any]] = []
    bigger: list[dict[str, Any]] = []
    if record.run.kind == "load":
        for label, stats in _measured_endpoints(record):
            if stats.p95_ms is not None:
                smaller.append(_entry(f"p95 {label}", "ms", stats.p95_ms, extra))
            bigger.append(_entry(f"rps {label}", "req/s", stats.rps, extra))
    for bench in record.benchmarks.benchmarks if record.benchmarks else []:
        if bench.median_ms is not None:
            smaller.append(_entry(f"bench {bench.name} median", "ms", bench.median_ms, extra))
    return smaller, bigger


def write_trend(run_dir: Path) -> list[Path]:
    """Write trend-smaller.json and trend-bigger.json into `run_dir`; returns their paths."""
    run_dir = Path(run_dir)
    written = []
    for name, entries in zip((TREND_SMALLER, TREND_BIGGER), trend_entries(run_dir), strict=True):
        path = run_dir / name
        # write then rename, so the CI step never reads half a file
        tmp = path.with_name(f".{name}.tmp")
        try:
            tmp.write_text(json.dumps(entries, indent=2) + "\n", encoding="utf-8")
            tmp.replace(path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise ConfigError(
                f"cannot write {path} ({exc.strerror})",
                "copy the run folder somewhere writable and build the trend files there",
            ) from None
        written.append(path)
    return written


def _measured_endpoints(record: RunRecord) -> list[tuple[str, EndpointStats]]:
    """Per endpoint with requests, then the aggregate: its label and its figures."""
    rows = [(f"{e.method} {e.name}", e) for e in record.endpoints if e.requests > 0]
    if record.aggregate is not None and record.aggregate.requests > 0:
        rows.append((ALL_REQUESTS, record.aggregate))
    return rows


def _entry(name: str, unit: str, value: float, extra: str) -> dict[str, Any]:
    return {"name": name, "unit": unit, "value": round(value, 3), "extra": extra}


def _extra(record: RunRecord) -> str:
    return (
        f"verdict: {record.verdict}\ncommit: {record.run.commit or 'unknown'}\nrun: {record.run.id}"
    )
