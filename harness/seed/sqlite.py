"""Loading chunks into SQLite: one large transaction of executemany, rolled back on failure."""

from __future__ import annotations

import re
import sqlite3

import numpy as np

from harness.errors import ConfigError
from harness.seed.columns import Chunk, Col, uuid_strings

DATA_TABLES = (
    "user_achievements",
    "user_stats",
    "likes",
    "trip_photos",
    "trip_locations",
    "trip_tags",
    "trips",
    "tags",
    "follows",
    "user_profiles",
    "comments",
    "password_resets",
    "users",
)


IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


def _q(name: str) -> str:
    """Quote a table or column name, which only ever comes from the generator's constants."""
    if not IDENTIFIER.fullmatch(name):
        raise ValueError(f"not an identifier: {name!r}")
    return f'"{name}"'


def _values(col: Col) -> list[object]:
    if col.kind == "uuid":
        values: list[object] = list(uuid_strings(col.values))
    elif col.kind in ("text", "code"):
        values = [v.decode() for v in col.values.tolist()]
    elif col.kind == "ts":  # SQLAlchemy's SQLite DateTime storage format (naive, UTC here)
        stamps = np.datetime_as_string(col.values.astype("datetime64[us]"), unit="us")
        values = [s.replace("T", " ") for s in stamps.tolist()]
    elif col.kind == "date":
        values = np.datetime_as_string(col.values.astype("datetime64[D]"), unit="D").tolist()
    elif col.kind == "bool":
        values = col.values.astype(int).tolist()
    else:
        values = col.values.tolist()
    if col.null is not None:
        values = [None if n else v for v, n in zip(values, col.null.tolist(), strict=True)]
    return values


def table_columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in conn.execute(f"PRAGMA table_info({_q(table)})")}


def non_empty(conn: sqlite3.Connection) -> list[str]:
    return [
        t
        for t in ("users", "trips", "follows")
        if conn.execute(f"SELECT EXISTS (SELECT 1 FROM {_q(t)})").fetchone()[0]  # noqa: S608
    ]


def truncate(conn: sqlite3.Connection) -> None:
    for table in DATA_TABLES:
        if table_columns(conn, table):
            conn.execute(f"DELETE FROM {_q(table)}")  # noqa: S608


def resolve_codes(conn: sqlite3.Connection, chunk: Chunk) -> Chunk:
    out = dict(chunk.columns)
    for name, col in chunk.columns.items():
        if col.kind == "code":
            ids = dict(conn.execute("SELECT code, id FROM achievements").fetchall())
            codes = [c.decode() for c in col.values.tolist()]
            if set(codes) - set(ids):
                raise ConfigError(
                    "the achievements table is incomplete",
                    "start the backend once against this database first",
                )
            out[name] = Col("text", np.array([ids[c] for c in codes], dtype="S36"))
    return Chunk(chunk.table, out)


def insert_chunk(conn: sqlite3.Connection, chunk: Chunk) -> None:
    present = table_columns(conn, chunk.table)
    if not present:
        raise ConfigError(
            f"the database has no table {chunk.table}",
            "start the backend once against it (it creates the schema)",
        )
    unknown = [c for c in chunk.columns if c not in present]
    if unknown:
        raise ConfigError(
            f"table {chunk.table} has no column(s) {', '.join(unknown)}",
            "the schema differs from the ContraVento contract",
        )
    names = list(chunk.columns)
    rows = zip(*(_values(chunk.columns[n]) for n in names), strict=True)
    cols = ", ".join(_q(n) for n in names)
    marks = ", ".join("?" for _ in names)
    statement = f"INSERT INTO {_q(chunk.table)} ({cols}) VALUES ({marks})"  # noqa: S608
    conn.executemany(statement, rows)
