"""What the benchmark suite's fixtures and benchmarks share: settings, checks, the database.

The suite is run by `harness bench` (harness.bench.runner), which sets:
  CV_BENCH_TARGET         the backend's base URL
  CV_BENCH_DSN            the stack's database (postgresql://... or sqlite:///...), optional
  CV_BENCH_TARGETS        the targets TOML (p95 per benchmark, max_queries where given)
  CV_BENCH_ROUNDS         measured rounds per benchmark; CV_BENCH_WARMUP warm-up rounds
  CV_BENCH_BCRYPT_ROUNDS  the backend's bcrypt cost, for the hashing benchmarks

Everything a benchmark needs is created through the API here, outside the timed part, and
every request's status is checked: a benchmark never times something that did not happen.
Where the database has pg_stat_statements, each benchmark's timed calls are also costed in
statements, rows and blocks per call (dbcost.py), written to benchmark.json's extra_info.
"""

from __future__ import annotations

import sqlite3
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg

from harness.bench.suite.dbcost import Probe

PASSWORD = "Bench!Rider1234"  # noqa: S105 -- the benchmark's own throwaway accounts
# Not .test/.invalid/.local: a strict validator (email-validator) refuses those with 400.
EMAIL_DOMAIN = "bench.example.com"
MASK = "***"
USER_TRIPS = 20


class UnexpectedStatus(AssertionError):
    """A request answered something other than what the contract promises."""


def expect(response: httpx.Response, status: int = 200) -> Any:
    if response.status_code != status:
        raise UnexpectedStatus(
            f"{response.request.method} {response.request.url.path} answered "
            f"{response.status_code} (expected {status}): {response.text[:300]}"
        )
    return response.json()


def p95(samples: list[float]) -> float:
    """The 95th percentile (inclusive method), as the regression gate computes it."""
    if len(samples) == 1:
        return samples[0]
    return statistics.quantiles(samples, n=20, method="inclusive")[18]


def masked_dsn(dsn: str) -> str:
    """The DSN with its password as ***: postgresql://cv:***@127.0.0.1:5432/cv."""
    parts = urlsplit(dsn)
    if parts.password is None:
        return dsn
    user, _, host = parts.netloc.rpartition("@")
    return urlunsplit(parts._replace(netloc=f"{user.partition(':')[0]}:{MASK}@{host}"))


@dataclass(frozen=True)
class Settings:
    """The suite's settings, from the environment `harness bench` sets.

    Their repr, which pytest prints among a failing benchmark's arguments (into bench.log and
    the JUnit file), shows the DSN without its password.
    """

    target: str
    dsn: str | None
    targets: dict[str, Any]
    rounds: int
    warmup: int
    bcrypt_rounds: int

    def __repr__(self) -> str:
        dsn = masked_dsn(self.dsn) if self.dsn else None
        return (
            f"Settings(target={self.target!r}, dsn={dsn!r}, rounds={self.rounds}, "
            f"warmup={self.warmup}, bcrypt_rounds={self.bcrypt_rounds})"
        )

    def p95_target_ms(self, name: str) -> float:
        return float(self.targets["benchmarks"][name]["p95_ms"])

    def max_queries(self, name: str) -> int | None:
        limit = self.targets["benchmarks"][name].get("max_queries")
        return int(limit) if limit is not None else None


@dataclass
class Account:
    username: str
    user_id: str
    access_token: str
    refresh_token: str

    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


def trip_body(title: str = "Benchmark ride") -> dict[str, Any]:
    return {
        "title": title,
        "description": "A benchmark ride: a quiet valley road, one long climb and a fast descent.",
        "start_date": "2025-06-01",
        "end_date": "2025-06-02",
        "distance_km": 84.5,
        "difficulty": "moderate",
        "tags": ["benchmark", "gravel", "valley"],
        "locations": [
            {"name": "Segovia", "latitude": 40.95, "longitude": -4.12},
            {"name": "Navacerrada", "latitude": 40.73, "longitude": -4.01},
        ],
    }


class Database:
    """The stack's database, PostgreSQL (psycopg) or SQLite, with one placeholder style."""

    def __init__(self, dsn: str) -> None:
        self.sqlite = dsn.startswith("sqlite")
        if self.sqlite:
            # sqlite:////abs/path.db -> /abs/path.db; mode=rw: never create an empty database
            path = dsn.removeprefix("sqlite:///")
            self.conn: Any = sqlite3.connect(f"file:{path}?mode=rw", uri=True)
        else:
            self.conn = psycopg.connect(dsn, autocommit=True)

    def rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        if self.sqlite:
            sql = sql.replace("%s", "?")
        return list(self.conn.execute(sql, params).fetchall())

    def close(self) -> None:
        self.conn.close()


def measure(
    benchmark: Any,
    settings: Settings,
    name: str,
    target: Callable[..., Any],
    setup: Callable[[], tuple[tuple[Any, ...], dict[str, Any]]] | None = None,
    rounds: int | None = None,
    db: Probe | None = None,
) -> None:
    """Time `target` once per round; fail when the p95 of the rounds is over the target, or
    (with `db`, the database the target uses) when a call costs more queries than allowed."""
    meter = db.meter(settings.warmup) if db is not None and db.available else None
    benchmark.pedantic(
        target,
        setup=meter.setup(setup) if meter is not None else setup,
        teardown=meter.teardown if meter is not None else None,
        rounds=rounds or settings.rounds,
        warmup_rounds=settings.warmup,
        iterations=1,
    )
    samples = [s * 1000 for s in benchmark.stats.stats.data]
    limit = settings.p95_target_ms(name)
    observed = p95(samples)
    benchmark.extra_info.update(
        {"p95_ms": round(observed, 3), "target_p95_ms": limit, "passed": observed <= limit}
    )
    problems = []
    if observed > limit:
        problems.append(f"p95 {observed:.1f} ms is over the target {limit:.0f} ms")
    if db is not None:
        cost, note = meter.cost() if meter is not None else (None, db.note)
        if cost is not None:
            benchmark.extra_info["db"] = cost
        if note is not None:
            benchmark.extra_info["db_note"] = note
        over = too_many_queries(cost, settings.max_queries(name))
        if over:
            benchmark.extra_info["passed"] = False
            problems.append(over)
    assert not problems, "; ".join(problems)


def too_many_queries(cost: dict[str, Any] | None, limit: int | None) -> str | None:
    """Why a call's queries are over the limit, naming the most executed statement; None when
    they are not (or were not measured)."""
    if cost is None or limit is None or cost["queries"] <= limit:
        return None
    message = f"{as_count(cost['queries'])} queries per call > max_queries {limit}: an N+1?"
    if cost["statements"]:
        top = cost["statements"][0]
        message += f" top statement: {top['query'][:120]} x{as_count(top['calls'])} per call"
    return message


def as_count(value: float) -> str:
    """A per-call count as read: 5, or 10.03 when the calls did not all cost the same."""
    return f"{value:.0f}" if value == int(value) else f"{value:.2f}"
