"""JSON shapes of the contract's responses, built from rows (no queries here)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from fastapi.responses import JSONResponse

from backend.models import Trip, User, UserProfile, UserStats
from backend.reference_data import country_name


def iso(value: datetime | date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)  # SQLite hands back naive datetimes; they were UTC
    return value.isoformat()


def envelope(data: Any, status: int = 200, message: str | None = None) -> JSONResponse:
    body: dict[str, Any] = {"success": True, "data": data, "error": None}
    if message is not None:
        body["message"] = message
    return JSONResponse(body, status_code=status)


def user_object(user: User, profile: UserProfile | None) -> dict[str, Any]:
    """The `user` object of login and /auth/me."""
    return {
        "user_id": user.id,
        "username": user.username,
        "email": user.email,
        "is_verified": user.is_verified,
        "profile_visibility": user.profile_visibility,
        "trip_visibility": user.trip_visibility,
        "created_at": iso(user.created_at),
        "photo_url": profile.profile_photo_url if profile else None,
        "bio": profile.bio if profile else None,
        "location": profile.location if profile else None,
        "cycling_type": profile.cycling_type if profile else None,
    }


def profile_object(
    user: User,
    profile: UserProfile | None,
    stats: UserStats | None,
    *,
    is_owner: bool,
    is_following: bool,
) -> dict[str, Any]:
    show_location = bool(profile and profile.show_location)
    return {
        "username": user.username,
        "full_name": profile.full_name if profile else None,
        "bio": profile.bio if profile else None,
        "photo_url": profile.profile_photo_url if profile else None,
        "location": profile.location if profile and (show_location or is_owner) else None,
        "cycling_type": profile.cycling_type if profile else None,
        "profile_visibility": user.profile_visibility,
        "trip_visibility": user.trip_visibility,
        "show_email": bool(profile and profile.show_email),
        "show_location": show_location,
        "followers_count": profile.followers_count if profile else 0,
        "following_count": profile.following_count if profile else 0,
        "is_following": is_following,
        "stats": None
        if stats is None
        else {
            "total_trips": stats.total_trips,
            "total_kilometers": stats.total_kilometers,
            "achievements_count": stats.achievements_count,
        },
        "created_at": iso(user.created_at),
    }


def stats_object(stats: UserStats) -> dict[str, Any]:
    codes = stats.countries_visited or []
    return {
        "total_trips": stats.total_trips,
        "total_kilometers": stats.total_kilometers,
        "countries_visited": [{"code": str(c), "name": country_name(str(c))} for c in codes],
        "total_photos": stats.total_photos,
        "achievements_count": stats.achievements_count,
        "last_trip_date": iso(stats.last_trip_date),
        "updated_at": iso(stats.updated_at),
    }


def trip_summary(
    trip: Trip, photo_count: int, thumbnail: str | None, tags: list[str]
) -> dict[str, Any]:
    """One entry of GET /users/{username}/trips."""
    return {
        "trip_id": trip.trip_id,
        "user_id": trip.user_id,
        "title": trip.title,
        "description": trip.description,
        "start_date": iso(trip.start_date),
        "end_date": iso(trip.end_date),
        "distance_km": trip.distance_km,
        "status": trip.status.lower(),
        "is_private": trip.is_private,
        "photo_count": photo_count,
        "tag_names": tags,
        "thumbnail_url": thumbnail,
        "created_at": iso(trip.created_at),
        "updated_at": iso(trip.updated_at),
    }
