"""The seeded-dataset cache: schema hash, cache key, save and restore of template databases on a
real PostgreSQL, and the seed files kept with a template."""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from harness.errors import ConfigError
from harness.seed import (
    MANIFEST,
    USERNAMES,
    SeedRequest,
    TemplateBusy,
    cache_key,
    copy_seed_files,
    drop_template,
    has_template,
    list_templates,
    recall,
    remember,
    resolve_profile,
    restore_template,
    save_template,
    schema_hash,
    seed_inputs,
    template_name,
)
from harness.seed import template as template_module
from tests.support.postgres import LocalPostgres, find_binaries, free_port, local_postgres

DDL = """
CREATE SCHEMA ext;
CREATE DOMAIN ext.distance AS numeric(8, 2) CHECK (VALUE >= 0);
CREATE TYPE rider_level AS ENUM ('rookie', 'club', 'pro');
CREATE TABLE achievements (
    id varchar(36) PRIMARY KEY,
    code varchar(50) NOT NULL UNIQUE,
    name text NOT NULL,
    requirement_value double precision NOT NULL,
    created_at timestamptz NOT NULL);
CREATE TABLE cycling_types (code varchar(20) PRIMARY KEY, label text NOT NULL);
CREATE TABLE users (
    id serial PRIMARY KEY,
    username varchar(50) NOT NULL CONSTRAINT users_username_key UNIQUE,
    level rider_level NOT NULL DEFAULT 'rookie',
    created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE trips (
    trip_id bigserial PRIMARY KEY,
    user_id integer NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title text NOT NULL,
    distance_km ext.distance);
CREATE INDEX trips_user_idx ON trips (user_id, distance_km DESC);
CREATE TABLE user_achievements (
    user_id integer NOT NULL REFERENCES users (id),
    achievement_id varchar(36) NOT NULL REFERENCES achievements (id),
    PRIMARY KEY (user_id, achievement_id));
INSERT INTO achievements VALUES
    ('a-1', 'FIRST_TRIP', 'First trip', 1, '2026-01-01 00:00:00+00'),
    ('a-2', 'CENTURY', 'A hundred km', 100.5, '2026-01-01 00:00:00+00'),
    ('a-3', 'GLOBETROTTER', 'Ten countries', 10, '2026-02-01 12:30:00+00');
INSERT INTO cycling_types VALUES ('road', 'Road'), ('gravel', 'Gravel');
"""
ROWS = """
INSERT INTO users (username, level, created_at)
SELECT 'rider' || g, (ARRAY['rookie', 'club', 'pro'])[1 + g % 3]::rider_level,
       timestamptz '2026-01-01 00:00:00+00' + g * interval '1 minute'
  FROM generate_series(1, 500) g;
INSERT INTO trips (user_id, title, distance_km)
SELECT 1 + g % 500, 'trip ' || g, (g % 1000) / 10.0 FROM generate_series(1, 3000) g;
INSERT INTO user_achievements SELECT id, 'a-1' FROM users WHERE id % 4 = 0;
"""
# What a run does to a seeded database: what a restore must undo, schema included.
RUN = """
UPDATE users SET level = 'pro' WHERE id % 7 = 0;
DELETE FROM trips WHERE trip_id % 2 = 0;
INSERT INTO users (username) VALUES ('newcomer');
ALTER TABLE trips ADD COLUMN note text;
UPDATE achievements SET name = 'Renamed' WHERE code = 'CENTURY';
"""
SCHEMA_CHANGES = {
    "a column": "ALTER TABLE trips ADD COLUMN note text",
    "an index": "CREATE INDEX users_created_idx ON users (created_at)",
    "an index's columns": "DROP INDEX trips_user_idx; CREATE INDEX trips_user_idx ON trips (user_id)",
    "a constraint": "ALTER TABLE trips ADD CONSTRAINT trips_km CHECK (distance_km >= 0)",
    "a column type": "ALTER TABLE trips ALTER COLUMN distance_km TYPE numeric(10, 2)",
    "nullability": "ALTER TABLE trips ALTER COLUMN title DROP NOT NULL",
    "a default": "ALTER TABLE users ALTER COLUMN level SET DEFAULT 'club'",
    "an enum label": "ALTER TYPE rider_level ADD VALUE 'legend'",
    "a table": "CREATE TABLE comments (id serial PRIMARY KEY, body text)",
    "an achievement": "UPDATE achievements SET requirement_value = 101 WHERE code = 'CENTURY'",
    "an achievement's time": "UPDATE achievements SET created_at = created_at + interval '1 s'"
    " WHERE code = 'CENTURY'",
    "a cycling type": "INSERT INTO cycling_types VALUES ('mtb', 'Mountain')",
}
INPUTS: dict[str, Any] = {
    "profile": {"name": "small", "users": 10_000, "trips": 50_000, "follows": 120_000,
                "likes": 150_000, "tags": 150},
    "seed": 1, "bcrypt_rounds": 12, "password": "Seeded!Rider1",
    "fills": {"trips.mood": "value:calm"}, "keep_tables": [],
}  # fmt: skip
SECRET = "s3cret-Pa55"
IDENTIFIER = re.compile(r"[a-z_][a-z0-9_$]*")


def execute(dsn: str, statements: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(statements.encode())


def one(dsn: str, query: str, *params: Any) -> Any:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(query.encode(), params).fetchone()
    return None if row is None else row[0]


def state(dsn: str) -> dict[str, Any]:
    """Row count and md5 of every table's rows, and every sequence's position."""
    with psycopg.connect(dsn) as conn:
        tables = [t for (t,) in conn.execute("SELECT tablename FROM pg_tables"
                                             " WHERE schemaname = 'public' ORDER BY 1")]  # fmt: skip
        digest = sql.SQL(
            "SELECT count(*), md5(coalesce(string_agg(t::text, ';' ORDER BY t::text), ''))"
            " FROM {} t"
        )
        found: dict[str, Any] = {
            table: conn.execute(digest.format(sql.Identifier(table))).fetchone() for table in tables
        }
        found["sequences"] = conn.execute("SELECT sequencename, last_value FROM pg_sequences"
                                          " WHERE schemaname = 'public' ORDER BY 1").fetchall()  # fmt: skip
    return found


@dataclass
class Cluster:
    """Databases, templates and roles made on the shared test server; all dropped afterwards."""

    server: LocalPostgres
    databases: list[str] = field(default_factory=list)
    templates: list[str] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)

    def database(self, statements: str = DDL + ROWS, *, settings: tuple[str, ...] = ()) -> str:
        name = f"cv_tpl_{uuid.uuid4().hex[:10]}"
        self.databases.append(name)
        dsn = self.server.create_database(name)
        for setting in settings:  # per database, as a server configured otherwise has them
            execute(self.server.admin_dsn, f"ALTER DATABASE {name} SET {setting}")
        execute(dsn, statements)
        return dsn

    def template(self) -> str:
        name = template_name(uuid.uuid4().hex[:16])
        self.templates.append(name)
        return name

    def role(self) -> str:
        name = f"cv_role_{uuid.uuid4().hex[:8]}"
        self.roles.append(name)
        execute(self.server.admin_dsn, f"CREATE ROLE {name}")
        return name

    def datrow(self, name: str) -> tuple[Any, ...] | None:
        with psycopg.connect(self.server.admin_dsn) as conn:
            return conn.execute("SELECT datistemplate, datallowconn, pg_get_userbyid(datdba)"
                                " FROM pg_database WHERE datname = %s", (name,)).fetchone()  # fmt: skip

    def cleanup(self) -> None:
        with psycopg.connect(self.server.admin_dsn, autocommit=True) as conn:
            for name in self.templates:
                if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
                    conn.execute(f"ALTER DATABASE {name} WITH IS_TEMPLATE false".encode())
                    conn.execute(f"DROP DATABASE {name} WITH (FORCE)".encode())
        for name in self.databases:
            self.server.drop_database(name)
        for role in self.roles:
            execute(self.server.admin_dsn, f"DROP ROLE IF EXISTS {role}")


@pytest.fixture
def cluster(request: pytest.FixtureRequest) -> Iterator[Cluster]:
    if find_binaries() is None:
        pytest.skip("no PostgreSQL server binaries found (set PG_BINDIR)")
    made = Cluster(request.getfixturevalue("postgres_server"))
    yield made
    made.cleanup()


# -- the schema hash ---------------------------------------------------------------------------


@pytest.mark.postgres
def test_the_same_ddl_gives_the_same_hash_whatever_the_data_and_settings(cluster: Cluster) -> None:
    first = cluster.database()
    # Other OIDs (objects made and dropped first), other output settings, other user data.
    second = cluster.database(
        "CREATE TYPE scratch AS ENUM ('x'); CREATE TABLE scratch_t (id int); DROP TABLE scratch_t;"
        " DROP TYPE scratch;" + DDL + "INSERT INTO users (username) VALUES ('only-one')",
        settings=("timezone = 'Asia/Tokyo'", "extra_float_digits = -3", "search_path = public, ext",
                  "DateStyle = 'SQL, DMY'", "IntervalStyle = 'iso_8601'"),
    )  # fmt: skip
    digest = schema_hash(first)
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert schema_hash(second) == digest
    execute(first, "DELETE FROM user_achievements; DELETE FROM trips; ANALYZE")
    assert schema_hash(first) == digest  # seeded or run data is not the schema


@pytest.mark.postgres
def test_the_schema_name_does_not_count(cluster: Cluster) -> None:
    public = cluster.database(DDL)
    other = cluster.database("CREATE SCHEMA riders", settings=("search_path = riders",))
    execute(other, DDL)  # a new session: its objects go into riders
    assert one(other, "SELECT count(*) FROM pg_tables WHERE schemaname = 'riders'") == 5
    assert schema_hash(other) == schema_hash(public)


@pytest.mark.postgres
@pytest.mark.slow
def test_the_same_ddl_gives_the_same_hash_in_another_cluster(cluster: Cluster) -> None:
    here = schema_hash(cluster.database())
    with local_postgres() as other:
        assert schema_hash(other.create_database("contravento")) != here  # empty: no tables
        execute(other.dsn("contravento"), DDL)
        assert schema_hash(other.dsn("contravento")) == here


@pytest.mark.postgres
@pytest.mark.parametrize(
    "change", SCHEMA_CHANGES.values(), ids=[k.replace(" ", "-") for k in SCHEMA_CHANGES]
)
def test_the_hash_changes_with_the_schema_and_the_reference_rows(
    cluster: Cluster, change: str
) -> None:
    dsn = cluster.database()
    before = schema_hash(dsn)
    execute(dsn, change)
    assert schema_hash(dsn) != before


# -- the key -----------------------------------------------------------------------------------


def test_the_key_follows_every_input_and_nothing_else() -> None:
    schema = "a" * 64
    base = cache_key(schema, INPUTS)
    assert re.fullmatch(r"[0-9a-f]{16}", base)
    assert cache_key(schema, dict(reversed(INPUTS.items()))) == base  # key order: no matter
    variants = [
        cache_key("b" * 64, INPUTS),
        cache_key(schema, {**INPUTS, "seed": 2}),
        cache_key(schema, {**INPUTS, "profile": {**INPUTS["profile"], "trips": 50_001}}),
        cache_key(schema, {**INPUTS, "profile": {**INPUTS["profile"], "name": "medium"}}),
        cache_key(schema, {**INPUTS, "password": "Other!Rider2"}),
        cache_key(schema, {**INPUTS, "bcrypt_rounds": 4}),
        cache_key(schema, {**INPUTS, "fills": {"trips.mood": "value:windy"}}),
        cache_key(schema, {**INPUTS, "keep_tables": ["route_kinds"]}),
    ]
    assert len({base, *variants}) == len(variants) + 1


def test_the_key_changes_with_the_code_that_makes_the_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    before = cache_key("a" * 64, INPUTS)
    assert re.fullmatch(r"[0-9a-f]{64}", template_module.code_fingerprint())
    monkeypatch.setattr(template_module, "code_fingerprint", lambda: "0" * 64)
    assert cache_key("a" * 64, INPUTS) != before


def test_seed_inputs_are_what_decides_the_rows(tmp_path: Path) -> None:
    def request(**kw: Any) -> SeedRequest:
        values: dict[str, Any] = {"dsn": "postgresql://a@h/db", "folder": tmp_path,
                                  "profile": resolve_profile("tiny", {}), "seed": 3}  # fmt: skip
        return SeedRequest(**{**values, **kw})

    def key(r: SeedRequest) -> str:
        return cache_key("a" * 64, seed_inputs(r))

    same = request(dsn="postgresql://b@other/db2", folder=tmp_path / "x", reset=True, home=tmp_path)
    assert key(same) == key(request())
    others = [request(seed=4), request(profile=resolve_profile("tiny", {"users": 300})),
              request(password="x"), request(bcrypt_rounds=4), request(keep_tables=["k"]),
              request(column_fills={"trips.mood": "value:calm"})]  # fmt: skip
    assert len({key(r) for r in others} | {key(request())}) == len(others) + 1


def test_the_template_name_is_a_plain_identifier() -> None:
    name = template_name(cache_key("a" * 64, INPUTS))
    assert name.startswith("cv_seed_") and IDENTIFIER.fullmatch(name)
    assert len(name.encode()) < 63
    for bad in ("", "ABCDEF0123456789", "0123456789abcde", "../../../etc/x", "0123456789abcdef0"):
        with pytest.raises(ValueError):
            template_name(bad)


@pytest.mark.postgres
def test_the_template_name_needs_no_quotes(cluster: Cluster) -> None:
    name = cluster.template()
    execute(cluster.server.admin_dsn, f"CREATE DATABASE {name.upper()}")  # folded to lower case
    assert cluster.datrow(name) is not None


# -- save and restore --------------------------------------------------------------------------


@pytest.mark.postgres
def test_a_restore_gives_back_the_saved_rows_exactly(cluster: Cluster) -> None:
    dsn, name = cluster.database(), cluster.template()
    saved, digest = state(dsn), schema_hash(dsn)
    assert save_template(dsn, name) > 0
    assert has_template(dsn, name) and name in list_templates(dsn)
    for _ in range(2):  # the template outlives a restore: the next repetition uses it again
        execute(dsn, RUN)
        assert state(dsn) != saved
        assert restore_template(dsn, name) > 0
        assert state(dsn) == saved
        assert schema_hash(dsn) == digest
    assert has_template(dsn, name)


@pytest.mark.postgres
def test_a_restore_ends_the_sessions_on_the_database(cluster: Cluster) -> None:
    dsn, name = cluster.database(), cluster.template()
    save_template(dsn, name)
    with psycopg.connect(dsn) as backend:
        restore_template(dsn, name)
        with pytest.raises(psycopg.OperationalError):
            backend.execute("SELECT 1")
    assert one(dsn, "SELECT count(*) FROM users") == 500


@pytest.mark.postgres
def test_a_restore_keeps_the_databases_owner(cluster: Cluster) -> None:
    dsn, name = cluster.database(), cluster.template()
    database = dsn.rsplit("/", 1)[1]
    first, later = cluster.role(), cluster.role()
    execute(cluster.server.admin_dsn, f"ALTER DATABASE {database} OWNER TO {first}")
    save_template(dsn, name)
    assert cluster.datrow(name) == (True, False, first)
    execute(cluster.server.admin_dsn, f"ALTER DATABASE {database} OWNER TO {later}")
    restore_template(dsn, name)
    assert cluster.datrow(database) == (False, True, later)  # not the template's owner
    cluster.server.drop_database(database)
    restore_template(dsn, name)  # gone: it comes back with the owner it had when saved
    assert cluster.datrow(database) == (False, True, first)


@pytest.mark.postgres
def test_the_template_refuses_connections(cluster: Cluster) -> None:
    dsn, name = cluster.database(), cluster.template()
    save_template(dsn, name)
    with pytest.raises(psycopg.OperationalError, match="not currently accepting connections"):
        psycopg.connect(cluster.server.dsn(name))


@pytest.mark.postgres
def test_saving_refuses_while_another_session_is_connected(cluster: Cluster) -> None:
    dsn, name = cluster.database(), cluster.template()
    with psycopg.connect(dsn) as backend:
        with pytest.raises(TemplateBusy) as caught:
            save_template(dsn, name)
        assert backend.execute("SELECT count(*) FROM users").fetchone() == (500,)  # not ended
    assert "stop the backend first" in caught.value.hint
    assert "1 other session" in caught.value.message
    assert not has_template(dsn, name)
    save_template(dsn, name)
    with psycopg.connect(dsn), pytest.raises(TemplateBusy):
        save_template(dsn, name)
    assert has_template(dsn, name)  # the older template of that name is still there


@pytest.mark.postgres
def test_saving_waits_for_a_session_on_its_way_out(cluster: Cluster) -> None:
    """A client that has just closed its connection (the seeder's) is still listed while its
    backend exits: the save waits for it, as PostgreSQL's own check does, instead of refusing."""
    dsn, name = cluster.database(), cluster.template()
    backend = psycopg.connect(dsn)
    closer = threading.Timer(0.5, backend.close)  # well inside the 5 s the save waits
    closer.start()
    try:
        save_template(dsn, name)
    finally:
        closer.join()
    assert backend.closed and has_template(dsn, name)


@pytest.mark.postgres
@pytest.mark.slow
def test_saving_refuses_a_session_that_comes_after_the_check(
    cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    dsn, name = cluster.database(), cluster.template()
    monkeypatch.setattr(template_module, "_other_sessions", lambda conn, database: 0)
    with psycopg.connect(dsn), pytest.raises(TemplateBusy) as caught:
        save_template(dsn, name)  # PostgreSQL's own refusal, after its 5 s wait
    assert "being accessed by other users" in caught.value.message
    assert "stop the backend first" in caught.value.hint
    assert not has_template(dsn, name)


@pytest.mark.postgres
def test_a_missing_template_changes_nothing(cluster: Cluster) -> None:
    dsn = cluster.database()
    before = state(dsn)
    with pytest.raises(ConfigError, match="no template") as caught:
        restore_template(dsn, cluster.template())
    assert "was not changed" in caught.value.message and caught.value.hint
    assert state(dsn) == before


@pytest.mark.postgres
def test_the_template_itself_is_never_restored_over(cluster: Cluster) -> None:
    dsn, name = cluster.database(), cluster.template()
    save_template(dsn, name)
    with pytest.raises(ConfigError, match=r"names the template .* itself"):
        restore_template(cluster.server.dsn(name), name)
    assert cluster.datrow(name) == (True, False, "postgres")


@pytest.mark.postgres
def test_a_database_that_is_no_template_is_never_dropped(cluster: Cluster) -> None:
    dsn, name = cluster.database(), cluster.template()
    execute(cluster.server.admin_dsn, f"CREATE DATABASE {name}")
    for call in (drop_template, save_template):
        with pytest.raises(ConfigError, match="not a template"):
            call(dsn, name)
    assert cluster.datrow(name) == (False, True, "postgres")
    assert not has_template(dsn, name) and name not in list_templates(dsn)
    with pytest.raises(ValueError):
        drop_template(dsn, dsn.rsplit("/", 1)[1])  # only names template_name() makes


@pytest.mark.postgres
def test_drop_template_removes_only_that_template(cluster: Cluster) -> None:
    dsn, kept, dropped = cluster.database(), cluster.template(), cluster.template()
    save_template(dsn, kept)
    save_template(dsn, dropped)
    drop_template(dsn, dropped)
    drop_template(dsn, dropped)  # gone already: nothing to do
    assert cluster.datrow(dropped) is None
    assert kept in list_templates(dsn) and dropped not in list_templates(dsn)
    assert "template1" not in list_templates(dsn)
    assert one(dsn, "SELECT count(*) FROM users") == 500


# -- errors ------------------------------------------------------------------------------------


def test_an_unreachable_database_is_a_config_error_without_the_password() -> None:
    port = free_port()
    dsns = [
        f"postgresql+psycopg://cv:{SECRET}@127.0.0.1:{port}/cv",
        f"postgresql://cv:{port}@127.0.0.1:{port}/cv",
    ]  # a password the reason would quote
    calls = [schema_hash, list_templates, lambda d: has_template(d, template_name("0" * 16)),
             lambda d: save_template(d, template_name("0" * 16)),
             lambda d: restore_template(d, template_name("0" * 16))]  # fmt: skip
    for dsn in dsns:
        secret = dsn.split(":")[2].split("@")[0]
        for call in calls:
            with pytest.raises(ConfigError) as caught:
                call(dsn)
            assert "cannot connect" in caught.value.message and caught.value.hint
            assert secret not in caught.value.render()


@pytest.mark.parametrize("dsn", [f"postgresql://cv:{SECRET}@[::1/cv",
                                 f"postgresql://cv:{SECRET}@127.0.0.1/cv?bogus=1",
                                 f"host=127.0.0.1 password={SECRET} dbname"])  # fmt: skip
def test_a_bad_dsn_is_a_config_error_without_the_password(dsn: str) -> None:
    for call in (schema_hash, list_templates):
        with pytest.raises(ConfigError) as caught:
            call(dsn)
        assert "cannot be parsed" in caught.value.message and caught.value.hint
        assert SECRET not in caught.value.render()


def test_the_maintenance_database_or_none_is_refused() -> None:
    refused = {"postgresql://cv@127.0.0.1:1/postgres": "the maintenance database postgres",
               "postgresql://cv@127.0.0.1:1": "names no database"}  # fmt: skip
    for dsn, reason in refused.items():
        for call in (save_template, restore_template):
            with pytest.raises(ConfigError) as caught:
                call(dsn, template_name("0" * 16))
            assert reason in caught.value.message and caught.value.hint


# -- the seed files ----------------------------------------------------------------------------


def test_the_seed_files_are_kept_and_put_back(tmp_path: Path) -> None:
    key = "0123456789abcdef"
    stack = tmp_path / "stacks" / "cv-1"
    stack.mkdir(parents=True)
    (stack / MANIFEST).write_text('{"seed": 1}\n')
    (stack / USERNAMES).write_bytes(b"rider1\nrider2\n")
    home = tmp_path / "home"
    assert recall(home, key) is None
    kept = remember(home, key, stack)
    assert kept == home / "seeds" / "templates" / key
    assert recall(home, key) == kept
    restored = tmp_path / "stacks" / "cv-2"
    copy_seed_files(kept, restored)
    for name in (MANIFEST, USERNAMES):
        assert (restored / name).read_bytes() == (stack / name).read_bytes()
    (kept / USERNAMES).unlink()
    assert recall(home, key) is None  # half a pair is no pair
    with pytest.raises(ConfigError, match=USERNAMES):
        copy_seed_files(kept, tmp_path / "elsewhere")
    with pytest.raises(ValueError):
        remember(home, "../../escape0000", stack)
