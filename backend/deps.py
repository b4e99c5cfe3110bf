"""Request dependencies as Annotated aliases: settings, DB session, current or optional user."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from backend.errors import APIError
from backend.security import decode_token
from backend.settings import Settings


@dataclass(frozen=True)
class Viewer:
    """Who is calling, as the access token says (no database round-trip)."""

    user_id: str
    username: str


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.sessionmaker() as session:
        yield session


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _viewer_from(request: Request, settings: Settings) -> Viewer | None:
    token = _bearer(request)
    if token is None:
        return None
    claims = decode_token(token, settings.secret_key, "access")
    if claims is None:
        return None
    return Viewer(user_id=claims["sub"], username=str(claims.get("username", "")))


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]


def optional_viewer(request: Request, settings: SettingsDep) -> Viewer | None:
    """A bad or missing token means anonymous on optional-auth endpoints (no 401)."""
    return _viewer_from(request, settings)


def required_viewer(request: Request, settings: SettingsDep) -> Viewer:
    viewer = _viewer_from(request, settings)
    if viewer is None:
        raise APIError(401, "UNAUTHORIZED", "A valid bearer access token is required")
    return viewer


OptionalViewer = Annotated[Viewer | None, Depends(optional_viewer)]
CurrentViewer = Annotated[Viewer, Depends(required_viewer)]
