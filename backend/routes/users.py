"""Profiles, stats, achievements and follows under /users/{username}, plus /achievements."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import CursorResult, case, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db import active_cycling_types, dialect_insert
from backend.deps import CurrentViewer, OptionalViewer, SessionDep, SettingsDep
from backend.errors import APIError, forbidden, user_not_found, validation
from backend.models import (
    Achievement,
    Follow,
    User,
    UserAchievement,
    UserProfile,
    UserStats,
    new_id,
    utcnow,
)
from backend.schemas import ProfileUpdateIn, is_valid_username
from backend.stats import award, ensure_stats, load_or_create_stats
from backend.views import envelope, iso, profile_object, stats_object

router = APIRouter(tags=["users"])


async def find_user(session: AsyncSession, username: str) -> User:
    """The user with that exact username, or 404 (a malformed name never reaches the database)."""
    if not is_valid_username(username):
        raise user_not_found()
    user = await session.scalar(select(User).where(User.username == username))
    if user is None:
        raise user_not_found()
    return user


async def is_following(session: AsyncSession, follower_id: str, following_id: str) -> bool:
    found = await session.scalar(
        select(Follow.id).where(
            Follow.follower_id == follower_id, Follow.following_id == following_id
        )
    )
    return found is not None


async def _profile_rows(
    session: AsyncSession, username: str
) -> tuple[User, UserProfile | None, UserStats | None]:
    if not is_valid_username(username):
        raise user_not_found()
    row = (
        await session.execute(
            select(User, UserProfile, UserStats)
            .outerjoin(UserProfile, UserProfile.user_id == User.id)
            .outerjoin(UserStats, UserStats.user_id == User.id)
            .where(User.username == username)
        )
    ).first()
    if row is None:
        raise user_not_found()
    user, profile, stats = row
    return user, profile, stats


@router.get("/users/{username}/profile")
async def get_profile(username: str, viewer: OptionalViewer, session: SessionDep) -> JSONResponse:
    user, profile, stats = await _profile_rows(session, username)
    is_owner = viewer is not None and viewer.user_id == user.id
    if user.profile_visibility == "private" and not is_owner:
        raise APIError(403, "PRIVATE_PROFILE", "This profile is private")
    following = (
        viewer is not None and not is_owner and await is_following(session, viewer.user_id, user.id)
    )
    return JSONResponse(
        profile_object(user, profile, stats, is_owner=is_owner, is_following=following)
    )


@router.put("/users/{username}/profile")
async def update_profile(
    username: str, body: ProfileUpdateIn, viewer: CurrentViewer, session: SessionDep
) -> JSONResponse:
    user = await find_user(session, username)
    if user.id != viewer.user_id:
        raise forbidden("You can only update your own profile")
    changes = body.model_dump(exclude_unset=True)
    cycling_type = changes.get("cycling_type")
    if cycling_type is not None and cycling_type not in await active_cycling_types(session):
        raise validation("cycling_type is not an active cycling type", "cycling_type")
    user_fields = {
        k: changes.pop(k) for k in ("profile_visibility", "trip_visibility") if k in changes
    }
    user_fields = {k: v for k, v in user_fields.items() if v is not None}
    for flag in ("show_email", "show_location"):
        if changes.get(flag, False) is None:
            changes.pop(flag)
    now = utcnow()
    if user_fields:
        await session.execute(
            update(User).where(User.id == user.id).values(updated_at=now, **user_fields)
        )
    if changes:
        await session.execute(
            update(UserProfile)
            .where(UserProfile.user_id == user.id)
            .values(updated_at=now, **changes)
        )
    await session.commit()
    session.expire_all()
    user, profile, stats = await _profile_rows(session, username)
    return envelope(
        profile_object(user, profile, stats, is_owner=True, is_following=False),
        message="Profile updated",
    )


def _slow_down_for_testing(ms: int) -> None:
    """Burn `ms` of CPU on the event loop: the fault of CV_SLOW_STATS_MS, planted on purpose
    for the harness's tests (a profile names this function; every other request waits)."""
    # CPU time, not wall time: on a busy host the burn still costs the figure asked for
    deadline = time.thread_time() + ms / 1000
    while time.thread_time() < deadline:
        sum(i * i for i in range(200))  # work, not a sleep: the CPU is busy the whole time


@router.get("/users/{username}/stats")
async def get_stats(username: str, session: SessionDep, settings: SettingsDep) -> JSONResponse:
    if settings.cv_slow_stats_ms:
        _slow_down_for_testing(settings.cv_slow_stats_ms)
    user = await find_user(session, username)
    stats = await load_or_create_stats(session, user.id)
    return envelope(stats_object(stats))


def _achievement(a: Achievement, awarded_at: Any = None) -> dict[str, Any]:
    item: dict[str, Any] = {
        "code": a.code,
        "name": a.name,
        "description": a.description,
        "badge_icon": a.badge_icon,
        "requirement_type": a.requirement_type,
        "requirement_value": a.requirement_value,
    }
    if awarded_at is not None:
        item["awarded_at"] = iso(awarded_at)
    return item


@router.get("/users/{username}/achievements")
async def get_user_achievements(
    username: str, session: SessionDep, settings: SettingsDep
) -> JSONResponse:
    if settings.cv_delay_achievements_ms:
        # the fault of CV_DELAY_ACHIEVEMENTS_MS: this endpoint alone is slower (an await, so
        # the event loop serves every other request meanwhile)
        await asyncio.sleep(settings.cv_delay_achievements_ms / 1000)
    user = await find_user(session, username)
    rows = (
        await session.execute(
            select(Achievement, UserAchievement.awarded_at)
            .join(UserAchievement, UserAchievement.achievement_id == Achievement.id)
            .where(UserAchievement.user_id == user.id)
            .order_by(UserAchievement.awarded_at.desc(), Achievement.requirement_value.desc())
        )
    ).all()
    items = [_achievement(a, awarded) for a, awarded in rows]
    return envelope({"achievements": items, "total_count": len(items)})


@router.get("/achievements")
async def list_achievements(session: SessionDep) -> JSONResponse:
    rows = await session.scalars(
        select(Achievement).order_by(Achievement.requirement_value, Achievement.code)
    )
    items = [_achievement(a) for a in rows]
    return envelope({"achievements": items, "total_count": len(items)})


async def _bump_counts(
    session: AsyncSession, follower_id: str, following_id: str, delta: int
) -> tuple[int, int]:
    """Move both counters, locking the two profile rows in id order so that two users who
    follow each other at the same moment cannot deadlock."""
    counts: dict[str, int] = {}
    for user_id in sorted((follower_id, following_id)):
        column = (
            UserProfile.following_count if user_id == follower_id else UserProfile.followers_count
        )
        value = await session.scalar(
            update(UserProfile)
            .where(UserProfile.user_id == user_id)
            .values({column.key: _floor_zero(column, delta), "updated_at": utcnow()})
            .returning(column)
        )
        counts[user_id] = int(value or 0)
    return counts[follower_id], counts[following_id]


def _floor_zero(column: Any, delta: int) -> Any:
    return case((column + delta < 0, 0), else_=column + delta)


async def _follow_target(session: AsyncSession, username: str, viewer_id: str) -> User:
    target = await find_user(session, username)
    if target.id == viewer_id:
        raise APIError(400, "CANNOT_FOLLOW_SELF", "You cannot follow yourself")
    return target


def _follow_body(
    viewer: User, target: User, following: bool, counts: tuple[int, int], message: str
) -> dict[str, Any]:
    return {
        "success": True,
        "message": message,
        "follower_username": viewer.username,
        "following_username": target.username,
        "is_following": following,
        "follower_following_count": counts[0],
        "following_followers_count": counts[1],
    }


async def _viewer_user(session: AsyncSession, viewer_id: str) -> User:
    user = await session.get(User, viewer_id)
    if user is None:
        raise APIError(401, "UNAUTHORIZED", "The account no longer exists")
    return user


@router.post("/users/{username}/follow")
async def follow(username: str, viewer: CurrentViewer, session: SessionDep) -> JSONResponse:
    target = await _follow_target(session, username, viewer.user_id)
    me = await _viewer_user(session, viewer.user_id)
    insert = dialect_insert(session)
    result: CursorResult[Any] = await session.execute(  # type: ignore[assignment]
        insert(Follow)
        .values(id=new_id(), follower_id=me.id, following_id=target.id, created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["follower_id", "following_id"])
    )
    if not result.rowcount:
        raise APIError(400, "ALREADY_FOLLOWING", f"You already follow {target.username}")
    counts = await _bump_counts(session, me.id, target.id, +1)
    if counts[1] >= 100:
        await ensure_stats(session, target.id)
        await award(session, target.id, {"followers": float(counts[1])})
    await session.commit()
    message = f"You now follow {target.username}"
    return envelope(_follow_body(me, target, True, counts, message), message=message)


@router.delete("/users/{username}/follow")
async def unfollow(username: str, viewer: CurrentViewer, session: SessionDep) -> JSONResponse:
    target = await _follow_target(session, username, viewer.user_id)
    me = await _viewer_user(session, viewer.user_id)
    result: CursorResult[Any] = await session.execute(  # type: ignore[assignment]
        delete(Follow).where(Follow.follower_id == me.id, Follow.following_id == target.id)
    )
    if not result.rowcount:
        raise APIError(400, "NOT_FOLLOWING", f"You do not follow {target.username}")
    counts = await _bump_counts(session, me.id, target.id, -1)
    await session.commit()
    message = f"You no longer follow {target.username}"
    return envelope(_follow_body(me, target, False, counts, message), message=message)
