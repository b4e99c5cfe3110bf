"""Settings come from an environment mapping; bad values are refused with a hint."""

from __future__ import annotations

import pytest

from backend.settings import SettingsError, load_settings, normalise_database_url

GOOD = "k3y-" + "abcdefghijklmnopqrstuvwxyz0123456789"


def test_defaults() -> None:
    settings = load_settings({"SECRET_KEY": GOOD})
    assert settings.bcrypt_rounds == 12 and settings.web_concurrency == 1
    assert settings.database_url.startswith("sqlite+aiosqlite://")
    assert settings.app_env == "development" and not settings.auto_verify_email


def test_values_are_read() -> None:
    settings = load_settings(
        {
            "SECRET_KEY": GOOD,
            "DATABASE_URL": "postgresql://u:p@db:5432/cv",
            "APP_ENV": "testing",
            "BCRYPT_ROUNDS": "10",
            "WEB_CONCURRENCY": "2",
            "DB_POOL_SIZE": "30",
        }
    )
    assert settings.database_url == "postgresql+asyncpg://u:p@db:5432/cv"
    assert settings.auto_verify_email and settings.bcrypt_rounds == 10
    assert settings.web_concurrency == 2 and settings.db_pool_size == 30


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({}, "SECRET_KEY is not set"),
        ({"SECRET_KEY": "short"}, "at least 32"),
        ({"SECRET_KEY": "dev-secret-key-change-in-production"}, "well-known default"),
        ({"SECRET_KEY": "a" * 40}, "well-known default"),
        ({"SECRET_KEY": GOOD, "BCRYPT_ROUNDS": "twelve"}, "not a whole number"),
        ({"SECRET_KEY": GOOD, "BCRYPT_ROUNDS": "3"}, "out of range"),
        ({"SECRET_KEY": GOOD, "WEB_CONCURRENCY": "0"}, "out of range"),
        ({"SECRET_KEY": GOOD, "APP_ENV": "staging"}, "unknown"),
        ({"SECRET_KEY": GOOD, "DATABASE_URL": "mysql://x/y"}, "not supported"),
    ],
)
def test_refused(env: dict[str, str], needle: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(env)
    assert needle in caught.value.message
    assert caught.value.hint


def test_url_normalisation() -> None:
    assert normalise_database_url("postgres://a@b/c") == "postgresql+asyncpg://a@b/c"
    assert normalise_database_url("sqlite:///x.db") == "sqlite+aiosqlite:///x.db"
