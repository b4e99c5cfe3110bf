"""The DSNs the seeder takes, in the forms its drivers want (psycopg, sqlite3)."""

from __future__ import annotations

from pathlib import Path


def plain_dsn(dsn: str) -> str:
    """postgresql+asyncpg://... -> postgresql://... (the driver part means nothing to psycopg)."""
    scheme, sep, rest = dsn.partition("://")
    return f"{scheme.split('+')[0]}{sep}{rest}"


def sqlite_path(dsn: str) -> Path:
    """sqlite:///relative.db or sqlite:////absolute/path.db (SQLAlchemy's form) -> the file."""
    return Path(plain_dsn(dsn).split(":///", 1)[1])
