"""The guide's benchmarks, each timing one real operation against the running stack.

Every timed call is a complete request (or query, or hash) whose result is checked inside
the timed function; fixtures create users and trips beforehand, untimed. Each benchmark
fails when the p95 of its own rounds is over its target in targets.toml, and, where the
database has pg_stat_statements, when a call costs more queries than its max_queries.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import bcrypt
import httpx

from harness.bench.suite.dbcost import Probe
from harness.bench.suite.support import (
    PASSWORD,
    USER_TRIPS,
    Account,
    Database,
    Settings,
    expect,
    measure,
    trip_body,
)


def test_health_endpoint_latency(
    benchmark: Any, settings: Settings, api: httpx.Client, dbcost: Probe
) -> None:
    def health() -> None:
        assert expect(api.get("/health"))["data"]["status"] == "healthy"

    measure(benchmark, settings, "test_health_endpoint_latency", health, db=dbcost)


def test_login_endpoint_latency(
    benchmark: Any, settings: Settings, api: httpx.Client, account: Account, dbcost: Probe
) -> None:
    body = {"login": account.username, "password": PASSWORD}

    def login() -> None:
        assert expect(api.post("/auth/login", json=body))["data"]["access_token"]

    measure(benchmark, settings, "test_login_endpoint_latency", login, db=dbcost)


def test_token_refresh_latency(
    benchmark: Any, settings: Settings, api: httpx.Client, account: Account, dbcost: Probe
) -> None:
    """Each round spends the current refresh token and keeps the rotated one."""

    def refresh() -> None:
        response = api.post("/auth/refresh", params={"refresh_token": account.refresh_token})
        data = expect(response)["data"]
        account.refresh_token = data["refresh_token"]
        account.access_token = data["access_token"]

    measure(benchmark, settings, "test_token_refresh_latency", refresh, db=dbcost)


def test_public_feed_latency_empty(
    benchmark: Any, settings: Settings, api: httpx.Client, account: Account, dbcost: Probe
) -> None:
    """The feed's fixed cost: the page just past the last one (no trips, same count query)."""
    total_pages = expect(api.get("/trips/public"))["pagination"]["total_pages"]
    path = f"/trips/public?page={total_pages + 1}"

    def feed() -> None:
        assert expect(api.get(path))["trips"] == []

    measure(benchmark, settings, "test_public_feed_latency_empty", feed, db=dbcost)


def test_public_feed_latency_with_data(
    benchmark: Any, settings: Settings, api: httpx.Client, account: Account, dbcost: Probe
) -> None:
    """Page 1 of the feed; `account` has published trips, so it is never empty."""

    def feed() -> None:
        assert expect(api.get("/trips/public?page=1"))["trips"]

    measure(benchmark, settings, "test_public_feed_latency_with_data", feed, db=dbcost)


def test_create_trip_latency(
    benchmark: Any, settings: Settings, api: httpx.Client, account: Account, dbcost: Probe
) -> None:
    body = trip_body()

    def create() -> None:
        created = expect(api.post("/trips", json=body, headers=account.auth()), 201)
        assert created["data"]["status"] == "draft"

    measure(benchmark, settings, "test_create_trip_latency", create, db=dbcost)


def test_publish_trip_latency(
    benchmark: Any,
    settings: Settings,
    api: httpx.Client,
    account: Account,
    new_draft: Callable[[], str],
    dbcost: Probe,
) -> None:
    """Each round publishes a draft that the (untimed) setup created."""

    def setup() -> tuple[tuple[Any, ...], dict[str, Any]]:
        return (new_draft(),), {}

    def publish(trip_id: str) -> None:
        published = expect(api.post(f"/trips/{trip_id}/publish", headers=account.auth()))
        assert published["data"]["status"] == "published"

    measure(benchmark, settings, "test_publish_trip_latency", publish, setup=setup, db=dbcost)


def test_user_trips_latency_with_data(
    benchmark: Any, settings: Settings, api: httpx.Client, account: Account, dbcost: Probe
) -> None:
    path = f"/users/{account.username}/trips?limit=50"

    def trips() -> None:
        assert len(expect(api.get(path, headers=account.auth()))["data"]["trips"]) >= USER_TRIPS

    measure(benchmark, settings, "test_user_trips_latency_with_data", trips, db=dbcost)


def test_user_lookup_by_username(
    benchmark: Any, settings: Settings, database: Database, account: Account, dbcost: Probe
) -> None:
    sql = "SELECT id, username, email, is_active, is_verified FROM users WHERE username = %s"

    def lookup() -> None:
        assert database.rows(sql, account.username)[0][0] == account.user_id

    measure(benchmark, settings, "test_user_lookup_by_username", lookup, db=dbcost)


TRIP_QUERIES = (
    "SELECT t.trip_id, t.title, t.status, t.distance_km, u.username FROM trips t "
    "JOIN users u ON u.id = t.user_id WHERE t.trip_id = %s",
    "SELECT name, latitude, longitude FROM trip_locations WHERE trip_id = %s ORDER BY sequence",
    "SELECT g.name FROM trip_tags tt JOIN tags g ON g.tag_id = tt.tag_id WHERE tt.trip_id = %s",
    'SELECT photo_url, thumb_url FROM trip_photos WHERE trip_id = %s ORDER BY "order"',
)


def test_trip_query_with_relationships(
    benchmark: Any,
    settings: Settings,
    database: Database,
    new_draft: Callable[[], str],
    dbcost: Probe,
) -> None:
    """A trip with its author, locations, tags and photos: the queries a trip page needs."""
    trip_id = new_draft()

    def trip() -> None:
        head, locations, tags, _photos = (database.rows(sql, trip_id) for sql in TRIP_QUERIES)
        assert head and len(locations) == 2 and len(tags) == 3

    measure(benchmark, settings, "test_trip_query_with_relationships", trip, db=dbcost)


def test_password_hashing_latency(benchmark: Any, settings: Settings) -> None:
    password = PASSWORD.encode()

    def hash_password() -> None:
        assert bcrypt.hashpw(password, bcrypt.gensalt(settings.bcrypt_rounds))

    measure(benchmark, settings, "test_password_hashing_latency", hash_password)


def test_password_verification_latency(benchmark: Any, settings: Settings) -> None:
    password = PASSWORD.encode()
    hashed = bcrypt.hashpw(password, bcrypt.gensalt(settings.bcrypt_rounds))

    def verify() -> None:
        assert bcrypt.checkpw(password, hashed)

    measure(benchmark, settings, "test_password_verification_latency", verify)
