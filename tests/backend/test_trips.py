"""Contract tests: create, read, publish, a user's trips, and the feeds (with query counts)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx

from tests.backend.api import (
    Account,
    account,
    assert_error,
    count_queries,
    create_trip,
    publish,
    trip_body,
)


async def test_create_trip_shape(client: httpx.AsyncClient) -> None:
    who = await account(client)
    response = await client.post(
        "/trips",
        json=trip_body(
            description="<p>Fine <script>alert(1)</script>day</p>",
            tags=["Coast", "coast ", "Gravel"],
        ),
        headers=who.auth,
    )
    assert response.status_code == 201, response.text
    data = response.json()["data"]
    assert data["status"] == "draft" and data["published_at"] is None
    assert data["author"]["username"] == who.username and data["author"]["is_following"] is False
    assert data["difficulty"] == "moderate" and data["photos"] == [] and data["gpx_file"] is None
    assert "<script>" not in data["description"] and "<p>" in data["description"]
    assert [t["normalized"] for t in data["tags"]] == ["coast", "gravel"]  # de-duplicated
    assert data["locations"][0]["sequence"] == 0 and data["locations"][0]["latitude"] == 43.26
    assert data["like_count"] == 0 and data["is_liked"] is False


async def test_tags_are_shared_with_usage_count(client: httpx.AsyncClient) -> None:
    who = await account(client)
    await create_trip(client, who, tags=["Pyrenees"])
    second = await create_trip(client, who, tags=["pyrenees"])
    assert second["tags"][0]["usage_count"] == 2


async def test_create_trip_validation(client: httpx.AsyncClient) -> None:
    who = await account(client)
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    cases: list[tuple[dict[str, Any], str]] = [
        ({"title": ""}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"description": ""}, "description"),
        ({"description": "x" * 50001}, "description"),
        ({"start_date": tomorrow, "end_date": None}, "start_date"),
        ({"start_date": "2024-05-03", "end_date": "2024-05-01"}, "end_date"),
        ({"start_date": "03/05/2024"}, "start_date"),
        ({"distance_km": 0.0}, "distance_km"),
        ({"distance_km": 10000.5}, "distance_km"),
        ({"difficulty": "insane"}, "difficulty"),
        ({"tags": [f"t{i}" for i in range(11)]}, "tags"),
        ({"tags": ["x" * 51]}, "tags"),
        ({"locations": [{"name": "x", "latitude": 0, "longitude": 0}] * 51}, "locations"),
        ({"locations": [{"name": "x", "latitude": 91, "longitude": 0}]}, "latitude"),
    ]
    for overrides, field in cases:
        response = await client.post("/trips", json=trip_body(**overrides), headers=who.auth)
        assert_error(response, 400, "VALIDATION_ERROR", field)
    assert_error(await client.post("/trips", json=trip_body()), 401, "UNAUTHORIZED")


async def test_get_trip_draft_is_owner_only(client: httpx.AsyncClient) -> None:
    who = await account(client)
    other = await account(client)
    trip = await create_trip(client, who)
    url = f"/trips/{trip['trip_id']}"
    assert (await client.get(url, headers=who.auth)).status_code == 200
    assert_error(await client.get(url, headers=other.auth), 403, "FORBIDDEN")
    assert_error(await client.get(url), 403, "FORBIDDEN")
    await publish(client, who, trip["trip_id"])
    shown = await client.get(url)
    assert shown.status_code == 200 and shown.json()["data"]["status"] == "published"
    assert_error(await client.get("/trips/00000000-0000-4000-8000-000000000000"), 404, "NOT_FOUND")
    assert_error(await client.get("/trips/not-a-uuid"), 404, "NOT_FOUND")


async def test_publish_rules(client: httpx.AsyncClient) -> None:
    who = await account(client)
    other = await account(client)
    short = await create_trip(client, who, description="Too short to publish.")
    assert_error(
        await client.post(f"/trips/{short['trip_id']}/publish", headers=who.auth),
        400,
        "VALIDATION_ERROR",
        "description",
    )
    trip = await create_trip(client, who)
    assert_error(
        await client.post(f"/trips/{trip['trip_id']}/publish", headers=other.auth), 403, "FORBIDDEN"
    )
    assert_error(await client.post(f"/trips/{trip['trip_id']}/publish"), 401, "UNAUTHORIZED")
    assert_error(
        await client.post("/trips/00000000-0000-4000-8000-000000000000/publish", headers=who.auth),
        404,
        "NOT_FOUND",
    )
    first = await publish(client, who, trip["trip_id"])
    assert first["status"] == "published" and first["published_at"]
    second = await publish(client, who, trip["trip_id"])
    assert second["published_at"] == first["published_at"]


async def test_user_trips_visibility(client: httpx.AsyncClient) -> None:
    who = await account(client)
    fan = await account(client)
    draft = await create_trip(client, who, title="Draft")
    private = await create_trip(client, who, title="Private", is_private=True)
    shown = await create_trip(client, who, title="Shown")
    await publish(client, who, private["trip_id"])
    await publish(client, who, shown["trip_id"])
    url = f"/users/{who.username}/trips"
    own = (await client.get(url, headers=who.auth)).json()["data"]
    assert {t["title"] for t in own["trips"]} == {"Draft", "Private", "Shown"}
    assert own["count"] == 3 and own["limit"] == 50 and own["offset"] == 0
    drafts = (await client.get(url, params={"status": "draft"}, headers=who.auth)).json()["data"]
    assert [t["trip_id"] for t in drafts["trips"]] == [draft["trip_id"]]
    anon = (await client.get(url)).json()["data"]
    assert [t["title"] for t in anon["trips"]] == ["Shown"]
    entry = anon["trips"][0]
    assert entry["photo_count"] == 0 and entry["thumbnail_url"] is None
    assert sorted(entry["tag_names"]) == ["Coast", "bikepacking"] and entry["status"] == "published"
    await client.put(
        f"/users/{who.username}/profile", json={"trip_visibility": "followers"}, headers=who.auth
    )
    assert (await client.get(url)).json()["data"]["trips"] == []
    await client.post(f"/users/{who.username}/follow", headers=fan.auth)
    assert len((await client.get(url, headers=fan.auth)).json()["data"]["trips"]) == 1
    page = (await client.get(url, params={"limit": 1, "offset": 1}, headers=who.auth)).json()[
        "data"
    ]
    assert page["count"] == 1 and page["limit"] == 1 and page["offset"] == 1
    for params, field in [
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"offset": -1}, "offset"),
        ({"status": "archived"}, "status"),
    ]:
        assert_error(await client.get(url, params=params), 400, "VALIDATION_ERROR", field)
    assert_error(await client.get("/users/nobody_z/trips"), 404, "USER_NOT_FOUND")


async def _published(client: httpx.AsyncClient, who: Account, n: int) -> list[str]:
    ids = []
    for i in range(n):
        trip = await create_trip(client, who, title=f"Trip {i}", locations=[{"name": f"Place {i}"}])
        await publish(client, who, trip["trip_id"])
        ids.append(trip["trip_id"])
    return ids


async def test_public_feed_order_pagination_and_clamp(client: httpx.AsyncClient) -> None:
    who = await account(client)
    hidden = await account(client)
    ids = await _published(client, who, 10)
    await client.put(
        f"/users/{hidden.username}/profile",
        json={"profile_visibility": "private"},
        headers=hidden.auth,
    )
    await _published(client, hidden, 1)
    await create_trip(client, who, title="draft only")
    body = (await client.get("/trips/public")).json()
    assert "success" not in body
    assert body["pagination"] == {"total": 10, "page": 1, "limit": 8, "total_pages": 2}
    assert [t["trip_id"] for t in body["trips"]] == list(reversed(ids))[:8]
    item = body["trips"][0]
    assert set(item) == {
        "trip_id",
        "title",
        "start_date",
        "distance_km",
        "photo",
        "location",
        "author",
        "published_at",
        "like_count",
        "is_liked",
    }
    assert item["location"] == "Place 9" and item["author"]["username"] == who.username
    page2 = (await client.get("/trips/public", params={"page": 2})).json()
    assert len(page2["trips"]) == 2
    clamped = (await client.get("/trips/public", params={"limit": 500})).json()
    assert clamped["pagination"]["limit"] == 50
    for params, field in [({"page": 0}, "page"), ({"page": "x"}, "page"), ({"limit": 0}, "limit")]:
        assert_error(
            await client.get("/trips/public", params=params), 400, "VALIDATION_ERROR", field
        )


async def test_personal_feed_shows_followed_users(client: httpx.AsyncClient) -> None:
    me = await account(client)
    friend = await account(client)
    stranger = await account(client)
    await _published(client, friend, 2)
    await _published(client, stranger, 1)
    await client.post(f"/users/{friend.username}/follow", headers=me.auth)
    body = (await client.get("/feed", headers=me.auth)).json()
    assert body["pagination"]["total"] == 2
    assert {t["author"]["username"] for t in body["trips"]} == {friend.username}
    assert all(t["author"]["is_following"] for t in body["trips"])
    assert_error(await client.get("/feed"), 401, "UNAUTHORIZED")


async def _queries(client: httpx.AsyncClient, url: str, headers: dict[str, str]) -> int:
    with count_queries(client) as statements:
        response = await client.get(url, headers=headers)
        assert response.status_code == 200, response.text
    return len(statements)


async def test_no_n_plus_one(client: httpx.AsyncClient) -> None:
    """Feed, user trips and profile cost the same number of queries for 1 trip and for 20."""
    who = await account(client)
    viewer = await account(client)
    await client.post(f"/users/{who.username}/follow", headers=viewer.auth)
    urls = [
        "/trips/public?limit=50",
        f"/users/{who.username}/trips",
        "/feed?limit=50",
        f"/users/{who.username}/profile",
    ]
    await _published(client, who, 1)
    small = [await _queries(client, url, viewer.auth) for url in urls]
    await _published(client, who, 19)
    large = [await _queries(client, url, viewer.auth) for url in urls]
    assert small == large, dict(zip(urls, zip(small, large, strict=True), strict=True))
    assert max(large) <= 4
