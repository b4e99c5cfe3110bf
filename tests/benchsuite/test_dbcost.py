"""Database cost per call: pg_stat_statements deltas around exactly the timed calls."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from harness.bench.suite.dbcost import (
    Counters,
    Key,
    Probe,
    Snapshot,
    delta,
    open_probe,
    per_call,
)
from harness.bench.suite.support import Settings, as_count, measure, too_many_queries
from harness.record import DbCost
from tests.support.postgres import LocalPostgres

USER: Key = (10, 1)
TRIPS: Key = (10, 2)
TAGS: Key = (10, 3)
DRAFT: Key = (10, 4)
TEXTS = {
    USER: "SELECT users.id FROM users WHERE users.username = $1",
    TRIPS: "SELECT trips.trip_id FROM trips WHERE trips.user_id = $1",
    TAGS: "SELECT tags.name FROM tags JOIN trip_tags ON trip_tags.tag_id = tags.tag_id",
    DRAFT: "INSERT INTO trips (trip_id) VALUES ($1)",
}


class FakeDatabase(Probe):
    """pg_stat_statements as a dict: a call adds to it, snapshot() reads it."""

    def __init__(self) -> None:
        super().__init__(None)
        self.counters: dict[Key, Counters] = {}
        self.evictions = 0
        self.busy_snapshots = 0  # the next snapshots that find another connection busy
        self.snapshots = 0

    @property
    def available(self) -> bool:
        return True

    def run(self, key: Key, times: int = 1, rows: int = 1) -> None:
        change = Counters(times, rows * times, 3 * times, times, 0.5 * times)
        self.counters[key] = self.counters.get(key, Counters()) + change

    def snapshot(self) -> Snapshot:
        self.snapshots += 1
        settled = self.busy_snapshots == 0
        self.busy_snapshots = max(self.busy_snapshots - 1, 0)
        return Snapshot(dict(self.counters), self.evictions, settled)

    def texts(self, keys: list[Key]) -> dict[Key, str]:
        return {k: TEXTS[k] for k in keys}


class FakeBenchmark:
    """pytest-benchmark's fixture as measure() uses it: pedantic() runs setup, the target and
    teardown per round, the warm-up rounds first (pytest_benchmark.fixture._raw_pedantic)."""

    def __init__(self) -> None:
        self.extra_info: dict[str, Any] = {}
        self.stats = type("Stats", (), {"stats": type("Data", (), {"data": []})()})()

    def pedantic(
        self,
        target: Callable[..., Any],
        setup: Callable[[], Any] | None = None,
        teardown: Callable[..., None] | None = None,
        rounds: int = 1,
        warmup_rounds: int = 0,
        iterations: int = 1,
    ) -> None:
        assert iterations == 1
        for timed in [False] * warmup_rounds + [True] * rounds:
            made = setup() if setup is not None else None
            args, kwargs = made if made else ((), {})
            target(*args, **kwargs)
            if timed:
                self.stats.stats.data.append(0.004)
            if teardown is not None:
                teardown(*args, **kwargs)


def settings(max_queries: int | None = None, warmup: int = 2) -> Settings:
    table: dict[str, Any] = {"p95_ms": 200}
    if max_queries is not None:
        table["max_queries"] = max_queries
    return Settings(
        target="http://127.0.0.1:8000",
        dsn=None,
        targets={"benchmarks": {"test_x": table}},
        rounds=5,
        warmup=warmup,
        bcrypt_rounds=4,
    )


def trips_endpoint(
    db: FakeDatabase, n_plus_one: bool, listed: Callable[[], int]
) -> Callable[[], None]:
    """A user's trips: the user, the page, and the tags in one query or one per trip."""

    def call() -> None:
        db.run(USER)
        db.run(TRIPS, rows=listed())
        if n_plus_one:
            db.run(TAGS, times=listed(), rows=3)
        else:
            db.run(TAGS, rows=3 * listed())

    return call


def test_only_the_timed_calls_are_counted_and_divided_by_their_number() -> None:
    db = FakeDatabase()
    endpoint = trips_endpoint(db, False, lambda: 20)
    calls = iter(range(100))

    def call() -> None:
        if next(calls) == 0:
            db.run(DRAFT, times=7)  # a connection's first call: type look-ups, in the warm-up
        endpoint()

    bench = FakeBenchmark()
    measure(bench, settings(max_queries=3), "test_x", call, db=db)
    cost = DbCost.model_validate(bench.extra_info["db"])
    assert cost.calls == 5  # the rounds; the two warm-up calls are left out
    assert (cost.queries, cost.rows, cost.shared_hit, cost.shared_read) == (3, 81, 9, 3)
    assert cost.exec_ms == 1.5
    assert "db_note" not in bench.extra_info and bench.extra_info["passed"] is True
    assert db.snapshots == 6  # one before the first timed call, one after each


def test_what_a_setup_does_between_calls_is_left_out() -> None:
    db = FakeDatabase()

    def setup() -> tuple[tuple[Any, ...], dict[str, Any]]:
        db.run(DRAFT, times=4)  # the draft a round publishes, made through the API
        return ("trip-1",), {}

    def publish(trip_id: str) -> None:
        assert trip_id == "trip-1"
        db.run(TRIPS, times=2)

    bench = FakeBenchmark()
    measure(bench, settings(), "test_x", publish, setup=setup, db=db)
    cost = bench.extra_info["db"]
    assert cost["calls"] == 5 and cost["queries"] == 2
    assert [s["query"] for s in cost["statements"]] == [TEXTS[TRIPS]]


def test_an_n_plus_one_fails_max_queries_naming_its_statement() -> None:
    db = FakeDatabase()
    bench = FakeBenchmark()
    with pytest.raises(AssertionError) as caught:
        measure(
            bench, settings(max_queries=3), "test_x", trips_endpoint(db, True, lambda: 20), db=db
        )
    assert str(caught.value).startswith(
        f"22 queries per call > max_queries 3: an N+1? top statement: {TEXTS[TAGS]} x20 per call"
    )
    assert bench.extra_info["passed"] is False and bench.extra_info["db"]["queries"] == 22


def test_a_fraction_shows_that_the_calls_did_not_all_cost_the_same() -> None:
    db = FakeDatabase()
    calls = iter(range(100))

    def call() -> None:
        db.run(USER, times=13 if next(calls) != 4 else 14)  # one call earns an achievement

    bench = FakeBenchmark()
    measure(bench, settings(max_queries=14), "test_x", call, db=db)
    assert bench.extra_info["db"]["queries"] == 13.2 and as_count(13.2) == "13.20"


def test_lost_counts_record_no_cost_and_say_why() -> None:
    db = FakeDatabase()

    def call() -> None:
        db.run(USER)
        db.evictions += 1  # pg_stat_statements made room: an entry may have gone with its counts

    bench = FakeBenchmark()
    measure(bench, settings(max_queries=0), "test_x", call, db=db)  # no cost: nothing to judge
    assert "db" not in bench.extra_info
    assert "pg_stat_statements lost counts" in bench.extra_info["db_note"]


def test_a_snapshot_that_could_not_wait_for_the_others_is_noted() -> None:
    db = FakeDatabase()
    db.busy_snapshots = 3  # the warm-up's trailing statements, and a stray transaction

    bench = FakeBenchmark()
    measure(bench, settings(warmup=0), "test_x", lambda: db.run(USER), db=db)
    assert bench.extra_info["db"]["queries"] == 1
    assert bench.extra_info["db_note"].startswith("3 snapshot(s) taken while another connection")


def test_a_database_without_pg_stat_statements_notes_it_and_does_not_fail() -> None:
    for dsn, note in [
        (None, "no database DSN for this target"),
        ("sqlite:////tmp/cv.db", "SQLite has no pg_stat_statements"),
    ]:
        probe = open_probe(dsn)
        assert not probe.available and probe.note is not None and note in probe.note
        bench = FakeBenchmark()
        measure(bench, settings(max_queries=0), "test_x", lambda: None, db=probe)
        assert "db" not in bench.extra_info and note in bench.extra_info["db_note"]
        assert bench.extra_info["passed"] is True


@pytest.mark.postgres
def test_a_postgresql_without_the_preloaded_library_is_a_note(
    postgres_server: LocalPostgres,
) -> None:
    probe = open_probe(postgres_server.dsn("postgres"))
    assert not probe.available
    assert probe.note is not None and "pg_stat_statements is not usable" in probe.note
    assert "shared_preload_libraries" in probe.note


def test_the_delta_refuses_counts_that_went_backwards_or_vanished() -> None:
    one = Snapshot({USER: Counters(5, 5, 1, 0, 1.0), TRIPS: Counters(2, 2, 1, 0, 1.0)}, 0, True)
    more = Snapshot({USER: Counters(7, 7, 2, 0, 2.0), TRIPS: Counters(2, 2, 1, 0, 1.0)}, 0, True)
    assert delta(one, more) == {USER: Counters(2, 2, 1, 0, 1.0)}  # unchanged entries drop out
    reset = Snapshot({USER: Counters(1, 1, 0, 0, 0.1), TRIPS: Counters(2, 2, 1, 0, 1.0)}, 0, True)
    assert delta(one, reset) is None
    assert delta(one, Snapshot({USER: Counters(9, 9, 2, 0, 2.0)}, 0, True)) is None
    assert delta(one, Snapshot(dict(more.counters), 1, True)) is None  # evicted meanwhile


def test_the_cost_is_per_call_and_shows_the_most_executed_statements_first() -> None:
    totals = {
        USER: Counters(10, 10, 20, 0, 1.0),
        TAGS: Counters(200, 600, 400, 10, 5.0),
        TRIPS: Counters(10, 200, 30, 0, 2.0),
    }
    cost = per_call(totals, 10, TEXTS)
    assert DbCost.model_validate(cost).queries == 22
    assert (cost["rows"], cost["shared_hit"], cost["shared_read"], cost["exec_ms"]) == (
        81,
        45,
        1,
        0.8,
    )
    assert [(s["query"], s["calls"]) for s in cost["statements"]] == [
        (TEXTS[TAGS], 20),
        (TEXTS[TRIPS], 1),  # as often as USER, but slower
        (TEXTS[USER], 1),
    ]


def test_no_message_when_the_queries_are_within_the_limit_or_unknown() -> None:
    cost = per_call({USER: Counters(4, 4, 0, 0, 0.0)}, 1, TEXTS)
    assert too_many_queries(cost, 4) is None
    assert too_many_queries(cost, None) is None
    assert too_many_queries(None, 0) is None
    assert too_many_queries(cost, 3) == (
        f"4 queries per call > max_queries 3: an N+1? top statement: {TEXTS[USER]} x4 per call"
    )
