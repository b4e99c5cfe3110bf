"""Reading one run folder's saved files: results.json, Locust's history, monitors, the profile.

Only results.json is required, and it is read as the run record (harness.record): a file
that does not fit the model is a ConfigError, so the renderers trust what they are given.
Every other file may be missing (a bench-only run has no Locust files, a run without
Docker no container data) or cut short by a crash, so each reader returns None for "not
recorded" and skips what does not parse. Everything read is redacted here, once, before
the record is validated, so no renderer can leak a secret by forgetting to.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.record import RESULTS, RunRecord, parse_record, read_raw
from harness.report.redact import redact, redact_text

LOCUST_HISTORY = "locust_stats_history.csv"
CONTAINERS = "monitor/containers.jsonl"
POSTGRES = "monitor/postgres.jsonl"
HOST = "monitor/host.jsonl"
PROFILE_SUMMARY = "profile/summary.json"  # where the profiler writes it when the record is silent
TOP_QUERIES = "monitor/pg_top_queries.json"
SERVICE_LOGS = "services"  # the tail of each service that crashed or restarted during the load
LOG_TAIL_MAX_CHARS = 20_000


@dataclass(frozen=True)
class LocustSample:
    """One "Aggregated" row of Locust's full history: the whole load at one moment."""

    t: float
    users: int
    rps: float
    failures_per_s: float
    p50_ms: float | None
    p95_ms: float | None


@dataclass(frozen=True)
class RunFolder:
    """What one run saved; None means the file was not recorded in this run."""

    path: Path
    results: RunRecord
    history: list[LocustSample] | None = None
    containers: list[dict[str, Any]] | None = None
    postgres: list[dict[str, Any]] | None = None
    top_queries: list[dict[str, Any]] | None = None
    host: list[dict[str, Any]] | None = None  # the host's CPU split by who used it, 1 Hz
    profile: dict[str, Any] | None = None  # profile/summary.json: the flame tree and top functions
    service_logs: dict[str, str] = field(default_factory=dict)  # service -> its log's tail
    # file -> what could not be read of it (a crash mid-write leaves half a line)
    unreadable: dict[str, str] = field(default_factory=dict)


def read_run(run_dir: Path) -> RunFolder:
    """The run folder's files, redacted; ConfigError when results.json is unusable."""
    results = parse_record(redact(read_raw(run_dir)), run_dir / RESULTS)
    unreadable: dict[str, str] = {}
    history = _read_history(run_dir, unreadable)
    containers = _read_jsonl(run_dir, CONTAINERS, unreadable, required=("t", "container"))
    postgres = _read_jsonl(run_dir, POSTGRES, unreadable, required=("t",))
    host = _read_jsonl(run_dir, HOST, unreadable, required=("t",))
    return RunFolder(
        path=run_dir,
        results=results,
        history=history,
        containers=containers,
        postgres=postgres,
        top_queries=_read_top_queries(run_dir, unreadable),
        host=host,
        profile=_read_profile(run_dir, results, unreadable),
        service_logs=_read_service_logs(run_dir, results),
        unreadable=unreadable,
    )


def _number(text: str | None) -> float | None:
    """A CSV cell as a finite float; None for Locust's "N/A" and anything else unreadable."""
    try:
        value = float(text or "")
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _read_history(run_dir: Path, unreadable: dict[str, str]) -> list[LocustSample] | None:
    path = run_dir / LOCUST_HISTORY
    try:
        with path.open(newline="", encoding="utf-8", errors="replace") as f:
            rows = list(csv.DictReader(f))
    except FileNotFoundError:
        return None
    except (OSError, csv.Error) as exc:
        unreadable[LOCUST_HISTORY] = f"cannot be read ({exc}); left out"
        return None
    samples = []
    bad = 0
    for row in rows:
        if row.get("Name") != "Aggregated":
            continue
        t, users, rps = (_number(row.get(k)) for k in ("Timestamp", "User Count", "Requests/s"))
        if t is None or users is None or rps is None:
            bad += 1  # a row cut short by a crash
            continue
        samples.append(
            LocustSample(
                t=t,
                users=int(users),
                rps=rps,
                failures_per_s=_number(row.get("Failures/s")) or 0.0,
                p50_ms=_number(row.get("50%")),
                p95_ms=_number(row.get("95%")),
            )
        )
    if bad:
        unreadable[LOCUST_HISTORY] = _skipped(bad)
    samples.sort(key=lambda s: s.t)
    return samples


def _read_jsonl(
    run_dir: Path, label: str, unreadable: dict[str, str], required: tuple[str, ...]
) -> list[dict[str, Any]] | None:
    path = run_dir / label
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return None
    except OSError as exc:
        unreadable[label] = f"cannot be read ({exc.strerror}); left out"
        return None
    rows = []
    bad = 0
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError:
            bad += 1
            continue
        if not isinstance(row, dict) or any(k not in row for k in required):
            bad += 1
            continue
        t = _number(str(row["t"]))
        if t is None:
            bad += 1
            continue
        rows.append({**row, "t": t})
    if bad:
        unreadable[label] = _skipped(bad)
    rows.sort(key=lambda r: float(r["t"]))
    redacted: list[dict[str, Any]] = redact(rows)
    return redacted


def _read_top_queries(run_dir: Path, unreadable: dict[str, str]) -> list[dict[str, Any]] | None:
    try:
        data = json.loads((run_dir / TOP_QUERIES).read_text(encoding="utf-8", errors="replace"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        data = None
    if not isinstance(data, list):
        unreadable[TOP_QUERIES] = "not a JSON list of queries; left out"
        return None
    queries: list[dict[str, Any]] = redact([q for q in data if isinstance(q, dict)])
    return queries


def _inside(run_dir: Path, relative: str) -> Path | None:
    """`relative` under `run_dir`, or None when it points outside the run folder."""
    path = (run_dir / relative).resolve()
    return path if path.is_relative_to(run_dir.resolve()) else None


def _read_profile(
    run_dir: Path, results: RunRecord, unreadable: dict[str, str]
) -> dict[str, Any] | None:
    """The profile's summary (flame tree, top functions), when the run recorded a profile."""
    profile = results.profile
    if profile is None or profile.status != "recorded":
        return None
    label = profile.summary or PROFILE_SUMMARY
    path = _inside(run_dir, label)
    if path is None:
        unreadable[label] = "outside the run folder; left out"
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8", errors="replace"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        data = None
    if not isinstance(data, dict):
        unreadable[label] = "not a JSON object (a profile summary); left out"
        return None
    summary: dict[str, Any] = redact(data)
    return summary


def _read_service_logs(run_dir: Path, results: RunRecord) -> dict[str, str]:
    """The log tails the incidents point to; only files inside the run's services folder."""
    logs: dict[str, str] = {}
    for incident in results.incidents or []:
        if incident.log_tail is None:
            continue
        name = Path(incident.log_tail).name
        try:
            text = (run_dir / SERVICE_LOGS / name).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        logs[incident.service] = redact_text(text[-LOG_TAIL_MAX_CHARS:])
    return logs


def _skipped(lines: int) -> str:
    return f"{lines} unreadable line{'s' if lines != 1 else ''} skipped (cut short by a crash?)"
