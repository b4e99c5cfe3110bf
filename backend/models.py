"""The ContraVento tables, with the contract's table and column names (the seeder writes them)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ID = String(36)
TZ = DateTime(timezone=True)


def new_id() -> str:
    return str(uuid.uuid4())


def utcnow() -> datetime:
    return datetime.now(UTC)


def _fk(target: str) -> ForeignKey:
    return ForeignKey(target, ondelete="CASCADE")


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(30), unique=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    hashed_password: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(TZ, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(TZ, default=utcnow, onupdate=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(TZ)
    locked_until: Mapped[datetime | None] = mapped_column(TZ)
    failed_login_attempts: Mapped[int] = mapped_column(Integer, default=0)
    role: Mapped[str] = mapped_column(String(20), default="USER")
    profile_visibility: Mapped[str] = mapped_column(String(20), default="public")
    trip_visibility: Mapped[str] = mapped_column(String(20), default="public")
    __table_args__ = (
        CheckConstraint("role IN ('USER', 'ADMIN')", name="ck_users_role"),
        CheckConstraint("profile_visibility IN ('public', 'private')", name="ck_users_profile_vis"),
        CheckConstraint(
            "trip_visibility IN ('public', 'followers', 'private')", name="ck_users_trip_vis"
        ),
    )


class UserProfile(Base):
    __tablename__ = "user_profiles"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ID, _fk("users.id"), unique=True)
    full_name: Mapped[str | None] = mapped_column(String(100))
    bio: Mapped[str | None] = mapped_column(String(500))
    location: Mapped[str | None] = mapped_column(String(100))
    cycling_type: Mapped[str | None] = mapped_column(String(50))
    profile_photo_url: Mapped[str | None] = mapped_column(String(500))
    show_email: Mapped[bool] = mapped_column(Boolean, default=False)
    show_location: Mapped[bool] = mapped_column(Boolean, default=True)
    followers_count: Mapped[int] = mapped_column(Integer, default=0)
    following_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(TZ, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(TZ, default=utcnow, onupdate=utcnow)


class UserStats(Base):
    __tablename__ = "user_stats"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ID, _fk("users.id"), unique=True)
    total_trips: Mapped[int] = mapped_column(Integer, default=0)
    total_kilometers: Mapped[float] = mapped_column(Float, default=0.0)
    countries_visited: Mapped[list[Any]] = mapped_column(JSON, default=list)
    total_photos: Mapped[int] = mapped_column(Integer, default=0)
    achievements_count: Mapped[int] = mapped_column(Integer, default=0)
    last_trip_date: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(TZ, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(TZ, default=utcnow, onupdate=utcnow)


class Achievement(Base):
    __tablename__ = "achievements"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(String(500))
    badge_icon: Mapped[str] = mapped_column(String(50))
    requirement_type: Mapped[str] = mapped_column(String(50))
    requirement_value: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(TZ, default=utcnow)


class UserAchievement(Base):
    __tablename__ = "user_achievements"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ID, _fk("users.id"))
    achievement_id: Mapped[str] = mapped_column(ID, _fk("achievements.id"))
    awarded_at: Mapped[datetime] = mapped_column(TZ, default=utcnow)
    __table_args__ = (UniqueConstraint("user_id", "achievement_id", name="uq_user_achievement"),)


class Trip(Base):
    __tablename__ = "trips"
    trip_id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ID, _fk("users.id"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="DRAFT")
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    distance_km: Mapped[float | None] = mapped_column(Float)
    difficulty: Mapped[str | None] = mapped_column(String(20))
    is_private: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(TZ, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(TZ, default=utcnow, onupdate=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(TZ)
    __table_args__ = (
        Index("ix_trips_user_id_status", "user_id", "status"),
        Index("ix_trips_created_at", "created_at"),
        Index("ix_trips_published_at", "published_at"),
        # The public feed's filter + order in one index, so page 1 is an index scan.
        Index("ix_trips_feed", "status", "is_private", "published_at"),
        CheckConstraint("status IN ('DRAFT', 'PUBLISHED')", name="ck_trips_status"),
        CheckConstraint(
            "difficulty IS NULL OR difficulty IN "
            "('EASY', 'MODERATE', 'DIFFICULT', 'VERY_DIFFICULT', 'EXTREME')",
            name="ck_trips_difficulty",
        ),
    )


class Tag(Base):
    __tablename__ = "tags"
    tag_id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(50))
    normalized: Mapped[str] = mapped_column(String(50), unique=True)
    usage_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(TZ, default=utcnow)


class TripTag(Base):
    __tablename__ = "trip_tags"
    trip_id: Mapped[str] = mapped_column(ID, _fk("trips.trip_id"), primary_key=True)
    tag_id: Mapped[str] = mapped_column(ID, _fk("tags.tag_id"), primary_key=True)
    __table_args__ = (Index("ix_trip_tags_tag_id", "tag_id"),)


class TripLocation(Base):
    __tablename__ = "trip_locations"
    location_id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    trip_id: Mapped[str] = mapped_column(ID, _fk("trips.trip_id"))
    name: Mapped[str] = mapped_column(String(200))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    __table_args__ = (Index("ix_trip_locations_trip_seq", "trip_id", "sequence"),)


class TripPhoto(Base):
    __tablename__ = "trip_photos"
    photo_id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    trip_id: Mapped[str] = mapped_column(ID, _fk("trips.trip_id"))
    photo_url: Mapped[str] = mapped_column(String(500))
    thumb_url: Mapped[str | None] = mapped_column(String(500))
    caption: Mapped[str | None] = mapped_column(String(500))
    order: Mapped[int] = mapped_column(Integer, default=0)
    file_size: Mapped[int | None] = mapped_column(Integer)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    uploaded_at: Mapped[datetime] = mapped_column(TZ, default=utcnow)
    __table_args__ = (Index("ix_trip_photos_trip_order", "trip_id", "order"),)


class Follow(Base):
    __tablename__ = "follows"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    follower_id: Mapped[str] = mapped_column(ID, _fk("users.id"))
    following_id: Mapped[str] = mapped_column(ID, _fk("users.id"))
    created_at: Mapped[datetime] = mapped_column(TZ, default=utcnow)
    __table_args__ = (
        UniqueConstraint("follower_id", "following_id", name="uq_follows_pair"),
        CheckConstraint("follower_id <> following_id", name="ck_follows_not_self"),
        Index("ix_follows_following_id", "following_id"),
    )


class Like(Base):
    __tablename__ = "likes"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ID, _fk("users.id"))
    trip_id: Mapped[str] = mapped_column(ID, _fk("trips.trip_id"))
    created_at: Mapped[datetime] = mapped_column(TZ, default=utcnow)
    __table_args__ = (
        UniqueConstraint("user_id", "trip_id", name="uq_likes_user_trip"),
        Index("ix_likes_trip_id", "trip_id"),
    )


class Comment(Base):
    __tablename__ = "comments"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ID, _fk("users.id"))
    trip_id: Mapped[str] = mapped_column(ID, _fk("trips.trip_id"))
    content: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(TZ, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(TZ, default=utcnow, onupdate=utcnow)
    __table_args__ = (Index("ix_comments_trip_id", "trip_id"),)


class CyclingType(Base):
    __tablename__ = "cycling_types"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(50), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(String(500))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(TZ, default=utcnow)


class PasswordReset(Base):
    """Single-use tokens; refresh tokens live here too (token_type REFRESH, SHA-256 digest)."""

    __tablename__ = "password_resets"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ID, _fk("users.id"))
    token_hash: Mapped[str] = mapped_column(String(255), unique=True)
    token_type: Mapped[str] = mapped_column(String(20))
    expires_at: Mapped[datetime] = mapped_column(TZ)
    used_at: Mapped[datetime | None] = mapped_column(TZ)
    created_at: Mapped[datetime] = mapped_column(TZ, default=utcnow)
    __table_args__ = (Index("ix_password_resets_user_id", "user_id"),)
