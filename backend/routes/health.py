"""GET /health: liveness without touching the database."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from backend.deps import SettingsDep
from backend.models import utcnow
from backend.views import envelope

router = APIRouter(tags=["health"])


@router.get("/health")
async def health(settings: SettingsDep) -> JSONResponse:
    return envelope(
        {"status": "healthy", "environment": settings.app_env, "timestamp": utcnow().isoformat()}
    )
