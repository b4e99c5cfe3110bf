"""Seeding a database: checks, the load in one transaction, progress, and the manifest."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import bcrypt
import psycopg

from harness.errors import ConfigError, HarnessError
from harness.seed import postgres, sqlite
from harness.seed.columns import Chunk, fingerprint
from harness.seed.generate import Generator
from harness.seed.profiles import Profile, describe

MANIFEST = "seed-manifest.json"
USERNAMES = "seed-usernames.txt"
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


def password_hash(password: str, rounds: int, seed: int) -> str:
    """One bcrypt hash for every seeded user, with a salt derived from the seed (deterministic)."""
    digest = hashlib.sha256(f"contravento-seed-{seed}".encode()).digest()
    salt = (
        f"$2b${rounds:02d}$".encode() + bytes(_BCRYPT_ALPHABET[b % 64] for b in digest[:21]) + b"."
    )
    return bcrypt.hashpw(password.encode(), salt).decode()


class _Meter:
    """Rows and rows/s per table, printed once per table (and per chunk of a large table)."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.counts: dict[str, int] = {}
        self.seconds: dict[str, float] = {}

    def record(self, table: str, rows: int, seconds: float) -> None:
        self.counts[table] = self.counts.get(table, 0) + rows
        self.seconds[table] = self.seconds.get(table, 0.0) + seconds
        total_s = max(self.seconds[table], 1e-9)
        rate = self.counts[table] / total_s
        self.progress(f"  {table:<18} {self.counts[table]:>10,} rows  {rate:>12,.0f} rows/s")


def _timed_chunks(generator: Generator, digest: Any, meter: _Meter) -> Iterator[Chunk]:
    for chunk in generator.chunks():
        fingerprint(chunk, digest)
        yield chunk


def plain_dsn(dsn: str) -> str:
    """postgresql+asyncpg://... -> postgresql://... (the driver part means nothing to psycopg)."""
    scheme, sep, rest = dsn.partition("://")
    return f"{scheme.split('+')[0]}{sep}{rest}"


def sqlite_path(dsn: str) -> Path:
    return Path(plain_dsn(dsn).split(":///", 1)[1])


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
    began = time.perf_counter()
    hashed = password_hash(request.password, request.bcrypt_rounds, request.seed)
    generator = Generator(request.profile, request.seed, hashed)
    digest = hashlib.sha256()
    meter = _Meter(progress)
    progress(f"seeding profile {request.profile.name} (seed {request.seed}) ...")
    loader(request, _timed_chunks(generator, digest, meter), meter, progress)
    seconds = time.perf_counter() - began
    total = sum(meter.counts.values())
    manifest = {
        "schema_version": 1,
        "profile": describe(request.profile),
        "seed": request.seed,
        "bcrypt_rounds": request.bcrypt_rounds,
        "password": request.password,  # a test credential every seeded user shares
        "database": "postgresql" if loader is _seed_postgres else "sqlite",
        "rows": meter.counts,
        "total_rows": total,
        "seconds": round(seconds, 2),
        "rows_per_second": round(total / seconds),
        "checksum": digest.hexdigest(),
        "usernames_file": USERNAMES,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    request.folder.mkdir(parents=True, exist_ok=True)
    names = generator.usernames.tolist()
    (request.folder / USERNAMES).write_bytes(b"\n".join(names) + b"\n")
    (request.folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def _refuse_non_empty(found: list[str]) -> None:
    if found:
        raise ConfigError(
            f"the database already holds data ({', '.join(found)} not empty); nothing was changed",
            "add --reset to replace it with seeded data",
        )


def _seed_postgres(
    request: SeedRequest, chunks: Iterator[Chunk], meter: _Meter, progress: Progress
) -> None:
    try:
        conn = psycopg.connect(plain_dsn(request.dsn), autocommit=False)
    except psycopg.OperationalError as exc:
        raise ConfigError(
            f"cannot connect to the database: {str(exc).strip().splitlines()[0]}",
            "check the DSN (harness status) and that the stack is up",
        ) from None
    with conn:
        schema = postgres.introspect(conn)
        postgres.require_tables(schema, ("users", "trips", "follows", "achievements"))
        if not request.reset:
            _refuse_non_empty(postgres.non_empty(conn, schema))
        try:
            conn.execute("SET LOCAL synchronous_commit = off")
            conn.execute("SET LOCAL maintenance_work_mem = '512MB'")
            postgres.truncate(conn, schema)  # also what makes COPY FREEZE legal
            postgres.drop_secondary_structures(conn, schema)
            for chunk in chunks:
                began = time.perf_counter()
                postgres.copy_chunk(conn, schema, postgres.resolve_codes(conn, chunk), freeze=True)
                meter.record(chunk.table, chunk.rows, time.perf_counter() - began)
            began = time.perf_counter()
            postgres.restore_and_analyze(conn, schema, progress)
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


def _seed_sqlite(
    request: SeedRequest, chunks: Iterator[Chunk], meter: _Meter, progress: Progress
) -> None:
    path = sqlite_path(request.dsn)
    if not path.exists():
        raise ConfigError(
            f"no SQLite database at {path}", "start the stack first (make harness-up)"
        )
    conn = sqlite3.connect(path, isolation_level=None, timeout=30)
    try:
        conn.execute("BEGIN IMMEDIATE")
        if not request.reset:
            _refuse_non_empty(sqlite.non_empty(conn))
        sqlite.truncate(conn)
        for chunk in chunks:
            began = time.perf_counter()
            sqlite.insert_chunk(conn, sqlite.resolve_codes(conn, chunk))
            meter.record(chunk.table, chunk.rows, time.perf_counter() - began)
        conn.execute("COMMIT")
        conn.execute("ANALYZE")
    except HarnessError:
        conn.execute("ROLLBACK")
        raise
    except (sqlite3.Error, KeyboardInterrupt) as exc:
        conn.execute("ROLLBACK")
        raise SeedFailed(
            f"seeding failed and was rolled back; the database is as it was ({exc})",
            "fix the cause and run the seed again",
        ) from None
    finally:
        conn.close()
