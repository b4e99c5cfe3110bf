"""The application factory: create_app(settings) wires engine, routes and error handlers."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from backend.db import create_engine, create_sessionmaker
from backend.errors import install_error_handlers
from backend.routes import auth, health, trips, users
from backend.settings import Settings, load_settings


def create_app(settings: Settings) -> FastAPI:
    """Build the app; the engine is created here but connects only on the first request."""
    engine = create_engine(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await engine.dispose()

    app = FastAPI(
        title="ContraVento reference backend",
        lifespan=lifespan,
        docs_url=None if settings.app_env == "production" else "/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = create_sessionmaker(engine)
    install_error_handlers(app)
    for module in (health, auth, users, trips):
        app.include_router(module.router)
    return app


def app_from_environment() -> FastAPI:
    """Factory for uvicorn workers: each worker process reads the same environment."""
    return create_app(load_settings(os.environ))
