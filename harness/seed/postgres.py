"""Loading chunks into PostgreSQL: binary COPY in one transaction, indexes rebuilt after the load.

Like pg_restore: the emptied tables are truncated (which also lets COPY FREEZE skip setting hint
bits later), secondary indexes, unique and foreign-key constraints are dropped, the rows are
copied, then everything is recreated and analysed -- all in one transaction, so a failure
leaves the database exactly as it was. Columns filled with one constant get it as a column
default for the length of the load, so COPY never carries them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
import psycopg
from psycopg import sql

from harness.errors import ConfigError
from harness.seed.columns import COPY_HEADER, COPY_TRAILER, Chunk, Col, encode_binary
from harness.seed.fills import Category, Fill, LiveColumn, bad_literal, row_values

# The category of each base type the seeder knows (others: "other"; enums and arrays by kind).
CATEGORIES: dict[str, Category] = {
    "timestamp": "time",
    "timestamptz": "time",
    "date": "date",
    "bool": "bool",
    "int2": "number",
    "int4": "number",
    "int8": "number",
    "float4": "number",
    "float8": "number",
    "numeric": "decimal",
    "money": "decimal",
    "text": "text",
    "varchar": "text",
    "bpchar": "text",
    "name": "text",
    "citext": "text",
    "json": "json",
    "jsonb": "json",
    "uuid": "uuid",
}
_COLUMNS = """
SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod),
       CASE WHEN b.typtype = 'e' THEN 'enum' ELSE b.typname END, b.typcategory,
       NOT a.attnotnull, a.atthasdef OR a.attidentity <> '',
       a.attidentity <> '' OR a.attgenerated <> '',
       (SELECT e.enumlabel FROM pg_enum e WHERE e.enumtypid = b.oid
         ORDER BY e.enumsortorder LIMIT 1),
       pg_get_expr(d.adbin, d.adrelid)
  FROM pg_attribute a
  JOIN pg_class c ON c.oid = a.attrelid
  JOIN pg_type t ON t.oid = a.atttypid
  JOIN pg_type b ON b.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p')
   AND a.attnum > 0 AND NOT a.attisdropped"""
_KEYS = """
SELECT c.relname, a.attname, 'a foreign key'
  FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
  JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = ANY(k.conkey)
 WHERE k.contype = 'f' AND c.relnamespace = current_schema()::regnamespace
UNION ALL
SELECT c.relname, a.attname, 'a unique key'
  FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
  JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
 WHERE i.indisunique AND c.relnamespace = current_schema()::regnamespace"""
_REFERENCES = """
SELECT c.relname, p.relname
  FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class p ON p.oid = k.confrelid
 WHERE k.contype = 'f' AND c.relnamespace = current_schema()::regnamespace"""


@dataclass
class Schema:
    columns: dict[str, dict[str, LiveColumn]]  # table -> column -> what the database says
    references: dict[str, set[str]]  # table -> the tables its foreign keys name
    defaults: dict[tuple[str, str], str]  # (table, column) -> its default expression
    restore: list[str] = field(default_factory=list)  # DDL to run after the load


def introspect(conn: psycopg.Connection) -> Schema:
    keys: dict[tuple[str, str], str] = {}
    for table, column, why in conn.execute(_KEYS).fetchall():
        keys.setdefault((table, column), why)  # a foreign key is named before a unique key
    columns: dict[str, dict[str, LiveColumn]] = {}
    defaults: dict[tuple[str, str], str] = {}
    for row in conn.execute(_COLUMNS).fetchall():
        table, name, type_name, code, typcategory, nullable, has_default, generated = row[:8]
        first_label, default = row[8:]
        category: Category = CATEGORIES.get(code, "other")
        if code == "enum" or typcategory == "A":
            category = "enum" if code == "enum" else "array"
        columns.setdefault(table, {})[name] = LiveColumn(
            name=name,
            type_name=type_name,
            category=category,
            nullable=nullable,
            has_default=has_default,
            generated=generated,
            key=keys.get((table, name)),
            first_label=first_label,
            code=code,
        )
        if default is not None:
            defaults[(table, name)] = default
    references: dict[str, set[str]] = {}
    for child, parent in conn.execute(_REFERENCES).fetchall():
        references.setdefault(child, set()).add(parent)
    return Schema(columns, references, defaults)


def require_tables(schema: Schema, tables: Iterable[str]) -> None:
    missing = [t for t in tables if t not in schema.columns]
    if missing:
        raise ConfigError(
            f"the database has no table(s) {', '.join(missing)}",
            "start the backend once against it (it creates the schema), e.g. `make harness-up`",
        )


def non_empty(conn: psycopg.Connection, tables: Iterable[str]) -> list[str]:
    found: list[str] = []
    for table in tables:
        q = sql.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(sql.Identifier(table))
        row = conn.execute(q).fetchone()
        if row and row[0]:
            found.append(table)
    return found


def truncate(conn: psycopg.Connection, tables: Iterable[str]) -> None:
    """Exactly these tables: no CASCADE, so nothing beyond the planned list is ever emptied."""
    names = sql.SQL(", ").join(sql.Identifier(t) for t in tables)
    conn.execute(sql.SQL("TRUNCATE {}").format(names))


def drop_secondary_structures(conn: psycopg.Connection, schema: Schema, tables: list[str]) -> None:
    """Drop FKs, unique constraints and plain indexes of these tables; remember their DDL."""
    constraints = conn.execute(
        """SELECT c.relname, k.conname, pg_get_constraintdef(k.oid), k.contype
              FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
             WHERE k.contype IN ('f', 'u') AND c.relname = ANY(%s)
               AND c.relnamespace = current_schema()::regnamespace""",
        (tables,),
    ).fetchall()
    indexes = conn.execute(
        """SELECT x.relname, pg_get_indexdef(i.indexrelid)
              FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
              JOIN pg_class x ON x.oid = i.indexrelid
             WHERE c.relnamespace = current_schema()::regnamespace AND c.relname = ANY(%s)
               AND NOT i.indisprimary
               AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)""",
        (tables,),
    ).fetchall()
    # Foreign keys first: they may depend on the unique constraints dropped after them.
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
    schema.restore += [f"ALTER TABLE {_q(t)} ADD CONSTRAINT {_q(n)} {d}" for t, n, d, _ in uniques]
    schema.restore += [definition for _, definition in indexes]
    schema.restore += [f"ALTER TABLE {_q(t)} ADD CONSTRAINT {_q(n)} {d}" for t, n, d, _ in fks]


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _constant(fill: Fill) -> sql.Composable:
    """A constant fill as an SQL expression of the column's type."""
    if fill.rule.kind == "null":
        return sql.SQL("NULL")
    return sql.SQL("{}::{}").format(sql.Literal(fill.rule.arg), sql.SQL(fill.column.type_name))


def set_constant_defaults(conn: psycopg.Connection, schema: Schema, fills: list[Fill]) -> None:
    """Each constant fill becomes its column's default until the load ends; a literal the
    column's type refuses is a ConfigError naming its key."""
    for fill in fills:
        if fill.rule.per_row:
            continue
        table, column = sql.Identifier(fill.table), sql.Identifier(fill.column.name)
        value = _constant(fill)
        try:
            with conn.transaction():  # a savepoint: a refused literal must not abort the load
                conn.execute(sql.SQL("SELECT {}").format(value))
        except psycopg.Error as exc:
            raise bad_literal(fill, str(exc).strip().splitlines()[0]) from None
        alter = sql.SQL("ALTER TABLE {} ALTER COLUMN {} ").format(table, column)
        conn.execute(alter + sql.SQL("SET DEFAULT ") + value)
        before = schema.defaults.get((fill.table, fill.column.name))
        after = sql.SQL("SET DEFAULT " + before) if before else sql.SQL("DROP DEFAULT")
        schema.restore.append((alter + after).as_string(conn))


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
    return Chunk(chunk.table, out, chunk.row_time)


def copy_chunk(
    conn: psycopg.Connection, schema: Schema, chunk: Chunk, fills: list[Fill], freeze: bool
) -> None:
    """COPY the chunk's rows, with the per-row fills of its table added as columns."""
    table = schema.columns[chunk.table]
    unknown = [c for c in chunk.columns if c not in table]
    if unknown:
        raise ConfigError(
            f"table {chunk.table} has no column(s) {', '.join(unknown)}",
            "the database schema differs from the ContraVento contract's Tables section",
        )
    if chunk.rows == 0:
        return
    columns = dict(chunk.columns)
    columns.update({f.column.name: row_values(chunk, f) for f in fills if f.rule.per_row})
    names = list(columns)
    payload = encode_binary([columns[n] for n in names], [table[n].code for n in names])
    options = "FORMAT BINARY, FREEZE" if freeze else "FORMAT BINARY"
    statement = sql.SQL("COPY {} ({}) FROM STDIN ({})").format(
        sql.Identifier(chunk.table),
        sql.SQL(", ").join(sql.Identifier(n) for n in names),
        sql.SQL(options),
    )
    with conn.cursor().copy(statement) as copy:
        copy.write(COPY_HEADER + payload + COPY_TRAILER)


def restore_and_analyze(
    conn: psycopg.Connection,
    schema: Schema,
    tables: Iterable[str],
    progress: Callable[[str], None],
) -> None:
    for ddl in schema.restore:
        conn.execute(ddl)
    progress(f"rebuilt {len(schema.restore)} index(es), constraint(s) and default(s)")
    for table in tables:
        conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(table)))
