"""Small helpers that drive the contract's endpoints in tests and check their status codes."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import event

PASSWORD = "Str0ng!Passw0rd"
LONG_TEXT = "A long day along the coast, with wind from the north and a ferry at the end. " * 2
_counter = itertools.count(1)


@dataclass
class Account:
    user_id: str
    username: str
    email: str
    access: str
    refresh: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access}"}


def unique_name(prefix: str = "rider") -> str:
    return f"{prefix}_{next(_counter)}"


async def register(
    client: httpx.AsyncClient, username: str | None = None, **extra: Any
) -> dict[str, Any]:
    username = username or unique_name()
    body = {"username": username, "email": f"{username}@example.com", "password": PASSWORD}
    body.update(extra)
    response = await client.post("/auth/register", json=body)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def login(
    client: httpx.AsyncClient, login_name: str, password: str = PASSWORD
) -> dict[str, Any]:
    response = await client.post("/auth/login", json={"login": login_name, "password": password})
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def account(client: httpx.AsyncClient, username: str | None = None) -> Account:
    user = await register(client, username)
    tokens = await login(client, user["username"])
    return Account(
        user["user_id"],
        user["username"],
        user["email"],
        tokens["access_token"],
        tokens["refresh_token"],
    )


def trip_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "Coast to coast",
        "description": LONG_TEXT,
        "start_date": "2024-05-01",
        "end_date": "2024-05-03",
        "distance_km": 120.5,
        "difficulty": "moderate",
        "locations": [{"name": "Bilbao", "latitude": 43.26, "longitude": -2.93}],
        "tags": ["Coast", "bikepacking"],
    }
    body.update(overrides)
    return body


async def create_trip(client: httpx.AsyncClient, who: Account, **overrides: Any) -> dict[str, Any]:
    response = await client.post("/trips", json=trip_body(**overrides), headers=who.auth)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def publish(client: httpx.AsyncClient, who: Account, trip_id: str) -> dict[str, Any]:
    response = await client.post(f"/trips/{trip_id}/publish", headers=who.auth)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def assert_error(
    response: httpx.Response, status: int, code: str, field: str | None = None
) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False and body["data"] is None, body
    assert body["error"]["code"] == code, body
    assert body["error"]["message"], body
    if field is not None:
        assert body["error"].get("field") == field, body


@contextmanager
def count_queries(client: httpx.AsyncClient) -> Iterator[list[str]]:
    """The statements the app behind `client` sends while the block runs (BEGIN and PRAGMA
    left out)."""
    statements: list[str] = []
    engine = client.app.state.engine.sync_engine  # type: ignore[attr-defined]

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "PRAGMA")):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)
