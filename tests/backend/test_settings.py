"""Settings come from an environment mapping; bad values are refused with a hint."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from backend.settings import Settings, SettingsError, load_settings, normalise_database_url

GOOD = "k3y-" + "abcdefghijklmnopqrstuvwxyz0123456789"
KEY = {"SECRET_KEY": GOOD}
REPO = Path(__file__).resolve().parents[2]


def test_defaults() -> None:
    settings = load_settings({"SECRET_KEY": GOOD})
    assert settings.bcrypt_rounds == 12 and settings.web_concurrency == 1
    assert settings.database_url.startswith("sqlite+aiosqlite://")
    assert settings.app_env == "development" and not settings.auto_verify_email
    assert (settings.db_pool_size, settings.db_max_overflow) == (20, 10)
    assert (settings.access_token_expire_minutes, settings.refresh_token_expire_days) == (15, 30)
    assert settings.public_feed_page_size == 8


def test_values_are_read() -> None:
    settings = load_settings(
        {
            "SECRET_KEY": GOOD,
            "DATABASE_URL": "postgresql://u:p@db:5432/cv",
            "APP_ENV": "testing",
            "BCRYPT_ROUNDS": "10",
            "WEB_CONCURRENCY": "2",
            "DB_POOL_SIZE": "30",
            "DB_MAX_OVERFLOW": "0",
            "ACCESS_TOKEN_EXPIRE_MINUTES": "1440",
            "REFRESH_TOKEN_EXPIRE_DAYS": "365",
            "PUBLIC_FEED_PAGE_SIZE": "50",
        }
    )
    assert settings.database_url == "postgresql+asyncpg://u:p@db:5432/cv"
    assert settings.auto_verify_email and settings.bcrypt_rounds == 10
    assert settings.web_concurrency == 2 and settings.db_pool_size == 30
    assert settings.db_max_overflow == 0 and settings.access_token_expire_minutes == 1440
    assert settings.refresh_token_expire_days == 365 and settings.public_feed_page_size == 50


def test_empty_and_unrelated_variables_are_left_alone() -> None:
    """The environment is shared with everything else: only the backend's own names count."""
    settings = load_settings(
        {"SECRET_KEY": GOOD, "BCRYPT_ROUNDS": "", "APP_ENV": "", "PATH": "/bin", "HOME": "/"}
    )
    assert settings.bcrypt_rounds == 12 and settings.app_env == "development"


@pytest.mark.parametrize(
    ("env", "message", "hint"),
    [
        # a required variable missing
        ({}, "SECRET_KEY is not set", "32+ random characters"),
        ({"SECRET_KEY": ""}, "SECRET_KEY is not set", "32+ random characters"),
        # a value too short, guessable, or of an unknown kind
        ({"SECRET_KEY": "short"}, "SECRET_KEY is 5 characters long; at least 32", "longer"),
        (
            {"SECRET_KEY": "dev-secret-key-change-in-production"},
            "SECRET_KEY is a well-known default",
            "random",
        ),
        ({"SECRET_KEY": "a" * 40}, "SECRET_KEY is a well-known default", "random"),
        ({**KEY, "APP_ENV": "staging"}, "APP_ENV='staging' is unknown", "development, testing"),
        (
            {**KEY, "DATABASE_URL": "mysql://x/y"},
            "DATABASE_URL scheme is not supported: mysql",
            "asyncpg",
        ),
        # a wrong type
        (
            {**KEY, "BCRYPT_ROUNDS": "twelve"},
            "BCRYPT_ROUNDS='twelve' is not a whole number",
            "4..16",
        ),
        ({**KEY, "DB_POOL_SIZE": "2.5"}, "DB_POOL_SIZE='2.5' is not a whole number", "1..500"),
        # a value out of range, negative included
        ({**KEY, "BCRYPT_ROUNDS": "3"}, "BCRYPT_ROUNDS=3 is out of range", "4..16"),
        ({**KEY, "BCRYPT_ROUNDS": "17"}, "BCRYPT_ROUNDS=17 is out of range", "4..16"),
        ({**KEY, "WEB_CONCURRENCY": "0"}, "WEB_CONCURRENCY=0 is out of range", "1..64"),
        ({**KEY, "DB_MAX_OVERFLOW": "-1"}, "DB_MAX_OVERFLOW=-1 is out of range", "0..500"),
        (
            {**KEY, "ACCESS_TOKEN_EXPIRE_MINUTES": "-5"},
            "ACCESS_TOKEN_EXPIRE_MINUTES=-5 is out",
            "1..1440",
        ),
        (
            {**KEY, "REFRESH_TOKEN_EXPIRE_DAYS": "366"},
            "REFRESH_TOKEN_EXPIRE_DAYS=366 is out",
            "1..365",
        ),
        (
            {**KEY, "PUBLIC_FEED_PAGE_SIZE": "51"},
            "PUBLIC_FEED_PAGE_SIZE=51 is out of range",
            "1..50",
        ),
    ],
)
def test_refused(env: dict[str, str], message: str, hint: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(env)
    assert caught.value.message.startswith(message)
    assert hint in caught.value.hint


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DB_MAX_OVERFLOW", "-1", "error: DB_MAX_OVERFLOW=-1 is out of range\nhint: "),
        ("BCRYPT_ROUNDS", "twelve", "error: BCRYPT_ROUNDS='twelve' is not a whole number\nhint: "),
    ],
)
def test_the_server_refuses_a_bad_variable_with_exit_2(name: str, value: str, message: str) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SECRET_KEY")}
    done = subprocess.run(
        [sys.executable, "-m", "backend"],
        cwd=REPO,
        env={**env, "SECRET_KEY": GOOD, name: value},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(message) and "Traceback" not in done.stderr, done.stderr


def test_code_that_builds_settings_is_held_to_the_same_names_and_limits() -> None:
    settings = Settings(secret_key=GOOD)
    assert dataclasses.replace(settings, app_env="testing").auto_verify_email
    with pytest.raises(ValidationError, match="bcrypt_round"):
        Settings(secret_key=GOOD, bcrypt_round=4)  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="bcrypt_rounds"):
        dataclasses.replace(settings, bcrypt_rounds=3)
    assert GOOD not in repr(settings)


def test_url_normalisation() -> None:
    assert normalise_database_url("postgres://a@b/c") == "postgresql+asyncpg://a@b/c"
    assert normalise_database_url("sqlite:///x.db") == "sqlite+aiosqlite:///x.db"
