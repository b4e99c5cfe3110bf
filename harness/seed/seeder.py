"""Seeding a database: checks, the load in one transaction, progress, and the seed files."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import bcrypt
import psycopg

from harness.console import Task, progress_task
from harness.errors import ConfigError, HarnessError
from harness.seed import fills, postgres, sqlite
from harness.seed.columns import Chunk, fingerprint
from harness.seed.dsn import plain_dsn, sqlite_path
from harness.seed.files import (
    SCHEMA_VERSION,
    USERNAMES,
    SeedCheck,
    SeedManifest,
    keyed_folder,
    postgres_key,
    sample_of,
    sqlite_key,
    write_seed_files,
)
from harness.seed.generate import TRIP_CHUNK, Generator, written_columns
from harness.seed.profiles import Profile, describe
from harness.seed.reset import Tables, plan_tables

DEFAULT_PASSWORD = "Seeded!Rider1"  # noqa: S105 -- a public test credential, printed in manifests
_BCRYPT_ALPHABET = b"./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

Progress = Callable[[str], None]


class SeedFailed(HarnessError):
    """The load failed midway; the transaction was rolled back."""


@dataclass(frozen=True)
class SeedRequest:
    dsn: str  # postgresql://... or sqlite:///path
    folder: Path  # where the manifest and the username file go
    profile: Profile
    seed: int = 1
    reset: bool = False
    password: str = DEFAULT_PASSWORD
    bcrypt_rounds: int = 12
    # "table.column" -> a fill rule (harness/seed/fills.py), for columns of the live schema
    # the generator does not write; `[seed.columns]` in harness.toml
    column_fills: dict[str, str] = field(default_factory=dict)
    # reference tables a seed must never empty, besides reset.REFERENCE_TABLES
    keep_tables: list[str] = field(default_factory=list)
    # the harness home: the seed files are also kept under <home>/seeds/<database key>/
    home: Path | None = None


@dataclass(frozen=True)
class _Loaded:
    key: str  # the database's identity (files.postgres_key, files.sqlite_key)
    tables: Tables
    fills: dict[str, str]  # "table.column" -> rule


def password_hash(password: str, rounds: int, seed: int) -> str:
    """One bcrypt hash for every seeded user, with a salt derived from the seed (deterministic)."""
    digest = hashlib.sha256(f"contravento-seed-{seed}".encode()).digest()
    salt = (
        f"$2b${rounds:02d}$".encode() + bytes(_BCRYPT_ALPHABET[b % 64] for b in digest[:21]) + b"."
    )
    return bcrypt.hashpw(password.encode(), salt).decode()


class _Meter:
    """Rows and rows/s per table: a bar per table on a terminal; elsewhere a line per table (and
    per chunk of a large table, at most one each 5 s, then its last)."""

    def __init__(self, progress: Progress, profile: Profile) -> None:
        self.progress = progress
        self.counts: dict[str, int] = {}
        self.seconds: dict[str, float] = {}
        self._expected = _expected_chunks(profile)
        self._rows = _known_rows(profile)
        self._chunks: dict[str, int] = {}
        self._tasks: dict[str, Task] = {}
        self._lines: dict[str, str] = {}

    def begin(self, table: str) -> None:
        """A chunk of `table` is on its way: its bar shows from now (elapsed, a spinner)."""
        if table not in self._tasks:
            total = self._rows.get(table)
            self._tasks[table] = progress_task(self.progress, table, total, unit="rows")
            self._chunks[table] = 0

    def record(self, table: str, rows: int, seconds: float) -> None:
        self.begin(table)
        self.counts[table] = self.counts.get(table, 0) + rows
        self.seconds[table] = self.seconds.get(table, 0.0) + seconds
        total_s = max(self.seconds[table], 1e-9)
        rate = self.counts[table] / total_s
        line = f"  {table:<18} {self.counts[table]:>10,} rows  {rate:>12,.0f} rows/s"
        self._lines[table] = line
        self._tasks[table].advance(rows, line=line)
        self._chunks[table] += 1
        if self._chunks[table] >= self._expected.get(table, 1):
            self._tasks.pop(table).done(line)

    def close(self) -> None:
        """End the tasks still open (a failed load, or more chunks than expected)."""
        for table, task in self._tasks.items():
            task.done(self._lines.get(table))
        self._tasks.clear()


def _known_rows(profile: Profile) -> dict[str, int]:
    """The tables whose row count the profile fixes (follows, likes: only an upper bound)."""
    return {"users": profile.users, "user_profiles": profile.users, "trips": profile.trips}


def _expected_chunks(profile: Profile) -> dict[str, int]:
    """The chunks `Generator.chunks()` yields per table when more than one: the trip tables'
    come one per TRIP_CHUNK trips; every other table is one chunk."""
    trip_chunks = len(range(0, profile.trips, TRIP_CHUNK))
    return dict.fromkeys(("trips", "trip_tags", "trip_locations", "trip_photos"), trip_chunks)


def _timed_chunks(generator: Generator, digest: Any, meter: _Meter) -> Iterator[Chunk]:
    for chunk in generator.chunks():
        fingerprint(chunk, digest)
        meter.begin(chunk.table)
        yield chunk


def seed(request: SeedRequest, progress: Progress) -> dict[str, Any]:
    scheme = urlsplit(request.dsn).scheme
    if scheme.startswith("postgres"):
        loader = _seed_postgres
    elif scheme.startswith("sqlite"):
        loader = _seed_sqlite
    else:
        raise ConfigError(
            f"cannot seed a {scheme or 'schemeless'} DSN",
            "give a postgresql://... or sqlite:///... DSN",
        )
    rules = fills.parse_rules(request.column_fills)  # a bad rule fails before any connection
    began = time.perf_counter()
    hashed = password_hash(request.password, request.bcrypt_rounds, request.seed)
    generator = Generator(request.profile, request.seed, hashed)
    digest = hashlib.sha256()
    meter = _Meter(progress, request.profile)
    progress(f"seeding profile {request.profile.name} (seed {request.seed}) ...")
    try:
        loaded = loader(request, rules, _timed_chunks(generator, digest, meter), meter, progress)
    finally:
        meter.close()
    if loaded.fills:  # the same rows filled otherwise are other data (none: as before fills)
        digest.update(json.dumps(loaded.fills, sort_keys=True).encode())
    seconds = time.perf_counter() - began
    total = sum(meter.counts.values())
    names: list[bytes] = generator.usernames.tolist()
    manifest = SeedManifest(
        schema_version=SCHEMA_VERSION,
        profile=describe(request.profile),
        seed=request.seed,
        bcrypt_rounds=request.bcrypt_rounds,
        password=request.password,
        database="postgresql" if loader is _seed_postgres else "sqlite",
        database_key=loaded.key,
        rows=meter.counts,
        total_rows=total,
        seconds=round(seconds, 2),
        rows_per_second=round(total / seconds),
        checksum=digest.hexdigest(),
        usernames_file=USERNAMES,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        emptied=list(loaded.tables.others),
        kept=list(loaded.tables.kept),
        fills=loaded.fills,
        check=SeedCheck(users=len(names), sample=sample_of(names), password_hash=hashed),
    )
    folders = [request.folder]
    if request.home is not None:
        folders.append(keyed_folder(request.home, loaded.key))
    write_seed_files(folders, manifest, b"\n".join(names) + b"\n")
    return manifest.model_dump(mode="json")


def _announce(
    request: SeedRequest,
    tables: Tables,
    plan: list[fills.Fill],
    found: list[str],
    progress: Progress,
) -> None:
    """Refuse a database holding data unless --reset; say what a reset empties and keeps."""
    if found and not request.reset:
        raise ConfigError(
            f"the database already holds data ({', '.join(found)} not empty); nothing was changed",
            "add --reset to replace it with seeded data",
        )
    if request.reset:
        others = [f"{t} (had rows)" if t in found else t for t in tables.others]
        progress(
            f"reset: empties {len(tables.written)} table(s) it seeds and {len(others)} it does"
            f" not seed{': ' + ', '.join(others) if others else ''}"
        )
        if tables.kept:
            progress(f"reset: keeps the reference table(s) {', '.join(tables.kept)}")
    if plan:
        said = ", ".join(f"{f.key}={f.rule}" for f in plan)
        progress(f"fills {len(plan)} column(s) the generator does not write: {said}")


def _seed_postgres(
    request: SeedRequest,
    rules: dict[tuple[str, str], fills.Rule],
    chunks: Iterator[Chunk],
    meter: _Meter,
    progress: Progress,
) -> _Loaded:
    try:
        conn = psycopg.connect(plain_dsn(request.dsn), autocommit=False)
    except psycopg.OperationalError as exc:
        raise ConfigError(
            f"cannot connect to the database: {str(exc).strip().splitlines()[0]}",
            "check the DSN (harness status) and that the stack is up",
        ) from None
    written = written_columns()
    with conn:
        schema = postgres.introspect(conn)
        postgres.require_tables(schema, ("users", "trips", "follows", "achievements"))
        postgres.require_tables(schema, written)
        plan = fills.plan(schema.columns, written, rules)
        tables = plan_tables(schema.columns, schema.references, written, request.keep_tables)
        _announce(request, tables, plan, postgres.non_empty(conn, tables.emptied), progress)
        key = postgres_key(conn)
        per_table = fills.by_table(plan)
        try:
            conn.execute("SET LOCAL synchronous_commit = off")
            conn.execute("SET LOCAL maintenance_work_mem = '512MB'")
            postgres.set_constant_defaults(conn, schema, plan)
            postgres.truncate(conn, tables.emptied)  # also what makes COPY FREEZE legal
            postgres.drop_secondary_structures(conn, schema, list(tables.emptied))
            for chunk in chunks:
                began = time.perf_counter()
                postgres.copy_chunk(
                    conn,
                    schema,
                    postgres.resolve_codes(conn, chunk),
                    per_table.get(chunk.table, []),
                    freeze=True,
                )
                meter.record(chunk.table, chunk.rows, time.perf_counter() - began)
            began = time.perf_counter()
            postgres.restore_and_analyze(conn, schema, tables.emptied, progress)
            progress(f"  indexes, constraints, ANALYZE: {time.perf_counter() - began:.1f}s")
        except HarnessError:
            conn.rollback()
            raise
        except (psycopg.Error, KeyboardInterrupt) as exc:
            conn.rollback()
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else "interrupted"
            raise SeedFailed(
                "seeding failed and was rolled back; the database is as it was "
                f"({type(exc).__name__}: {reason})",
                "fix the cause and run the seed again",
            ) from None
    return _Loaded(key, tables, fills.describe(plan))


def _seed_sqlite(
    request: SeedRequest,
    rules: dict[tuple[str, str], fills.Rule],
    chunks: Iterator[Chunk],
    meter: _Meter,
    progress: Progress,
) -> _Loaded:
    path = sqlite_path(request.dsn)
    if not path.exists():
        raise ConfigError(
            f"no SQLite database at {path}", "start the stack first (make harness-up)"
        )
    written = written_columns()
    conn = sqlite3.connect(path, isolation_level=None, timeout=30)
    try:
        schema = sqlite.introspect(conn)
        sqlite.require_tables(schema, written)
        plan = fills.plan(schema.columns, written, rules)
        for fill in plan:  # a literal the column refuses fails before anything changes
            if not fill.rule.per_row:
                sqlite.constant(fill)
        tables = plan_tables(schema.columns, schema.references, written, request.keep_tables)
        per_table = fills.by_table(plan)
        conn.execute("BEGIN IMMEDIATE")
        _announce(request, tables, plan, sqlite.non_empty(conn, tables.emptied), progress)
        sqlite.truncate(conn, tables.emptied)
        for chunk in chunks:
            began = time.perf_counter()
            sqlite.insert_chunk(
                conn, schema, sqlite.resolve_codes(conn, chunk), per_table.get(chunk.table, [])
            )
            meter.record(chunk.table, chunk.rows, time.perf_counter() - began)
        conn.execute("COMMIT")
        conn.execute("ANALYZE")
    except HarnessError:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    except (sqlite3.Error, KeyboardInterrupt) as exc:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise SeedFailed(
            f"seeding failed and was rolled back; the database is as it was ({exc})",
            "fix the cause and run the seed again",
        ) from None
    finally:
        conn.close()
    return _Loaded(sqlite_key(path), tables, fills.describe(plan))
