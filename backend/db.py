"""Database engine, sessions, and start-up preparation (schema, reference data, wait-for-DB)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from sqlalchemy import event, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine

from backend.models import Achievement, Base, CyclingType
from backend.reference_data import ACHIEVEMENTS, CYCLING_TYPES
from backend.settings import Settings

# Any constant works; it only has to be the same in every process preparing the schema.
SCHEMA_LOCK_KEY = 0x636F6E7472617600


def create_engine(settings: Settings) -> AsyncEngine:
    """Build the engine; nothing connects until the first query."""
    if settings.is_sqlite:
        engine = _create_async_engine(
            settings.database_url,
            connect_args={"timeout": 30},
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
        )
        _sqlite_discipline(engine)
        return engine
    return _create_async_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_recycle=1800,
        pool_timeout=30,
    )


def _sqlite_discipline(engine: AsyncEngine) -> None:
    """WAL, foreign keys, and BEGIN IMMEDIATE.

    A deferred SQLite transaction that reads and then writes fails at once with "database is
    locked" when another writer got there first (busy_timeout cannot help an upgrade), so every
    transaction takes the write lock up front and waits its turn instead.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            "PRAGMA journal_mode=WAL",
            "PRAGMA foreign_keys=ON",
            "PRAGMA synchronous=NORMAL",
            "PRAGMA busy_timeout=30000",
        ):
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


def dialect_insert(session_or_conn: AsyncSession | AsyncConnection) -> Any:
    """The dialect's INSERT construct (both dialects support ON CONFLICT and RETURNING)."""
    if isinstance(session_or_conn, AsyncConnection):
        name = session_or_conn.dialect.name
    else:
        name = session_or_conn.get_bind().dialect.name
    return pg_insert if name == "postgresql" else sqlite_insert


async def wait_for_database(engine: AsyncEngine, timeout_s: float = 60.0) -> None:
    """Poll with SELECT 1 until the database answers, or raise after timeout_s."""
    deadline = time.monotonic() + timeout_s
    delay = 0.1
    while True:
        try:
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return
        except (OperationalError, DBAPIError, OSError) as exc:
            if time.monotonic() + delay > deadline:
                raise TimeoutError(
                    f"database did not answer within {timeout_s:.0f}s: {exc}"
                ) from exc
            await asyncio.sleep(
                delay
            )  # back-off between connection attempts, not a readiness guess
            delay = min(delay * 2, 2.0)


async def prepare_database(engine: AsyncEngine) -> None:
    """Create missing tables and load reference data; safe to run from several processes."""
    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": SCHEMA_LOCK_KEY})
        await conn.run_sync(Base.metadata.create_all)
        insert = dialect_insert(conn)
        await conn.execute(
            insert(Achievement)
            .values(
                [
                    {
                        "code": code,
                        "name": name,
                        "description": description,
                        "badge_icon": icon,
                        "requirement_type": kind,
                        "requirement_value": float(value),
                    }
                    for code, name, description, icon, kind, value in ACHIEVEMENTS
                ]
            )
            .on_conflict_do_nothing(index_elements=["code"])
        )
        await conn.execute(
            insert(CyclingType)
            .values(
                [
                    {"code": code, "display_name": name, "description": description}
                    for code, name, description in CYCLING_TYPES
                ]
            )
            .on_conflict_do_nothing(index_elements=["code"])
        )


async def active_cycling_types(session: AsyncSession) -> set[str]:
    rows = await session.scalars(select(CyclingType.code).where(CyclingType.is_active.is_(True)))
    return set(rows)
