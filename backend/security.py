"""Password hashing off the event loop, JWT access/refresh tokens, and token digests."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio.to_thread
import bcrypt
import jwt

ALGORITHM = "HS256"
BCRYPT_MAX_BYTES = 72


def _hash_sync(password: str, rounds: int) -> str:
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds)).decode("ascii")


def _verify_sync(password: str, hashed: str) -> bool:
    raw = password.encode("utf-8")
    if len(raw) > BCRYPT_MAX_BYTES:
        return False  # bcrypt would silently truncate (or refuse); never accept such a password
    try:
        return bcrypt.checkpw(raw, hashed.encode("ascii"))
    except ValueError:
        return False  # not a bcrypt hash (e.g. a disabled account marker)


async def hash_password(password: str, rounds: int) -> str:
    # bcrypt releases the GIL, so a thread keeps the event loop serving other requests.
    return await anyio.to_thread.run_sync(_hash_sync, password, rounds)


async def verify_password(password: str, hashed: str) -> bool:
    return await anyio.to_thread.run_sync(_verify_sync, password, hashed)


def token_digest(token: str) -> str:
    """SHA-256 of the whole token: unlike bcrypt it does not truncate at 72 bytes."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    refresh_expires_at: datetime
    expires_in: int


def issue_tokens(
    user_id: str, username: str, secret: str, access_minutes: int, refresh_days: int
) -> TokenPair:
    now = datetime.now(UTC)
    access_exp = now + timedelta(minutes=access_minutes)
    refresh_exp = now + timedelta(days=refresh_days)
    access = jwt.encode(
        {"sub": user_id, "username": username, "exp": access_exp, "type": "access"},
        secret,
        algorithm=ALGORITHM,
    )
    # jti makes two refresh tokens issued in the same second distinct, so their digests differ.
    refresh = jwt.encode(
        {"sub": user_id, "exp": refresh_exp, "type": "refresh", "jti": uuid.uuid4().hex},
        secret,
        algorithm=ALGORITHM,
    )
    return TokenPair(access, refresh, refresh_exp, access_minutes * 60)


def decode_token(token: str, secret: str, expected_type: str) -> dict[str, Any] | None:
    """The claims of a valid, unexpired token of the expected type, else None."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token, secret, algorithms=[ALGORITHM], options={"require": ["sub", "exp", "type"]}
        )
    except jwt.PyJWTError:
        return None
    if claims.get("type") != expected_type or not isinstance(claims.get("sub"), str):
        return None
    return claims
