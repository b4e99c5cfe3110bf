"""Contract tests: register, login (lockout, verification), refresh rotation, logout, me."""

from __future__ import annotations

import httpx
import jwt
import pytest

from backend.app import create_app
from tests.backend.api import PASSWORD, account, assert_error, login, register, unique_name
from tests.conftest import TEST_SECRET


async def test_health_reports_environment(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True and body["error"] is None
    assert body["data"]["status"] == "healthy"
    assert body["data"]["environment"] == "testing"
    assert "T" in body["data"]["timestamp"]


async def test_register_returns_201_with_contract_fields(client: httpx.AsyncClient) -> None:
    name = unique_name()
    response = await client.post(
        "/auth/register",
        json={"username": name, "email": f"{name.upper()}@Example.COM", "password": PASSWORD},
    )
    assert response.status_code == 201
    body = response.json()
    assert body["success"] is True and body["message"]
    data = body["data"]
    assert set(data) == {"user_id", "username", "email", "is_verified", "is_active", "created_at"}
    assert data["email"] == f"{name}@example.com"  # stored lower-case
    assert data["is_verified"] is True  # APP_ENV=testing auto-verifies
    assert len(data["user_id"]) == 36


async def test_register_username_taken_is_checked_first(client: httpx.AsyncClient) -> None:
    user = await register(client)
    response = await client.post(
        "/auth/register",
        json={"username": user["username"], "email": user["email"], "password": PASSWORD},
    )
    assert_error(response, 400, "USERNAME_TAKEN", "username")


async def test_register_email_taken_case_insensitively(client: httpx.AsyncClient) -> None:
    user = await register(client)
    response = await client.post(
        "/auth/register",
        json={"username": unique_name(), "email": user["email"].upper(), "password": PASSWORD},
    )
    assert_error(response, 400, "EMAIL_TAKEN", "email")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("username", "ab"),
        ("username", "x" * 31),
        ("username", "bad-name"),
        ("email", "not-an-email"),
        ("email", "rider@load.test"),  # special-use names: refused as email-validator does
        ("email", "rider@Example.INVALID"),
        ("email", "rider@host.localhost"),
        ("password", "Sh0rt!"),
        ("password", "alllowercase1!"),
        ("password", "NoDigitsHere!"),
        ("password", "NoSpecial123"),
        ("password", "Aa1!" + "é" * 35),  # 74 UTF-8 bytes
    ],
)
async def test_register_validation(client: httpx.AsyncClient, field: str, value: str) -> None:
    body = {
        "username": unique_name(),
        "email": f"{unique_name()}@example.com",
        "password": PASSWORD,
    }
    body[field] = value
    response = await client.post("/auth/register", json=body)
    assert_error(response, 400, "VALIDATION_ERROR", field)


async def test_register_writes_user_and_empty_profile_without_stats(
    client: httpx.AsyncClient,
) -> None:
    user = await register(client)
    profile = (await client.get(f"/users/{user['username']}/profile")).json()
    assert profile["stats"] is None
    assert profile["followers_count"] == 0 and profile["full_name"] is None


async def test_login_by_username_and_email(client: httpx.AsyncClient) -> None:
    user = await register(client)
    for name in (user["username"], user["email"].upper()):
        data = await login(client, name)
        assert data["token_type"] == "bearer" and data["expires_in"] == 900
        assert data["user"]["user_id"] == user["user_id"]
        assert set(data["user"]) == {
            "user_id",
            "username",
            "email",
            "is_verified",
            "profile_visibility",
            "trip_visibility",
            "created_at",
            "photo_url",
            "bio",
            "location",
            "cycling_type",
        }
        claims = jwt.decode(data["access_token"], TEST_SECRET, algorithms=["HS256"])
        assert claims["type"] == "access" and claims["sub"] == user["user_id"]
        assert claims["username"] == user["username"]
        refresh = jwt.decode(data["refresh_token"], TEST_SECRET, algorithms=["HS256"])
        assert refresh["type"] == "refresh"


async def test_login_wrong_password_and_unknown_user(client: httpx.AsyncClient) -> None:
    user = await register(client)
    wrong = await client.post(
        "/auth/login", json={"login": user["username"], "password": "Nope!123a"}
    )
    assert_error(wrong, 401, "INVALID_CREDENTIALS")
    nobody = await client.post("/auth/login", json={"login": "nobody_here", "password": PASSWORD})
    assert_error(nobody, 401, "INVALID_CREDENTIALS")


async def test_username_field_is_not_login(client: httpx.AsyncClient) -> None:
    user = await register(client)
    response = await client.post(
        "/auth/login", json={"username": user["username"], "password": PASSWORD}
    )
    assert_error(response, 400, "VALIDATION_ERROR", "login")


async def test_five_failures_lock_the_account(client: httpx.AsyncClient) -> None:
    user = await register(client)
    for _ in range(5):
        response = await client.post(
            "/auth/login", json={"login": user["username"], "password": "Wrong!pass1"}
        )
        assert_error(response, 401, "INVALID_CREDENTIALS")
    # Locked now: even the right password is refused for 15 minutes.
    locked = await client.post(
        "/auth/login", json={"login": user["username"], "password": PASSWORD}
    )
    assert_error(locked, 429, "ACCOUNT_LOCKED")


async def test_success_resets_the_failure_count(client: httpx.AsyncClient) -> None:
    user = await register(client)
    for _ in range(4):
        await client.post(
            "/auth/login", json={"login": user["username"], "password": "Wrong!pass1"}
        )
    await login(client, user["username"])
    for _ in range(4):
        await client.post(
            "/auth/login", json={"login": user["username"], "password": "Wrong!pass1"}
        )
    await login(client, user["username"])  # 4 + 4 failures were never 5 consecutive


async def test_unverified_email_outside_testing(backend_settings) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    app = create_app(replace(backend_settings, app_env="development"))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://b") as c:
        user = await register(c)
        assert user["is_verified"] is False
        response = await c.post(
            "/auth/login", json={"login": user["username"], "password": PASSWORD}
        )
        assert_error(response, 400, "EMAIL_NOT_VERIFIED")
    await app.state.engine.dispose()


async def test_refresh_rotates_and_rejects_reuse(client: httpx.AsyncClient) -> None:
    who = await account(client)
    first = await client.post("/auth/refresh", params={"refresh_token": who.refresh})
    assert first.status_code == 200, first.text
    data = first.json()["data"]
    assert set(data) == {"access_token", "refresh_token", "token_type", "expires_in"}
    again = await client.post("/auth/refresh", params={"refresh_token": who.refresh})
    assert_error(again, 401, "INVALID_REFRESH_TOKEN")
    chained = await client.post("/auth/refresh", params={"refresh_token": data["refresh_token"]})
    assert chained.status_code == 200


async def test_refresh_rejects_garbage_and_access_tokens(client: httpx.AsyncClient) -> None:
    who = await account(client)
    for token in ("garbage", who.access):
        response = await client.post("/auth/refresh", params={"refresh_token": token})
        assert_error(response, 401, "INVALID_REFRESH_TOKEN")
    missing = await client.post("/auth/refresh")
    assert_error(missing, 400, "VALIDATION_ERROR", "refresh_token")


async def test_tokens_of_two_logins_are_distinct_and_logout_each(client: httpx.AsyncClient) -> None:
    """The real service's bcrypt-stored tokens made any token valid and logout 500: not here."""
    who = await account(client)
    second = await login(client, who.username)
    assert second["refresh_token"] != who.refresh
    for token in (who.refresh, second["refresh_token"]):
        response = await client.post(
            "/auth/logout", params={"refresh_token": token}, headers=who.auth
        )
        assert response.status_code == 200, response.text
        assert response.json()["data"] is None and response.json()["message"]
    reused = await client.post("/auth/refresh", params={"refresh_token": who.refresh})
    assert_error(reused, 401, "INVALID_REFRESH_TOKEN")


async def test_logout_needs_bearer_and_own_token(client: httpx.AsyncClient) -> None:
    who = await account(client)
    other = await account(client)
    no_auth = await client.post("/auth/logout", params={"refresh_token": who.refresh})
    assert_error(no_auth, 401, "UNAUTHORIZED")
    foreign = await client.post(
        "/auth/logout", params={"refresh_token": other.refresh}, headers=who.auth
    )
    assert_error(foreign, 401, "INVALID_REFRESH_TOKEN")


async def test_me(client: httpx.AsyncClient) -> None:
    who = await account(client)
    await client.put(
        f"/users/{who.username}/profile",
        json={"bio": "Hi", "cycling_type": "gravel"},
        headers=who.auth,
    )
    response = await client.get("/auth/me", headers=who.auth)
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["username"] == who.username and data["bio"] == "Hi"
    assert data["cycling_type"] == "gravel"
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": f"Basic {who.access}"}):
        assert_error(await client.get("/auth/me", headers=headers), 401, "UNAUTHORIZED")


async def test_expired_access_token_is_refused(client: httpx.AsyncClient) -> None:
    who = await account(client)
    expired = jwt.encode(
        {"sub": who.user_id, "username": who.username, "exp": 1, "type": "access"},
        TEST_SECRET,
        algorithm="HS256",
    )
    response = await client.get("/auth/me", headers={"Authorization": f"Bearer {expired}"})
    assert_error(response, 401, "UNAUTHORIZED")


async def test_bcrypt_runs_outside_any_transaction(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ~250 ms hash inside a transaction pins a pooled connection (PostgreSQL) and holds the
    write lock (SQLite, BEGIN IMMEDIATE): under load every other request queues behind it."""
    from backend.routes import auth

    pool = client.app.state.engine.pool  # type: ignore[attr-defined]
    held: list[int] = []
    real_hash, real_verify = auth.hash_password, auth.verify_password

    async def hash_checked(password: str, rounds: int) -> str:
        held.append(pool.checkedout())
        return await real_hash(password, rounds)

    async def verify_checked(password: str, hashed: str) -> bool:
        held.append(pool.checkedout())
        return await real_verify(password, hashed)

    monkeypatch.setattr(auth, "hash_password", hash_checked)
    monkeypatch.setattr(auth, "verify_password", verify_checked)
    user = await register(client)
    await login(client, user["username"])
    await client.post("/auth/login", json={"login": user["username"], "password": "Wrong!pass1"})
    await client.post("/auth/login", json={"login": "nobody_at_all", "password": PASSWORD})
    assert len(held) >= 4 and set(held) == {0}, held  # (+1 the first time: the dummy hash)
