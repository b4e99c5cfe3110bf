"""Fixtures of the benchmark suite: the target, a fresh user with data, the database.

Everything a benchmark needs is created through the API here, outside the timed part, and
every request's status is checked (support.expect).
"""

from __future__ import annotations

import os
import tomllib
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from harness.bench.suite.dbcost import Probe, open_probe
from harness.bench.suite.support import (
    EMAIL_DOMAIN,
    PASSWORD,
    USER_TRIPS,
    Account,
    Database,
    Settings,
    expect,
    trip_body,
)


@pytest.fixture(scope="session")
def settings() -> Settings:
    target = os.environ.get("CV_BENCH_TARGET")
    if not target:
        raise pytest.UsageError("CV_BENCH_TARGET is not set: run the suite with `harness bench`")
    targets_file = Path(
        os.environ.get("CV_BENCH_TARGETS") or Path(__file__).parents[1] / "targets.toml"
    )
    return Settings(
        target=target.rstrip("/"),
        dsn=os.environ.get("CV_BENCH_DSN") or None,
        targets=tomllib.loads(targets_file.read_text()),
        rounds=int(os.environ.get("CV_BENCH_ROUNDS", "30")),
        warmup=int(os.environ.get("CV_BENCH_WARMUP", "3")),
        bcrypt_rounds=int(os.environ.get("CV_BENCH_BCRYPT_ROUNDS", "12")),
    )


@pytest.fixture(scope="session")
def api(settings: Settings) -> Iterator[httpx.Client]:
    """One keep-alive client, as a browser or a mobile app would hold."""
    with httpx.Client(base_url=settings.target, timeout=30.0) as client:
        yield client


@pytest.fixture(scope="session")
def account(api: httpx.Client) -> Account:
    """A fresh user (registered and logged in through the API) with USER_TRIPS published trips."""
    name = f"bench_{uuid.uuid4().hex[:16]}"
    body = {"username": name, "email": f"{name}@{EMAIL_DOMAIN}", "password": PASSWORD}
    expect(api.post("/auth/register", json=body), 201)
    data = expect(api.post("/auth/login", json={"login": name, "password": PASSWORD}))["data"]
    account = Account(name, data["user"]["user_id"], data["access_token"], data["refresh_token"])
    for i in range(USER_TRIPS):
        trip = expect(api.post("/trips", json=trip_body(f"Ride {i}"), headers=account.auth()), 201)
        trip_id = trip["data"]["trip_id"]
        expect(api.post(f"/trips/{trip_id}/publish", headers=account.auth()))
    return account


@pytest.fixture
def new_draft(api: httpx.Client, account: Account) -> Callable[[], str]:
    def create() -> str:
        created = expect(api.post("/trips", json=trip_body(), headers=account.auth()), 201)
        return str(created["data"]["trip_id"])

    return create


@pytest.fixture(scope="session")
def database(settings: Settings) -> Iterator[Database]:
    if settings.dsn is None:
        pytest.skip("no database DSN for this target (give one with --db-dsn)")
    db = Database(settings.dsn)
    yield db
    db.close()


@pytest.fixture(scope="session")
def dbcost(settings: Settings) -> Iterator[Probe]:
    """The database's pg_stat_statements, to cost each call; without it, a probe with a note
    (never a skip: the timings stand on their own)."""
    probe = open_probe(settings.dsn)
    yield probe
    probe.close()
