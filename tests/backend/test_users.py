"""Contract tests: profiles, profile updates, stats, achievements, follow and unfollow."""

from __future__ import annotations

import asyncio

import httpx

from tests.backend.api import account, assert_error, create_trip, publish, register


async def test_public_profile_shape_hides_email(client: httpx.AsyncClient) -> None:
    who = await account(client)
    response = await client.get(f"/users/{who.username}/profile")
    assert response.status_code == 200
    body = response.json()
    assert "success" not in body  # bare object
    assert set(body) == {
        "username",
        "full_name",
        "bio",
        "photo_url",
        "location",
        "cycling_type",
        "profile_visibility",
        "trip_visibility",
        "show_email",
        "show_location",
        "followers_count",
        "following_count",
        "is_following",
        "stats",
        "created_at",
    }
    assert who.email not in response.text


async def test_profile_unknown_user_and_private(client: httpx.AsyncClient) -> None:
    assert_error(await client.get("/users/nobody_at_all/profile"), 404, "USER_NOT_FOUND")
    who = await account(client)
    other = await account(client)
    await client.put(
        f"/users/{who.username}/profile", json={"profile_visibility": "private"}, headers=who.auth
    )
    assert_error(await client.get(f"/users/{who.username}/profile"), 403, "PRIVATE_PROFILE")
    assert_error(
        await client.get(f"/users/{who.username}/profile", headers=other.auth),
        403,
        "PRIVATE_PROFILE",
    )
    own = await client.get(f"/users/{who.username}/profile", headers=who.auth)
    assert own.status_code == 200 and own.json()["profile_visibility"] == "private"


async def test_location_hidden_unless_shown_or_owner(client: httpx.AsyncClient) -> None:
    who = await account(client)
    response = await client.put(
        f"/users/{who.username}/profile",
        json={"location": "Granada", "show_location": False},
        headers=who.auth,
    )
    assert response.status_code == 200, response.text
    assert response.json()["data"]["location"] == "Granada"  # owner's view
    anon = (await client.get(f"/users/{who.username}/profile")).json()
    assert anon["location"] is None
    bad_token = {"Authorization": "Bearer not-a-jwt"}  # optional auth: treated as anonymous
    assert (
        await client.get(f"/users/{who.username}/profile", headers=bad_token)
    ).status_code == 200
    owner = (await client.get(f"/users/{who.username}/profile", headers=who.auth)).json()
    assert owner["location"] == "Granada"


async def test_update_profile_fields_and_rules(client: httpx.AsyncClient) -> None:
    who = await account(client)
    other = await account(client)
    url = f"/users/{who.username}/profile"
    body = {
        "full_name": "Ana Ruiz",
        "bio": "Gravel lover",
        "cycling_type": "touring",
        "trip_visibility": "followers",
        "show_email": True,
    }
    response = await client.put(url, json=body, headers=who.auth)
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["full_name"] == "Ana Ruiz" and data["cycling_type"] == "touring"
    assert data["trip_visibility"] == "followers" and data["show_email"] is True
    assert_error(await client.put(url, json={"bio": "x"}), 401, "UNAUTHORIZED")
    assert_error(await client.put(url, json={"bio": "x"}, headers=other.auth), 403, "FORBIDDEN")
    assert_error(
        await client.put("/users/ghost_user/profile", json={}, headers=who.auth),
        404,
        "USER_NOT_FOUND",
    )
    for field, value in [
        ("cycling_type", "unicycle"),
        ("full_name", "x" * 101),
        ("bio", "x" * 501),
        ("location", "x" * 101),
        ("profile_visibility", "friends"),
        ("trip_visibility", "everyone"),
        ("show_email", "perhaps"),
    ]:
        assert_error(
            await client.put(url, json={field: value}, headers=who.auth),
            400,
            "VALIDATION_ERROR",
            field,
        )


async def test_stats_created_on_first_get(client: httpx.AsyncClient) -> None:
    who = await account(client)
    response = await client.get(f"/users/{who.username}/stats")
    assert response.status_code == 200
    data = response.json()["data"]
    assert data == {
        **data,
        "total_trips": 0,
        "total_kilometers": 0.0,
        "countries_visited": [],
        "total_photos": 0,
        "achievements_count": 0,
        "last_trip_date": None,
    }
    profile = (await client.get(f"/users/{who.username}/profile")).json()
    assert profile["stats"] == {"total_trips": 0, "total_kilometers": 0.0, "achievements_count": 0}
    assert_error(await client.get("/users/nobody_x/stats"), 404, "USER_NOT_FOUND")


async def test_twenty_concurrent_first_stats_calls_all_succeed(client: httpx.AsyncClient) -> None:
    """The real service races into a 500 here; the reference backend must answer 20 x 200."""
    user = await register(client)
    responses = await asyncio.gather(
        *(client.get(f"/users/{user['username']}/stats") for _ in range(20))
    )
    assert [r.status_code for r in responses] == [200] * 20, [
        r.text for r in responses if r.status_code != 200
    ]
    ids = {r.json()["data"]["updated_at"] for r in responses}
    assert len(ids) == 1  # one row was created and everyone read it


async def test_publish_updates_stats_and_awards(client: httpx.AsyncClient) -> None:
    who = await account(client)
    trip = await create_trip(client, who, distance_km=150.0, end_date="2024-05-03")
    await publish(client, who, trip["trip_id"])
    stats = (await client.get(f"/users/{who.username}/stats")).json()["data"]
    assert stats["total_trips"] == 1 and stats["total_kilometers"] == 150.0
    assert stats["last_trip_date"] == "2024-05-03"
    assert stats["achievements_count"] == 2
    earned = (await client.get(f"/users/{who.username}/achievements")).json()["data"]
    assert {a["code"] for a in earned["achievements"]} == {"FIRST_TRIP", "CENTURY"}
    assert earned["total_count"] == 2
    assert all(a["awarded_at"] for a in earned["achievements"])
    await publish(client, who, trip["trip_id"])  # idempotent: counted once
    again = (await client.get(f"/users/{who.username}/stats")).json()["data"]
    assert again["total_trips"] == 1 and again["total_kilometers"] == 150.0


async def test_all_achievements_ordered_by_requirement(client: httpx.AsyncClient) -> None:
    data = (await client.get("/achievements")).json()["data"]
    assert data["total_count"] == 9
    values = [a["requirement_value"] for a in data["achievements"]]
    assert values == sorted(values)
    assert {a["code"] for a in data["achievements"]} == {
        "FIRST_TRIP",
        "CENTURY",
        "VOYAGER",
        "EXPLORER",
        "PHOTOGRAPHER",
        "GLOBETROTTER",
        "MARATHONER",
        "INFLUENCER",
        "PROLIFIC",
    }
    assert_error(await client.get("/users/nobody_y/achievements"), 404, "USER_NOT_FOUND")


async def test_follow_and_unfollow_counters(client: httpx.AsyncClient) -> None:
    a = await account(client)
    b = await account(client)
    response = await client.post(f"/users/{b.username}/follow", headers=a.auth)
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["success"] is True and data["is_following"] is True
    assert data["follower_username"] == a.username and data["following_username"] == b.username
    assert data["follower_following_count"] == 1 and data["following_followers_count"] == 1
    seen = (await client.get(f"/users/{b.username}/profile", headers=a.auth)).json()
    assert seen["is_following"] is True and seen["followers_count"] == 1
    assert_error(
        await client.post(f"/users/{b.username}/follow", headers=a.auth), 400, "ALREADY_FOLLOWING"
    )
    assert_error(
        await client.post(f"/users/{a.username}/follow", headers=a.auth), 400, "CANNOT_FOLLOW_SELF"
    )
    assert_error(
        await client.post("/users/ghost_rider/follow", headers=a.auth), 404, "USER_NOT_FOUND"
    )
    assert_error(await client.post(f"/users/{b.username}/follow"), 401, "UNAUTHORIZED")
    gone = await client.delete(f"/users/{b.username}/follow", headers=a.auth)
    assert gone.status_code == 200
    assert gone.json()["data"]["is_following"] is False
    assert gone.json()["data"]["following_followers_count"] == 0
    assert_error(
        await client.delete(f"/users/{b.username}/follow", headers=a.auth), 400, "NOT_FOLLOWING"
    )


async def test_mutual_concurrent_follows_do_not_deadlock(client: httpx.AsyncClient) -> None:
    a = await account(client)
    b = await account(client)
    ra, rb = await asyncio.gather(
        client.post(f"/users/{b.username}/follow", headers=a.auth),
        client.post(f"/users/{a.username}/follow", headers=b.auth),
    )
    assert (ra.status_code, rb.status_code) == (200, 200), (ra.text, rb.text)
    pa = (await client.get(f"/users/{a.username}/profile")).json()
    assert pa["followers_count"] == 1 and pa["following_count"] == 1
