"""The built images themselves: cached rebuilds, non-root users, and a working PostgreSQL."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from harness.errors import ImageBuildError
from harness.images import HARNESS_LABEL, HARNESS_LABEL_VALUE, BuiltImages, build_images
from harness.images.docker_cli import DockerCli
from tests.support.docker import require_docker

pytestmark = [pytest.mark.docker, pytest.mark.slow]

REPO_ROOT = Path(__file__).resolve().parents[2]
# Every container these tests start carries this label, so teardown can find leftovers.
TEST_LABEL = "org.contravento.harness.test=images"


def _docker(*args: str) -> str:
    done = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"docker {' '.join(args)} failed:\n{done.stderr}"
    return done.stdout


def _inspect(ref: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = json.loads(_docker("image", "inspect", ref))
    return found[0]


def _run(image: str, *args: str, entrypoint: str | None = None) -> str:
    options = ["--rm", "--label", TEST_LABEL]
    if entrypoint is not None:
        options += ["--entrypoint", entrypoint]
    return _docker("run", *options, image, *args).strip()


@pytest.fixture(scope="module")
def images() -> Iterator[BuiltImages]:
    require_docker()  # module-scoped: runs before the per-test policy fixture would
    lines: list[str] = []
    built = build_images(REPO_ROOT, progress=lines.append)
    yield built
    leftovers = _docker("ps", "-aq", "--filter", f"label={TEST_LABEL}").split()
    if leftovers:
        _docker("rm", "-f", "-v", *leftovers)


def test_second_build_is_a_cache_hit(images: BuiltImages) -> None:
    ids_before = {tag: _inspect(tag)["Id"] for tag in images.tags}

    started = time.monotonic()
    again = build_images(REPO_ROOT)
    elapsed = time.monotonic() - started

    assert again.tags == images.tags
    assert again.built == frozenset()
    assert {tag: _inspect(tag)["Id"] for tag in again.tags} == ids_before
    assert elapsed < 30, f"a fully cached build took {elapsed:.1f}s"


def test_every_image_carries_the_harness_label(images: BuiltImages) -> None:
    for tag, name in zip(images.tags, ("backend", "locust", "postgres"), strict=True):
        assert tag.startswith(f"contravento-harness/{name}:")
        labels = _inspect(tag)["Config"]["Labels"]
        assert labels[HARNESS_LABEL] == HARNESS_LABEL_VALUE
        assert labels[f"{HARNESS_LABEL}.content-hash"] == tag.rsplit(":", 1)[1]


def test_backend_image_runs_as_non_root_with_a_healthcheck(images: BuiltImages) -> None:
    config = _inspect(images.backend)["Config"]

    assert config["User"] not in ("", "0", "root")
    assert "http://127.0.0.1:8000/health" in " ".join(config["Healthcheck"]["Test"])
    # Inside its container the backend must listen on every interface to be reachable.
    all_interfaces = "0.0.0.0"  # noqa: S104
    assert config["Cmd"] == ["python", "-m", "backend", "--host", all_interfaces, "--port", "8000"]
    assert not any(v.startswith("SECRET_KEY=") for v in config.get("Env") or [])
    out = _run(
        images.backend,
        "-c",
        "import os, fastapi, sqlalchemy, asyncpg, uvicorn, bcrypt, jwt, nh3; print(os.getuid())",
        entrypoint="python",
    )
    assert int(out) != 0


def test_locust_image_runs_locust_as_non_root(images: BuiltImages) -> None:
    assert _run(images.locust, "--version").startswith("locust ")
    assert int(_run(images.locust, "-u", entrypoint="id")) != 0
    assert "__init__.py" in _run(images.locust, "/locust/scenarios", entrypoint="ls")


def test_a_failed_build_reports_the_tail_of_its_output(images: BuiltImages) -> None:
    dockerfile = f"FROM {images.backend}\nRUN echo build-went-wrong-marker && exit 3\n"

    with pytest.raises(ImageBuildError) as caught:
        DockerCli().build(
            tag="contravento-harness/broken:test",
            context=None,
            dockerfile_text=dockerfile,
            progress=lambda _: None,
        )

    assert "build-went-wrong-marker" in caught.value.message
    assert "contravento-harness/broken:test" in caught.value.message


@pytest.fixture
def postgres(images: BuiltImages, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from testcontainers.community.postgres import PostgresContainer
    from testcontainers.core.config import testcontainers_config

    # Ryuk (the reaper) is an image that cannot be pulled offline; the `with` block and the
    # label sweep in `images` remove the container instead.
    monkeypatch.setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
    monkeypatch.setattr(testcontainers_config, "ryuk_disabled", True)
    container = PostgresContainer(
        image=images.postgres,
        username="perf",
        password="it's-a-secret",
        dbname="contravento",
        driver=None,
        labels={"org.contravento.harness.test": "images"},
    ).with_command("postgres -c shared_preload_libraries=pg_stat_statements")
    with container as started:
        yield started


def test_postgres_image_works_with_testcontainers(postgres: Any) -> None:
    url: str = postgres.get_connection_url()

    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT 1, current_user, current_database()").fetchone()
        superuser = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = 'perf'").fetchone()

    assert row == (1, "perf", "contravento")
    assert superuser == (True,)
    logs = postgres.get_wrapped_container().logs().decode()
    assert "database system is ready to accept connections" in logs
    exit_code, output = postgres.exec(["id", "-u"])
    assert exit_code == 0 and int(output) != 0


def test_postgres_rejects_a_wrong_password_from_another_host(postgres: Any) -> None:
    url: str = postgres.get_connection_url().replace("it%27s-a-secret", "wrong")

    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(url, connect_timeout=10).close()


def test_pg_stat_statements_can_be_preloaded_and_queried(postgres: Any) -> None:
    with psycopg.connect(postgres.get_connection_url(), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        # pg_stat_statements replaces constants with $n, so the probe is a table name.
        conn.execute("CREATE TEMP TABLE harness_probe (x int)")
        conn.execute("SELECT count(*) FROM harness_probe")
        calls = conn.execute(
            "SELECT sum(calls) FROM pg_stat_statements WHERE query LIKE %s",
            ("%harness_probe%",),
        ).fetchone()
        preload = conn.execute("SHOW shared_preload_libraries").fetchone()

    assert preload == ("pg_stat_statements",)
    assert calls is not None and calls[0] >= 1
