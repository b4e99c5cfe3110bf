"""Loading chunks into PostgreSQL: binary COPY in one transaction, indexes rebuilt after the load.

Like pg_restore: the data tables are truncated (which also lets COPY FREEZE skip setting hint
bits later), secondary indexes, unique and foreign-key constraints are dropped, the rows are
copied, then everything is recreated and analysed -- all in one transaction, so a failure
leaves the database exactly as it was.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
import psycopg
from psycopg import sql

from harness.errors import ConfigError
from harness.seed.columns import COPY_HEADER, COPY_TRAILER, Chunk, Col, encode_binary

DATA_TABLES = (
    "users",
    "user_profiles",
    "follows",
    "tags",
    "trips",
    "trip_tags",
    "trip_locations",
    "trip_photos",
    "likes",
    "comments",
    "user_stats",
    "user_achievements",
    "password_resets",
)


@dataclass
class Schema:
    columns: dict[
        str, dict[str, tuple[str, bool, bool]]
    ]  # table -> column -> (type, nullable, default)
    restore: list[str] = field(default_factory=list)  # DDL to run after the load


def introspect(conn: psycopg.Connection) -> Schema:
    rows = conn.execute(
        """SELECT c.table_name, c.column_name,
                  CASE WHEN c.data_type = 'USER-DEFINED' AND t.typtype = 'e' THEN 'enum'
                       ELSE c.udt_name END,
                  c.is_nullable = 'YES', c.column_default IS NOT NULL OR c.is_identity = 'YES'
             FROM information_schema.columns c
             JOIN pg_type t ON t.typname = c.udt_name
            WHERE c.table_schema = current_schema()"""
    ).fetchall()
    columns: dict[str, dict[str, tuple[str, bool, bool]]] = {}
    for table, column, udt, nullable, has_default in rows:
        columns.setdefault(table, {})[column] = (udt, nullable, has_default)
    return Schema(columns)


def require_tables(schema: Schema, tables: Iterable[str]) -> None:
    missing = [t for t in tables if t not in schema.columns]
    if missing:
        raise ConfigError(
            f"the database has no table(s) {', '.join(missing)}",
            "start the backend once against it (it creates the schema), e.g. `make harness-up`",
        )


def non_empty(conn: psycopg.Connection, schema: Schema) -> list[str]:
    found: list[str] = []
    for table in ("users", "trips", "follows"):
        if table in schema.columns:
            q = sql.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(sql.Identifier(table))
            row = conn.execute(q).fetchone()
            if row and row[0]:
                found.append(table)
    return found


def _present(schema: Schema) -> list[str]:
    return [t for t in DATA_TABLES if t in schema.columns]


def truncate(conn: psycopg.Connection, schema: Schema) -> None:
    tables = sql.SQL(", ").join(sql.Identifier(t) for t in _present(schema))
    conn.execute(sql.SQL("TRUNCATE {} CASCADE").format(tables))


def drop_secondary_structures(conn: psycopg.Connection, schema: Schema) -> None:
    """Drop FKs, unique constraints and plain indexes of the data tables; remember their DDL."""
    tables = _present(schema)
    constraints = conn.execute(
        """SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), contype
             FROM pg_constraint
            WHERE contype IN ('f', 'u') AND conrelid::regclass::text = ANY(%s)
            ORDER BY contype DESC""",  # unique first: FKs may depend on them, so FKs drop first
        (tables,),
    ).fetchall()
    indexes = conn.execute(
        """SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
             FROM pg_index i
            WHERE i.indrelid::regclass::text = ANY(%s) AND NOT i.indisprimary
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)""",
        (tables,),
    ).fetchall()
    for table, name, _definition, _kind in sorted(constraints, key=lambda c: c[3] != "f"):
        conn.execute(
            sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
                sql.Identifier(table), sql.Identifier(name)
            )
        )
    for name, _definition in indexes:
        conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
    uniques = [c for c in constraints if c[3] == "u"]
    fks = [c for c in constraints if c[3] == "f"]
    schema.restore = [f"ALTER TABLE {_q(t)} ADD CONSTRAINT {_q(n)} {d}" for t, n, d, _ in uniques]
    schema.restore += [definition for _, definition in indexes]
    schema.restore += [f"ALTER TABLE {_q(t)} ADD CONSTRAINT {_q(n)} {d}" for t, n, d, _ in fks]


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def resolve_codes(conn: psycopg.Connection, chunk: Chunk) -> Chunk:
    """Turn achievement codes into this database's achievement ids."""
    out = dict(chunk.columns)
    for name, col in chunk.columns.items():
        if col.kind != "code":
            continue
        ids: dict[str, str] = dict(conn.execute("SELECT code, id FROM achievements").fetchall())
        codes = [c.decode() for c in col.values.tolist()]
        missing = sorted(set(codes) - set(ids))
        if missing:
            raise ConfigError(
                f"the achievements table lacks {', '.join(missing)}",
                "the backend loads the nine achievements at start-up; start it once first",
            )
        out[name] = Col("text", np.array([ids[c] for c in codes], dtype="S36"))
    return Chunk(chunk.table, out)


def copy_chunk(conn: psycopg.Connection, schema: Schema, chunk: Chunk, freeze: bool) -> None:
    table = schema.columns[chunk.table]
    unknown = [c for c in chunk.columns if c not in table]
    if unknown:
        raise ConfigError(
            f"table {chunk.table} has no column(s) {', '.join(unknown)}",
            "the database schema differs from the ContraVento contract's Tables section",
        )
    required = [
        c
        for c, (_, nullable, default) in table.items()
        if not nullable and not default and c not in chunk.columns
    ]
    if required:
        raise ConfigError(
            f"table {chunk.table} requires column(s) {', '.join(required)} that are not seeded",
            "give them defaults, or extend the seeder for this schema",
        )
    if chunk.rows == 0:
        return
    names = list(chunk.columns)
    payload = encode_binary([chunk.columns[n] for n in names], [table[n][0] for n in names])
    options = "FORMAT BINARY, FREEZE" if freeze else "FORMAT BINARY"
    statement = sql.SQL("COPY {} ({}) FROM STDIN ({})").format(
        sql.Identifier(chunk.table),
        sql.SQL(", ").join(sql.Identifier(n) for n in names),
        sql.SQL(options),
    )
    with conn.cursor().copy(statement) as copy:
        copy.write(COPY_HEADER + payload + COPY_TRAILER)


def restore_and_analyze(
    conn: psycopg.Connection, schema: Schema, progress: Callable[[str], None]
) -> None:
    for ddl in schema.restore:
        conn.execute(ddl)
    progress(f"rebuilt {len(schema.restore)} index(es) and constraint(s)")
    for table in _present(schema):
        conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(table)))
