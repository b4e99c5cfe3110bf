"""Backend settings, read from an environment mapping and validated once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import Literal, get_args

from pydantic import ConfigDict, Field, TypeAdapter, ValidationError, field_validator
from pydantic.dataclasses import dataclass
from pydantic_core import ErrorDetails

AppEnv = Literal["development", "testing", "production", "ci"]
APP_ENVS: tuple[str, ...] = get_args(AppEnv)
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./contravento.db"
DRIVERS = ("sqlite+aiosqlite://", "postgresql+asyncpg://")
MIN_SECRET_LENGTH = 32
KEYGEN = 'python -c "import secrets; print(secrets.token_urlsafe(48))"'
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


@dataclass(frozen=True, config=ConfigDict(extra="forbid"))
class Settings:
    """Each setting comes from the environment variable of its name in capitals (SECRET_KEY)."""

    secret_key: str = Field(min_length=MIN_SECRET_LENGTH, repr=False)
    database_url: str = DEFAULT_DATABASE_URL
    app_env: AppEnv = "development"
    bcrypt_rounds: int = Field(default=12, ge=4, le=16)
    web_concurrency: int = Field(default=1, ge=1, le=64)
    db_pool_size: int = Field(default=20, ge=1, le=500)
    db_max_overflow: int = Field(default=10, ge=0, le=500)
    access_token_expire_minutes: int = Field(default=15, ge=1, le=1440)
    refresh_token_expire_days: int = Field(default=30, ge=1, le=365)
    public_feed_page_size: int = Field(default=8, ge=1, le=50)
    # Faults for testing the harness, off by default: an N+1 query on GET /users/{username}/trips
    # (one tags query per listed trip), CPU burnt on the event loop by GET .../stats, and a
    # wait (no CPU: other requests go on) in GET /users/{username}/achievements.
    cv_n_plus_one: bool = False
    cv_slow_stats_ms: int = Field(default=0, ge=0, le=60_000)
    cv_delay_achievements_ms: int = Field(default=0, ge=0, le=60_000)

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, url: str) -> str:
        url = normalise_database_url(url)
        if not url.startswith(DRIVERS):
            raise ValueError("the scheme is not supported")
        return url

    @property
    def auto_verify_email(self) -> bool:
        return self.app_env == "testing"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


ENVIRONMENT = TypeAdapter(Settings)  # validates the strings read from the environment


def normalise_database_url(url: str) -> str:
    """Accept the plain libpq spellings and pick the async driver the backend uses."""
    for prefix in ("postgres://", "postgresql://", "postgresql+psycopg://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    if url.startswith("sqlite://") and not url.startswith("sqlite+aiosqlite://"):
        return "sqlite+aiosqlite://" + url[len("sqlite://") :]
    return url


def load_settings(environ: Mapping[str, str]) -> Settings:
    """The settings from `environ`; an unset or empty variable takes the default."""
    names = [f.name for f in fields(Settings)]
    values = {name: environ[name.upper()] for name in names if environ.get(name.upper())}
    try:
        settings = ENVIRONMENT.validate_python(values)
    except ValidationError as exc:
        raise refusal(exc.errors()[0]) from None
    # An operator's check, not the model's: code that builds Settings itself may use any key.
    secret = settings.secret_key
    if secret.lower() in KNOWN_DEFAULT_SECRETS or len(set(secret)) < 8:
        raise SettingsError(
            "SECRET_KEY is a well-known default or has almost no entropy",
            f"generate a random one: {KEYGEN}",
        )
    return settings


def refusal(error: ErrorDetails) -> SettingsError:
    """A pydantic error as the operator reads it: the variable, its value, what to set."""
    field = str(error["loc"][0])
    name, value = field.upper(), error["input"]
    if field == "secret_key":
        if error["type"] == "missing":
            return SettingsError(
                "SECRET_KEY is not set",
                f"set SECRET_KEY to 32+ random characters, e.g. {KEYGEN}",
            )
        return SettingsError(
            f"SECRET_KEY is {len(value)} characters long; at least {MIN_SECRET_LENGTH} are needed",
            f"generate a longer one: {KEYGEN}",
        )
    if field == "database_url":
        scheme = normalise_database_url(value).split(":", 1)[0]
        return SettingsError(
            f"DATABASE_URL scheme is not supported: {scheme}",
            "use sqlite+aiosqlite:///path.db or postgresql+asyncpg://user:pass@host/db",
        )
    if field == "app_env":
        return SettingsError(f"APP_ENV={value!r} is unknown", f"use one of {', '.join(APP_ENVS)}")
    if error["type"] == "bool_parsing":
        return SettingsError(f"{name}={value!r} is not a yes or no", f"set {name} to 1 or 0")
    low, high = limits(field)
    if error["type"] in ("int_parsing", "int_type", "int_from_float"):
        return SettingsError(
            f"{name}={value!r} is not a whole number", f"set {name} to an integer in {low}..{high}"
        )
    return SettingsError(f"{name}={value} is out of range", f"use a value in {low}..{high}")


def limits(field: str) -> tuple[int, int]:
    """The bounds a whole-number setting is declared with."""
    declared = ENVIRONMENT.json_schema()["properties"][field]
    return declared["minimum"], declared["maximum"]
