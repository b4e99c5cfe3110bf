"""Trips: create, read, publish, a user's trips, and the public and personal feeds."""

from __future__ import annotations

import math
import uuid
from typing import Any

import nh3
from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from sqlalchemy import Select, and_, false, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db import dialect_insert
from backend.deps import CurrentViewer, OptionalViewer, SessionDep, SettingsDep, Viewer
from backend.errors import APIError, forbidden, not_found, validation
from backend.models import (
    Follow,
    Like,
    Tag,
    Trip,
    TripLocation,
    TripPhoto,
    TripTag,
    User,
    UserProfile,
    new_id,
    utcnow,
)
from backend.routes.users import find_user, is_following
from backend.schemas import TripCreateIn, normalise_tag
from backend.stats import record_published_trip
from backend.views import envelope, iso, trip_summary

router = APIRouter(tags=["trips"])

PUBLISH_MIN_DESCRIPTION = 50
MAX_FEED_LIMIT = 50
MAX_PAGE = 1_000_000  # keeps (page - 1) * limit far from the database's integer range
ALLOWED_TAGS = {"p", "br", "strong", "em", "b", "i", "u", "ul", "ol", "li", "a", "blockquote"}


def _trip_uuid(trip_id: str) -> str:
    try:
        return str(uuid.UUID(trip_id))
    except ValueError:
        raise not_found("NOT_FOUND", "Trip not found") from None


async def _upsert_tags(session: AsyncSession, names: list[str]) -> list[Tag]:
    """Create or count each tag; sorted so concurrent creators lock tag rows in one order."""
    by_norm: dict[str, str] = {}
    for raw in names:
        name = " ".join(raw.split())
        norm = normalise_tag(name)
        if norm and norm not in by_norm:
            by_norm[norm] = name
    insert = dialect_insert(session)
    tags: list[Tag] = []
    for norm in sorted(by_norm):
        stmt = insert(Tag).values(
            tag_id=new_id(), name=by_norm[norm], normalized=norm, usage_count=1, created_at=utcnow()
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["normalized"], set_={"usage_count": Tag.usage_count + 1}
        ).returning(Tag)
        tags.append((await session.execute(stmt)).scalar_one())
    order = list(by_norm)
    tags.sort(key=lambda t: order.index(t.normalized))
    return tags


def _author(user: User, profile: UserProfile | None, following: bool) -> dict[str, Any]:
    return {
        "user_id": user.id,
        "username": user.username,
        "full_name": profile.full_name if profile else None,
        "profile_photo_url": profile.profile_photo_url if profile else None,
        "is_following": following,
    }


async def _trip_detail(session: AsyncSession, trip: Trip, viewer: Viewer | None) -> dict[str, Any]:
    row = (
        await session.execute(
            select(User, UserProfile)
            .outerjoin(UserProfile, UserProfile.user_id == User.id)
            .where(User.id == trip.user_id)
        )
    ).one()
    author, profile = row
    photos = (
        await session.scalars(
            select(TripPhoto).where(TripPhoto.trip_id == trip.trip_id).order_by(TripPhoto.order)
        )
    ).all()
    locations = (
        await session.scalars(
            select(TripLocation)
            .where(TripLocation.trip_id == trip.trip_id)
            .order_by(TripLocation.sequence)
        )
    ).all()
    tags = (
        await session.scalars(
            select(Tag)
            .join(TripTag, TripTag.tag_id == Tag.tag_id)
            .where(TripTag.trip_id == trip.trip_id)
            .order_by(Tag.normalized)
        )
    ).all()
    like_count = await session.scalar(
        select(func.count()).select_from(Like).where(Like.trip_id == trip.trip_id)
    )
    is_liked = False
    following = False
    if viewer is not None and viewer.user_id != trip.user_id:
        is_liked = (
            await session.scalar(
                select(Like.id).where(Like.trip_id == trip.trip_id, Like.user_id == viewer.user_id)
            )
        ) is not None
        following = await is_following(session, viewer.user_id, trip.user_id)
    return {
        "trip_id": trip.trip_id,
        "user_id": trip.user_id,
        "author": _author(author, profile, following),
        "title": trip.title,
        "description": trip.description,
        "status": trip.status.lower(),
        "start_date": iso(trip.start_date),
        "end_date": iso(trip.end_date),
        "distance_km": trip.distance_km,
        "difficulty": trip.difficulty.lower() if trip.difficulty else None,
        "is_private": trip.is_private,
        "created_at": iso(trip.created_at),
        "updated_at": iso(trip.updated_at),
        "published_at": iso(trip.published_at),
        "photos": [
            {
                "photo_id": p.photo_id,
                "photo_url": p.photo_url,
                "thumb_url": p.thumb_url,
                "caption": p.caption,
                "order": p.order,
                "width": p.width,
                "height": p.height,
            }
            for p in photos
        ],
        "locations": [
            {
                "location_id": loc.location_id,
                "name": loc.name,
                "latitude": loc.latitude,
                "longitude": loc.longitude,
                "sequence": loc.sequence,
            }
            for loc in locations
        ],
        "tags": [
            {
                "tag_id": t.tag_id,
                "name": t.name,
                "normalized": t.normalized,
                "usage_count": t.usage_count,
            }
            for t in tags
        ],
        "like_count": int(like_count or 0),
        "is_liked": is_liked,
        "gpx_file": None,
    }


@router.post("/trips")
async def create_trip(
    body: TripCreateIn, viewer: CurrentViewer, session: SessionDep
) -> JSONResponse:
    description = nh3.clean(body.description, tags=ALLOWED_TAGS)
    if not description.strip():
        raise validation("description must contain text", "description")
    if await session.get(User, viewer.user_id) is None:
        raise APIError(401, "UNAUTHORIZED", "The account no longer exists")
    now = utcnow()
    trip = Trip(
        trip_id=new_id(),
        user_id=viewer.user_id,
        title=body.title,
        description=description,
        status="DRAFT",
        start_date=body.start_date,
        end_date=body.end_date,
        distance_km=body.distance_km,
        difficulty=body.difficulty.upper() if body.difficulty else None,
        is_private=body.is_private,
        created_at=now,
        updated_at=now,
    )
    session.add(trip)
    session.add_all(
        TripLocation(
            location_id=new_id(),
            trip_id=trip.trip_id,
            name=loc.name,
            latitude=loc.latitude,
            longitude=loc.longitude,
            sequence=i,
        )
        for i, loc in enumerate(body.locations)
    )
    await session.flush()
    tags = await _upsert_tags(session, body.tags)
    session.add_all(TripTag(trip_id=trip.trip_id, tag_id=t.tag_id) for t in tags)
    await session.commit()
    return envelope(await _trip_detail(session, trip, viewer), status=201, message="Trip created")


async def _can_view(session: AsyncSession, trip: Trip, owner: User, viewer: Viewer | None) -> bool:
    if viewer is not None and viewer.user_id == trip.user_id:
        return True
    if trip.status != "PUBLISHED" or trip.is_private:
        return False
    if owner.trip_visibility == "public":
        return True
    if owner.trip_visibility == "followers" and viewer is not None:
        return await is_following(session, viewer.user_id, owner.id)
    return False


@router.get("/trips/public")
async def public_feed(
    viewer: OptionalViewer,
    session: SessionDep,
    settings: SettingsDep,
    page: int = Query(1, ge=1, le=MAX_PAGE),
    limit: int | None = Query(None, ge=1),
) -> JSONResponse:
    size = min(limit or settings.public_feed_page_size, MAX_FEED_LIMIT)
    visible = and_(
        Trip.status == "PUBLISHED",
        Trip.is_private.is_(False),
        User.profile_visibility == "public",
        User.trip_visibility == "public",
    )
    return JSONResponse(await _feed(session, viewer, visible, page, size))


@router.get("/feed")
async def personal_feed(
    viewer: CurrentViewer,
    session: SessionDep,
    settings: SettingsDep,
    page: int = Query(1, ge=1, le=MAX_PAGE),
    limit: int | None = Query(None, ge=1),
) -> JSONResponse:
    size = min(limit or settings.public_feed_page_size, MAX_FEED_LIMIT)
    followed = select(Follow.following_id).where(Follow.follower_id == viewer.user_id)
    visible = and_(
        Trip.status == "PUBLISHED",
        Trip.is_private.is_(False),
        Trip.user_id.in_(followed),
        User.trip_visibility.in_(("public", "followers")),
    )
    return JSONResponse(await _feed(session, viewer, visible, page, size))


async def _feed(
    session: AsyncSession, viewer: Viewer | None, visible: Any, page: int, size: int
) -> dict[str, Any]:
    """One page of a feed in four queries whatever the page size (no per-trip round-trips)."""
    total = int(
        await session.scalar(
            select(func.count())
            .select_from(Trip)
            .join(User, User.id == Trip.user_id)
            .where(visible)
        )
        or 0
    )
    first_photo = (
        select(TripPhoto.photo_url)
        .where(TripPhoto.trip_id == Trip.trip_id)
        .order_by(TripPhoto.order)
        .limit(1)
        .scalar_subquery()
    )
    first_place = (
        select(TripLocation.name)
        .where(TripLocation.trip_id == Trip.trip_id)
        .order_by(TripLocation.sequence)
        .limit(1)
        .scalar_subquery()
    )
    likes = select(func.count()).where(Like.trip_id == Trip.trip_id).scalar_subquery()
    # The page's ids first, then the details of those rows only: PostgreSQL evaluates the
    # select list (three subqueries) for every row it skips with OFFSET, so deep pages of a
    # one-step query cost ~0.7 s on the `small` profile (the benchmark suite's empty page).
    page_ids = (
        select(Trip.trip_id.label("id"), Trip.published_at.label("at"))
        .join(User, User.id == Trip.user_id)
        .where(visible)
        .order_by(Trip.published_at.desc(), Trip.trip_id)
        .limit(size)
        .offset((page - 1) * size)
        .subquery()
    )
    query: Select[Any] = (
        select(Trip, User.username, UserProfile.profile_photo_url, first_photo, first_place, likes)
        .join(page_ids, page_ids.c.id == Trip.trip_id)
        .join(User, User.id == Trip.user_id)
        .outerjoin(UserProfile, UserProfile.user_id == User.id)
        .order_by(page_ids.c.at.desc(), Trip.trip_id)
    )
    rows = (await session.execute(query)).all()
    liked: set[str] = set()
    followed: set[str] = set()
    if viewer is not None and rows:
        trip_ids = [r[0].trip_id for r in rows]
        author_ids = {r[0].user_id for r in rows}
        liked = set(
            await session.scalars(
                select(Like.trip_id).where(
                    Like.user_id == viewer.user_id, Like.trip_id.in_(trip_ids)
                )
            )
        )
        followed = set(
            await session.scalars(
                select(Follow.following_id).where(
                    Follow.follower_id == viewer.user_id, Follow.following_id.in_(author_ids)
                )
            )
        )
    trips = [
        {
            "trip_id": trip.trip_id,
            "title": trip.title,
            "start_date": iso(trip.start_date),
            "distance_km": trip.distance_km,
            "photo": photo,
            "location": place,
            "author": {
                "user_id": trip.user_id,
                "username": username,
                "profile_photo_url": avatar,
                "is_following": trip.user_id in followed,
            },
            "published_at": iso(trip.published_at),
            "like_count": int(like_count or 0),
            "is_liked": trip.trip_id in liked,
        }
        for trip, username, avatar, photo, place, like_count in rows
    ]
    return {
        "trips": trips,
        "pagination": {
            "total": total,
            "page": page,
            "limit": size,
            "total_pages": math.ceil(total / size) if total else 0,
        },
    }


@router.get("/trips/{trip_id}")
async def get_trip(trip_id: str, viewer: OptionalViewer, session: SessionDep) -> JSONResponse:
    trip = await session.get(Trip, _trip_uuid(trip_id))
    if trip is None:
        raise not_found("NOT_FOUND", "Trip not found")
    owner = await session.get(User, trip.user_id)
    assert owner is not None
    if not await _can_view(session, trip, owner, viewer):
        raise forbidden("You cannot view this trip")
    return envelope(await _trip_detail(session, trip, viewer))


@router.post("/trips/{trip_id}/publish")
async def publish_trip(trip_id: str, viewer: CurrentViewer, session: SessionDep) -> JSONResponse:
    trip = await session.get(Trip, _trip_uuid(trip_id))
    if trip is None:
        raise not_found("NOT_FOUND", "Trip not found")
    if trip.user_id != viewer.user_id:
        raise forbidden("Only the owner can publish a trip")
    if trip.status == "DRAFT" and len(trip.description) < PUBLISH_MIN_DESCRIPTION:
        raise validation(
            f"description must be at least {PUBLISH_MIN_DESCRIPTION} characters to publish",
            "description",
        )
    now = utcnow()
    # Only the caller whose UPDATE flips DRAFT -> PUBLISHED counts the trip in the stats, so a
    # repeated or concurrent publish is idempotent.
    flipped = await session.scalar(
        update(Trip)
        .where(Trip.trip_id == trip.trip_id, Trip.status == "DRAFT")
        .values(status="PUBLISHED", published_at=now, updated_at=now)
        .returning(Trip.published_at)
    )
    if flipped is not None:
        photos = await session.scalar(
            select(func.count()).select_from(TripPhoto).where(TripPhoto.trip_id == trip.trip_id)
        )
        await record_published_trip(
            session,
            trip.user_id,
            trip.distance_km or 0.0,
            int(photos or 0),
            trip.end_date or trip.start_date,
        )
    await session.commit()
    await session.refresh(trip)
    return envelope(
        {"trip_id": trip.trip_id, "status": "published", "published_at": iso(trip.published_at)},
        message="Trip published",
    )


async def _tags_of(session: AsyncSession, trip_ids: list[str]) -> dict[str, list[str]]:
    """The tag names of every listed trip, in one query."""
    tag_names: dict[str, list[str]] = {}
    if trip_ids:
        for trip_id, name in await session.execute(
            select(TripTag.trip_id, Tag.name)
            .join(Tag, Tag.tag_id == TripTag.tag_id)
            .where(TripTag.trip_id.in_(trip_ids))
            .order_by(Tag.name)
        ):
            tag_names.setdefault(trip_id, []).append(name)
    return tag_names


async def _tags_one_trip_at_a_time(
    session: AsyncSession, trip_ids: list[str]
) -> dict[str, list[str]]:
    """The same tag names with one query per trip: the N+1 of CV_N_PLUS_ONE, a fault the
    harness's tests plant on purpose (its query count grows with the trips listed)."""
    tag_names: dict[str, list[str]] = {}
    for trip_id in trip_ids:
        names = await session.scalars(
            select(Tag.name)
            .join(TripTag, TripTag.tag_id == Tag.tag_id)
            .where(TripTag.trip_id == trip_id)
            .order_by(Tag.name)
        )
        tag_names[trip_id] = list(names)
    return tag_names


@router.get("/users/{username}/trips")
async def user_trips(
    username: str,
    viewer: OptionalViewer,
    session: SessionDep,
    settings: SettingsDep,
    limit: int = Query(50, ge=1, le=100),
    offset: int = Query(0, ge=0, le=2**31 - 1),
    status: str | None = Query(None, max_length=20),
) -> JSONResponse:
    wanted = status.upper() if status else None
    if wanted is not None and wanted not in ("DRAFT", "PUBLISHED"):
        raise validation("status must be draft or published", "status")
    owner = await find_user(session, username)
    is_owner = viewer is not None and viewer.user_id == owner.id
    conditions: list[Any] = [Trip.user_id == owner.id]
    if wanted:
        conditions.append(Trip.status == wanted)
    if not is_owner:
        allowed = owner.trip_visibility == "public" or (
            owner.trip_visibility == "followers"
            and viewer is not None
            and await is_following(session, viewer.user_id, owner.id)
        )
        if owner.profile_visibility == "private" or not allowed:
            conditions.append(false())  # nothing is visible to this viewer
        conditions += [Trip.status == "PUBLISHED", Trip.is_private.is_(False)]
    photo_count = select(func.count()).where(TripPhoto.trip_id == Trip.trip_id).scalar_subquery()
    thumbnail = (
        select(TripPhoto.thumb_url)
        .where(TripPhoto.trip_id == Trip.trip_id)
        .order_by(TripPhoto.order)
        .limit(1)
        .scalar_subquery()
    )
    rows = (
        await session.execute(
            select(Trip, photo_count, thumbnail)
            .where(*conditions)
            .order_by(Trip.created_at.desc(), Trip.trip_id)
            .limit(limit)
            .offset(offset)
        )
    ).all()
    trip_ids = [r[0].trip_id for r in rows]
    if settings.cv_n_plus_one:
        tag_names = await _tags_one_trip_at_a_time(session, trip_ids)
    else:
        tag_names = await _tags_of(session, trip_ids)
    trips = [
        trip_summary(trip, int(count or 0), thumb, tag_names.get(trip.trip_id, []))
        for trip, count, thumb in rows
    ]
    return envelope({"trips": trips, "count": len(trips), "limit": limit, "offset": offset})
