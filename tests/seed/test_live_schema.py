"""Seeding a live schema with more than the contract: NOT NULL columns the generator does not
write, native enums, extra and reference tables (a real PostgreSQL, and SQLite)."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from backend.settings import Settings
from harness.errors import ConfigError
from harness.seed import SeedRequest, resolve_profile, seed
from harness.seed.seeder import SeedFailed, plain_dsn, sqlite_path
from tests.support.postgres import LocalPostgres

# What the real service's Alembic head adds to the contract (and some more types).
REAL_LIKE = """
CREATE TYPE userrole AS ENUM ('USER', 'ADMIN');
ALTER TABLE users ALTER COLUMN role TYPE userrole USING role::userrole;
ALTER TABLE trip_tags ADD COLUMN created_at timestamp without time zone NOT NULL;
ALTER TABLE trip_locations ADD COLUMN created_at timestamp with time zone NOT NULL;
ALTER TABLE trip_locations ADD COLUMN visited_on date NOT NULL;
CREATE TYPE mood AS ENUM ('calm', 'windy', 'stormy');
ALTER TABLE trips ADD COLUMN mood mood NOT NULL;
ALTER TABLE trips ADD COLUMN is_featured boolean NOT NULL;
ALTER TABLE user_profiles ADD COLUMN settings json NOT NULL;
ALTER TABLE trip_photos ADD COLUMN labels text[] NOT NULL;
ALTER TABLE tags ADD COLUMN weight numeric(6, 2) NOT NULL;
ALTER TABLE follows ADD COLUMN note varchar(50) NOT NULL;
ALTER TABLE likes ADD COLUMN score integer NOT NULL;
CREATE TABLE notifications (
    id varchar(36) PRIMARY KEY,
    user_id varchar(36) NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    body text NOT NULL);
CREATE TABLE notification_reads (
    id serial PRIMARY KEY,
    notification_id varchar(36) NOT NULL REFERENCES notifications(id));
CREATE TABLE route_kinds (code varchar(20) PRIMARY KEY, label text NOT NULL);
INSERT INTO route_kinds VALUES ('loop', 'Loop'), ('line', 'Point to point');
"""
FILLED = {
    "trip_tags.created_at": "time",
    "trip_locations.created_at": "time",
    "trip_locations.visited_on": "time",
    "trips.mood": "value:calm",
    "trips.is_featured": "value:false",
    "user_profiles.settings": "value:{}",
    "trip_photos.labels": "value:{}",
    "tags.weight": "value:0",
    "follows.note": "value:",
    "likes.score": "value:0",
}
EXPECT_ZERO = {
    "trip_tags.created_at is not its trip's, as naive UTC": "SELECT count(*) FROM trip_tags x"
    " JOIN trips t USING (trip_id) WHERE x.created_at <> (t.created_at AT TIME ZONE 'UTC')",
    "trip_locations.created_at is not its trip's": "SELECT count(*) FROM trip_locations l"
    " JOIN trips t USING (trip_id) WHERE l.created_at <> t.created_at",
    "visited_on is not its trip's UTC day": "SELECT count(*) FROM trip_locations l"
    " JOIN trips t USING (trip_id) WHERE l.visited_on <> (t.created_at AT TIME ZONE 'UTC')::date",
    "mood": "SELECT count(*) FROM trips WHERE mood <> 'calm'",
    "is_featured": "SELECT count(*) FROM trips WHERE is_featured",
    "settings": "SELECT count(*) FROM user_profiles WHERE settings::text <> '{}'",
    "labels": "SELECT count(*) FROM trip_photos WHERE labels <> '{}'",
    "weight": "SELECT count(*) FROM tags WHERE weight <> 0",
    "note": "SELECT count(*) FROM follows WHERE note <> ''",
    "score": "SELECT count(*) FROM likes WHERE score <> 0",
    "role": "SELECT count(*) FROM users WHERE role <> 'USER'",
    "defaults left behind": "SELECT count(*) FROM information_schema.columns WHERE"
    " column_default IS NOT NULL AND table_schema = 'public' AND column_name IN"
    " ('mood', 'is_featured', 'settings', 'labels', 'weight', 'note', 'score')",
}
FILLED_ROWS = "SELECT trip_id, tag_id, created_at FROM trip_tags ORDER BY trip_id, tag_id"


@pytest.fixture
def pg(postgres_server: LocalPostgres, postgres_template: str) -> Iterator[str]:
    """A fresh copy of the reference schema with its reference rows, reshaped like the real one."""
    name = f"cv_{uuid.uuid4().hex[:12]}"
    dsn = postgres_server.create_database(name, template=postgres_template)
    run(dsn, REAL_LIKE)
    yield dsn
    postgres_server.drop_database(name)


def run(dsn: str, statements: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(statements.encode())


def one(dsn: str, query: str) -> Any:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(query.encode()).fetchone()
    assert row is not None
    return row[0]


def rows(dsn: str, query: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(query.encode()).fetchall()


def request(dsn: str, folder: Path, **kw: Any) -> SeedRequest:
    return SeedRequest(dsn=dsn, folder=folder, profile=resolve_profile("tiny", {}),
                       seed=kw.pop("seed", 11), bcrypt_rounds=4, **kw)  # fmt: skip


def quiet(_: str) -> None:
    pass


@pytest.mark.postgres
def test_every_not_null_column_is_filled_from_its_row_or_its_type(pg: str, tmp_path: Path) -> None:
    said: list[str] = []
    manifest = seed(request(pg, tmp_path), said.append)
    assert manifest["fills"] == FILLED
    assert one(pg, "SELECT count(*) FROM trip_tags") == manifest["rows"]["trip_tags"] > 0
    assert {name: one(pg, sql) for name, sql in EXPECT_ZERO.items()} == dict.fromkeys(
        EXPECT_ZERO, 0
    )
    assert any("trip_tags.created_at=time" in line for line in said)


@pytest.mark.postgres
def test_the_filled_data_is_deterministic(pg: str, tmp_path: Path) -> None:
    first = seed(request(pg, tmp_path / "a"), quiet)
    before = rows(pg, FILLED_ROWS)
    again = seed(request(pg, tmp_path / "b", reset=True), quiet)
    assert again["checksum"] == first["checksum"]
    assert rows(pg, FILLED_ROWS) == before
    other = seed(request(pg, tmp_path / "c", reset=True, seed=12), quiet)
    assert other["checksum"] != first["checksum"]
    windy = seed(
        request(pg, tmp_path / "d", reset=True, column_fills={"trips.mood": "value:windy"}), quiet
    )
    assert windy["checksum"] != first["checksum"]  # filled otherwise: other data


@pytest.mark.postgres
def test_a_column_it_cannot_fill_is_named_with_its_key_and_a_rule_fills_it(
    pg: str, tmp_path: Path
) -> None:
    run(pg, "ALTER TABLE trips ADD COLUMN route_kind varchar(20) NOT NULL"
            " REFERENCES route_kinds(code)")  # fmt: skip
    with pytest.raises(ConfigError) as caught:
        seed(request(pg, tmp_path), quiet)
    assert "trips.route_kind" in caught.value.message and "foreign key" in caught.value.message
    assert '[seed.columns] "trips.route_kind"' in caught.value.hint
    assert one(pg, "SELECT count(*) FROM users") == 0  # nothing was changed

    fills = {
        "trips.route_kind": "value:line",
        "follows.note": "row:follower_id",
        "trip_tags.created_at": "row:created_at",  # the README's example: its trip's
    }
    manifest = seed(request(pg, tmp_path, column_fills=fills), quiet)
    assert manifest["fills"]["trips.route_kind"] == "value:line"
    assert manifest["fills"]["trip_tags.created_at"] == "row:created_at"
    assert one(pg, EXPECT_ZERO["trip_tags.created_at is not its trip's, as naive UTC"]) == 0
    assert rows(pg, "SELECT DISTINCT route_kind FROM trips") == [("line",)]
    assert one(pg, "SELECT count(*) FROM follows WHERE note <> follower_id") == 0
    foreign = (
        "SELECT count(*) FROM pg_constraint WHERE conrelid = 'trips'::regclass AND contype = 'f'"
    )
    assert one(pg, foreign) == 2  # users and route_kinds: rebuilt after the load


@pytest.mark.postgres
def test_a_literal_the_type_refuses_is_named_and_nothing_changes(pg: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        seed(request(pg, tmp_path, column_fills={"trips.mood": "value:hurricane"}), quiet)
    assert '"trips.mood" = "value:hurricane"' in caught.value.message
    assert "enum" in caught.value.hint
    assert one(pg, "SELECT count(*) FROM users") == 0
    assert one(pg, "SELECT count(*) FROM information_schema.columns WHERE column_name = 'mood'"
                   " AND column_default IS NOT NULL") == 0  # fmt: skip


@pytest.mark.postgres
def test_reset_lists_what_it_empties_and_keeps_reference_rows(pg: str, tmp_path: Path) -> None:
    seed(request(pg, tmp_path), quiet)
    run(pg, "INSERT INTO notifications SELECT id, id, 'hello' FROM users LIMIT 5;"
            " INSERT INTO notification_reads (notification_id) SELECT id FROM notifications")  # fmt: skip
    said: list[str] = []
    manifest = seed(request(pg, tmp_path, reset=True, keep_tables=["route_kinds"]), said.append)
    line = next(s for s in said if s.startswith("reset: empties"))
    assert "notifications (had rows)" in line and "notification_reads (had rows)" in line
    assert "comments" in line and "password_resets" in line and "route_kinds" not in line
    assert manifest["emptied"] == ["comments", "notification_reads", "notifications",
                                   "password_resets"]  # fmt: skip
    assert manifest["kept"] == ["achievements", "cycling_types", "route_kinds"]
    assert any("keeps the reference table(s) achievements, cycling_types, route_kinds" in s
               for s in said)  # fmt: skip
    counts = {t: one(pg, f"SELECT count(*) FROM {t}")
              for t in ("notifications", "notification_reads", "route_kinds", "achievements",
                        "cycling_types")}  # fmt: skip
    assert counts == {"notifications": 0, "notification_reads": 0, "route_kinds": 2,
                      "achievements": 9, "cycling_types": 6}  # fmt: skip


@pytest.mark.postgres
def test_without_reset_rows_in_any_table_it_would_empty_are_refused(
    pg: str, tmp_path: Path
) -> None:
    run(pg, "ALTER TABLE notifications ALTER COLUMN user_id DROP NOT NULL;"
            " INSERT INTO notifications VALUES ('n1', NULL, 'system notice')")  # fmt: skip
    with pytest.raises(ConfigError) as caught:
        seed(request(pg, tmp_path), quiet)
    assert "notifications not empty" in caught.value.message and "--reset" in caught.value.hint
    assert one(pg, "SELECT count(*) FROM notifications") == 1


@pytest.mark.postgres
def test_a_reference_table_tied_to_seeded_data_is_never_emptied(pg: str, tmp_path: Path) -> None:
    seed(request(pg, tmp_path), quiet)
    run(pg, "ALTER TABLE cycling_types ADD COLUMN curator_id varchar(36) REFERENCES users(id);"
            " UPDATE cycling_types SET curator_id = (SELECT min(id) FROM users)")  # fmt: skip
    with pytest.raises(ConfigError) as caught:
        seed(request(pg, tmp_path, reset=True), quiet)
    assert "reference table cycling_types" in caught.value.message
    assert "users" in caught.value.message and "keep_tables" in caught.value.hint
    assert one(pg, "SELECT count(*) FROM cycling_types WHERE curator_id IS NOT NULL") == 6


@pytest.mark.postgres
def test_a_failure_midway_restores_the_defaults_it_set(pg: str, tmp_path: Path) -> None:
    run(pg, "ALTER TABLE follows ADD CONSTRAINT note_is_long CHECK (length(note) > 3)")
    with pytest.raises(SeedFailed) as caught:
        seed(request(pg, tmp_path), quiet)  # the neutral '' breaks the CHECK in mid-load
    assert "note_is_long" in caught.value.message
    assert one(pg, "SELECT count(*) FROM users") == 0
    assert one(pg, EXPECT_ZERO["defaults left behind"]) == 0


# -- SQLite: the same fills by declared type -------------------------------------------------
SQLITE_EXTRA = {
    "trip_tags": "created_at DATETIME NOT NULL, flagged BOOLEAN NOT NULL",
    "trip_locations": "visited_on DATE NOT NULL, meta JSON NOT NULL",
    "trips": "views INTEGER NOT NULL, rating FLOAT NOT NULL, label VARCHAR(20) NOT NULL",
}
SQLITE_ZERO = {
    "trip_tags.created_at": "SELECT count(*) FROM trip_tags x JOIN trips t USING (trip_id)"
    " WHERE x.created_at <> t.created_at",
    "visited_on": "SELECT count(*) FROM trip_locations l JOIN trips t USING (trip_id)"
    " WHERE l.visited_on <> substr(t.created_at, 1, 10)",
    "flagged": "SELECT count(*) FROM trip_tags WHERE flagged IS NOT 0",
    "meta": "SELECT count(*) FROM trip_locations WHERE meta IS NOT '{}'",
    "views": "SELECT count(*) FROM trips WHERE views IS NOT 0 OR rating IS NOT 0",
}


def widen_sqlite(path: Path) -> None:
    """SQLite cannot add a NOT NULL column without a default: recreate the (empty) tables."""
    with sqlite3.connect(path) as conn:
        for table, extra in SQLITE_EXTRA.items():
            (ddl,) = conn.execute(
                "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
            ).fetchone()
            conn.execute(f"DROP TABLE {table}")
            opening = ddl.index("(") + 1  # columns go before the table's constraints
            conn.execute(f"{ddl[:opening]}{extra}, {ddl[opening:]}")


def lite(path: Path, query: str) -> Any:
    with sqlite3.connect(path) as conn:
        return conn.execute(query).fetchone()[0]


@pytest.mark.parametrize("backend_settings", ["sqlite"], indirect=True)
def test_sqlite_columns_are_filled_by_type_and_deterministically(
    backend_settings: Settings, tmp_path: Path
) -> None:
    dsn = plain_dsn(backend_settings.database_url)
    path = sqlite_path(dsn)
    widen_sqlite(path)
    first = seed(request(dsn, tmp_path / "a"), quiet)
    assert first["fills"]["trip_tags.created_at"] == "time"
    assert first["fills"]["trips.label"] == "value:"
    assert lite(path, "SELECT count(*) FROM trip_tags") == first["rows"]["trip_tags"] > 0
    zero = {name: lite(path, sql) for name, sql in SQLITE_ZERO.items()}
    assert zero == dict.fromkeys(SQLITE_ZERO, 0)
    assert lite(path, "SELECT count(*) FROM trips WHERE label IS NOT ''") == 0
    stamps = lite(path, "SELECT group_concat(created_at) FROM trip_tags")
    again = seed(request(dsn, tmp_path / "b", reset=True), quiet)
    assert again["checksum"] == first["checksum"]
    assert lite(path, "SELECT group_concat(created_at) FROM trip_tags") == stamps


@pytest.mark.parametrize("backend_settings", ["sqlite"], indirect=True)
def test_sqlite_rules_fill_and_bad_literals_are_named(
    backend_settings: Settings, tmp_path: Path
) -> None:
    dsn = plain_dsn(backend_settings.database_url)
    path = sqlite_path(dsn)
    widen_sqlite(path)
    with pytest.raises(ConfigError) as caught:
        seed(request(dsn, tmp_path, column_fills={"trip_tags.flagged": "value:maybe"}), quiet)
    assert '"trip_tags.flagged" = "value:maybe"' in caught.value.message
    assert lite(path, "SELECT count(*) FROM users") == 0
    fills = {"trips.label": "value:gravel", "trips.views": "value:7",
             "trip_tags.created_at": "now"}  # fmt: skip
    seed(request(dsn, tmp_path, column_fills=fills), quiet)
    assert (
        lite(path, "SELECT count(*) FROM trips WHERE label IS NOT 'gravel' OR views IS NOT 7") == 0
    )
    assert lite(path, "SELECT DISTINCT created_at FROM trip_tags") == "2026-06-01 00:00:00.000000"
