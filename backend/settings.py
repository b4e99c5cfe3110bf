"""Backend settings, read from an environment mapping and validated once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

APP_ENVS = ("development", "testing", "production", "ci")
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./contravento.db"
MIN_SECRET_LENGTH = 32
# Values copied from .env examples; a server started with one of them has a public signing key.
KNOWN_DEFAULT_SECRETS = frozenset(
    {
        "changeme",
        "change-me",
        "change_me",
        "secret",
        "your-secret-key",
        "your-secret-key-here",
        "your_secret_key_here",
        "dev-secret-key-change-in-production",
        "please-change-this-secret-key-in-production",
    }
)


class SettingsError(Exception):
    """A setting is missing or invalid; carries a hint for the operator."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


@dataclass(frozen=True)
class Settings:
    secret_key: str
    database_url: str = DEFAULT_DATABASE_URL
    app_env: str = "development"
    bcrypt_rounds: int = 12
    web_concurrency: int = 1
    db_pool_size: int = 20
    db_max_overflow: int = 10
    access_token_expire_minutes: int = 15
    refresh_token_expire_days: int = 30
    public_feed_page_size: int = 8

    @property
    def auto_verify_email(self) -> bool:
        return self.app_env == "testing"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def _int(environ: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(
            f"{name}={raw!r} is not a whole number", f"set {name} to an integer in {low}..{high}"
        ) from None
    if not low <= value <= high:
        raise SettingsError(f"{name}={value} is out of range", f"use a value in {low}..{high}")
    return value


def normalise_database_url(url: str) -> str:
    """Accept the plain libpq spellings and pick the async driver the backend uses."""
    for prefix in ("postgres://", "postgresql://", "postgresql+psycopg://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    if url.startswith("sqlite://") and not url.startswith("sqlite+aiosqlite://"):
        return "sqlite+aiosqlite://" + url[len("sqlite://") :]
    return url


def load_settings(environ: Mapping[str, str]) -> Settings:
    secret = environ.get("SECRET_KEY", "")
    if not secret:
        raise SettingsError(
            "SECRET_KEY is not set",
            'set SECRET_KEY to 32+ random characters, e.g. python -c "import secrets;'
            ' print(secrets.token_urlsafe(48))"',
        )
    if len(secret) < MIN_SECRET_LENGTH:
        raise SettingsError(
            f"SECRET_KEY is {len(secret)} characters long; at least {MIN_SECRET_LENGTH} are needed",
            'generate a longer one: python -c "import secrets; print(secrets.token_urlsafe(48))"',
        )
    if secret.lower() in KNOWN_DEFAULT_SECRETS or len(set(secret)) < 8:
        raise SettingsError(
            "SECRET_KEY is a well-known default or has almost no entropy",
            'generate a random one: python -c "import secrets; print(secrets.token_urlsafe(48))"',
        )
    url = normalise_database_url(environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL)
    if not url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
        raise SettingsError(
            f"DATABASE_URL scheme is not supported: {url.split(':', 1)[0]}",
            "use sqlite+aiosqlite:///path.db or postgresql+asyncpg://user:pass@host/db",
        )
    app_env = environ.get("APP_ENV", "development")
    if app_env not in APP_ENVS:
        raise SettingsError(f"APP_ENV={app_env!r} is unknown", f"use one of {', '.join(APP_ENVS)}")
    return Settings(
        secret_key=secret,
        database_url=url,
        app_env=app_env,
        bcrypt_rounds=_int(environ, "BCRYPT_ROUNDS", 12, 4, 16),
        web_concurrency=_int(environ, "WEB_CONCURRENCY", 1, 1, 64),
        db_pool_size=_int(environ, "DB_POOL_SIZE", 20, 1, 500),
        db_max_overflow=_int(environ, "DB_MAX_OVERFLOW", 10, 0, 500),
        access_token_expire_minutes=_int(environ, "ACCESS_TOKEN_EXPIRE_MINUTES", 15, 1, 1440),
        refresh_token_expire_days=_int(environ, "REFRESH_TOKEN_EXPIRE_DAYS", 30, 1, 365),
        public_feed_page_size=_int(environ, "PUBLIC_FEED_PAGE_SIZE", 8, 1, 50),
    )
