"""Register, login (with lockout), refresh rotation, logout and /auth/me."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from backend.deps import CurrentViewer, SessionDep, SettingsDep
from backend.errors import APIError
from backend.models import PasswordReset, User, UserProfile, new_id, utcnow
from backend.schemas import LoginIn, RegisterIn
from backend.security import (
    TokenPair,
    decode_token,
    hash_password,
    issue_tokens,
    token_digest,
    verify_password,
)
from backend.settings import Settings
from backend.views import envelope, iso, user_object

router = APIRouter(prefix="/auth", tags=["auth"])

MAX_FAILED_LOGINS = 5
LOCK_MINUTES = 15
REFRESH = "REFRESH"
_dummy_hashes: dict[int, str] = {}


async def _dummy_hash(rounds: int) -> str:
    """A hash at the configured cost, verified against when the login names nobody, so that
    unknown users take as long as wrong passwords (no user enumeration by timing)."""
    if rounds not in _dummy_hashes:
        _dummy_hashes[rounds] = await hash_password(new_id(), rounds)
    return _dummy_hashes[rounds]


async def release(session: AsyncSession) -> None:
    """End the read transaction before a slow bcrypt call, keeping what was loaded.

    Hashing takes ~250 ms of CPU at 12 rounds. Inside a transaction that would pin a pooled
    connection on PostgreSQL and hold SQLite's write lock (every transaction there begins
    IMMEDIATE), queueing every other request behind the hash.
    """
    session.expunge_all()  # detached rows keep their loaded values; rollback would expire them
    await session.rollback()


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


async def _taken_error(session: AsyncSession, username: str, email: str) -> APIError | None:
    rows = (
        await session.execute(
            select(User.username, User.email).where(
                or_(User.username == username, User.email == email)
            )
        )
    ).all()
    if any(r.username == username for r in rows):
        return APIError(400, "USERNAME_TAKEN", "That username is already taken", "username")
    if rows:
        return APIError(400, "EMAIL_TAKEN", "That e-mail is already registered", "email")
    return None


@router.post("/register")
async def register(body: RegisterIn, session: SessionDep, settings: SettingsDep) -> JSONResponse:
    taken = await _taken_error(session, body.username, body.email)
    if taken:
        raise taken
    await release(session)
    hashed = await hash_password(body.password, settings.bcrypt_rounds)
    now = utcnow()
    user = User(
        id=new_id(),
        username=body.username,
        email=body.email,
        hashed_password=hashed,
        is_active=True,
        is_verified=settings.auto_verify_email,
        created_at=now,
        updated_at=now,
        failed_login_attempts=0,
        role="USER",
        profile_visibility="public",
        trip_visibility="public",
    )
    session.add(user)
    session.add(UserProfile(id=new_id(), user_id=user.id, created_at=now, updated_at=now))
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()  # lost a race with a concurrent registration of the same name
        taken = await _taken_error(session, body.username, body.email)
        raise taken or APIError(
            400, "USERNAME_TAKEN", "That username is taken", "username"
        ) from None
    data = {
        "user_id": user.id,
        "username": user.username,
        "email": user.email,
        "is_verified": user.is_verified,
        "is_active": user.is_active,
        "created_at": iso(user.created_at),
    }
    message = "Registration successful" + ("" if user.is_verified else "; verify your e-mail")
    return envelope(data, status=201, message=message)


async def _store_refresh(session: AsyncSession, user_id: str, pair: TokenPair) -> None:
    session.add(
        PasswordReset(
            id=new_id(),
            user_id=user_id,
            token_hash=token_digest(pair.refresh_token),
            token_type=REFRESH,
            expires_at=pair.refresh_expires_at,
            created_at=utcnow(),
        )
    )


def _issue(settings: Settings, user: User) -> TokenPair:
    return issue_tokens(
        user.id,
        user.username,
        settings.secret_key,
        settings.access_token_expire_minutes,
        settings.refresh_token_expire_days,
    )


def _invalid_credentials() -> APIError:
    return APIError(401, "INVALID_CREDENTIALS", "Invalid login or password")


@router.post("/login")
async def login(body: LoginIn, session: SessionDep, settings: SettingsDep) -> JSONResponse:
    key = body.login.strip()
    column = User.email if "@" in key else User.username
    row = (
        await session.execute(
            select(User, UserProfile)
            .outerjoin(UserProfile, UserProfile.user_id == User.id)
            .where(column == (key.lower() if "@" in key else key))
        )
    ).first()
    await release(session)
    if row is None:
        await verify_password(body.password, await _dummy_hash(settings.bcrypt_rounds))
        raise _invalid_credentials()
    user, profile = row
    now = datetime.now(UTC)
    locked_until = _aware(user.locked_until)
    if locked_until is not None and locked_until > now:
        raise APIError(429, "ACCOUNT_LOCKED", "Too many failed logins; try again later")
    if not await verify_password(body.password, user.hashed_password):
        failures = await session.scalar(
            update(User)
            .where(User.id == user.id)
            .values(failed_login_attempts=User.failed_login_attempts + 1)
            .returning(User.failed_login_attempts)
        )
        if (failures or 0) >= MAX_FAILED_LOGINS:
            await session.execute(
                update(User)
                .where(User.id == user.id)
                .values(locked_until=now + timedelta(minutes=LOCK_MINUTES), failed_login_attempts=0)
            )
        await session.commit()
        raise _invalid_credentials()
    if not user.is_active:
        raise _invalid_credentials()
    if not user.is_verified:
        raise APIError(400, "EMAIL_NOT_VERIFIED", "Verify your e-mail before logging in")
    pair = _issue(settings, user)
    await session.execute(
        update(User)
        .where(User.id == user.id)
        .values(failed_login_attempts=0, locked_until=None, last_login_at=now)
    )
    await _store_refresh(session, user.id, pair)
    await session.commit()
    return envelope(
        {
            "access_token": pair.access_token,
            "refresh_token": pair.refresh_token,
            "token_type": "bearer",
            "expires_in": pair.expires_in,
            "user": user_object(user, profile),
        }
    )


def _invalid_refresh() -> APIError:
    return APIError(401, "INVALID_REFRESH_TOKEN", "The refresh token is invalid or expired")


async def _consume_refresh(session: AsyncSession, token: str, user_id: str) -> bool:
    """Mark the token used; true only for the one caller that found it unused and unexpired."""
    consumed = await session.scalar(
        update(PasswordReset)
        .where(
            PasswordReset.token_hash == token_digest(token),
            PasswordReset.token_type == REFRESH,
            PasswordReset.user_id == user_id,
            PasswordReset.used_at.is_(None),
            PasswordReset.expires_at > datetime.now(UTC),
        )
        .values(used_at=utcnow())
        .returning(PasswordReset.id)
    )
    return consumed is not None


@router.post("/refresh")
async def refresh(
    session: SessionDep,
    settings: SettingsDep,
    refresh_token: str = Query(min_length=1, max_length=4096),
) -> JSONResponse:
    claims = decode_token(refresh_token, settings.secret_key, "refresh")
    if claims is None or not await _consume_refresh(session, refresh_token, claims["sub"]):
        raise _invalid_refresh()
    user = await session.get(User, claims["sub"])
    if user is None or not user.is_active:
        raise _invalid_refresh()
    pair = _issue(settings, user)
    await _store_refresh(session, user.id, pair)
    await session.commit()
    return envelope(
        {
            "access_token": pair.access_token,
            "refresh_token": pair.refresh_token,
            "token_type": "bearer",
            "expires_in": pair.expires_in,
        }
    )


@router.post("/logout")
async def logout(
    viewer: CurrentViewer,
    session: SessionDep,
    settings: SettingsDep,
    refresh_token: str = Query(min_length=1, max_length=4096),
) -> JSONResponse:
    claims = decode_token(refresh_token, settings.secret_key, "refresh")
    if claims is None or claims["sub"] != viewer.user_id:
        raise _invalid_refresh()
    if not await _consume_refresh(session, refresh_token, viewer.user_id):
        raise _invalid_refresh()
    await session.commit()
    return envelope(None, message="Logged out")


@router.get("/me")
async def me(viewer: CurrentViewer, session: SessionDep) -> JSONResponse:
    row = (
        await session.execute(
            select(User, UserProfile)
            .outerjoin(UserProfile, UserProfile.user_id == User.id)
            .where(User.id == viewer.user_id)
        )
    ).first()
    if row is None or not row[0].is_active:
        raise APIError(401, "UNAUTHORIZED", "The account no longer exists")
    return envelope(user_object(*row))
