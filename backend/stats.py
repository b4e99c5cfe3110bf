"""User stats and achievements: race-free stats rows, atomic counters, idempotent awards."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import CursorResult, case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db import dialect_insert
from backend.models import Achievement, UserAchievement, UserProfile, UserStats, new_id, utcnow


async def ensure_stats(session: AsyncSession, user_id: str) -> None:
    """Create the user's stats row unless it exists; concurrent callers all succeed.

    INSERT .. ON CONFLICT DO NOTHING lets the unique index arbitrate the race that makes the
    real service answer 500 to concurrent first GETs.
    """
    insert = dialect_insert(session)
    now = utcnow()
    await session.execute(
        insert(UserStats)
        .values(
            id=new_id(),
            user_id=user_id,
            total_trips=0,
            total_kilometers=0.0,
            countries_visited=[],
            total_photos=0,
            achievements_count=0,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["user_id"])
    )


async def load_or_create_stats(session: AsyncSession, user_id: str) -> UserStats:
    stats = await session.scalar(select(UserStats).where(UserStats.user_id == user_id))
    if stats is not None:
        return stats
    await ensure_stats(session, user_id)
    await session.commit()
    stats = await session.scalar(select(UserStats).where(UserStats.user_id == user_id))
    assert stats is not None
    return stats


async def record_published_trip(
    session: AsyncSession, user_id: str, distance_km: float, photos: int, trip_date: date
) -> None:
    """Add one published trip to the owner's stats and award what it earns."""
    await ensure_stats(session, user_id)
    row = (
        await session.execute(
            update(UserStats)
            .where(UserStats.user_id == user_id)
            .values(
                total_trips=UserStats.total_trips + 1,
                total_kilometers=UserStats.total_kilometers + distance_km,
                total_photos=UserStats.total_photos + photos,
                last_trip_date=case(
                    (
                        (UserStats.last_trip_date.is_(None))
                        | (UserStats.last_trip_date < trip_date),
                        trip_date,
                    ),
                    else_=UserStats.last_trip_date,
                ),
                updated_at=utcnow(),
            )
            .returning(
                UserStats.total_trips,
                UserStats.total_kilometers,
                UserStats.total_photos,
                UserStats.countries_visited,
            )
        )
    ).one()
    followers = await session.scalar(
        select(UserProfile.followers_count).where(UserProfile.user_id == user_id)
    )
    progress = {
        "trips": float(row.total_trips),
        "distance": float(row.total_kilometers),
        "photos": float(row.total_photos),
        "countries": float(len(row.countries_visited or [])),
        "followers": float(followers or 0),
    }
    await award(session, user_id, progress)


async def award(session: AsyncSession, user_id: str, progress: dict[str, float]) -> None:
    """Award every achievement whose requirement the progress meets; re-awarding is a no-op."""
    achievements = (
        await session.execute(
            select(Achievement.id, Achievement.requirement_type, Achievement.requirement_value)
        )
    ).all()
    earned = [
        a.id for a in achievements if progress.get(a.requirement_type, -1.0) >= a.requirement_value
    ]
    if not earned:
        return
    insert = dialect_insert(session)
    now = utcnow()
    result: CursorResult[Any] = await session.execute(  # type: ignore[assignment]
        insert(UserAchievement)
        .values(
            [
                {"id": new_id(), "user_id": user_id, "achievement_id": a, "awarded_at": now}
                for a in earned
            ]
        )
        .on_conflict_do_nothing(index_elements=["user_id", "achievement_id"])
    )
    if result.rowcount:
        count = (
            select(func.count())
            .select_from(UserAchievement)
            .where(UserAchievement.user_id == user_id)
            .scalar_subquery()
        )
        await session.execute(
            update(UserStats)
            .where(UserStats.user_id == user_id)
            .values(achievements_count=count, updated_at=now)
        )
