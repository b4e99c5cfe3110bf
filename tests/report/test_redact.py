"""Passwords in addresses and DSNs, and values of secret-named keys, never survive redaction."""

from __future__ import annotations

import pytest

from harness.report.redact import redact, redact_text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "postgresql://cv:hunter2@postgres:5432/cv",
            "postgresql://cv:***@postgres:5432/cv",
        ),
        (
            "dsn postgresql+asyncpg://cv:p@ss/w:rd@db/cv failed",
            "dsn postgresql+asyncpg://cv:***@db/cv failed",
        ),
        ("redis://:s3cret@cache:6379/0", "redis://:***@cache:6379/0"),
        (
            "a postgresql://a:one@h1/x and b postgresql://b:two@h2/y",
            "a postgresql://a:***@h1/x and b postgresql://b:***@h2/y",
        ),
        ("host=db user=cv password=hunter2 dbname=cv", "host=db user=cv password=*** dbname=cv"),
        ("PGPASSWORD='two words' psql", "PGPASSWORD=*** psql"),
        ("ALTER ROLE cv PASSWORD 'hunter2'", "ALTER ROLE cv PASSWORD '***'"),
        ("?token=abc123&page=2", "?token=***&page=2"),
    ],
)
def test_passwords_in_text_are_masked(text: str, expected: str) -> None:
    assert redact_text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "http://backend:8000",
        "http://127.0.0.1:43559/trips/public",
        "test_token_refresh_latency: failed",
        "AssertionError: assert 'draft' == 'DRAFT'",
        "GET /users/[username]/trips",
    ],
)
def test_text_without_a_password_is_unchanged(text: str) -> None:
    assert redact_text(text) == text


def test_secret_keys_are_masked_at_any_depth_and_case() -> None:
    data = {
        "run": {
            "DB_DSN": "postgresql://cv:x@db/cv",
            "jwtSecret": "abc",
            "access_Token": 12345,
            "PGPASSWORD": ["a", "b"],
            "password_file": None,
            "target": "http://backend:8000",
            "workers": 4,
            "partial": False,
        },
        "rows": [{"name": "GET /feed", "api_token": {"nested": "x"}}],
    }
    assert redact(data) == {
        "run": {
            "DB_DSN": "***",
            "jwtSecret": "***",
            "access_Token": "***",
            "PGPASSWORD": "***",
            "password_file": None,
            "target": "http://backend:8000",
            "workers": 4,
            "partial": False,
        },
        "rows": [{"name": "GET /feed", "api_token": "***"}],
    }


def test_redaction_copies_instead_of_changing_the_input() -> None:
    data = {"secret": "x", "list": ["postgresql://a:b@c/d"]}
    redact(data)
    assert data == {"secret": "x", "list": ["postgresql://a:b@c/d"]}
