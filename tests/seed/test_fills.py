"""Fill rules: the grammar, the plan by type, and what a rule may not do (no database needed)."""

from __future__ import annotations

import numpy as np
import pytest

from harness.errors import ConfigError
from harness.seed.columns import Chunk, Col
from harness.seed.fills import LiveColumn, Rule, parse_rules, plan, row_values
from harness.seed.generate import ANCHOR_US, DAY_US
from harness.seed.reset import plan_tables

WRITTEN = {"trips": {"trip_id": "uuid", "title": "text", "created_at": "ts"}, "trip_tags": {}}


def col(name: str, category: str, **kw: object) -> LiveColumn:
    values: dict[str, object] = {"type_name": category, "nullable": False, "has_default": False}
    values.update(kw)
    return LiveColumn(name=name, category=category, **values)  # type: ignore[arg-type]


def live(**extra: LiveColumn) -> dict[str, dict[str, LiveColumn]]:
    trips = {c.name: c for c in (col("trip_id", "text"), col("title", "text"))}
    trips["created_at"] = col("created_at", "time")
    trips.update(extra)
    return {"trips": trips, "trip_tags": {}}


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("time", Rule("time")),
        ("now", Rule("now")),
        ("null", Rule("null")),
        ("row:created_at", Rule("row", "created_at")),
        ("value:", Rule("value", "")),
        ("value:a:b", Rule("value", "a:b")),
    ],
)
def test_the_grammar(text: str, rule: Rule) -> None:
    assert parse_rules({"trips.x": text}) == {("trips", "x"): rule}
    assert str(rule) == text


@pytest.mark.parametrize(
    ("key", "text", "needle"),
    [
        ("trips", "time", '"trips" is not "table.column"'),
        ("trips.x.y", "time", "is not"),
        ("trips.x", "Time", "is not a fill rule"),
        ("trips.x", "row:", "is not a fill rule"),
        ("trips.x", "default", "is not a fill rule"),
        ("trips.x", "now:", "is not a fill rule"),
    ],
)
def test_bad_grammar_is_refused_with_the_rules(key: str, text: str, needle: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_rules({key: text})
    assert needle in caught.value.message
    assert "time" in caught.value.hint or "table.column" in caught.value.hint


def test_type_fills_for_not_null_columns_without_a_default() -> None:
    schema = live(
        mood=col("mood", "enum", first_label="calm"),
        featured=col("featured", "bool"),
        views=col("views", "number"),
        note=col("note", "text"),
        meta=col("meta", "json"),
        labels=col("labels", "array"),
        day=col("day", "date"),
        seen=col("seen", "time"),
        maybe=col("maybe", "text", nullable=True),  # nullable: left NULL
        served=col("served", "number", has_default=True),  # a default: left to it
    )
    got = {f.key: str(f.rule) for f in plan(schema, WRITTEN, {})}
    assert got == {
        "trips.day": "time",
        "trips.featured": "value:false",
        "trips.labels": "value:{}",
        "trips.meta": "value:{}",
        "trips.mood": "value:calm",
        "trips.note": "value:",
        "trips.seen": "time",
        "trips.views": "value:0",
    }


@pytest.mark.parametrize(
    ("column", "why"),
    [
        (col("route_id", "text", key="a foreign key"), "part of a foreign key"),
        (col("slug", "text", key="a unique key"), "part of a unique key"),
        (col("ref", "uuid", type_name="uuid"), "without a neutral value"),
    ],
)
def test_a_column_it_cannot_fill_names_the_key(column: LiveColumn, why: str) -> None:
    with pytest.raises(ConfigError) as caught:
        plan(live(**{column.name: column}), WRITTEN, {})
    assert f"trips.{column.name}" in caught.value.message and why in caught.value.message
    assert f'[seed.columns] "trips.{column.name}"' in caught.value.hint
    rule = Rule("value", "x")
    mapped = plan(live(**{column.name: column}), WRITTEN, {("trips", column.name): rule})
    assert [f.key for f in mapped] == [f"trips.{column.name}"]  # a rule is accepted instead


@pytest.mark.parametrize(
    ("key", "rule", "needle"),
    [
        (("likes", "x"), Rule("time"), "writes no rows into table likes"),
        (("trips", "nope"), Rule("time"), "has no column nope"),
        (("trips", "title"), Rule("value", "x"), "writes this column itself"),
        (("trips", "note"), Rule("time"), "fills timestamp and date columns"),
        (("trips", "note"), Rule("null"), "is NOT NULL"),
        (("trips", "note"), Rule("row", "missing"), "writes no column missing"),
        (("trips", "note"), Rule("row", "created_at"), "cannot be copied"),
        (("trips", "serial"), Rule("value", "1"), "the database generates"),
    ],
)
def test_rules_that_cannot_apply(key: tuple[str, str], rule: Rule, needle: str) -> None:
    schema = live(
        note=col("note", "text"), serial=col("serial", "number", has_default=True, generated=True)
    )
    with pytest.raises(ConfigError) as caught:
        plan(schema, WRITTEN, {key: rule})
    assert needle in caught.value.message and f'"{key[0]}.{key[1]}"' in caught.value.message


def test_row_created_at_without_one_is_the_parents_time() -> None:
    created = np.array([ANCHOR_US - DAY_US, ANCHOR_US - 2 * DAY_US], dtype=np.int64)
    stamp = col("created_at", "time")
    schema = {"trip_tags": {"created_at": stamp}, "trips": live()["trips"]}
    (fill,) = plan(schema, WRITTEN, parse_rules({"trip_tags.created_at": "row:created_at"}))
    chunk = Chunk("trip_tags", {"tag_id": Col("int", np.arange(2))}, row_time=created)
    assert list(row_values(chunk, fill).values) == list(created)
    with pytest.raises(ConfigError, match="cannot be copied"):  # still a time, not a text
        plan({"trip_tags": {"created_at": col("created_at", "text")}, "trips": live()["trips"]},
             WRITTEN, parse_rules({"trip_tags.created_at": "row:created_at"}))  # fmt: skip


def test_row_values_take_the_rows_or_the_parents_time() -> None:
    created = np.array([ANCHOR_US - 3 * DAY_US - 5, ANCHOR_US], dtype=np.int64)
    own = Chunk("trips", {"created_at": Col("ts", created)})
    parent = Chunk("trip_tags", {"tag_id": Col("int", np.arange(2))}, row_time=created + 7)
    schema = live(day=col("day", "date"), seen=col("seen", "time"))
    day, seen = plan(schema, WRITTEN, {})
    assert list(row_values(own, seen).values) == list(created)
    assert list(row_values(parent, seen).values) == list(created + 7)
    assert list(row_values(own, day).values) == list(created // DAY_US)
    assert row_values(own, day).kind == "date"


def test_a_reference_table_tied_to_seeded_data_is_refused() -> None:
    refs = {"notes": {"users"}, "reads": {"notes"}, "cycling_types": {"users"}}
    present = ["users", "notes", "reads", "cycling_types", "achievements", "comments"]
    with pytest.raises(ConfigError) as caught:
        plan_tables(present, refs, ["users"])
    assert "cycling_types" in caught.value.message and "users" in caught.value.message
    tables = plan_tables(present, {"notes": {"users"}, "reads": {"notes"}}, ["users"], ["badges"])
    assert tables.others == ("comments", "notes", "reads")  # transitive, and the contract's
    assert tables.kept == ("achievements", "cycling_types")  # "badges" is not in the database
    with pytest.raises(ConfigError, match="a table the seeder writes"):
        plan_tables(present, {}, ["users"], ["users"])
