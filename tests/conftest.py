"""Shared fixtures: the Docker policy, a real PostgreSQL server, and backend apps on both databases."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from backend.app import create_app
from backend.db import prepare_database
from backend.settings import Settings, normalise_database_url
from tests.support.docker import require_docker
from tests.support.postgres import LocalPostgres, local_postgres

TEST_SECRET = "test-secret-key-0123456789-abcdefghijklmnop"
TEMPLATE_DB = "cv_template"


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Tests marked `docker` skip without a daemon, except in CI, where they fail. A hook, not
    an autouse fixture: it runs before any fixture of the test, a module-scoped one included."""
    if item.get_closest_marker("docker"):
        require_docker()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[LocalPostgres]:
    with local_postgres() as server:
        yield server


def _prepare(settings: Settings) -> None:
    """Create schema and reference data, on a thread of its own (no event loop is running there)."""

    async def run() -> None:
        app = create_app(settings)
        await prepare_database(app.state.engine)
        await app.state.engine.dispose()

    worker = threading.Thread(target=asyncio.run, args=(run(),))
    worker.start()
    worker.join()


def _settings(url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "secret_key": TEST_SECRET,
        "database_url": url,
        "app_env": "testing",
        "bcrypt_rounds": 4,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def postgres_template(postgres_server: LocalPostgres) -> str:
    """A database with the schema and reference data, cloned for each test (fast and isolated)."""
    dsn = postgres_server.create_database(TEMPLATE_DB)
    _prepare(_settings(normalise_database_url(dsn)))
    return TEMPLATE_DB


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    """Settings for a fresh, prepared database of each kind."""
    if request.param == "sqlite":
        settings = _settings(f"sqlite+aiosqlite:///{tmp_path / 'cv.db'}")
        _prepare(settings)
        yield settings
        return
    server: LocalPostgres = request.getfixturevalue("postgres_server")
    template: str = request.getfixturevalue("postgres_template")
    name = f"cv_{uuid.uuid4().hex[:12]}"
    dsn = server.create_database(name, template=template)
    yield _settings(normalise_database_url(dsn))
    server.drop_database(name)


@pytest.fixture
async def client(backend_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(backend_settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://backend.test") as c:
        c.app = app  # type: ignore[attr-defined]
        yield c
    await app.state.engine.dispose()
