"""PostgreSQL activity at ~1 Hz (connections, waits, commit rates, cache hits), its top queries.

Each sample is one statement: connection states, what the active backends wait on, the
longest open transaction, connections per application and pg_stat_database's counters.
Rates come from the deltas of those counters between samples. The top queries
come from pg_stat_statements, reset when sampling starts so they describe this run only.
The sampler's own connection is left out of the connection counts.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import psycopg

from harness.monitor.containers import JsonlWriter

# One statement a second: pg_stat_activity is read once (the CTE), with the database's
# counters. An active backend with no wait event is on the CPU.
SAMPLE = """
WITH a AS (
    SELECT state, wait_event_type, xact_start, application_name FROM pg_stat_activity
    WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()
)
SELECT
    (SELECT coalesce(json_object_agg(s, n), '{}') FROM
        (SELECT coalesce(state, 'unknown') AS s, count(*) AS n FROM a GROUP BY 1) x),
    (SELECT coalesce(json_object_agg(w, n), '{}') FROM
        (SELECT coalesce(wait_event_type, 'CPU') AS w, count(*) AS n FROM a
         WHERE state = 'active' GROUP BY 1) x),
    (SELECT extract(epoch FROM max(now() - xact_start))::float8 FROM a),
    (SELECT coalesce(json_object_agg(app, n), '{}') FROM
        (SELECT coalesce(nullif(application_name, ''), 'unknown') AS app, count(*) AS n FROM a
         GROUP BY 1) x),
    d.xact_commit, d.xact_rollback, d.blks_hit, d.blks_read, d.deadlocks, d.temp_bytes
FROM pg_stat_database d WHERE d.datname = current_database()
"""
# Always present in wait_events (0 when none), so every row has the same keys
WAIT_TYPES = ("CPU", "Lock", "LWLock", "IO", "IPC", "Client", "Timeout", "BufferPin", "Activity")
TOP_QUERIES = """
SELECT query, calls, total_exec_time, mean_exec_time, rows FROM pg_stat_statements
WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND position('pg_stat' in query) = 0  -- the monitors' and the bench suite's own probes
ORDER BY total_exec_time DESC LIMIT %s
"""


def first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]


class PostgresSampler:
    """Samples the database at `dsn` into postgres.jsonl; top queries into pg_top_queries.json."""

    def __init__(self, dsn: str, out_dir: Path, interval_s: float = 1.0, top: int = 10) -> None:
        self.dsn = dsn
        self.out_dir = out_dir
        self.interval_s = interval_s
        self.top = top
        self.writer = JsonlWriter(out_dir / "postgres.jsonl")
        self.notes: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="monitor-postgres", daemon=True)
        self.samples = 0

    def start(self) -> PostgresSampler:
        self._thread.start()
        return self

    def stop(self) -> int:
        self._stop.set()
        self._thread.join(timeout=15)
        self.writer.close()
        self._save_top_queries()
        return self.samples

    def _connect(self) -> psycopg.Connection[Any]:
        return psycopg.connect(self.dsn, autocommit=True, connect_timeout=5)

    def _run(self) -> None:
        try:
            conn = self._connect()
        except psycopg.Error as exc:
            self.notes.append(f"no PostgreSQL samples: cannot connect ({first_line(exc)})")
            return
        try:
            conn.execute("SELECT pg_stat_statements_reset()")
        except psycopg.Error as exc:
            self.notes.append(f"pg_stat_statements not reset: {first_line(exc)}")
        row = conn.execute("SHOW max_connections").fetchone()
        max_connections = int(row[0]) if row else 0
        previous: tuple[float, tuple[int, ...]] | None = None
        lost = 0
        next_at = time.monotonic()
        while not self._stop.is_set():
            try:
                if conn.closed:
                    conn = self._connect()
                previous = self._sample(conn, max_connections, previous)
            except psycopg.Error:  # the database restarted: reconnect next round, keep going
                lost += 1
                conn.close()
            next_at += self.interval_s
            self._stop.wait(max(next_at - time.monotonic(), 0.0))
        conn.close()
        if lost:
            self.notes.append(f"{lost} PostgreSQL sample(s) lost (database unreachable)")

    def _sample(
        self,
        conn: psycopg.Connection[Any],
        max_connections: int,
        previous: tuple[float, tuple[int, ...]] | None,
    ) -> tuple[float, tuple[int, ...]]:
        now = time.time()
        found = conn.execute(SAMPLE).fetchone()
        if found is None:
            raise psycopg.OperationalError("the database is not in pg_stat_database")
        states, waits, longest, applications, *values = found
        counters = tuple(int(v or 0) for v in values)
        commit, rollback, hit, read, deadlocks, temp_bytes = counters
        row: dict[str, Any] = {
            "t": round(now, 3),
            "connections": {str(k): int(n) for k, n in (states or {}).items()},
            "max_connections": max_connections,
            "wait_events": {**dict.fromkeys(WAIT_TYPES, 0), **(waits or {})},
            "longest_transaction_s": round(float(longest), 3) if longest is not None else None,
            "by_application": {str(k): int(n) for k, n in (applications or {}).items()},
            "xact_commit_per_s": None,
            "xact_rollback_per_s": None,
            "cache_hit_ratio": None,
            "deadlocks": deadlocks,
            "temp_bytes": temp_bytes,
        }
        if previous is not None:
            then, before = previous
            elapsed = max(now - then, 1e-6)
            row["xact_commit_per_s"] = round((commit - before[0]) / elapsed, 2)
            row["xact_rollback_per_s"] = round((rollback - before[1]) / elapsed, 2)
            hits, reads = hit - before[2], read - before[3]
            row["cache_hit_ratio"] = round(hits / (hits + reads), 4) if hits + reads else None
        self.writer.write(row)
        self.samples += 1
        return now, counters

    def _save_top_queries(self) -> None:
        try:
            with self._connect() as conn:
                rows = conn.execute(TOP_QUERIES, (self.top,)).fetchall()
        except psycopg.Error as exc:
            self.notes.append(f"no top queries: {first_line(exc)}")
            return
        top = [
            {
                "query": " ".join(str(query).split())[:2000],
                "calls": int(calls),
                "total_ms": round(float(total), 3),
                "mean_ms": round(float(mean), 3),
                "rows": int(nrows),
            }
            for query, calls, total, mean, nrows in rows
        ]
        (self.out_dir / "pg_top_queries.json").write_text(json.dumps(top, indent=1) + "\n")
