"""Loading chunks into SQLite: one large transaction of executemany, rolled back on failure."""

from __future__ import annotations

import itertools
import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime

import numpy as np

from harness.errors import ConfigError
from harness.seed.columns import Chunk, Col, uuid_strings
from harness.seed.fills import Category, Fill, LiveColumn, bad_literal, row_values

SQLITE_STAMP = "%Y-%m-%d %H:%M:%S.%f"  # SQLAlchemy's DateTime storage format (naive, UTC here)


@dataclass
class Schema:
    columns: dict[str, dict[str, LiveColumn]]  # table -> column -> what the database says
    references: dict[str, set[str]]  # table -> the tables its foreign keys name


def _q(name: str) -> str:
    """A table or column name as a quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


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


def _category(declared: str) -> Category:
    """What a column holds, from the type SQLAlchemy declared for it on SQLite."""
    kind = declared.upper()
    for needles, category in (
        (("BOOL",), "bool"),
        (("DATETIME", "TIMESTAMP"), "time"),
        (("DATE",), "date"),
        (("JSON",), "json"),
        (("INT", "REAL", "FLOA", "DOUB"), "number"),
        (("NUMERIC", "DECIMAL"), "decimal"),
        (("UUID",), "uuid"),
        (("CHAR", "TEXT", "CLOB"), "text"),
    ):
        if any(n in kind for n in needles):
            return category  # type: ignore[return-value]  # each is a Category
    return "other"


def introspect(conn: sqlite3.Connection) -> Schema:
    tables = [
        row[0]
        for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    columns: dict[str, dict[str, LiveColumn]] = {}
    references: dict[str, set[str]] = {}
    for table in tables:
        foreign = conn.execute(f"PRAGMA foreign_key_list({_q(table)})").fetchall()
        references[table] = {row[2] for row in foreign}
        keys = dict.fromkeys((row[3] for row in foreign), "a foreign key")
        for index in conn.execute(f"PRAGMA index_list({_q(table)})").fetchall():
            if index[2]:  # unique
                for info in conn.execute(f"PRAGMA index_info({_q(index[1])})").fetchall():
                    keys.setdefault(info[2], "a unique key")
        info = conn.execute(f"PRAGMA table_xinfo({_q(table)})").fetchall()
        primary = [row for row in info if row[5]]
        rowid = primary[0][1] if len(primary) == 1 and primary[0][2].upper() == "INTEGER" else None
        columns[table] = {}
        for _cid, name, declared, notnull, default, pk, hidden in info:
            if pk:
                keys.setdefault(name, "a unique key")
            columns[table][name] = LiveColumn(
                name=name,
                type_name=declared or "untyped",
                category=_category(declared),
                nullable=not notnull,
                has_default=default is not None or name == rowid,
                generated=hidden in (2, 3) or name == rowid,
                key=keys.get(name),
                code=declared,
            )
    return Schema(columns, references)


def require_tables(schema: Schema, tables: Iterable[str]) -> None:
    missing = [t for t in tables if t not in schema.columns]
    if missing:
        raise ConfigError(
            f"the database has no table(s) {', '.join(missing)}",
            "start the backend once against it (it creates the schema)",
        )


def non_empty(conn: sqlite3.Connection, tables: Iterable[str]) -> list[str]:
    return [
        t
        for t in tables
        if conn.execute(f"SELECT EXISTS (SELECT 1 FROM {_q(t)})").fetchone()[0]  # noqa: S608
    ]


def truncate(conn: sqlite3.Connection, tables: Iterable[str]) -> None:
    for table in tables:
        conn.execute(f"DELETE FROM {_q(table)}")  # noqa: S608


def constant(fill: Fill) -> object:
    """The Python value a constant fill stores; a literal its column refuses is a ConfigError."""
    if fill.rule.kind == "null":
        return None
    literal, category = fill.rule.arg, fill.column.category
    try:
        if category == "bool":
            return {"false": 0, "true": 1, "f": 0, "t": 1, "0": 0, "1": 1}[literal.lower()]
        if category in ("number", "decimal"):
            number = float(literal)
            return int(number) if number.is_integer() and "." not in literal else number
        if category == "json":
            json.loads(literal)
        elif category == "time":
            stamp = datetime.fromisoformat(literal)
            if stamp.tzinfo is not None:
                stamp = stamp.astimezone(UTC).replace(tzinfo=None)
            return stamp.strftime(SQLITE_STAMP)
        elif category == "date":
            return date.fromisoformat(literal).isoformat()
    except (KeyError, ValueError) as exc:
        raise bad_literal(fill, str(exc) or "not understood") from None
    return literal


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
    return Chunk(chunk.table, out, chunk.row_time)


def insert_chunk(conn: sqlite3.Connection, schema: Schema, chunk: Chunk, fills: list[Fill]) -> None:
    present = schema.columns[chunk.table]
    unknown = [c for c in chunk.columns if c not in present]
    if unknown:
        raise ConfigError(
            f"table {chunk.table} has no column(s) {', '.join(unknown)}",
            "the schema differs from the ContraVento contract",
        )
    columns = dict(chunk.columns)
    columns.update({f.column.name: row_values(chunk, f) for f in fills if f.rule.per_row})
    constants = {f.column.name: constant(f) for f in fills if not f.rule.per_row}
    names = [*columns, *constants]
    rows = zip(
        *(_values(c) for c in columns.values()),
        *(itertools.repeat(v, chunk.rows) for v in constants.values()),
        strict=True,
    )
    cols = ", ".join(_q(n) for n in names)
    marks = ", ".join("?" for _ in names)
    statement = f"INSERT INTO {_q(chunk.table)} ({cols}) VALUES ({marks})"  # noqa: S608
    conn.executemany(statement, rows)
