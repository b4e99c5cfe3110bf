"""A seeded database kept as a template in its own cluster: its cache key, saving and restoring it.

Seeding regenerates every row; a database seeded once can instead be kept as a TEMPLATE database
next to it and copied back with `CREATE DATABASE <db> TEMPLATE <template>`. The key of such a
template is what decides the rows: the live schema (and the reference rows the backend loads
itself, which the seeder looks up), the seed's inputs, and the code that generates the rows.
Saving and restoring go through the cluster's maintenance database with the DSN's credentials
(a superuser in the harness's stacks); both need the source database to themselves, so the
backend must be stopped first.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import shutil
import time
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import numpy
import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from harness.errors import ConfigError, HarnessError
from harness.seed.dsn import plain_dsn
from harness.seed.files import MANIFEST, SEEDS_DIR, USERNAMES
from harness.seed.profiles import describe
from harness.seed.reset import REFERENCE_TABLES
from harness.seed.seeder import SeedRequest

TEMPLATE_PREFIX = "cv_seed_"
TEMPLATES_DIR = "templates"  # <home>/seeds/templates/<key>/: the seed files of each template
MAINTENANCE_DB = "postgres"
SESSIONS_GONE_S = 5.0  # as PostgreSQL's CountOtherDBBackends: 50 checks, 100 ms apart
BUSY_HINT = "stop the backend first; the harness does it between repetitions"
_KEY = re.compile(r"[0-9a-f]{16}")
_NAME = re.compile(re.escape(TEMPLATE_PREFIX) + r"[0-9a-f]{16}")
# The modules whose code decides the seeded rows: a change to any of them is other data.
_ROW_MAKERS = ("columns", "fills", "generate", "postgres", "reset", "seeder", "vocab")
# Output settings for the reference rows' text, so two servers configured apart agree.
_TEXT_SETTINGS = {
    "TimeZone": "UTC",
    "DateStyle": "ISO, YMD",
    "IntervalStyle": "postgres",
    "extra_float_digits": "1",
    "bytea_output": "hex",
}

_TABLES = """
SELECT c.relname, c.relkind
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema()
 WHERE c.relkind IN ('r', 'p')"""
_COLUMNS = """
SELECT c.relname, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
       pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated
  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema()
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped"""
_CONSTRAINTS = """
SELECT c.relname, k.conname, k.contype, pg_get_constraintdef(k.oid)
  FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema()"""
_INDEXES = """
SELECT c.relname, x.relname, pg_get_indexdef(i.indexrelid)
  FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema()
  JOIN pg_class x ON x.oid = i.indexrelid"""
_ENUMS = """
SELECT t.typname, e.enumsortorder, e.enumlabel
  FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid
  JOIN pg_namespace n ON n.oid = t.typnamespace AND n.nspname = current_schema()"""


class TemplateBusy(HarnessError):
    """Other sessions use the database a template is copied from (PostgreSQL refuses the copy)."""


# -- the key ---------------------------------------------------------------------------------


def schema_hash(dsn: str, reference_tables: Iterable[str] = REFERENCE_TABLES) -> str:
    """sha256 of the live schema of the DSN's current schema, and of the rows of its reference
    tables: the same migrations give the same hash in any database of any cluster (no OIDs, no
    names of the database or of its schema; every list sorted bytewise, not by a collation)."""
    password = _parse(dsn).get("password")
    conn = _connect(plain_dsn(dsn), password)
    try:
        with conn, conn.transaction():
            document = _describe(conn, tuple(reference_tables))
    except psycopg.Error as exc:
        raise ConfigError(
            f"cannot read the database's schema: {_first_line(exc, password)}",
            "check that the DSN's user may read the database's tables",
        ) from None
    text = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _describe(conn: psycopg.Connection[Any], reference_tables: tuple[str, ...]) -> dict[str, Any]:
    row = conn.execute("SELECT current_schema(), quote_ident(current_schema())").fetchone()
    if row is None or row[0] is None:
        raise ConfigError(
            "the database's search_path names no schema that exists",
            "set the DSN user's search_path to the schema the backend uses (usually public)",
        )
    quoted = row[1]
    # With only this schema on the path, definitions name its objects unqualified.
    conn.execute("SELECT set_config('search_path', %s, true)", (quoted,))
    for name, value in _TEXT_SETTINGS.items():
        conn.execute("SELECT set_config(%s, %s, true)", (name, value))
    tables = sorted(conn.execute(_TABLES).fetchall())
    columns = [
        [table, name, type_name, not_null, default, identity, generated]
        for table, _, name, type_name, not_null, default, identity, generated in sorted(
            conn.execute(_COLUMNS).fetchall(), key=lambda r: (r[0], r[1])
        )
    ]
    constraints = sorted(conn.execute(_CONSTRAINTS).fetchall())
    # pg_get_indexdef always qualifies the table: drop the schema so its name does not count.
    qualified = re.compile(r" ON (ONLY )?" + re.escape(quoted) + r"\.")
    indexes = sorted(
        (table, name, qualified.sub(r" ON \1", definition, count=1))
        for table, name, definition in conn.execute(_INDEXES).fetchall()
    )
    enums: dict[str, list[str]] = {}
    for type_name, _, label in sorted(conn.execute(_ENUMS).fetchall()):
        enums.setdefault(type_name, []).append(label)
    present = {name for name, _ in tables}
    rows: dict[str, list[str]] = {}
    for table in sorted(set(reference_tables) & present):
        query = sql.SQL("SELECT t::text FROM {} t").format(sql.Identifier(table))
        rows[table] = sorted(r[0] for r in conn.execute(query).fetchall())
    return {
        "tables": [list(t) for t in tables],
        "columns": columns,
        "constraints": [list(c) for c in constraints],
        "indexes": [list(i) for i in indexes],
        "enums": enums,
        "reference_rows": rows,
    }


@cache
def code_fingerprint() -> str:
    """sha256 of the seeder's row-making code and numpy's version (its random streams)."""
    digest = hashlib.sha256(f"numpy {numpy.__version__}\n".encode())
    for module in _ROW_MAKERS:
        digest.update(Path(__file__).with_name(f"{module}.py").read_bytes())
    return digest.hexdigest()


def seed_inputs(request: SeedRequest) -> dict[str, Any]:
    """What of a seed request decides its rows (not its DSN, folder or --reset)."""
    return {
        "profile": describe(request.profile),
        "seed": request.seed,
        "bcrypt_rounds": request.bcrypt_rounds,
        "password": request.password,
        "fills": dict(request.column_fills),
        "keep_tables": sorted(request.keep_tables),
    }


def cache_key(schema: str, manifest_inputs: dict[str, Any]) -> str:
    """16 hex digits naming the rows a seed of this schema with these inputs writes."""
    canonical = json.dumps(
        {"schema": schema, "inputs": manifest_inputs, "code": code_fingerprint()},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def template_name(key: str) -> str:
    """cv_seed_<key>: an unquoted PostgreSQL identifier of 24 bytes."""
    if not _KEY.fullmatch(key):
        raise ValueError(f"not a cache key: {key!r}")
    return TEMPLATE_PREFIX + key


# -- the templates ---------------------------------------------------------------------------


def has_template(dsn: str, name: str) -> bool:
    name = _checked(name)
    with _maintenance(dsn) as (conn, _):
        return _is_template(conn, name) is True


def list_templates(dsn: str) -> list[str]:
    with _maintenance(dsn) as (conn, _):
        names = conn.execute("SELECT datname FROM pg_database WHERE datistemplate").fetchall()
    return sorted(n for (n,) in names if _NAME.fullmatch(n))


def save_template(dsn: str, name: str) -> float:
    """Copy the DSN's database into the template `name` (replacing an older one); seconds taken.
    Refuses with TemplateBusy while other sessions use the database (it never ends them)."""
    name = _checked(name)
    with _maintenance(dsn) as (conn, database):
        began = time.perf_counter()
        owner = _owner(conn, database)
        if owner is None:
            raise ConfigError(f"there is no database {database}", "check the DSN")
        others = _other_sessions(conn, database)
        if others:  # asked before an older template goes; CREATE DATABASE refuses later ones
            raise TemplateBusy(
                f"{others} other session(s) use the database {database}; PostgreSQL copies a"
                " database only while nothing else is connected to it",
                BUSY_HINT,
            )
        _drop(conn, name)
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {} OWNER {}").format(
                sql.Identifier(name), sql.Identifier(database), sql.Identifier(owner)
            )
        )
        conn.execute(
            sql.SQL("ALTER DATABASE {} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false").format(
                sql.Identifier(name)
            )
        )
        return time.perf_counter() - began


def restore_template(dsn: str, name: str) -> float:
    """Replace the DSN's database by a copy of the template `name`, with the owner it had (or
    the template's, if it was gone); seconds taken. Sessions using the database are ended."""
    name = _checked(name)
    with _maintenance(dsn) as (conn, database):
        if database == name:
            raise ConfigError(
                f"the DSN names the template {name} itself; nothing was changed",
                "give the DSN of the database to restore",
            )
        began = time.perf_counter()
        if not _is_template(conn, name):  # checked before anything is dropped
            raise ConfigError(
                f"there is no template {name}; the database {database} was not changed",
                "seed the database and save it as a template first",
            )
        owner = _owner(conn, database) or _owner(conn, name)
        target = sql.Identifier(database)
        create = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(target, sql.Identifier(name))
        if owner is not None:
            create += sql.SQL(" OWNER {}").format(sql.Identifier(owner))
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(target))
        conn.execute(create)  # and nothing after it: the copy has the data's statistics too
        return time.perf_counter() - began


def drop_template(dsn: str, name: str) -> None:
    """Drop the template `name` if there is one; a database of that name that is no template
    is refused."""
    name = _checked(name)
    with _maintenance(dsn) as (conn, _):
        _drop(conn, name)


def _drop(conn: psycopg.Connection[Any], name: str) -> None:
    found = _is_template(conn, name)
    if found is None:
        return
    if not found:
        raise ConfigError(
            f"the database {name} is not a template; it was not dropped",
            "rename or drop it yourself if it is not needed",
        )
    ident = sql.Identifier(name)
    conn.execute(sql.SQL("ALTER DATABASE {} WITH IS_TEMPLATE false").format(ident))
    conn.execute(sql.SQL("DROP DATABASE {}").format(ident))


def _is_template(conn: psycopg.Connection[Any], name: str) -> bool | None:
    """True: a template; False: a database that is not one; None: no such database."""
    row = conn.execute("SELECT datistemplate FROM pg_database WHERE datname = %s", (name,))
    found = row.fetchone()
    return None if found is None else bool(found[0])


def _other_sessions(conn: psycopg.Connection[Any], database: str) -> int:
    """Other sessions on `database`, once those on their way out are gone (up to 5 s).

    A client that has just closed its connection (the seeder, a test) can still be listed for
    a moment while its backend exits; PostgreSQL's own check before copying a database waits
    5 s for such sessions, and so does this one.
    """
    deadline = time.monotonic() + SESSIONS_GONE_S
    while True:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s"
            " AND backend_type = 'client backend' AND pid <> pg_backend_pid()",
            (database,),
        ).fetchone()
        count = int(row[0]) if row else 0
        if count == 0 or time.monotonic() >= deadline:
            return count
        time.sleep(0.1)  # polling pg_stat_activity until the count is 0


def _owner(conn: psycopg.Connection[Any], database: str) -> str | None:
    row = conn.execute(
        "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s", (database,)
    ).fetchone()
    return None if row is None else str(row[0])


def _checked(name: str) -> str:
    """Only names template_name() gives: nothing else is ever dropped as a template."""
    if not _NAME.fullmatch(name):
        raise ValueError(f"not a template name (template_name() makes them): {name!r}")
    return name


@contextlib.contextmanager
def _maintenance(dsn: str) -> Iterator[tuple[psycopg.Connection[Any], str]]:
    """An autocommit session on the cluster's maintenance database, and the DSN's database."""
    params = _parse(dsn)
    database = str(params.get("dbname") or "")
    if not database:
        raise ConfigError(
            "the DSN names no database", "give postgresql://user@host:port/<database>"
        )
    if database == MAINTENANCE_DB:
        raise ConfigError(
            f"the DSN names the maintenance database {MAINTENANCE_DB}, which cannot be copied",
            "give the DSN of the stack's own database",
        )
    password = params.get("password")
    conn = _connect(make_conninfo(plain_dsn(dsn), dbname=MAINTENANCE_DB), password)
    try:
        with conn:
            yield conn, database
    except psycopg.errors.ObjectInUse as exc:
        raise TemplateBusy(
            f"the database {database} is in use: {_first_line(exc, password)}", BUSY_HINT
        ) from None
    except psycopg.Error as exc:
        raise ConfigError(
            f"PostgreSQL refused: {_first_line(exc, password)}",
            "templates need a superuser DSN (the harness's stacks have one) and room on the"
            " server's disk for a copy of the database",
        ) from None


def _parse(dsn: str) -> dict[str, Any]:
    try:
        return conninfo_to_dict(plain_dsn(dsn))
    except psycopg.Error:  # libpq's reason may quote the DSN, password and all
        raise ConfigError(
            "the database DSN cannot be parsed", "give postgresql://user@host:port/database"
        ) from None


def _connect(conninfo: str, password: str | None) -> psycopg.Connection[Any]:
    try:
        return psycopg.connect(conninfo, autocommit=True, connect_timeout=10)
    except psycopg.Error as exc:
        raise ConfigError(
            f"cannot connect to the database: {_first_line(exc, password)}",
            "check the DSN (harness status) and that the stack is up",
        ) from None


def _first_line(exc: BaseException, password: str | None) -> str:
    lines = str(exc).strip().splitlines()
    text = lines[0] if lines else type(exc).__name__
    return text.replace(password, "***") if password else text


# -- the seed files --------------------------------------------------------------------------


def remember(home: Path, key: str, folder: Path) -> Path:
    """Keep a copy of the seed files in `folder` as those of the template `key`."""
    kept = _kept(home, key)
    copy_seed_files(folder, kept)
    return kept


def recall(home: Path, key: str) -> Path | None:
    """The folder of the seed files kept for the template `key`, if both are there."""
    kept = _kept(home, key)
    return kept if all((kept / f).is_file() for f in (MANIFEST, USERNAMES)) else None


def copy_seed_files(src_folder: Path, dst_folder: Path) -> None:
    missing = [f for f in (MANIFEST, USERNAMES) if not (src_folder / f).is_file()]
    if missing:
        raise ConfigError(
            f"no {' or '.join(missing)} in {src_folder}",
            "seed the database first: its seed files are written with it",
        )
    dst_folder.mkdir(parents=True, exist_ok=True)
    if dst_folder.resolve() == src_folder.resolve():
        return
    for name in (USERNAMES, MANIFEST):  # the manifest last: it is what readers look for
        shutil.copyfile(src_folder / name, dst_folder / name)


def _kept(home: Path, key: str) -> Path:
    if not _KEY.fullmatch(key):
        raise ValueError(f"not a cache key: {key!r}")
    return home / SEEDS_DIR / TEMPLATES_DIR / key
