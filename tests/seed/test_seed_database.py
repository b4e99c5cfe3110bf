"""Seeding real databases (SQLite and PostgreSQL): counts, consistency, determinism, safety."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from backend.app import create_app
from backend.settings import Settings
from harness.errors import ConfigError
from harness.seed import DEFAULT_PASSWORD, MANIFEST, USERNAMES, SeedRequest, resolve_profile, seed
from harness.seed import generate as generate_module
from harness.seed.seeder import SeedFailed, plain_dsn, sqlite_path

TABLES = ("users", "user_profiles", "follows", "tags", "trips", "trip_tags", "trip_locations",
          "trip_photos", "likes", "user_stats", "user_achievements")  # fmt: skip
CONSISTENCY = {
    "follows without users": "SELECT count(*) FROM follows f LEFT JOIN users u ON u.id = f.follower_id"
    " LEFT JOIN users v ON v.id = f.following_id WHERE u.id IS NULL OR v.id IS NULL",
    "followers_count": "SELECT count(*) FROM user_profiles p WHERE p.followers_count <>"
    " (SELECT count(*) FROM follows f WHERE f.following_id = p.user_id)",
    "following_count": "SELECT count(*) FROM user_profiles p WHERE p.following_count <>"
    " (SELECT count(*) FROM follows f WHERE f.follower_id = p.user_id)",
    "usage_count": "SELECT count(*) FROM tags t WHERE t.usage_count <>"
    " (SELECT count(*) FROM trip_tags x WHERE x.tag_id = t.tag_id)",
    "total_trips": "SELECT count(*) FROM user_stats s WHERE s.total_trips <>"
    " (SELECT count(*) FROM trips t WHERE t.user_id = s.user_id AND t.status = 'PUBLISHED')",
    "achievements_count": "SELECT count(*) FROM user_stats s WHERE s.achievements_count <>"
    " (SELECT count(*) FROM user_achievements a WHERE a.user_id = s.user_id)",
    "published_at": "SELECT count(*) FROM trips WHERE (status = 'PUBLISHED') <> (published_at IS NOT NULL)",
    "trips of missing users": "SELECT count(*) FROM trips t LEFT JOIN users u ON u.id = t.user_id"
    " WHERE u.id IS NULL",
}
DIGEST = {
    "users": "SELECT id, username, email, hashed_password, created_at FROM users ORDER BY id",
    "trips": "SELECT trip_id, user_id, title, status, distance_km, published_at FROM trips ORDER BY trip_id",
    "follows": "SELECT follower_id, following_id FROM follows ORDER BY follower_id, following_id",
}


def dsn_of(settings: Settings) -> str:
    return plain_dsn(settings.database_url)


def query(dsn: str, sql: str) -> list[tuple[Any, ...]]:
    if dsn.startswith("sqlite"):
        with sqlite3.connect(sqlite_path(dsn)) as conn:
            return conn.execute(sql).fetchall()
    with psycopg.connect(dsn) as conn:
        return conn.execute(sql).fetchall()  # type: ignore[arg-type]


def request(dsn: str, folder: Path, **kw: Any) -> SeedRequest:
    return SeedRequest(dsn=dsn, folder=folder, profile=resolve_profile("tiny", {}), seed=kw.pop("seed", 11),
                       bcrypt_rounds=4, **kw)  # fmt: skip


@pytest.fixture
def seeded(backend_settings: Settings, tmp_path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    dsn = dsn_of(backend_settings)
    yield dsn, seed(request(dsn, tmp_path), lambda _: None)


def test_counts_match_the_manifest(seeded: tuple[str, dict[str, Any]], tmp_path: Path) -> None:
    dsn, manifest = seeded
    for table in TABLES:
        assert query(dsn, f"SELECT count(*) FROM {table}")[0][0] == manifest["rows"][table], table
    on_disk = (tmp_path / MANIFEST).read_text()
    assert manifest["checksum"] in on_disk
    names = (tmp_path / USERNAMES).read_text().split()
    assert len(names) == manifest["rows"]["users"]


def test_rows_are_consistent(seeded: tuple[str, dict[str, Any]]) -> None:
    dsn, _ = seeded
    broken = {name: query(dsn, sql)[0][0] for name, sql in CONSISTENCY.items()}
    assert broken == dict.fromkeys(CONSISTENCY, 0)


def test_same_seed_gives_identical_data(seeded: tuple[str, dict[str, Any]], tmp_path: Path) -> None:
    dsn, first = seeded
    before = {name: query(dsn, sql) for name, sql in DIGEST.items()}
    again = seed(request(dsn, tmp_path / "again", reset=True), lambda _: None)
    assert again["checksum"] == first["checksum"]
    assert {name: query(dsn, sql) for name, sql in DIGEST.items()} == before


def test_non_empty_database_is_refused_unchanged(
    seeded: tuple[str, dict[str, Any]], tmp_path: Path
) -> None:
    dsn, manifest = seeded
    with pytest.raises(ConfigError) as caught:
        seed(request(dsn, tmp_path / "x", seed=99), lambda _: None)
    assert "already holds data" in caught.value.message and "--reset" in caught.value.hint
    assert query(dsn, "SELECT count(*) FROM users")[0][0] == manifest["rows"]["users"]


def test_failure_midway_leaves_the_database_as_it_was(
    seeded: tuple[str, dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dsn, _ = seeded
    before = {name: query(dsn, sql) for name, sql in DIGEST.items()}
    original = generate_module.Generator._likes

    def explode(self: generate_module.Generator) -> Any:
        original(self)
        raise KeyboardInterrupt  # as if the user pressed Ctrl-C half-way through

    monkeypatch.setattr(generate_module.Generator, "_likes", explode)
    with pytest.raises(SeedFailed) as caught:
        seed(request(dsn, tmp_path / "y", seed=5, reset=True), lambda _: None)
    assert "rolled back" in caught.value.message
    assert {name: query(dsn, sql) for name, sql in DIGEST.items()} == before


async def test_seeded_users_log_in_and_the_api_agrees(
    seeded: tuple[str, dict[str, Any]], backend_settings: Settings, tmp_path: Path
) -> None:
    dsn, manifest = seeded
    popular = query(dsn, "SELECT u.username, p.followers_count FROM users u JOIN user_profiles p"
                         " ON p.user_id = u.id WHERE u.profile_visibility = 'public'"
                         " ORDER BY p.followers_count DESC LIMIT 1")[0]  # fmt: skip
    app = create_app(backend_settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://b") as c:
        login = await c.post(
            "/auth/login", json={"login": popular[0], "password": DEFAULT_PASSWORD}
        )
        assert login.status_code == 200, login.text
        profile = (await c.get(f"/users/{popular[0]}/profile")).json()
        assert profile["followers_count"] == popular[1]
        feed = (await c.get("/trips/public")).json()
        assert feed["pagination"]["total"] > 0 and len(feed["trips"]) == 8
        token = {"Authorization": f"Bearer {login.json()['data']['access_token']}"}
        assert (await c.get("/feed", headers=token)).status_code == 200
    await app.state.engine.dispose()
    assert manifest["password"] == DEFAULT_PASSWORD
