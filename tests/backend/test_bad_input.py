"""Malformed requests get the contract's 400/404 envelope on every operation, never a 500."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.backend.api import account, assert_error, trip_body

JUNK_BODIES: list[bytes] = [
    b"",
    b"{",
    b"null",
    b"[]",
    b'"just a string"',
    b"12345",
    b'{"username": 1, "email": [], "password": {}}',
    b'{"login": "a\\u0000b", "password": "x"}',
    b'{"username": "\\ud800abc", "email": "a@b.co", "password": "Aa1!aaaaaa"}',
    b'{"title": "' + b"x" * 300_000 + b'"}',
    b"\xff\xfe\x00garbage",
]

BODY_ENDPOINTS = [
    ("POST", "/auth/register"),
    ("POST", "/auth/login"),
    ("POST", "/trips"),
    ("PUT", "/users/{me}/profile"),
]


@pytest.mark.parametrize(("method", "path"), BODY_ENDPOINTS)
async def test_junk_bodies_are_400(client: httpx.AsyncClient, method: str, path: str) -> None:
    who = await account(client)
    for raw in JUNK_BODIES:
        if method == "PUT" and raw.startswith(b'{"'):
            continue  # every PUT field is optional: an object of unknown keys is an empty update
        response = await client.request(
            method,
            path.format(me=who.username),
            content=raw,
            headers={**who.auth, "Content-Type": "application/json"},
        )
        assert response.status_code == 400, (raw[:40], response.status_code, response.text[:200])
        assert response.json()["error"]["code"] == "VALIDATION_ERROR"


async def test_nul_and_surrogates_never_reach_the_database(client: httpx.AsyncClient) -> None:
    who = await account(client)
    headers = {**who.auth, "Content-Type": "application/json"}
    for value in ("bad\x00value", "\ud83d"):  # ensure_ascii sends them as JSON escapes
        raw = json.dumps(trip_body(title=value), ensure_ascii=True)
        assert_error(
            await client.post("/trips", content=raw, headers=headers),
            400,
            "VALIDATION_ERROR",
            "title",
        )
        raw = json.dumps({"bio": value}, ensure_ascii=True)
        put = await client.put(f"/users/{who.username}/profile", content=raw, headers=headers)
        assert_error(put, 400, "VALIDATION_ERROR", "bio")
    login = await client.post("/auth/login", json={"login": "x\x00y", "password": "Whatever1!"})
    assert_error(login, 400, "VALIDATION_ERROR", "login")


@pytest.mark.parametrize(
    "path",
    [
        "/users/%00/profile",
        "/users/a%20b/stats",
        "/users/" + "x" * 5000 + "/trips",
        "/users/%F0%9F%9A%B2/achievements",
        "/users/robert');DROP TABLE users;--/profile",
    ],
)
async def test_odd_usernames_in_paths_are_404(client: httpx.AsyncClient, path: str) -> None:
    assert_error(await client.get(path), 404, "USER_NOT_FOUND")


async def test_unknown_route_and_method(client: httpx.AsyncClient) -> None:
    # The old guide's locustfile used these two: both are 404 on the real service.
    assert_error(await client.get("/users/someone"), 404, "HTTP_404")
    assert_error(await client.patch("/users/someone"), 404, "HTTP_404")
    assert_error(await client.get("/api/v1/health"), 404, "HTTP_404")
    response = await client.delete("/health")
    assert response.status_code == 405 and response.json()["error"]["code"] == "HTTP_405"


@pytest.mark.parametrize(
    "query",
    ["page=-1", "page=1e3", "page=99999999999999999999999", "limit=abc", "limit=-5", "page="],
)
async def test_bad_feed_queries(client: httpx.AsyncClient, query: str) -> None:
    response = await client.get(f"/trips/public?{query}")
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"


async def test_wrong_types_name_the_field(client: httpx.AsyncClient) -> None:
    who = await account(client)
    response = await client.post("/trips", json=trip_body(distance_km="far"), headers=who.auth)
    assert_error(response, 400, "VALIDATION_ERROR", "distance_km")
    response = await client.post("/trips", json=trip_body(tags="not-a-list"), headers=who.auth)
    assert_error(response, 400, "VALIDATION_ERROR", "tags")
    response = await client.post("/trips", json={"title": "only a title"}, headers=who.auth)
    assert_error(response, 400, "VALIDATION_ERROR", "description")
