"""Columns of the live schema the generator does not write: the fill rules and the fill plan.

A rule is given per column as `SeedRequest.column_fills` (`[seed.columns]` in harness.toml),
keyed "table.column":

    "time"             the row's own time: its created_at, else its parent's (a trip's for
                       trip_tags, trip_locations and trip_photos). Timestamp and date columns.
    "now"              the instant the seed data is anchored at, 2026-06-01T00:00:00Z, in every
                       row: a fixed instant, not the clock, so the same seed gives the same data.
                       Timestamp and date columns.
    "row:<column>"     a column the seeder writes in the same row: "row:user_id", "row:title".
                       "row:created_at" in a table whose rows have none is "time": the
                       parent's created_at (trip_tags.created_at gets its trip's).
    "value:<literal>"  one literal in every row, read as the column's type: "value:0",
                       "value:pending", "value:[]", "value:2026-01-01 00:00:00"; for an enum,
                       one of its labels; "value:" is the empty string.
    "null"             NULL, also over a default the column has (the column must allow NULL).

Without a rule, a NOT NULL column that has no default is filled by its type: a timestamp or a
date by "time" (a `timestamp without time zone` gets naive UTC), a boolean false, a number 0,
text '', JSON {}, an array {}, an enum its first label. A column in a foreign or unique key, or
of a type without a neutral value (uuid, bytea, ...), needs a rule: the seeder refuses to start
and names the key to add.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np

from harness.errors import ConfigError
from harness.seed.columns import Chunk, Col
from harness.seed.generate import ANCHOR_US, DAY_US

# What a column holds, whatever the database calls its type.
Category = Literal[
    "time", "date", "bool", "number", "decimal", "text", "json", "enum", "array", "uuid", "other"
]
RuleKind = Literal["time", "now", "row", "value", "null"]

RULES = "time, now, row:<column>, value:<literal>, null"
TIMELY: frozenset[str] = frozenset({"time", "date"})
# The neutral value a column of each category gets when it has no rule (time: see `time`).
NEUTRAL: dict[str, str] = {
    "bool": "false",
    "number": "0",
    "decimal": "0",
    "text": "",
    "json": "{}",
    "array": "{}",
}
# Which generated kinds a `row:` rule may copy into which categories (loaders encode them).
COPYABLE: dict[str, frozenset[str]] = {
    "ts": TIMELY,
    "date": TIMELY,
    "text": frozenset({"text", "enum", "json"}),
    "code": frozenset({"text"}),
    "uuid": frozenset({"text", "uuid"}),
    "int": frozenset({"number"}),
    "float": frozenset({"number"}),
    "bool": frozenset({"bool"}),
}
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")
ROW_TIME = "created_at"  # row:created_at where the seeder writes none: the row's time


@dataclass(frozen=True)
class LiveColumn:
    """A column as the database describes it."""

    name: str
    type_name: str  # as the database spells it: "timestamp without time zone", "DATETIME"
    category: Category
    nullable: bool
    has_default: bool
    generated: bool = False  # an identity or generated column: the database always writes it
    key: str | None = None  # "a foreign key", "a unique key": why no constant will do
    first_label: str | None = None  # an enum's first label
    code: str = ""  # the loader's own name of the type: PostgreSQL's base type name, or "enum"


@dataclass(frozen=True)
class Rule:
    kind: RuleKind
    arg: str = ""

    def __str__(self) -> str:
        return f"{self.kind}:{self.arg}" if self.kind in ("row", "value") else self.kind

    @property
    def per_row(self) -> bool:
        """Values computed for each row (else one constant for the whole column)."""
        return self.kind in ("time", "now", "row")


@dataclass(frozen=True)
class Fill:
    table: str
    column: LiveColumn
    rule: Rule  # from column_fills, else chosen by the column's type

    @property
    def key(self) -> str:
        return f"{self.table}.{self.column.name}"


def key_hint(key: str) -> str:
    return f'map it in harness.toml: [seed.columns] "{key}" = "value:<literal>" (rules: {RULES})'


def parse_rules(column_fills: Mapping[str, str]) -> dict[tuple[str, str], Rule]:
    """column_fills checked against the grammar above: {(table, column): rule}."""
    rules: dict[tuple[str, str], Rule] = {}
    for key, text in column_fills.items():
        table, dot, column = key.partition(".")
        if not dot or not NAME.fullmatch(table) or not NAME.fullmatch(column):
            raise ConfigError(
                f'[seed.columns] key "{key}" is not "table.column"',
                'name one column per key, e.g. "trip_tags.created_at" = "time"',
            )
        rules[(table, column)] = _rule(key, text)
    return rules


def _rule(key: str, text: str) -> Rule:
    head, colon, arg = text.partition(":")
    if not colon and head in ("time", "now", "null"):
        return Rule(head)  # type: ignore[arg-type]  # one of the three, checked just above
    if colon and head == "value":
        return Rule("value", arg)
    if colon and head == "row" and NAME.fullmatch(arg):
        return Rule("row", arg)
    raise ConfigError(
        f'[seed.columns] "{key}" = "{text}" is not a fill rule',
        f"use one of: {RULES} (see harness/seed/fills.py)",
    )


def plan(
    live: Mapping[str, Mapping[str, LiveColumn]],
    written: Mapping[str, Mapping[str, str]],
    rules: Mapping[tuple[str, str], Rule],
) -> list[Fill]:
    """Every column of a table the seeder writes that it must fill besides the generated ones:
    the mapped columns and the NOT NULL ones without a default. ConfigError names each column
    it cannot fill, with the key that would map it."""
    fills = [_mapped(live, written, table, column, rule) for (table, column), rule in rules.items()]
    unfillable: list[tuple[str, str]] = []
    for table, generated in written.items():
        for column in live[table].values():
            if (
                column.nullable
                or column.has_default
                or column.name in generated
                or (table, column.name) in rules
            ):
                continue
            rule, reason = _by_type(column)
            if rule is None:
                unfillable.append((f"{table}.{column.name}", f"{column.type_name}, {reason}"))
            else:
                fills.append(Fill(table, column, rule))
    if unfillable:
        names = "; ".join(f"{key} ({why})" for key, why in unfillable)
        raise ConfigError(
            f"the seeder cannot fill {len(unfillable)} NOT NULL column(s) without a default"
            f" that it does not generate: {names}",
            key_hint(unfillable[0][0]) + "; one key per column",
        )
    return sorted(fills, key=lambda f: f.key)


def _by_type(column: LiveColumn) -> tuple[Rule | None, str]:
    if column.key is not None:
        return None, f"part of {column.key}"
    if column.category in TIMELY:
        return Rule("time"), ""
    if column.category == "enum" and column.first_label is not None:
        return Rule("value", column.first_label), ""
    if column.category in NEUTRAL:
        return Rule("value", NEUTRAL[column.category]), ""
    return None, "a type without a neutral value"


def _mapped(
    live: Mapping[str, Mapping[str, LiveColumn]],
    written: Mapping[str, Mapping[str, str]],
    table: str,
    name: str,
    rule: Rule,
) -> Fill:
    key = f"{table}.{name}"
    where = f'[seed.columns] "{key}" = "{rule}"'
    if table not in written:
        raise ConfigError(
            f"{where}: the seeder writes no rows into table {table}",
            f"remove the key; rules fill columns of {', '.join(written)}",
        )
    column = live[table].get(name)
    if column is None:
        raise ConfigError(
            f"{where}: the database's table {table} has no column {name}",
            "fix the column name, or remove the key",
        )
    problem = _misfit(column, written[table], rule)
    if problem is not None:
        raise ConfigError(f"{where}: {problem}", f"choose another rule: {RULES}")
    return Fill(table, column, rule)


def _misfit(column: LiveColumn, generated: Mapping[str, str], rule: Rule) -> str | None:
    """Why this rule cannot fill this column, or None."""
    if column.name in generated:
        return "the seeder writes this column itself"
    if column.generated:
        return "the database generates this column"
    if rule.kind in ("time", "now") and column.category not in TIMELY:
        return f'"{rule.kind}" fills timestamp and date columns; this one is {column.type_name}'
    if rule.kind == "null" and not column.nullable:
        return "the column is NOT NULL"
    if rule.kind == "row":
        kind = generated.get(rule.arg, "ts" if rule.arg == ROW_TIME else None)
        if kind is None:
            return f"the seeder writes no column {rule.arg} here (it writes {', '.join(generated)})"
        if column.category not in COPYABLE.get(kind, frozenset()):
            return f"{rule.arg} cannot be copied into a {column.type_name} column"
    return None


def row_values(chunk: Chunk, fill: Fill) -> Col:
    """The values of a per-row fill for this chunk's rows."""
    rule, category = fill.rule, fill.column.category
    if rule.kind == "row" and rule.arg in chunk.columns:
        col = chunk.columns[rule.arg]
    elif rule.kind == "now":
        col = Col("ts", np.full(chunk.rows, ANCHOR_US, dtype=np.int64))
    else:
        col = Col("ts", row_time(chunk))
    if col.kind == "ts" and category == "date":
        return Col("date", col.values // DAY_US, col.null)
    if col.kind == "date" and category == "time":
        return Col("ts", col.values.astype(np.int64) * DAY_US, col.null)
    return col


def row_time(chunk: Chunk) -> np.ndarray:
    """The row's own created_at, else its parent's (chunk.row_time), else its first always-set
    timestamp, else the anchor instant."""
    own = chunk.columns.get("created_at")
    if own is not None and own.kind == "ts" and own.null is None:
        return own.values
    if chunk.row_time is not None:
        return chunk.row_time
    for col in chunk.columns.values():
        if col.kind == "ts" and col.null is None:
            return col.values
    return np.full(chunk.rows, ANCHOR_US, dtype=np.int64)


def describe(fills: list[Fill]) -> dict[str, str]:
    """{"table.column": "rule"} for the manifest and the checksum."""
    return {f.key: str(f.rule) for f in fills}


def by_table(fills: list[Fill]) -> dict[str, list[Fill]]:
    grouped: dict[str, list[Fill]] = {}
    for fill in fills:
        grouped.setdefault(fill.table, []).append(fill)
    return grouped


def bad_literal(fill: Fill, reason: str) -> ConfigError:
    """A value: rule whose literal the column's type refuses."""
    return ConfigError(
        f'[seed.columns] "{fill.key}" = "{fill.rule}": not a valid {fill.column.type_name}'
        f" ({reason})",
        "give a literal of the column's type"
        + (" (an enum takes one of its labels)" if fill.column.category == "enum" else ""),
    )
