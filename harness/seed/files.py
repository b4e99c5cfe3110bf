"""The seed files (manifest, usernames): their model, and a copy kept with the database's identity.

A seed writes its files into the stack's folder and, given the harness home, also under
`<home>/seeds/<key>/`, where the key names the database itself: PostgreSQL's cluster
(`pg_control_system().system_identifier`, or host:port where that function is not allowed)
plus the database name; for SQLite, the file's absolute path. An external stack's folder goes
with `harness down`, its data stays in the database: `seed_files_for` finds the files again,
but only while the database still holds the users they describe.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import sqlite3
from pathlib import Path
from typing import Any, Literal

import psycopg
from pydantic import BaseModel, ConfigDict, ValidationError

from harness.seed.dsn import plain_dsn, sqlite_path

MANIFEST = "seed-manifest.json"
USERNAMES = "seed-usernames.txt"
SEEDS_DIR = "seeds"
SCHEMA_VERSION = 2
SAMPLE_SIZE = 16  # seeded usernames checked against the database, spread over all of them


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SeedCheck(_Model):
    """What must still be in the database for the files to describe it (cheap to check)."""

    users: int  # seeded users: the table holds at least these (a load registers more)
    sample: list[str]  # seeded usernames that must all be there ...
    password_hash: str  # ... with the seeded password


class SeedManifest(_Model):
    """seed-manifest.json. Version 1 had no database key, emptied/kept tables, fills or check."""

    schema_version: Literal[1, 2]
    profile: dict[str, int | str]
    seed: int
    bcrypt_rounds: int
    password: str  # a public test credential every seeded user shares
    database: Literal["postgresql", "sqlite"]
    database_key: str | None = None
    rows: dict[str, int]
    total_rows: int
    seconds: float
    rows_per_second: int
    checksum: str
    usernames_file: str
    created_at: str
    emptied: list[str] = []  # emptied tables the seeder does not write
    kept: list[str] = []  # reference tables left as they were
    fills: dict[str, str] = {}  # "table.column" -> the fill rule used
    check: SeedCheck | None = None


def read_manifest(path: Path) -> SeedManifest | None:
    try:
        return SeedManifest.model_validate(json.loads(path.read_text()))
    except (OSError, ValueError, ValidationError):
        return None


def write_seed_files(folders: list[Path], manifest: SeedManifest, usernames: bytes) -> None:
    text = json.dumps(manifest.model_dump(mode="json"), indent=2) + "\n"
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / USERNAMES).write_bytes(usernames)
        (folder / MANIFEST).write_text(text)


def sample_of(usernames: list[bytes]) -> list[str]:
    """Up to SAMPLE_SIZE usernames spread evenly from the first to the last."""
    if not usernames:
        return []
    last = len(usernames) - 1
    picks = sorted({round(i * last / (SAMPLE_SIZE - 1)) for i in range(SAMPLE_SIZE)})
    return [usernames[i].decode() for i in picks]


def keyed_folder(home: Path, key: str) -> Path:
    return home / SEEDS_DIR / key


def _slug(identity: str) -> str:
    """A folder name for a database identity: readable, safe, and unique by its hash."""
    readable = re.sub(r"[^A-Za-z0-9._-]+", "_", identity).strip("_.")[:80]
    return f"{readable}-{hashlib.sha256(identity.encode()).hexdigest()[:10]}"


def postgres_key(conn: psycopg.Connection[Any]) -> str:
    """The cluster's system identifier and the database's name; host:port and the name where
    pg_control_system() is not allowed (it needs superuser or an explicit grant)."""
    name, allowed = conn.execute(
        "SELECT current_database(),"
        " has_function_privilege('pg_catalog.pg_control_system()', 'EXECUTE')"
    ).fetchone() or ("", False)
    if allowed:
        row = conn.execute("SELECT system_identifier FROM pg_control_system()").fetchone()
        if row is not None:
            return _slug(f"pg-{row[0]}-{name}")
    return _slug(f"pg-{conn.info.host}:{conn.info.port}-{name}")


def sqlite_key(path: Path) -> str:
    return _slug(f"sqlite-{path.resolve()}")


def _postgres_holds(conn: psycopg.Connection[Any], check: SeedCheck) -> bool:
    users = conn.execute("SELECT count(*) FROM users").fetchone()
    found = conn.execute(
        "SELECT count(*) FROM users WHERE username = ANY(%s) AND hashed_password = %s",
        (check.sample, check.password_hash),
    ).fetchone()
    return bool(users and found and users[0] >= check.users and found[0] == len(check.sample))


def _sqlite_holds(conn: sqlite3.Connection, check: SeedCheck) -> bool:
    (users,) = conn.execute("SELECT count(*) FROM users").fetchone()
    marks = ", ".join("?" for _ in check.sample)
    (found,) = conn.execute(
        f"SELECT count(*) FROM users WHERE username IN ({marks}) AND hashed_password = ?",  # noqa: S608
        (*check.sample, check.password_hash),
    ).fetchone()
    return bool(users >= check.users and found == len(check.sample))


def seed_files_for(dsn: str, home: Path) -> tuple[Path, Path] | None:
    """(manifest, usernames) kept for the database at dsn, if the database still holds the
    seeded users they describe; None if there are none, they are stale, or it cannot be asked."""
    try:
        if dsn.startswith("sqlite"):
            path = sqlite_path(dsn)
            if not path.is_file():
                return None
            key = sqlite_key(path)
            manifest = read_manifest(keyed_folder(home, key) / MANIFEST)
            if manifest is None or manifest.check is None:
                return None
            with contextlib.closing(
                sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
            ) as lite:
                holds = _sqlite_holds(lite, manifest.check)
        elif dsn.startswith("postgres"):
            with psycopg.connect(plain_dsn(dsn), connect_timeout=5) as conn:
                key = postgres_key(conn)
                manifest = read_manifest(keyed_folder(home, key) / MANIFEST)
                if manifest is None or manifest.check is None:
                    return None
                holds = _postgres_holds(conn, manifest.check)
        else:
            return None
    except (psycopg.Error, sqlite3.Error, OSError):
        return None
    folder = keyed_folder(home, key)
    if not holds or not (folder / USERNAMES).is_file():
        return None
    return folder / MANIFEST, folder / USERNAMES
