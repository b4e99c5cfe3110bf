"""What one benchmarked call costs the database: pg_stat_statements deltas around its calls.

Counts, not timings: a deterministic endpoint costs the same statements on every call, so the
deltas divided by the calls are exact and can be compared exactly. Three things would spoil
them, and are kept out:
  - statements that are not the benchmark's: the snapshots' own and a monitor's (anything
    reading the statistics views, `pg_stat...`), and statements of other databases;
  - a call's trailing statements: the backend closes its session (ROLLBACK) after it has sent
    the response, so before each snapshot the probe waits until no other connection to the
    database is inside a transaction or running a statement;
  - what a benchmark's setup does between its calls (creating the draft a round publishes):
    with a setup, a snapshot is taken after it, just before the call.
Warm-up calls are left out (the first call of a connection costs type look-ups), so the
calls measured are exactly the benchmark's timed rounds.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg

APP_NAME = "harness-bench-dbcost"
TOP_STATEMENTS = 5
SETTLE_S = 2.0  # the longest a snapshot waits for the other connections to go idle
QUERY_CHARS = 300
# Statements over the statistics views are the harness's (these snapshots, a monitor), never
# the backend's: left out of the counts. `toplevel` (PostgreSQL 14+) keeps nested statements
# out when pg_stat_statements.track = all.
COUNTERS = """
SELECT userid, queryid, calls, rows, shared_blks_hit, shared_blks_read, total_exec_time
FROM pg_stat_statements
WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND queryid IS NOT NULL AND position('pg_stat' in query) = 0 {toplevel}
"""
EVICTIONS = "SELECT dealloc FROM pg_stat_statements_info"
BUSY = """
SELECT count(*) FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid()
  AND backend_type = 'client backend'
  AND state IN ('active', 'idle in transaction', 'idle in transaction (aborted)')
  AND position('pg_stat' in coalesce(query, '')) = 0
"""
TEXTS = """
SELECT userid, queryid, query FROM pg_stat_statements
WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND queryid = ANY(%s)
"""
Key = tuple[int, int]  # (userid, queryid)


def first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]


@dataclass(frozen=True)
class Counters:
    """One statement's counters (or their sum, or a delta)."""

    calls: int = 0
    rows: int = 0
    hit: int = 0
    read: int = 0
    exec_ms: float = 0.0

    def __add__(self, other: Counters) -> Counters:
        return Counters(
            self.calls + other.calls,
            self.rows + other.rows,
            self.hit + other.hit,
            self.read + other.read,
            self.exec_ms + other.exec_ms,
        )

    def __sub__(self, other: Counters) -> Counters:
        return Counters(
            self.calls - other.calls,
            self.rows - other.rows,
            self.hit - other.hit,
            self.read - other.read,
            self.exec_ms - other.exec_ms,
        )


@dataclass(frozen=True)
class Snapshot:
    counters: dict[Key, Counters]
    evictions: int | None  # pg_stat_statements_info.dealloc; None before PostgreSQL 14
    settled: bool  # False: another connection was still busy when it was taken


def delta(before: Snapshot, after: Snapshot) -> dict[Key, Counters] | None:
    """What ran between two snapshots; None when pg_stat_statements lost counts meanwhile (a
    reset, or entries evicted to make room): a count that went down, or an entry that went."""
    if before.evictions != after.evictions:
        return None
    moved: dict[Key, Counters] = {}
    for key, now in after.counters.items():
        change = now - before.counters.get(key, Counters())
        if change.calls < 0:
            return None
        if change.calls:
            moved[key] = change
    if any(key not in after.counters for key in before.counters):
        return None
    return moved


def ranked(totals: dict[Key, Counters], top: int = TOP_STATEMENTS) -> list[Key]:
    """The statements to show: the most executed first (an N+1 tops the list), then the
    slowest."""
    return sorted(totals, key=lambda k: (-totals[k].calls, -totals[k].exec_ms, k))[:top]


def per_call(totals: dict[Key, Counters], calls: int, texts: dict[Key, str]) -> dict[str, Any]:
    """The cost of one call (harness.record.DbCost, as written), from the totals over `calls`."""
    whole = sum(totals.values(), Counters())

    def each(value: float) -> float:
        return round(value / calls, 4)

    return {
        "calls": calls,
        "queries": each(whole.calls),
        "rows": each(whole.rows),
        "shared_hit": each(whole.hit),
        "shared_read": each(whole.read),
        "exec_ms": each(whole.exec_ms),
        "statements": [
            {
                "query": texts.get(key, f"queryid {key[1]}"),
                "calls": each(c.calls),
                "rows": each(c.rows),
                "exec_ms": each(c.exec_ms),
            }
            for key, c in ((k, totals[k]) for k in ranked(totals))
        ],
    }


class Probe:
    """Snapshots of the database's pg_stat_statements, or the note that says why there are none."""

    def __init__(self, conn: psycopg.Connection[Any] | None, note: str | None = None) -> None:
        self.conn = conn
        self.note = note
        toplevel = conn is not None and _has_toplevel(conn)
        self._counters = COUNTERS.format(toplevel="AND toplevel" if toplevel else "")
        self._evictions = conn is not None and _readable(conn, EVICTIONS)

    @property
    def available(self) -> bool:
        return self.conn is not None

    def snapshot(self) -> Snapshot:
        assert self.conn is not None
        settled = self._settle()
        counters = {
            (int(user), int(query)): Counters(int(c), int(r), int(h), int(d), float(t))
            for user, query, c, r, h, d, t in self.conn.execute(self._counters).fetchall()
        }
        evictions = None
        if self._evictions:
            row = self.conn.execute(EVICTIONS).fetchone()
            evictions = int(row[0]) if row else None
        return Snapshot(counters, evictions, settled)

    def texts(self, keys: list[Key]) -> dict[Key, str]:
        """The normalised text of each statement, on one line and cut short."""
        assert self.conn is not None
        if not keys:
            return {}
        rows = self.conn.execute(TEXTS, ([q for _, q in keys],)).fetchall()
        wanted = set(keys)
        return {
            (int(u), int(q)): " ".join(str(text).split())[:QUERY_CHARS]
            for u, q, text in rows
            if (int(u), int(q)) in wanted
        }

    def _settle(self) -> bool:
        """Wait until no other connection to the database is busy; False when time ran out."""
        assert self.conn is not None
        deadline = time.monotonic() + SETTLE_S
        while True:
            row = self.conn.execute(BUSY).fetchone()
            if not row or not row[0]:
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.002)

    def meter(self, warmup: int) -> Meter:
        return Meter(self, warmup)

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


def _has_toplevel(conn: psycopg.Connection[Any]) -> bool:
    row = conn.execute(
        "SELECT count(*) FROM pg_attribute WHERE attrelid = 'pg_stat_statements'::regclass"
        " AND attname = 'toplevel'"
    ).fetchone()
    return bool(row and row[0])


def _readable(conn: psycopg.Connection[Any], sql: str) -> bool:
    try:
        conn.execute(sql).fetchall()
    except psycopg.Error:
        return False
    return True


def open_probe(dsn: str | None) -> Probe:
    """A probe of the database at `dsn`; without pg_stat_statements there, a note instead."""
    if dsn is None:
        return Probe(None, "no database DSN for this target: database cost not measured")
    if dsn.startswith("sqlite"):
        return Probe(None, "SQLite has no pg_stat_statements: database cost not measured")
    try:
        conn = psycopg.connect(dsn, autocommit=True, connect_timeout=10, application_name=APP_NAME)
    except psycopg.Error as exc:
        return Probe(None, f"cannot connect to the database ({first_line(exc)})")
    # Needs CREATE on the database; a user without it may still find the extension there.
    with contextlib.suppress(psycopg.Error):
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    try:
        conn.execute("SELECT count(*) FROM pg_stat_statements").fetchone()
        return Probe(conn)
    except psycopg.Error as exc:
        conn.close()
        return Probe(
            None,
            f"pg_stat_statements is not usable in this database ({first_line(exc)}): database"
            " cost not measured; it needs shared_preload_libraries=pg_stat_statements and"
            " CREATE EXTENSION pg_stat_statements",
        )


@dataclass
class Meter:
    """One benchmark's calls: pytest-benchmark's setup and teardown hooks bracket each timed
    round with snapshots (outside the timing), and the deltas add up here."""

    probe: Probe
    warmup: int
    calls: int = 0
    rounds_seen: int = 0
    lost: bool = False  # pg_stat_statements lost counts while measuring
    unsettled: int = 0  # snapshots taken while another connection was still busy
    totals: dict[Key, Counters] = field(default_factory=dict)
    _last: Snapshot | None = None

    def setup(
        self, user_setup: Callable[[], tuple[tuple[Any, ...], dict[str, Any]]] | None
    ) -> Callable[[], tuple[tuple[Any, ...], dict[str, Any]] | None]:
        """The round's setup, then (for a timed round) the snapshot the call is measured from:
        taken after the setup's own requests, or kept from the previous round without one."""

        def hook() -> tuple[tuple[Any, ...], dict[str, Any]] | None:
            made = user_setup() if user_setup is not None else None
            if self.rounds_seen >= self.warmup and (user_setup is not None or self._last is None):
                self._last = self._take()
            return made

        return hook

    def teardown(self, *_args: Any, **_kwargs: Any) -> None:
        """After each round: a timed round's call is counted and its delta added."""
        self.rounds_seen += 1
        if self.rounds_seen <= self.warmup or self._last is None:
            return
        now = self._take()
        moved = delta(self._last, now)
        if moved is None:
            self.lost = True
        else:
            for key, change in moved.items():
                self.totals[key] = self.totals.get(key, Counters()) + change
        self._last = now
        self.calls += 1

    def _take(self) -> Snapshot:
        shot = self.probe.snapshot()
        if not shot.settled:
            self.unsettled += 1
        return shot

    def cost(self) -> tuple[dict[str, Any] | None, str | None]:
        """The cost per call (DbCost's fields) and a note; (None, why) when it is not exact."""
        if self.lost:
            return None, (
                "pg_stat_statements lost counts while measuring (a reset, or entries evicted:"
                " raise pg_stat_statements.max): database cost not recorded"
            )
        if not self.calls:
            return None, "no timed call was measured"
        texts = self.probe.texts(ranked(self.totals))
        cost = per_call(self.totals, self.calls, texts)
        note = None
        if self.unsettled:
            note = (
                f"{self.unsettled} snapshot(s) taken while another connection was busy for"
                f" over {SETTLE_S:.0f} s: its statements may be counted"
            )
        return cost, note
